"""The embedded store: ladybug (a maintained Kuzu fork) in-process, persisted under ``CDP_DATA_DIR``.

Needs no server. One process opens the database (a second one gets a one-line error naming the process
that holds it); inside it, one writer and many readers work at once: a transaction runs on the single
writer connection, under a lock, while reads take a connection from a pool and see only committed data
(ladybug is MVCC). The engine's thread pool is larger than the cores, so one slow query cannot hold
every other read behind it.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from graph.errors import StoreUnavailable
from graph.model import Label, Rel
from graph.runner import Row
from graph.schema import RELS, embedded_add_property, embedded_ddl, property_names
from graph.store import GraphStore
from graph.writes import Transaction

logger = logging.getLogger(__name__)

_CHECKPOINT_BYTES = 128 << 20
_UNWIND_ROWS = "UNWIND $rows AS row "
_ROW_FIELD = re.compile(r"\brow\.(\w+)")
_HELD_BY = re.compile(r"Lock is held by PID (\d+)")


class EmbeddedTransaction(Transaction):
    """A write transaction on the store's writer connection, which it holds until commit or rollback."""

    def __init__(self, store: EmbeddedStore, conn: Any) -> None:
        self.batch_size = store.batch_size
        self._store, self._conn = store, conn

    def _rows(self, text: str, params: dict[str, Any]) -> list[Row]:
        return _rows(self._conn, text, params)

    def _frame(self, text: str, params: dict[str, Any]) -> pd.DataFrame:
        return _result(self._conn, text, params).get_as_df()

    def _write_batch(self, text: str, param: str, batch: list[Any]) -> None:
        # ``LOAD FROM`` a DataFrame is several times faster here than ``UNWIND`` over a list of maps
        if text.startswith(_UNWIND_ROWS) and param == "rows" and batch and isinstance(batch[0], dict):
            frame = pd.DataFrame(batch).add_prefix("row_")
            _result(self._conn, "LOAD FROM $rows " + _ROW_FIELD.sub(r"row_\1", text[len(_UNWIND_ROWS) :]),
                    {"rows": frame})  # fmt: skip
        else:
            _result(self._conn, text, {param: batch})

    def _bulk_nodes(self, label: Label, frame: pd.DataFrame) -> None:
        # COPY is ladybug's bulk path: several times faster than LOAD FROM ... CREATE; columns go by position
        rows = frame[property_names(label)].reset_index(drop=True)
        self._timed(f"copy_{label.lower()}_nodes", _result, self._conn, f"COPY {label} FROM $rows", {"rows": rows})

    def _bulk_edges(self, rel: Rel, frame: pd.DataFrame) -> None:
        ends = list(frame.columns[:2])
        rows = frame[ends + [name for name, _ in RELS[rel].properties]].reset_index(drop=True)
        self._timed(f"copy_{rel.lower()}_edges", _result, self._conn, f"COPY {rel} FROM $rows", {"rows": rows})

    def _add_property_statement(self, label: Label, name: str) -> str | None:
        return embedded_add_property(label, name)

    def _commit(self) -> None:
        try:
            self._conn.execute("COMMIT")
        finally:
            self._store._write_lock.release()

    def _rollback(self) -> None:
        try:
            self._conn.execute("ROLLBACK")
        except RuntimeError as exc:  # a failed statement may already have ended the transaction
            logger.debug("rollback: %s", exc)
        finally:
            self._store._write_lock.release()


class EmbeddedStore(GraphStore):
    kind = "embedded"
    batch_size = 20_000
    per_key_lookups = 256  # 256 lookups of ~3 ms beat one UNWIND-and-traverse of ~3 s at 1M records
    per_profile_reads = True  # ladybug plans `p.id IN $ids` at ~4.4 ms an id at 1M records, one id at ~0.4 ms
    # a commit costs a large fixed amount here (0.3-0.5 s for 10k records with their links, measured), so
    # ingest and resolve commit every 250k records (at 1M rows: 55 s of writes, against 89 s in 100k-record
    # transactions and about 3x that in 10k-record ones)
    transaction_rows = 250_000
    retry_seconds = 0.0  # nothing to reconnect to

    def __init__(self, data_dir: Path, buffer_pool_mb: int = 8192, max_readers: int = 16) -> None:
        import ladybug

        self.path = Path(data_dir) / "graph.lbug"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        cores = os.cpu_count() or 2
        try:
            # checkpointing after every ingest batch (the 16 MB default) tripled commit time; pages written
            # since the last checkpoint stay in the buffer pool, so the threshold stays well below it.
            # The buffer pool defaults to 80% of RAM, which got a 1M-row ingest killed by the OOM killer.
            # Threads: 4 per core, so a slow query using a core's worth leaves room for every other read.
            self._db = ladybug.Database(str(self.path), buffer_pool_size=buffer_pool_mb << 20,
                                        checkpoint_threshold=_CHECKPOINT_BYTES, max_num_threads=4 * cores)  # fmt: skip
        except RuntimeError as exc:
            raise StoreUnavailable(_open_error(self.path, exc)) from None
        self._ladybug, self._cores = ladybug, cores
        self._writer = ladybug.Connection(self._db, num_threads=cores)
        self._write_lock = threading.Lock()  # one write transaction at a time
        # small reads (a few profiles) run fastest on one thread each; bulk reads (a whole table) use every core
        self._readers = {1: queue.LifoQueue[Any](), cores: queue.LifoQueue[Any]()}
        self._reader_slots = threading.BoundedSemaphore(max_readers)
        self._closed = False

    def describe(self) -> str:
        return f"embedded graph at {self.path}"

    @contextmanager
    def _reader(self, threads: int) -> Iterator[Any]:
        """A read connection of the pool (created on first need; at most ``max_readers`` in use)."""
        self._reader_slots.acquire()
        try:
            pool = self._readers[threads]
            try:
                conn = pool.get_nowait()
            except queue.Empty:
                conn = self._ladybug.Connection(self._db, num_threads=threads)
            try:
                yield conn
            finally:
                pool.put(conn)
        finally:
            self._reader_slots.release()

    def _rows(self, text: str, params: dict[str, Any]) -> list[Row]:
        with self._reader(1) as conn:
            return _rows(conn, text, params)

    def _frame(self, text: str, params: dict[str, Any]) -> pd.DataFrame:
        with self._reader(self._cores) as conn:
            return _result(conn, text, params).get_as_df()

    def _begin(self) -> Transaction:
        self._write_lock.acquire()
        try:
            self._writer.execute("BEGIN TRANSACTION")
        except BaseException:
            self._write_lock.release()
            raise
        return EmbeddedTransaction(self, self._writer)

    def _schema_statements(self) -> list[str]:
        return embedded_ddl()

    def clear(self) -> None:
        with self.transaction() as tx:
            for label in Label:
                tx._rows(f"MATCH (n:{label}) DETACH DELETE n", {})

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for pool in self._readers.values():
            while not pool.empty():
                pool.get_nowait().close()
        self._writer.close()
        self._db.close()


def _result(conn: Any, text: str, params: dict[str, Any]) -> Any:
    result = conn.execute(text, params)
    return result[-1] if isinstance(result, list) else result  # a list only for multi-statement text


def _rows(conn: Any, text: str, params: dict[str, Any]) -> list[Row]:
    result = _result(conn, text, params)
    names = result.get_column_names()
    return [dict(zip(names, row, strict=True)) for row in result.get_all()]


def _open_error(path: Path, exc: RuntimeError) -> str:
    held = _HELD_BY.search(str(exc))
    if not held:
        return f"cannot open the embedded graph at {path}: {str(exc).splitlines()[0]}"
    pid = held.group(1)
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        command = ""
    who = f"pid {pid}: {command}" if command else f"pid {pid}"
    if " serve" in f" {command}":
        return f"the embedded graph at {path} is served by another process ({who}): one server per data directory"
    return f"the embedded graph at {path} is in use by another process ({who}); wait for it to finish"
