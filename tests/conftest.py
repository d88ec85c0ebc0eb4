"""One suite, every store: the ``store`` fixture runs each test on the embedded store and on a real Neo4j.

The suite's Neo4j is a server kept for tests, named by ``CDP_TEST_NEO4J_URI`` / ``_USER`` / ``_PASSWORD``
(and ``_DATABASE``, default ``neo4j``). ``scripts/test`` starts one, ``scripts/neo4j-local --instance test``
(its own home and ports, never the server users run), and sets them. A user's ``CDP_NEO4J_*`` are never read:
at start-up they are pointed at the test server (or removed), so the CLI and subprocesses run by tests cannot
reach a user's server either.

The suite deletes everything in that database, so before its first write it checks that it may: the database
is empty, or carries the suite's marker (an index named ``cdp_test_suite_marker``, created when the suite
takes the database and dropped when the session leaves it empty). A database holding nodes without the marker
holds someone's data: nothing is deleted and the Neo4j tests are skipped with the reason. Each Neo4j test
starts and ends on an empty database, and the session leaves it empty (no node, no index, no marker).

Without a usable server the Neo4j variants are skipped with the reason, unless ``CDP_REQUIRE_NEO4J=1`` (CI),
where they fail instead. ``CDP_SKIP_NEO4J=1`` skips them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import neo4j
import pytest
from neo4j.exceptions import DriverError, Neo4jError
from pydantic import SecretStr

from graph.errors import StoreUnavailable
from graph.settings import StoreSettings, open_store
from graph.store import GraphStore

#: the test instance of scripts/neo4j-local (the main one, users' own, is on 7687)
TEST_NEO4J_URI = "bolt://127.0.0.1:7697"
#: the index that says "the test suite put the data here": it may be deleted
NEO4J_MARKER = "cdp_test_suite_marker"

_neo4j_error: str | None = None
_neo4j_claimed = False
_driver: neo4j.Driver | None = None  # the suite's own connection: checks, counts and clean-up, never the store's


def neo4j_settings() -> StoreSettings:
    return StoreSettings(
        store="neo4j",
        neo4j_uri=os.environ.get("CDP_TEST_NEO4J_URI", TEST_NEO4J_URI),
        neo4j_user=os.environ.get("CDP_TEST_NEO4J_USER", "neo4j"),
        neo4j_password=SecretStr(os.environ.get("CDP_TEST_NEO4J_PASSWORD", "")),
        neo4j_database=os.environ.get("CDP_TEST_NEO4J_DATABASE", "neo4j"),
    )


def pytest_configure(config: pytest.Config) -> None:
    """Whatever the code under test reads from ``CDP_NEO4J_*`` is the test server, never a user's."""
    for name in ("URI", "USER", "PASSWORD", "DATABASE"):
        os.environ.pop(f"CDP_NEO4J_{name}", None)
    for name in ("CDP_STORE", "CDP_DATA_DIR"):  # a user's shell must not send tests to their data
        os.environ.pop(name, None)
    settings = neo4j_settings()
    os.environ["CDP_NEO4J_URI"] = settings.neo4j_uri
    os.environ["CDP_NEO4J_USER"] = settings.neo4j_user
    os.environ["CDP_NEO4J_DATABASE"] = settings.neo4j_database
    if settings.neo4j_password.get_secret_value():
        os.environ["CDP_NEO4J_PASSWORD"] = settings.neo4j_password.get_secret_value()


def neo4j_driver() -> neo4j.Driver:
    """A driver on the suite's Neo4j, for counting and cleaning without the store under test."""
    global _driver
    if _driver is None:
        settings = neo4j_settings()
        auth = (settings.neo4j_user, settings.neo4j_password.get_secret_value())
        _driver = neo4j.GraphDatabase.driver(settings.neo4j_uri, auth=auth)
    return _driver


def _query(cypher: str, **params: object) -> list[neo4j.Record]:
    return neo4j_driver().execute_query(cypher, params, database_=neo4j_settings().neo4j_database).records


def count_neo4j_nodes() -> int:
    return int(_query("MATCH (n) RETURN count(n) AS n")[0]["n"])


def neo4j_is_marked() -> bool:
    """Whether the suite's marker is there, i.e. the data in the database is the suite's own."""
    return bool(_query("SHOW INDEXES YIELD name WHERE name = $name RETURN count(*) AS n", name=NEO4J_MARKER)[0]["n"])


def mark_neo4j() -> None:
    _query(f"CREATE INDEX {NEO4J_MARKER} IF NOT EXISTS FOR (n:CdpTestSuite) ON (n.marker)")


def neo4j_claimed() -> bool:
    """Whether this session has taken the suite's database (checked it is its own and marked it)."""
    return _neo4j_claimed


def claim_neo4j() -> str | None:
    """Take the suite's database for tests, or say why not (it is unreachable, or holds someone's data)."""
    global _neo4j_claimed
    settings = neo4j_settings()
    if os.environ.get("CDP_SKIP_NEO4J") == "1":
        return "CDP_SKIP_NEO4J=1"
    if not settings.neo4j_password.get_secret_value():
        return "CDP_TEST_NEO4J_PASSWORD is not set (scripts/test starts a test instance and sets it)"
    try:
        nodes = count_neo4j_nodes()
        if nodes and not neo4j_is_marked():
            return (
                f"{settings.neo4j_uri} holds {nodes} node(s) the test suite did not create; refusing to delete them. "
                "Point CDP_TEST_NEO4J_* at an empty database (scripts/neo4j-local --instance test reset empties "
                "the test instance)"
            )
        mark_neo4j()
    except (Neo4jError, DriverError) as exc:
        return f"cannot use Neo4j at {settings.neo4j_uri}: {exc}"
    _neo4j_claimed = True
    return None


def _require_neo4j() -> None:
    """Skip (or fail, under ``CDP_REQUIRE_NEO4J=1``) unless the suite's Neo4j is usable and its own."""
    global _neo4j_error
    if _neo4j_error is None and not _neo4j_claimed:
        _neo4j_error = claim_neo4j()
    if _neo4j_error is None:
        return
    if os.environ.get("CDP_REQUIRE_NEO4J") == "1":
        pytest.fail(f"Neo4j is required here but unavailable: {_neo4j_error}")
    pytest.skip(f"no Neo4j server for tests: {_neo4j_error}")


def _open_neo4j() -> GraphStore:
    global _neo4j_error
    _require_neo4j()
    try:
        return open_store(neo4j_settings())
    except StoreUnavailable as exc:
        _neo4j_error = str(exc)
        _require_neo4j()  # skips or fails
        raise


def empty_neo4j() -> None:
    """Delete every node of the suite's (claimed) database, in batches."""
    assert _neo4j_claimed, "the suite only empties a database it has checked is its own"
    with neo4j_driver().session(database=neo4j_settings().neo4j_database) as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()


def _drop_neo4j_schema() -> None:
    """Drop every constraint and index, the marker last: the next session starts from an empty database."""
    for row in _query("SHOW CONSTRAINTS YIELD name"):
        _query(f"DROP CONSTRAINT `{row['name'].replace('`', '``')}` IF EXISTS")
    for row in _query("SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' AND name <> $name", name=NEO4J_MARKER):
        _query(f"DROP INDEX `{row['name'].replace('`', '``')}` IF EXISTS")
    _query(f"DROP INDEX {NEO4J_MARKER} IF EXISTS")


@pytest.fixture(scope="session", autouse=True)
def _leave_neo4j_empty() -> Iterator[None]:
    """At the end of the session the suite's Neo4j database is empty (nothing is left for the next run)."""
    yield
    global _driver
    if _driver is None:
        return
    try:
        if _neo4j_claimed:
            empty_neo4j()
            _drop_neo4j_schema()
    finally:
        _driver.close()
        _driver = None


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def store_settings(store_kind: str, tmp_path: Path) -> Iterator[StoreSettings]:
    """Settings for an empty store of each kind; a Neo4j database is emptied before and after the test."""
    if store_kind != "neo4j":
        yield StoreSettings(store="embedded", data_dir=tmp_path / "cdp")
        return
    _require_neo4j()
    empty_neo4j()
    try:
        yield neo4j_settings()
    finally:
        empty_neo4j()


@pytest.fixture
def store(store_kind: str, tmp_path: Path) -> Iterator[GraphStore]:
    """An empty store of each kind; a Neo4j one is emptied again after the test, so nothing is left behind."""
    if store_kind == "neo4j":
        opened = _open_neo4j()
        opened.clear()
    else:
        opened = open_store(StoreSettings(store="embedded", data_dir=tmp_path / "cdp"))
    try:
        yield opened
    finally:
        try:
            opened.close()
        finally:
            if store_kind == "neo4j":
                empty_neo4j()
