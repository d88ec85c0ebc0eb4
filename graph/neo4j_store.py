"""The Neo4j store: the official driver over Bolt, batched parameterised ``UNWIND`` writes."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from graph.errors import StoreUnavailable
from graph.model import Label
from graph.store import GraphStore, Row

logger = logging.getLogger(__name__)

_UNIQUE_KEYS = {
    Label.RECORD: "key",
    Label.IDENTIFIER: "key",
    Label.EVENT: "key",
    Label.PROFILE: "id",
    Label.PROFILE_ALIAS: "id",
    Label.REJECTED_LINK: "key",
    Label.MATCH_LINK: "key",
    Label.HOUSEHOLD_MEMBER: "profile_id",
    Label.PROFILE_EVENT: "key",
    Label.OVERRIDE: "key",
    Label.RESOLVE_RUN: "id",
    Label.MATCH_MODEL: "id",
    Label.CHANGED_RECORD: "key",
    Label.EMBEDDING_MODEL: "id",
    Label.EMBEDDING_CHUNK: "key",
}
_INDEXES = [
    (Label.RECORD, "source"),
    (Label.IDENTIFIER, "status"),
    (Label.REJECTED_LINK, "record"),
    (Label.MATCH_LINK, "record_a"),
    (Label.MATCH_LINK, "record_b"),
    (Label.HOUSEHOLD_MEMBER, "household_id"),
    (Label.PROFILE_EVENT, "profile_id"),
]


class Neo4jStore(GraphStore):
    kind = "neo4j"
    batch_size = 10_000
    nested_writes = True

    def __init__(self, uri: str, user: str, password: str, database: str = "neo4j") -> None:
        import neo4j
        from neo4j import exceptions as neo4j_errors

        self.uri, self.database = uri, database
        self._driver = neo4j.GraphDatabase.driver(uri, auth=(user, password))
        self._session: Any = None
        self._tx: Any = None
        try:
            self._driver.verify_connectivity()
        except neo4j_errors.AuthError as exc:
            self._driver.close()
            raise StoreUnavailable(f"Neo4j at {uri} refused the credentials of user '{user}'") from exc
        except (neo4j_errors.ServiceUnavailable, neo4j_errors.DriverError, OSError) as exc:
            self._driver.close()
            raise StoreUnavailable(f"cannot reach Neo4j at {uri}: {exc}") from exc

    def describe(self) -> str:
        return f"Neo4j at {self.uri} (database {self.database})"

    def _execute(self, query: str, params: dict[str, Any]) -> list[Row]:
        if self._tx is not None:
            return [record.data() for record in self._tx.run(query, params)]
        records, _, _ = self._driver.execute_query(query, params, database_=self.database)
        return [record.data() for record in records]

    def _execute_frame(self, query: str, params: dict[str, Any]) -> pd.DataFrame:
        import neo4j

        if self._tx is not None:
            return self._tx.run(query, params).to_df()
        return self._driver.execute_query(
            query, params, database_=self.database, result_transformer_=neo4j.Result.to_df
        )

    def _schema_statements(self) -> list[str]:
        constraints = [
            f"CREATE CONSTRAINT {label.lower()}_{prop} IF NOT EXISTS FOR (n:{label}) REQUIRE n.{prop} IS UNIQUE"
            for label, prop in _UNIQUE_KEYS.items()
        ]
        indexes = [
            f"CREATE INDEX {label.lower()}_{prop} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})"
            for label, prop in _INDEXES
        ]
        return constraints + indexes

    def _begin(self) -> None:
        self._session = self._driver.session(database=self.database)
        self._tx = self._session.begin_transaction()

    def _commit(self) -> None:
        try:
            self._tx.commit()
        finally:
            self._end()

    def _rollback(self) -> None:
        try:
            self._tx.rollback()
        finally:
            self._end()

    def _end(self) -> None:
        self._tx = None
        self._session.close()
        self._session = None

    def clear(self) -> None:
        # batched so a large graph does not need one huge transaction
        with self._driver.session(database=self.database) as session:
            session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()

    def close(self) -> None:
        self._driver.close()
