"""The ``GraphStore`` protocol: every query of every layer goes through :meth:`GraphStore.run`.

Like splink's ``DatabaseAPI``, the base class owns batching, logging and error wrapping in a few final
methods, and each backend fills in small hooks (``_execute``, ``_execute_frame``, transactions, schema).
The domain-level operations (upsert records, read a profile's records) are written once, here, in
portable Cypher from :mod:`graph.cypher`, so both stores give the same results.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd

from graph import cypher
from graph.batch import RecordBatch
from graph.errors import CdpError, StoreError
from graph.model import Label, Rel, SourceRecord
from graph.writes import RecordWriter, UpsertCounts

logger = logging.getLogger(__name__)

Row = dict[str, Any]


class GraphStore(ABC):
    """A property graph holding records, identifiers, events and profiles."""

    #: short name shown in logs and ``cdp stats`` (``embedded`` or ``neo4j``)
    kind: str = "abstract"
    #: rows per ``UNWIND`` batch
    batch_size: int = 5_000
    #: records written per transaction by ingest and resolve
    transaction_rows: int = 10_000
    #: write each record with its identifiers nested in one query (a server store saves lookups)
    nested_writes: bool = False

    # ---- hooks each backend fills in ------------------------------------------------------------------

    @abstractmethod
    def _execute(self, query: str, params: dict[str, Any]) -> list[Row]: ...

    @abstractmethod
    def _execute_frame(self, query: str, params: dict[str, Any]) -> pd.DataFrame: ...

    @abstractmethod
    def _schema_statements(self) -> list[str]: ...

    @abstractmethod
    def _begin(self) -> None: ...

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def _rollback(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def describe(self) -> str:
        """Where the data lives, for messages (a path or a URI, never a password)."""

    # ---- the one way in -------------------------------------------------------------------------------

    def run(self, name: str, query: str, params: dict[str, Any] | None = None) -> list[Row]:
        """Run one named, parameterised query and return its rows as dicts."""
        return self._timed(name, self._execute, query, params or {})

    def frame(self, name: str, query: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """Run one named query and return its result as a DataFrame (bulk reads)."""
        return self._timed(name, self._execute_frame, query, params or {})

    def write_rows(self, name: str, query: str, rows: Sequence[Row] | Sequence[str], param: str = "rows") -> None:
        """Run an ``UNWIND $rows`` write in batches of :attr:`batch_size`."""
        for start in range(0, len(rows), self.batch_size):
            batch = list(rows[start : start + self.batch_size])
            self._timed(name, lambda q, p, b=batch: self._write_batch(q, p, b), query, {param: batch})

    def _write_batch(self, query: str, params: dict[str, Any], batch: list[Any]) -> None:
        """Hook: write one batch; a backend may use a faster bulk path than ``UNWIND``."""
        self._execute(query, params)

    def create_nodes(self, label: Label, frame: pd.DataFrame) -> None:
        """Create one ``label`` node per row, each column a property; the keys must not exist yet."""
        if len(frame):
            self._bulk_nodes(label, frame)

    def create_edges(self, rel: Rel, frame: pd.DataFrame) -> None:
        """Create one ``rel`` edge per row: the first two columns are the end nodes' keys, the rest properties."""
        if len(frame):
            self._bulk_edges(rel, frame)

    def _bulk_nodes(self, label: Label, frame: pd.DataFrame) -> None:
        """Hook: ``UNWIND``/``CREATE`` here; a backend may bulk-load instead."""
        query = cypher.create_nodes(label, list(frame.columns))
        self.write_rows(f"create_{label.lower()}_nodes", query, frame.to_dict("records"))

    def _bulk_edges(self, rel: Rel, frame: pd.DataFrame) -> None:
        query = cypher.create_edges(rel, list(frame.columns))
        self.write_rows(f"create_{rel.lower()}_edges", query, frame.to_dict("records"))

    def _timed(self, name: str, fn: Any, query: str, params: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            result = fn(query, params)
        except CdpError:
            raise
        except Exception as exc:  # driver errors become the project's own, naming the query
            logger.debug("query %s failed: %s", name, query)
            raise StoreError(name, f"{type(exc).__name__}: {exc}") from exc
        logger.debug("query %s took %.1f ms", name, (time.perf_counter() - started) * 1000)
        return result

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything run inside commits together or not at all."""
        self._begin()
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        self._timed("commit", lambda q, p: self._commit(), "COMMIT", {})

    def ensure_schema(self) -> None:
        """Create node/relationship tables, constraints and indexes if missing (idempotent)."""
        for statement in self._schema_statements():
            self.run("schema", statement)

    # ---- domain operations, written once ------------------------------------------------------------

    def upsert_records(self, records: RecordBatch | Sequence[SourceRecord]) -> UpsertCounts:
        """Write a batch of records: new ones created, changed ones replaced, unchanged ones (same content
        hash) left alone, so re-ingesting a file changes nothing."""
        batch = records if isinstance(records, RecordBatch) else RecordBatch.from_records(records)
        total = UpsertCounts()
        for counts in self.upsert_batch(batch).values():
            total.add(counts)
        return total

    def upsert_batch(self, batch: RecordBatch) -> dict[str, UpsertCounts]:
        """:meth:`upsert_records` in one transaction, counted per source."""
        with self.transaction():
            return RecordWriter(self).upsert(batch)

    def record_links(self) -> pd.DataFrame:
        """Every ``(record, identifier)`` edge, columns ``record, identifier`` (for resolution)."""
        return self.frame("all_links", cypher.ALL_LINKS)

    def record_attributes(self) -> pd.DataFrame:
        """Every record's attributes, columns ``record, attributes`` (a JSON object per record)."""
        return self.frame("all_record_attributes", cypher.ALL_RECORD_ATTRIBUTES)

    def record_attributes_of(self, keys: Sequence[str]) -> pd.DataFrame:
        """The attributes of the records ``keys`` (the columns of :meth:`record_attributes`; unknown keys
        are left out). O(len(keys)) lookups by key."""
        rows = self.frame("record_attributes_of", cypher.RECORD_ATTRIBUTES_OF, {"keys": list(keys)})
        return rows.reindex(columns=["record", "attributes"])  # an empty Neo4j result has no columns

    def profile_events(self) -> pd.DataFrame:
        """Every event of a resolved record with its profile: columns ``profile_id, type, ts, source,
        properties`` (a JSON object per event). Events of records no resolve has assigned are left out."""
        frame = self.frame("all_profile_events", cypher.ALL_PROFILE_EVENTS)
        return frame.reindex(columns=["profile_id", "type", "ts", "source", "properties"])

    def record_keys(self) -> pd.DataFrame:
        return self.frame("all_record_keys", cypher.ALL_RECORD_KEYS)

    def assignments(self) -> pd.DataFrame:
        """Current ``record -> profile`` assignment, columns ``record, profile``."""
        return self.frame("all_assignments", cypher.ALL_ASSIGNMENTS)

    def overrides(self) -> pd.DataFrame:
        """Every user override (must-link or cannot-link between two records), oldest first, columns
        ``key, action, kind, record_a, record_b, reason, actor, at``."""
        return self.frame("all_overrides", cypher.ALL_OVERRIDES).reindex(columns=cypher.OVERRIDE_COLUMNS)

    def add_overrides(self, frame: pd.DataFrame) -> None:
        """Store user overrides (the columns of :meth:`overrides`), all or none."""
        with self.transaction():
            self.create_nodes(Label.OVERRIDE, frame[cypher.OVERRIDE_COLUMNS])

    def clear(self) -> None:
        """Delete every node and edge (tests and ``cdp demo`` start from an empty graph)."""
        self.run("clear", "MATCH (n) DETACH DELETE n")
