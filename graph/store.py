"""The ``GraphStore`` protocol: auto-commit reads, units of work, the schema and the writer lease.

Reads on the store itself (``store.assignments()``) run in their own read-only transaction and see only
committed data; many threads may read at once. Writes go through a :class:`graph.writes.Transaction`
handle: ``with store.transaction() as tx: ...`` commits at the end of the block or rolls back on an
error, and :meth:`GraphStore.write` retries a unit of work when the connection is lost. Each backend
fills in small hooks; logging, timing and error wrapping live in :class:`graph.runner.QueryRunner`.
"""

from __future__ import annotations

import logging
import time
from abc import abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar, final

from graph.batch import RecordBatch
from graph.errors import StoreUnavailable
from graph.model import SourceRecord
from graph.query import Query
from graph.reads import Reads
from graph.records import UpsertCounts
from graph.writes import Transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")

__all__ = ["GraphStore", "Transaction"]


class GraphStore(Reads):
    """A property graph holding records, identifiers, events and profiles."""

    #: short name shown in logs and ``cdp stats`` (``embedded`` or ``neo4j``)
    kind: str = "abstract"
    #: records written per transaction by ingest and resolve
    transaction_rows: int = 10_000
    #: how long :meth:`write` keeps retrying a unit of work on a lost connection, in seconds
    retry_seconds: float = 30.0

    # ---- hooks each backend fills in ------------------------------------------------------------------

    @abstractmethod
    def _begin(self) -> Transaction:
        """A new transaction on its own connection or session."""

    @abstractmethod
    def _schema_statements(self) -> list[str]: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def describe(self) -> str:
        """Where the data lives, for messages (a path or a URI, never a password)."""

    @abstractmethod
    def clear(self) -> None:
        """Delete every node and edge (tests and ``cdp demo`` start from an empty graph)."""

    # ---- units of work --------------------------------------------------------------------------------

    @final
    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A unit of work: everything run through the yielded handle commits together or not at all."""
        tx = self._begin()
        try:
            yield tx
        except BaseException:
            tx._rollback()
            raise
        tx._timed("commit", tx._commit)

    @final
    def write(self, work: Callable[[Transaction], T], what: str = "write") -> T:
        """Run ``work`` in a transaction and commit; when the connection is lost, the whole unit is run
        again on a new one, with backoff, for up to :attr:`retry_seconds` (so ``work`` must be safe to
        repeat, as every write of cdp-graph is). Then the loss is reported in one line."""
        deadline, delay = time.monotonic() + self.retry_seconds, 0.5
        while True:
            try:
                with self.transaction() as tx:
                    return work(tx)
            except StoreUnavailable as exc:
                if time.monotonic() + delay > deadline:
                    raise StoreUnavailable(
                        f"{exc}; gave up on '{what}' after {self.retry_seconds:.0f} s of retries"
                    ) from None
                logger.info("%s: %s; retrying in %.1f s", what, exc, delay)  # the give-up is the one line a user sees
                time.sleep(delay)
                delay = min(delay * 2, 8.0)

    def ensure_schema(self) -> None:
        """Create node/relationship tables, constraints and indexes if missing (idempotent)."""
        for n, statement in enumerate(self._schema_statements()):
            with self.transaction() as tx:  # Neo4j does not mix schema and data statements in one transaction
                tx.run(Query(f"schema_{n}", statement))

    # ---- domain writes that are one unit of work -------------------------------------------------------

    def upsert_records(self, records: RecordBatch | Sequence[SourceRecord]) -> UpsertCounts:
        """Write a batch of records: new ones created, changed ones replaced, unchanged ones (same content
        hash) left alone, so re-ingesting a file changes nothing."""
        batch = records if isinstance(records, RecordBatch) else RecordBatch.from_records(records)
        total = UpsertCounts()
        for counts in self.upsert_batch(batch).values():
            total.add(counts)
        return total

    def upsert_batch(self, batch: RecordBatch) -> dict[str, UpsertCounts]:
        """:meth:`upsert_records`, counted per source: in one transaction here (retried as a whole on a lost
        connection); a server store may split a batch into several (see ``Neo4jStore.upsert_batch``)."""
        return self.write(lambda tx: tx.upsert_records(batch), "ingest batch")

    def cypher(self, name: str, text: str, params: dict[str, object] | None = None) -> list[dict[str, object]]:
        """Run ad-hoc Cypher in its own transaction (tests, benchmarks, one-off checks; never product code,
        which calls named methods)."""
        with self.transaction() as tx:
            return tx.run(Query(name, text), **(params or {}))
