"""The test suite never touches a user's Neo4j: it runs on its own server, deletes only what it created,
and leaves nothing behind (nodes are counted with the driver, not through the store under test)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from graph.settings import StoreSettings
from graph.store import GraphStore
from tests.conftest import (
    NEO4J_MARKER,
    claim_neo4j,
    count_neo4j_nodes,
    mark_neo4j,
    neo4j_claimed,
    neo4j_driver,
    neo4j_is_marked,
    neo4j_settings,
)

only_neo4j = pytest.mark.parametrize("store_kind", [pytest.param("neo4j", marks=pytest.mark.neo4j)], indirect=True)

#: what `scripts/neo4j-local start` gives users (the main instance)
USER_HOME = Path(os.environ.get("CDP_NEO4J_HOME", Path.home() / ".cache/cdp-graph/neo4j-5.26"))
USER_PORTS = {int(os.environ.get("CDP_NEO4J_BOLT_PORT", 7687)), int(os.environ.get("CDP_NEO4J_HTTP_PORT", 7474))}


def _write(cypher: str) -> None:
    neo4j_driver().execute_query(cypher, database_=neo4j_settings().neo4j_database)


def _server_home() -> Path:
    records = (
        neo4j_driver()
        .execute_query("SHOW SETTINGS YIELD name, value WHERE name = 'server.directories.neo4j_home' RETURN value")
        .records
    )
    return Path(records[0]["value"])


@only_neo4j
def test_the_suite_runs_on_its_own_server(store_settings: StoreSettings) -> None:
    assert neo4j_is_marked()  # the suite only ever deletes from a database carrying its marker
    assert os.environ["CDP_NEO4J_URI"] == store_settings.neo4j_uri  # the CLI under test reaches it too
    test_home = os.environ.get("CDP_TEST_NEO4J_HOME")  # set when scripts/test started the test instance
    if test_home:
        assert _server_home().resolve() == Path(test_home).resolve() != USER_HOME.resolve()
        assert urlsplit(store_settings.neo4j_uri).port not in USER_PORTS


@pytest.fixture
def nothing_left_after() -> Iterator[None]:
    """Set up before, so torn down after, the test's ``store``: then the database must be empty."""
    yield
    if neo4j_claimed():
        assert count_neo4j_nodes() == 0, "a Neo4j store test left nodes behind"


@only_neo4j
def test_a_store_test_leaves_nothing_behind(nothing_left_after: None, store: GraphStore) -> None:
    assert count_neo4j_nodes() == 0  # and starts from nothing
    _write("CREATE (:Record {key: 'crm:1'})-[:HAS_IDENTIFIER]->(:Identifier {key: 'email:a@x.com'})")
    assert count_neo4j_nodes() == 2


@only_neo4j
def test_a_database_holding_data_the_suite_did_not_create_is_not_cleared(store_settings: StoreSettings) -> None:
    _write(f"DROP INDEX {NEO4J_MARKER} IF EXISTS")  # as a user's own database: data, no marker
    try:
        _write("CREATE (:Record {key: 'users:own'})")
        reason = claim_neo4j()
        assert reason is not None and "holds 1 node(s) the test suite did not create" in reason
        assert count_neo4j_nodes() == 1 and not neo4j_is_marked()
    finally:
        mark_neo4j()
