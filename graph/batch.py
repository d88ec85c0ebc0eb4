"""A batch of source records in columns, the shape graph writes take.

Ingest workers build batches and send them to the writing process: a few Arrow-backed string columns
cross a process boundary far cheaper than a hundred thousand Python objects, and a store can bulk-load
them without touching each row in Python.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from graph.frames import among
from graph.model import SourceRecord, identifier_key, record_key

#: columns of each table; ``row`` is the record's position in the batch (the last row of a key wins);
#: a link's ``unverified`` (a bool) says its identifier is an unverified phone (``IdentifierStatus.UNVERIFIED``)
RECORD_COLUMNS = ["row", "key", "source", "record_id", "attributes", "hash", "seen_at"]
LINK_COLUMNS = ["row", "record", "identifier", "type", "value", "source", "seen_at", "unverified"]
EVENT_COLUMNS = ["row", "record", "key", "type", "ts", "source", "properties"]
_NOT_TEXT = {"row": "int64", "unverified": "bool"}
#: a record's attributes and an event's properties as stored: ``json.dumps(..., sort_keys=True)``, with one
#: encoder made once (``json.dumps`` with any argument builds a new encoder per call: ~2 us a record)
ATTRIBUTES_JSON = json.JSONEncoder(sort_keys=True).encode
PROPERTIES_JSON = json.JSONEncoder(sort_keys=True, default=str).encode


def _frame(rows: Iterable[tuple[object, ...]], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(list(rows), columns=columns)
    return frame.astype({c: _NOT_TEXT.get(c, "str") for c in columns})


@dataclass
class RecordBatch:
    """Records, their identifier links and their events, one row each; see the ``*_COLUMNS`` lists."""

    records: pd.DataFrame
    links: pd.DataFrame
    events: pd.DataFrame

    def __len__(self) -> int:
        return len(self.records)

    @classmethod
    def from_records(cls, records: Sequence[SourceRecord]) -> RecordBatch:
        """Build a batch from record objects (tests, small writes; ingest builds its batches in columns)."""
        rec_rows: list[tuple[Any, ...]] = []
        link_rows: list[tuple[Any, ...]] = []
        event_rows: list[tuple[Any, ...]] = []
        for row, r in enumerate(records):
            key = record_key(r.source, r.record_id)
            attributes = ATTRIBUTES_JSON(r.attributes)
            rec_rows.append((row, key, r.source, r.record_id, attributes, r.content_hash, r.seen_at))
            unverified = {(i.id_type, i.value): i.unverified for i in r.identifiers}
            for (id_type, value), flag in unverified.items():
                link_rows.append((row, key, identifier_key(id_type, value), id_type, value, r.source, r.seen_at, flag))
            for n, e in enumerate(r.events):
                properties = PROPERTIES_JSON(e.properties)
                event_rows.append((row, key, f"{key}#{n}", e.type, e.timestamp, r.source, properties))
        return cls.from_rows(rec_rows, link_rows, event_rows)

    @classmethod
    def from_rows(
        cls, records: list[tuple[Any, ...]], links: list[tuple[Any, ...]], events: list[tuple[Any, ...]]
    ) -> RecordBatch:
        """From tuples in the order of :data:`RECORD_COLUMNS`, :data:`LINK_COLUMNS` and :data:`EVENT_COLUMNS`."""
        return cls(_frame(records, RECORD_COLUMNS), _frame(links, LINK_COLUMNS), _frame(events, EVENT_COLUMNS))

    @classmethod
    def concat(cls, batches: Sequence[RecordBatch]) -> RecordBatch:
        """One batch holding these in order (row numbers renumbered, so the last row still wins)."""
        if len(batches) == 1:
            return batches[0]
        tables = ("records", "links", "events")
        parts: dict[str, list[pd.DataFrame]] = {table: [] for table in tables}
        offset = 0
        for batch in batches:
            for table in tables:
                frame = getattr(batch, table)
                parts[table].append(frame.assign(row=frame["row"] + offset))
            offset += int(batch.records["row"].max()) + 1 if len(batch.records) else 0
        return cls(*(pd.concat(parts[table], ignore_index=True) for table in tables))

    def latest(self) -> RecordBatch:
        """One row per record key, the last one, with only that row's links and events."""
        if not self.records["key"].duplicated().any():
            return self
        kept = self.records.drop_duplicates("key", keep="last")
        rows = kept["row"]
        return RecordBatch(kept, self.links[self.links["row"].isin(rows)], self.events[self.events["row"].isin(rows)])

    def select(self, keys: Iterable[str]) -> RecordBatch:
        """The records with these keys (assumes :meth:`latest`), with their links and events."""
        wanted = list(keys)
        return RecordBatch(
            self.records[among(self.records["key"], wanted)],
            self.links[among(self.links["record"], wanted)],
            self.events[among(self.events["record"], wanted)],
        )
