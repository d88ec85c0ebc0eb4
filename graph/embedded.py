"""The embedded store: ladybug (a maintained Kuzu fork) in-process, persisted under ``CDP_DATA_DIR``.

Needs no server. One process may open the database read-write at a time; a second one gets a clear
error. Connected components are computed in Python (the ``algo`` extension cannot be downloaded here).
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import Any

import pandas as pd

from graph.errors import StoreUnavailable
from graph.model import ENDPOINTS, Label, Rel
from graph.store import GraphStore, Row

logger = logging.getLogger(__name__)

_CHECKPOINT_BYTES = 128 << 20
_UNWIND_ROWS = "UNWIND $rows AS row "
_ROW_FIELD = re.compile(r"\brow\.(\w+)")

_NODE_TABLES: dict[Label, list[str]] = {  # "name TYPE", primary key first
    Label.RECORD: ["key STRING", "source STRING", "record_id STRING", "attributes STRING", "hash STRING",
                   "seen_at STRING"],
    Label.IDENTIFIER: ["key STRING", "type STRING", "value STRING", "status STRING"],
    Label.EVENT: ["key STRING", "type STRING", "ts STRING", "source STRING", "properties STRING"],
    Label.PROFILE: ["id STRING", "size INT64", "updated_at STRING"],
    Label.PROFILE_ALIAS: ["id STRING", "target STRING", "updated_at STRING"],
    Label.REJECTED_LINK: ["key STRING", "record STRING", "identifier STRING", "reason STRING"],
    Label.MATCH_LINK: ["key STRING", "record_a STRING", "record_b STRING", "probability DOUBLE", "weight DOUBLE",
                       "detail STRING"],
    Label.HOUSEHOLD_MEMBER: ["profile_id STRING", "household_id STRING"],
    Label.PROFILE_EVENT: ["key STRING", "profile_id STRING", "kind STRING", "detail STRING", "reason STRING",
                          "actor STRING", "at STRING"],
    Label.OVERRIDE: ["key STRING", "action STRING", "kind STRING", "record_a STRING", "record_b STRING",
                     "reason STRING", "actor STRING", "at STRING"],
    Label.RESOLVE_RUN: ["id STRING", "finished_at STRING", "summary STRING"],
    Label.MATCH_MODEL: ["id STRING", "settings STRING", "model STRING"],
    Label.CHANGED_RECORD: ["key STRING"],
    Label.EMBEDDING_MODEL: ["id STRING", "settings STRING", "version STRING", "created_at STRING", "summary STRING"],
    Label.EMBEDDING_CHUNK: ["key STRING", "model_id STRING", "chunk INT64", "keys STRING", "vectors STRING"],
}  # fmt: skip
_REL_PROPERTIES: dict[Rel, list[str]] = {
    Rel.HAS_IDENTIFIER: ["source STRING", "first_seen STRING", "last_seen STRING"],
    Rel.HAS_EVENT: [],
    Rel.IN_PROFILE: [],
}


def _names(columns: list[str]) -> list[str]:
    return [column.split()[0] for column in columns]


class EmbeddedStore(GraphStore):
    kind = "embedded"
    batch_size = 20_000
    # a commit costs a large fixed amount here (0.3-0.5 s for 10k records with their links, measured), so
    # ingest and resolve commit every 250k records (at 1M rows: 55 s of writes, against 89 s in 100k-record
    # transactions and about 3x that in 10k-record ones)
    transaction_rows = 250_000

    def __init__(self, data_dir: Path, buffer_pool_mb: int = 8192) -> None:
        import ladybug

        self.path = Path(data_dir) / "graph.lbug"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # checkpointing after every ingest batch (the 16 MB default) tripled commit time; pages written
            # since the last checkpoint stay in the buffer pool, so the threshold stays well below it
            # the buffer pool defaults to 80% of RAM, which got a 1M-row ingest killed by the OOM killer
            self._db = ladybug.Database(
                str(self.path), buffer_pool_size=buffer_pool_mb << 20, checkpoint_threshold=_CHECKPOINT_BYTES
            )
        except RuntimeError as exc:
            raise StoreUnavailable(f"cannot open the embedded graph at {self.path}: {exc}") from exc
        self._conn = ladybug.Connection(self._db)
        self._lock = threading.RLock()  # a connection serves one query at a time

    def describe(self) -> str:
        return f"embedded graph at {self.path}"

    def _execute(self, query: str, params: dict[str, Any]) -> list[Row]:
        with self._lock:
            result = self._result(query, params)
            names = result.get_column_names()
            return [dict(zip(names, row, strict=True)) for row in result.get_all()]

    def _write_batch(self, query: str, params: dict[str, Any], batch: list[Any]) -> None:
        # ``LOAD FROM`` a DataFrame is several times faster here than ``UNWIND`` over a list of maps
        if query.startswith(_UNWIND_ROWS) and batch and isinstance(batch[0], dict):
            frame = pd.DataFrame(batch).add_prefix("row_")
            query = "LOAD FROM $rows " + _ROW_FIELD.sub(r"row_\1", query[len(_UNWIND_ROWS) :])
            params = {"rows": frame}
        self._execute(query, params)

    def _execute_frame(self, query: str, params: dict[str, Any]) -> pd.DataFrame:
        with self._lock:
            return self._result(query, params).get_as_df()

    def _result(self, query: str, params: dict[str, Any]) -> Any:
        result = self._conn.execute(query, params)
        return result[-1] if isinstance(result, list) else result  # a list only for multi-statement text

    def _bulk_nodes(self, label: Label, frame: pd.DataFrame) -> None:
        # COPY is ladybug's bulk path: several times faster than LOAD FROM ... CREATE; columns go by position
        rows = frame[_names(_NODE_TABLES[label])].reset_index(drop=True)
        self._timed(f"copy_{label.lower()}_nodes", self._execute, f"COPY {label} FROM $rows", {"rows": rows})

    def _bulk_edges(self, rel: Rel, frame: pd.DataFrame) -> None:
        ends = list(frame.columns[:2])
        rows = frame[ends + _names(_REL_PROPERTIES[rel])].reset_index(drop=True)
        self._timed(f"copy_{rel.lower()}_edges", self._execute, f"COPY {rel} FROM $rows", {"rows": rows})

    def _schema_statements(self) -> list[str]:
        nodes = [
            f"CREATE NODE TABLE IF NOT EXISTS {label}({', '.join(cols)}, PRIMARY KEY ({_names(cols)[0]}))"
            for label, cols in _NODE_TABLES.items()
        ]
        rels = [
            f"CREATE REL TABLE IF NOT EXISTS {rel}(FROM {start} TO {end}{''.join(', ' + c for c in _REL_PROPERTIES[rel])})"
            for rel, (start, end) in ENDPOINTS.items()
        ]
        return nodes + rels

    def _begin(self) -> None:
        self._lock.acquire()
        try:
            self._conn.execute("BEGIN TRANSACTION")
        except BaseException:
            self._lock.release()
            raise

    def _commit(self) -> None:
        try:
            self._conn.execute("COMMIT")
        finally:
            self._lock.release()

    def _rollback(self) -> None:
        try:
            self._conn.execute("ROLLBACK")
        except RuntimeError as exc:  # a failed statement may already have ended the transaction
            logger.debug("rollback: %s", exc)
        finally:
            self._lock.release()

    def clear(self) -> None:
        for label in Label:
            self.run("clear", f"MATCH (n:{label}) DETACH DELETE n")

    def close(self) -> None:
        self._conn.close()
        self._db.close()
