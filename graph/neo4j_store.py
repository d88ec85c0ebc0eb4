"""The Neo4j store: the official driver over Bolt, batched parameterised ``UNWIND`` writes.

Reads on the store run in read sessions: a small read as an auto-commit query, a bulk read as a managed
read transaction, each retried on a lost connection for the store's ``retry_seconds`` (as
:meth:`GraphStore.write` does a unit of work); each
:class:`Neo4jTransaction` has a session of its own, so threads never share a transaction and a read
never sees another thread's uncommitted writes. An ingest batch is written in transactions of a bounded
number of changes (:attr:`Neo4jStore.changes_per_transaction`), so it fits the server's heap.
"""

from __future__ import annotations

import logging
import time
from operator import methodcaller
from typing import Any

import pandas as pd

from graph.batch import RecordBatch
from graph.errors import StoreUnavailable
from graph.records import UpsertCounts, split_by_changes
from graph.runner import Row
from graph.schema import neo4j_ddl
from graph.store import GraphStore
from graph.writes import Transaction

logger = logging.getLogger(__name__)


class _DriverLogs(logging.Filter):
    """Drops what the driver logs above DEBUG unless its logger is enabled for DEBUG (``cdp -v``): it logs
    a lost connection at ERROR and a retried read at WARNING, and this store retries both itself and
    reports what it gave up on in one line, naming the server and the query or unit of work."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno <= logging.DEBUG or logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


_DRIVER_LOGS = _DriverLogs()


def _quiet_driver_logs() -> None:
    for name in ("neo4j", "neo4j.io", "neo4j.pool", "neo4j.session"):  # a filter sees its own logger's records only
        if _DRIVER_LOGS not in logging.getLogger(name).filters:
            logging.getLogger(name).addFilter(_DRIVER_LOGS)


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
    #: the most nodes, edges and properties an ingest transaction may change (estimated by
    #: :func:`graph.records.write_changes`). Neo4j holds a transaction's changes on its heap and needs as
    #: much again to commit them; the local server's default 512 MB heap allows 358 MB to all transactions
    #: together, and 10,000 changed records (~120,000 changes) failed at the commit.
    changes_per_transaction = 40_000

    def __init__(self, uri: str, user: str, password: str, database: str = "neo4j") -> None:
        import neo4j
        from neo4j import exceptions as errors

        self.uri, self.database = uri, database
        self._neo4j = neo4j
        _quiet_driver_logs()
        # a property no write has created yet (a fresh graph) is expected, not a warning worth printing
        self._driver = neo4j.GraphDatabase.driver(
            uri, auth=(user, password), notifications_disabled_classifications=["UNRECOGNIZED"]
        )
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
        # a small read as an auto-commit query: one round trip, where a managed transaction (begin, run,
        # commit) took 1.1 ms against 0.7 ms on loopback; a lost connection is retried here instead
        from neo4j import exceptions as errors

        deadline, delay = time.monotonic() + self.retry_seconds, 0.2
        while True:
            try:
                with self._read_session() as session:
                    return [record.data() for record in session.run(text, params)]
            except (errors.ServiceUnavailable, errors.SessionExpired):
                if time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 4.0)

    def _frame(self, text: str, params: dict[str, Any]) -> pd.DataFrame:
        with self._read_session() as session:
            return session.execute_read(lambda tx: tx.run(text, params).to_df())

    def _read_session(self) -> Any:
        return self._driver.session(
            database=self.database,
            default_access_mode=self._neo4j.READ_ACCESS,
            max_transaction_retry_time=self.retry_seconds,
        )

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

    def upsert_batch(self, batch: RecordBatch) -> dict[str, UpsertCounts]:
        """:meth:`GraphStore.upsert_batch` in transactions of at most :attr:`changes_per_transaction`
        changes each (each part is written, and retried on a lost connection, as a whole; a part written
        again finds its records unchanged)."""
        counts: dict[str, UpsertCounts] = {}
        for part in split_by_changes(batch.latest(), self.changes_per_transaction):
            for source, done in self.write(methodcaller("upsert_records", part), "ingest batch").items():
                counts.setdefault(source, UpsertCounts()).add(done)
        return counts

    def _schema_statements(self) -> list[str]:
        return neo4j_ddl()

    def clear(self) -> None:
        # batched so a large graph does not need one huge transaction
        with self._driver.session(database=self.database) as session:
            session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()

    def close(self) -> None:
        self._driver.close()
