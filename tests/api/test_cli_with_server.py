"""`cdp serve` in one process, the other commands in others, as a user runs them: on the embedded store
they hand their work to the server that holds it; on Neo4j they talk to the database beside it. Either
way the server answers from the new data right after."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from graph.settings import Settings
from tests.api.conftest import CRM, POS, SOURCES

ROOT = Path(__file__).parents[2]
EMBED = "walks_per_node: 4\ndimensions: 8\nworkers: 1\nseed: 1\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(settings: Settings, data_dir: Path) -> dict[str, str]:
    return {**os.environ, "CDP_STORE": settings.store, "CDP_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}


def cdp(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


class Served:
    def __init__(self, url: str, process: subprocess.Popen[str]) -> None:
        self.url, self.process = url, process

    def query(self, text: str, **variables: object) -> dict:
        answer = httpx.post(f"{self.url}/graphql", json={"query": text, "variables": variables}, timeout=60)
        answer.raise_for_status()
        return answer.json()


@pytest.fixture
def served(store_settings: Settings, store: object, tmp_path: Path) -> Iterator[tuple[Served, dict[str, str]]]:
    """`cdp serve` on the store under test, in its own process; the env other commands run with."""
    store.close()  # type: ignore[attr-defined]  # the server opens the store itself
    (tmp_path / "sources.yaml").write_text(SOURCES)
    (tmp_path / "crm.csv").write_text(CRM)
    (tmp_path / "pos.csv").write_text(POS)
    (tmp_path / "embed.yaml").write_text(EMBED)
    env, port = _env(store_settings, tmp_path / "cdp"), _free_port()
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--insecure-local", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(f"cdp serve did not start: {process.stdout.read() if process.stdout else ''}")
    try:
        yield Served(url, process), env
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(30)


def test_commands_run_beside_the_server_and_it_answers_from_their_data(
    served: tuple[Served, dict[str, str]], tmp_path: Path
) -> None:
    server, env = served
    ingested = cdp(env, "ingest", str(tmp_path / "sources.yaml"))
    assert ingested.returncode == 0, ingested.stderr
    assert "9 rows" in ingested.stdout + ingested.stderr
    resolved = cdp(env, "resolve")
    assert resolved.returncode == 0, resolved.stderr
    found = server.query('{ profileByRecord(source: "crm", recordId: "C1") { size records { recordId } } }')
    assert found["data"]["profileByRecord"]["size"] == 5  # Ann's records, right after the resolve
    stats = cdp(env, "stats", "--json")
    assert stats.returncode == 0 and json.loads(stats.stdout)["records_by_source"] == {"crm": 6, "pos": 3}
    embedded = cdp(env, "embed", "--settings", str(tmp_path / "embed.yaml"))
    assert embedded.returncode == 0, embedded.stderr
    time.sleep(1.1)  # the server re-reads the model id at most once a second
    similar = server.query('{ profileByRecord(source: "pos", recordId: "T1") { id } }')["data"]["profileByRecord"]
    answer = server.query("query($id: ID!) { similarProfiles(id: $id, k: 2) { score } }", id=similar["id"])
    assert answer.get("errors") is None and len(answer["data"]["similarProfiles"]) == 1  # the other buyer


@pytest.mark.parametrize("store_kind", ["embedded"])  # on Neo4j every command connects to the database itself
def test_on_the_embedded_store_the_server_takes_the_jobs(served: tuple[Served, dict[str, str]], tmp_path: Path) -> None:
    server, env = served
    link = tmp_path / "cdp" / "server.json"
    assert stat.S_IMODE(link.stat().st_mode) == 0o600  # its token is the key to the store
    published = json.loads(link.read_text())
    assert published["url"] == server.url and published["pid"] == server.process.pid
    refused = httpx.post(f"{server.url}/jobs/stats", json={"args": {}}, timeout=10)
    assert refused.status_code == 401  # no token, no job
    second = cdp(env, "serve", "--insecure-local", "--port", str(_free_port()))
    assert second.returncode == 1 and second.stderr.count("\n") == 1
    assert f"served by another process (pid {server.process.pid}" in second.stderr
    server.process.send_signal(signal.SIGINT)
    server.process.wait(30)
    assert not link.exists()  # withdrawn when it stopped: commands open the store themselves again
    assert cdp(env, "ingest", str(tmp_path / "sources.yaml")).returncode == 0


@pytest.mark.parametrize("store_kind", ["embedded"])  # only the embedded store is handed to a server
def test_a_server_killed_leaves_a_stale_file_that_commands_see_through(
    served: tuple[Served, dict[str, str]], tmp_path: Path
) -> None:
    server, env = served
    server.process.kill()
    server.process.wait(30)
    assert (tmp_path / "cdp" / "server.json").exists()
    ingested = cdp(env, "ingest", str(tmp_path / "sources.yaml"))
    assert ingested.returncode == 0, ingested.stderr


def test_lookups_read_values_as_ingest_did(served: tuple[Served, dict[str, str]], tmp_path: Path) -> None:
    """Sources read in the US: the server (whose own default region is GB) finds a US number written
    nationally, because the region is stored with the graph."""
    server, env = served
    (tmp_path / "us.csv").write_text("id,phone\nU1,(415) 555-0134\n")
    (tmp_path / "us.yaml").write_text(
        "sources:\n  us:\n    path: us.csv\n    record_id: id\n    identifiers: {phone: phone}\n"
        "options: {default_region: US}\n"
    )
    assert cdp(env, "ingest", str(tmp_path / "us.yaml")).returncode == 0
    assert cdp(env, "resolve").returncode == 0
    time.sleep(1.1)  # the server re-reads the stored options at most once a second
    query = '{ profileByIdentifier(type: "phone", value: "415 555 0134") { records { recordId } } }'
    assert server.query(query)["data"]["profileByIdentifier"]["records"] == [{"recordId": "U1"}]
