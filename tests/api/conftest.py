"""A real HTTP server (uvicorn on a loopback port) over each store, loaded with resolved demo-like data."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from api.app import create_app
from api.keys import create_key
from graph.settings import StoreSettings
from graph.store import GraphStore
from ingest.config import load_config
from ingest.pipeline import ingest
from resolve.runner import resolve
from resolve.settings import ResolveSettings

SOURCES = """
sources:
  crm:
    path: crm.csv
    record_id: crm_id
    identifiers: {crm_id: crm_id, email: email, phone: phone}
    attributes: {first_name: first_name, surname: last_name, city: city}
  pos:
    path: pos.csv
    record_id: txn_id
    identifiers: {loyalty_card: loyalty_id, phone: phone}
    event: {type: purchase, timestamp: ts, properties: [sku, amount]}
"""
CRM = """crm_id,email,phone,first_name,surname,city
C1,ann@mailbox.co.uk,07911 123456,Ann,Smith,Leeds
C2,ann@mailbox.co.uk,,Anne,Smith,York
C3,ann.smith@work.co.uk,07911123456,Ann,Smith,Leeds
C4,bob@mailbox.co.uk,07812 345678,Bob,Jones,Hull
C5,family@mailbox.co.uk,,Cat,Lee,Bath
C6,family@mailbox.co.uk,,Dan,Lee,Bath
"""
POS = """txn_id,loyalty_card,phone,ts,sku,amount
T1,L1,+447911123456,2025-01-05T10:00:00Z,SKU-1,10.5
T2,L1,,2025-02-05T10:00:00Z,SKU-2,3
T3,L2,07812345678,2025-03-05T10:00:00Z,SKU-1,10.5
"""


@dataclass
class Server:
    url: str
    store: GraphStore
    key: str = ""  # an admin API key the server accepts

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def query(self, query: str, **variables: object) -> dict:
        response = httpx.post(f"{self.url}/graphql", json={"query": query, "variables": variables},
                              headers=self.headers, timeout=30)  # fmt: skip
        response.raise_for_status()
        return response.json()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_example(store: GraphStore, directory: Path) -> None:
    (directory / "sources.yaml").write_text(SOURCES)
    (directory / "crm.csv").write_text(CRM)
    (directory / "pos.csv").write_text(POS)
    ingest(load_config(directory / "sources.yaml"), store, directory / "rejects")
    resolve(store, ResolveSettings(blocklist={"email": ["family@mailbox.co.uk"]}))  # a household email


@contextmanager
def serving(store: GraphStore, settings: StoreSettings, key: str = "") -> Iterator[Server]:
    """``create_app`` over ``store`` served by uvicorn on a free loopback port, while the block runs."""
    settings = settings.model_copy(update={"neo4j_password": SecretStr("not-a-default-pw")})
    port = _free_port()
    config = uvicorn.Config(create_app(settings, store=store), host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uv.started, "uvicorn did not start"
    try:
        yield Server(f"http://127.0.0.1:{port}", store, key)
    finally:
        uv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def server(store: GraphStore, store_settings: StoreSettings, tmp_path: Path) -> Iterator[Server]:
    load_example(store, tmp_path)
    with serving(store, store_settings, create_key(store, "tests", "admin")) as running:
        yield running
