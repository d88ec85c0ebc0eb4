"""One suite, every store: the ``store`` fixture runs each test on the embedded store and on a real Neo4j.

Neo4j comes from ``CDP_NEO4J_URI``/``CDP_NEO4J_USER``/``CDP_NEO4J_PASSWORD`` (``scripts/neo4j-local start``
prints them). Without a server the Neo4j variants are skipped with the reason, unless
``CDP_REQUIRE_NEO4J=1`` (CI), where they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.errors import StoreUnavailable
from graph.settings import StoreSettings, open_store
from graph.store import GraphStore

_neo4j_error: str | None = None


def neo4j_settings() -> StoreSettings:
    return StoreSettings(
        store="neo4j",
        neo4j_uri=os.environ.get("CDP_NEO4J_URI", "bolt://127.0.0.1:7687"),
        neo4j_user=os.environ.get("CDP_NEO4J_USER", "neo4j"),
        neo4j_password=os.environ.get("CDP_NEO4J_PASSWORD", ""),
    )


def _open_neo4j() -> GraphStore:
    global _neo4j_error
    if _neo4j_error is None and not os.environ.get("CDP_NEO4J_PASSWORD"):
        _neo4j_error = 'CDP_NEO4J_PASSWORD is not set (start one with: eval "$(scripts/neo4j-local start)")'
    if _neo4j_error is None:
        try:
            return open_store(neo4j_settings())
        except StoreUnavailable as exc:
            _neo4j_error = str(exc)
    if os.environ.get("CDP_REQUIRE_NEO4J") == "1":
        pytest.fail(f"Neo4j is required here but unavailable: {_neo4j_error}")
    pytest.skip(f"no Neo4j server: {_neo4j_error}")


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def store_settings(store_kind: str, tmp_path: Path) -> StoreSettings:
    if store_kind == "neo4j":
        return neo4j_settings()
    return StoreSettings(store="embedded", data_dir=tmp_path / "cdp")


@pytest.fixture
def store(store_kind: str, tmp_path: Path) -> Iterator[GraphStore]:
    """An empty store of each kind."""
    if store_kind == "neo4j":
        opened = _open_neo4j()
        opened.clear()
    else:
        opened = open_store(StoreSettings(store="embedded", data_dir=tmp_path / "cdp"))
    try:
        yield opened
    finally:
        opened.close()
