"""The Neo4j store: the official driver over Bolt, batched parameterised ``UNWIND`` writes.

Reads on the store run as managed read transactions (the driver retries them on a lost connection);
each :class:`Neo4jTransaction` has a session of its own, so threads never share a transaction and a
read never sees another thread's uncommitted writes.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from graph.errors import StoreUnavailable
from graph.runner import Row
from graph.schema import neo4j_ddl
from graph.store import GraphStore
from graph.writes import Transaction

logger = logging.getLogger(__name__)


def _lost(uri: str, exc: Exception) -> str | None:
    from neo4j import exceptions as errors

    lost = (errors.ServiceUnavailable, errors.SessionExpired, errors.IncompleteCommit, ConnectionError)
    if isinstance(exc, lost) or (isinstance(exc, errors.DriverError) and "defunct" in str(exc).lower()):
        return f"lost the connection to Neo4j at {uri}: {type(exc).__name__}"
    return None


class Neo4jTransaction(Transaction):
    nested_writes = True

    def __init__(self, store: Neo4jStore, session: Any) -> None:
        self.batch_size, self._uri = store.batch_size, store.uri
        self._session = session
        self._tx = session.begin_transaction()

    def _rows(self, text: str, params: dict[str, Any]) -> list[Row]:
        return [record.data() for record in self._tx.run(text, params)]

    def _frame(self, text: str, params: dict[str, Any]) -> pd.DataFrame:
        return self._tx.run(text, params).to_df()

    def _unavailable(self, exc: Exception) -> str | None:
        return _lost(self._uri, exc)

    def _commit(self) -> None:
        try:
            self._tx.commit()
        finally:
            self._session.close()

    def _rollback(self) -> None:
        try:
            self._tx.rollback()
        except Exception as exc:  # a lost connection rolls back on the server; the first error is the story
            logger.debug("rollback: %s", exc)
        finally:
            try:
                self._session.close()
            except Exception as exc:
                logger.debug("close session: %s", exc)


class Neo4jStore(GraphStore):
    kind = "neo4j"
    batch_size = 10_000
    transaction_rows = 10_000

    def __init__(self, uri: str, user: str, password: str, database: str = "neo4j") -> None:
        import neo4j
        from neo4j import exceptions as errors

        self.uri, self.database = uri, database
        self._neo4j = neo4j
        self._driver = neo4j.GraphDatabase.driver(uri, auth=(user, password), max_transaction_retry_time=30.0)
        try:
            self._driver.verify_connectivity()
        except errors.AuthError:
            self._driver.close()
            raise StoreUnavailable(f"Neo4j at {uri} refused the credentials of user '{user}'") from None
        except (errors.ServiceUnavailable, errors.DriverError, OSError) as exc:
            self._driver.close()
            raise StoreUnavailable(f"cannot reach Neo4j at {uri}: {str(exc).splitlines()[0]}") from None

    def describe(self) -> str:
        return f"Neo4j at {self.uri} (database {self.database})"

    def _unavailable(self, exc: Exception) -> str | None:
        return _lost(self.uri, exc)

    def _rows(self, text: str, params: dict[str, Any]) -> list[Row]:
        with self._read_session() as session:
            return session.execute_read(lambda tx: [record.data() for record in tx.run(text, params)])

    def _frame(self, text: str, params: dict[str, Any]) -> pd.DataFrame:
        with self._read_session() as session:
            return session.execute_read(lambda tx: tx.run(text, params).to_df())

    def _read_session(self) -> Any:
        return self._driver.session(database=self.database, default_access_mode=self._neo4j.READ_ACCESS)

    def _begin(self) -> Transaction:
        session = self._driver.session(database=self.database)
        try:
            return Neo4jTransaction(self, session)
        except Exception as exc:
            session.close()
            gone = _lost(self.uri, exc)
            if gone is not None:
                raise StoreUnavailable(f"{gone} (starting a transaction)") from None
            raise

    def _schema_statements(self) -> list[str]:
        return neo4j_ddl()

    def clear(self) -> None:
        # batched so a large graph does not need one huge transaction
        with self._driver.session(database=self.database) as session:
            session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()

    def close(self) -> None:
        self._driver.close()
