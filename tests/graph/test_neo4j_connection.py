"""A lost connection to Neo4j, for real: a TCP proxy stands between the store and the suite's test server
and the test cuts it mid-ingest (the server, shared with other tests, is never stopped). The store
retries a unit of work with backoff for ``neo4j_retry_seconds``, then reports the loss in one line naming
the server and what it was doing; a proxy back within that time lets the ingest finish with the graph an
uninterrupted ingest writes."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from graph.errors import StoreUnavailable
from graph.settings import Settings, open_store
from graph.store import GraphStore
from ingest.config import load_config
from ingest.pipeline import IngestSummary, ingest
from ingest.synthetic import generate_dataset
from tests.conftest import empty_neo4j, neo4j_driver, neo4j_settings

only_neo4j = pytest.mark.parametrize("store_kind", [pytest.param("neo4j", marks=pytest.mark.neo4j)], indirect=True)

ROOT = Path(__file__).parents[2]
ROWS = 2_000
#: bytes a client sends before the proxy is cut: past the handshake, schema and lease (~5 KB), inside the
#: writes (an ingest of ROWS rows sends ~1.5 MB, in ~150 KB transactions of 2,000 changes)
CUT_AFTER = 600_000


class Proxy:
    """Forwards 127.0.0.1:<port> to the server; :meth:`cut` closes every connection and stops listening
    (as a server that went away), :meth:`resume` listens on the same port again. With ``cut_after`` it
    cuts itself once the clients have sent that many bytes."""

    def __init__(self, server: tuple[str, int], cut_after: int | None = None) -> None:
        self.server, self.cut_after, self.sent, self.port = server, cut_after, 0, 0
        self.was_cut = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.resume()

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.port}"

    def resume(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port, self._listener = listener.getsockname()[1], listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, set()
        if listener is not None:
            _close(listener)  # shutdown first: a bare close() leaves the blocked accept() accepting
        for sock in sockets:
            _close(sock)
        self.was_cut.set()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
                server = socket.create_connection(self.server)
            except OSError:
                return
            with self._lock:
                self._sockets |= {client, server}
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, upstream: bool) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
                if upstream:
                    self._count(len(data))
        except OSError:
            pass
        finally:
            _close(source)
            _close(target)

    def _count(self, size: int) -> None:
        with self._lock:
            self.sent += size
            due = self.cut_after is not None and self.sent >= self.cut_after and not self.was_cut.is_set()
        if due:
            self.cut()


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """Demo sources of :data:`ROWS` rows; returns their ``sources.yaml``."""
    generate_dataset(tmp_path / "data", n_records=ROWS, seed=1)
    return tmp_path / "data" / "sources.yaml"


@pytest.fixture
def server(store_settings: Settings) -> tuple[str, int]:
    """The suite's (emptied) Neo4j server, as host and port."""
    address = urlsplit(store_settings.neo4j_uri)
    return address.hostname or "127.0.0.1", address.port or 7687


def _open(settings: Settings, proxy: Proxy, retry_seconds: float) -> GraphStore:
    return open_store(settings.model_copy(update={"neo4j_uri": proxy.uri, "neo4j_retry_seconds": retry_seconds}))


def _ingest(store: GraphStore, sources: Path, tmp_path: Path) -> IngestSummary:
    return ingest(load_config(sources), store, tmp_path / "rejects", workers=0)


def _graph() -> dict[str, set[tuple[object, ...]]]:
    """What the store holds, read with the suite's own driver: records and identifiers, links and events
    (the times ingest stamps from its clock left out: two ingests a second apart differ in those)."""
    queries = {
        "records": "MATCH (r:Record) RETURN r.key, r.source, r.record_id, r.attributes, r.hash",
        "identifiers": "MATCH (i:Identifier) RETURN i.key, i.type, i.value, i.status",
        "links": "MATCH (r:Record)-[e:HAS_IDENTIFIER]->(i:Identifier) RETURN r.key, i.key, e.source, "
        "e.first_seen <= e.last_seen AND e.last_seen = r.seen_at",
        "events": "MATCH (r:Record)-[:HAS_EVENT]->(v:Event) RETURN r.key, v.key, v.type, v.ts, v.source, v.properties",
        "loose events": "MATCH (v:Event) WHERE NOT (v)<-[:HAS_EVENT]-() RETURN v.key",
    }
    driver, database = neo4j_driver(), neo4j_settings().neo4j_database
    return {
        name: {tuple(row.values()) for row in driver.execute_query(text, database_=database).records}
        for name, text in queries.items()
    }


@only_neo4j
def test_a_server_lost_mid_ingest_is_reported_in_one_line(
    store_settings: Settings, server: tuple[str, int], data: Path, tmp_path: Path
) -> None:
    proxy = Proxy(server, cut_after=CUT_AFTER)
    store = _open(store_settings, proxy, retry_seconds=2)
    store.changes_per_transaction = 2_000  # type: ignore[attr-defined]  # several transactions, some committed
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable) as lost:
            _ingest(store, data, tmp_path)
        seconds = time.monotonic() - started
    finally:
        store.close()
        proxy.cut()
    message = str(lost.value)
    assert "\n" not in message and lost.value.__suppress_context__  # one line, no chained traceback
    assert message.startswith(f"lost the connection to Neo4j at {proxy.uri}: ")
    assert message.endswith("gave up on 'ingest batch' after 2 s of retries")
    assert seconds < 30  # it gave up after about 2 s of retries
    records = _graph()["records"]
    assert 0 < len(records) < ROWS  # it was cut mid-ingest, after a commit


@only_neo4j
def test_a_read_from_a_lost_server_gives_up_after_the_retry_time(
    store_settings: Settings, server: tuple[str, int]
) -> None:
    proxy = Proxy(server)
    store = _open(store_settings, proxy, retry_seconds=2)
    try:
        assert store.record_keys().empty
        proxy.cut()
        started = time.monotonic()
        with pytest.raises(StoreUnavailable) as lost:
            store.record_keys()
        seconds = time.monotonic() - started
    finally:
        store.close()
    message = str(lost.value)
    assert message.startswith(f"lost the connection to Neo4j at {proxy.uri}: ")
    assert message.endswith(" (during query 'all_record_keys')") and "\n" not in message
    assert seconds < 15  # the driver retried the read for about 2 s, not its default 30 s


@only_neo4j
def test_a_server_back_within_the_retry_time_gives_the_graph_of_an_uninterrupted_ingest(
    store_settings: Settings, server: tuple[str, int], data: Path, tmp_path: Path
) -> None:
    changed = generate_dataset(tmp_path / "changed", n_records=ROWS, seed=2)  # the same record ids, new content
    direct = open_store(store_settings)
    try:
        _ingest(direct, data, tmp_path)
        expected = _ingest(direct, changed.directory / "sources.yaml", tmp_path)
    finally:
        direct.close()
    uninterrupted = _graph()
    empty_neo4j()
    proxy = Proxy(server)
    store = _open(store_settings, proxy, retry_seconds=30)
    store.changes_per_transaction = 2_000  # type: ignore[attr-defined]
    try:
        _ingest(store, data, tmp_path)
        proxy.cut_after = proxy.sent + CUT_AFTER  # into the changed re-ingest, which replaces every record
        back = threading.Thread(target=_resume_after_cut, args=(proxy, 1.0), daemon=True)
        back.start()
        summary = _ingest(store, changed.directory / "sources.yaml", tmp_path)
        back.join(10)
    finally:
        store.close()
        proxy.cut()
    assert proxy.was_cut.is_set()
    assert summary.rows_read == expected.rows_read == ROWS
    assert _graph() == uninterrupted


def _resume_after_cut(proxy: Proxy, seconds: float) -> None:
    if proxy.was_cut.wait(60):
        time.sleep(seconds)
        proxy.resume()


@only_neo4j
def test_cdp_ingest_reports_a_lost_server_in_one_line_and_exits_1(
    store_settings: Settings, server: tuple[str, int], data: Path, tmp_path: Path
) -> None:
    proxy = Proxy(server, cut_after=CUT_AFTER // 3)  # one transaction here: cut while it is sent
    env = {**os.environ, "CDP_STORE": "neo4j", "CDP_NEO4J_URI": proxy.uri, "CDP_NEO4J_RETRY_SECONDS": "2",
           "CDP_DATA_DIR": str(tmp_path / "cdp"), "PYTHONPATH": str(ROOT)}  # fmt: skip
    try:
        done = subprocess.run([sys.executable, "-m", "api.cli", "ingest", str(data)], env=env, capture_output=True,
                              text=True, timeout=120)  # fmt: skip
    finally:
        proxy.cut()
    assert proxy.was_cut.is_set()
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode == 1, lines
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, lines  # and nothing else but the progress bars: no traceback, no driver log
    assert all(line in errors or "━" in line for line in lines), lines
    assert errors[0].startswith(f"error: lost the connection to Neo4j at {proxy.uri}: ")
    assert errors[0].endswith("gave up on 'ingest batch' after 2 s of retries")  # the ingest's own error
