"""The column profile of a source, learnt while ingesting it: per column it reads, of the rows ingested, how
many hold a value and how many values normalisation dropped (with a few examples and why), and the rejected
rows (not ingested) counted by the kind of their reason.

Nothing is validated or scanned again: filled counts come from the factorised columns normalisation builds
anyway (:attr:`ingest.columns.Normalised.filled`, one check per distinct value), invalid values and rejects
are the ones ingest lists for the rejects file (:class:`ingest.pipeline.RejectsFile`), tallied per chunk
with pandas. The profile is stored with the graph after each ingest of the source (:func:`store_profiles`),
replacing the last one.

A reason is reduced to its kind: numbers become ``N`` and quoted text ``'…'``, so reasons that differ only
in a line, a count or the value itself are counted together and no value is left in a reason:

>>> reason_kind("expected 4 fields, found 5"), reason_kind("not a recognised gender: 'xx'")
('expected N fields, found N', "not a recognised gender: '…'")
>>> reason_kind("record_id column 'crm_id' is empty", columns={"crm_id"})
"record_id column 'crm_id' is empty"
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from graph.store import GraphStore
from ingest.config import SourceSpec
from ingest.records import Dropped

__all__ = ["ColumnProfile", "ProfileTally", "SourceProfile", "column_fields", "reason_kind",
           "store_profiles", "stored_profiles"]  # fmt: skip

#: graph setting key of a source's profile: this prefix and the source's name
SETTING_PREFIX = "column_profile:"
EXAMPLES = 5
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_DROPPED = ["line", "kind", "column", "value", "reason"]


@dataclass
class ColumnProfile:
    column: str
    field: str  # what the source's config maps it to: an identifier type, an attribute, record_id, event.*
    rows: int = 0  # rows ingested (the source's rows less its rejects)
    filled: int = 0  # of those, rows holding a value (not empty, not only spaces)
    invalid: int = 0  # values ingest dropped as not valid (the rejects file lists each one)
    #: up to 5: {"value", "reason", "record"} (the record key, so an erase can take its row's out), file order
    examples: list[dict[str, str]] = field(default_factory=list)


@dataclass
class SourceProfile:
    source: str
    profiled_at: str
    rows: int = 0  # rows read
    rejects: int = 0  # rows not ingested
    rejects_by_reason: dict[str, int] = field(default_factory=dict)  # reason kind -> rows
    columns: list[ColumnProfile] = field(default_factory=list)  # in the order the config names them


def reason_kind(reason: str, columns: Collection[str] = ()) -> str:
    """``reason`` without what is specific to one row: numbers and quoted text (but a quoted column name)."""
    unquoted = _QUOTED.sub(lambda m: m.group() if m.group()[1:-1] in columns else f"{m.group()[0]}…{m.group()[0]}",
                           reason)  # fmt: skip
    return _NUMBER.sub("N", unquoted)


def column_fields(spec: SourceSpec) -> dict[str, str]:
    """Every column the source reads -> the field it fills (the first, when a column fills two)."""
    fields = {spec.record_id: "record_id"}
    for column, id_type in spec.identifiers.items():
        fields.setdefault(column, id_type)
    for column, name in spec.attribute_columns():
        fields.setdefault(column, name)
    if spec.event:
        fields.setdefault(spec.event.timestamp, "event.timestamp")
        for prop in spec.event.properties:
            fields.setdefault(prop, f"event.{prop}")
    return fields


class ProfileTally:
    """A source's profile, summed over its chunks in file order."""

    def __init__(self, source: str, spec: SourceSpec) -> None:
        self.source, self.fields = source, column_fields(spec)
        self.rows, self.rejects = 0, 0
        self.filled: Counter[str] = Counter()
        self.invalid: Counter[str] = Counter()
        self.by_reason: Counter[str] = Counter()
        self.examples: dict[str, dict[str, str]] = {}  # "column\0value" -> example, first seen first

    def take(self, rows: int, filled: Mapping[str, int], rejects: Sequence[tuple[int, str, str]],
             dropped: Sequence[Dropped], records: Mapping[int, str] | None = None) -> None:  # fmt: skip
        """One chunk: its row count, filled counts, rejected rows ``(line, reason, raw)``, dropped values and
        ``records``, the record key of each line ingested."""
        self._records = records or {}
        self.rows += rows
        self.rejects += len(rejects)
        self.filled.update(filled)
        if rejects:
            reasons = pd.Series([reason for _, reason, _ in rejects]).value_counts()
            for reason, n in reasons.items():
                self.by_reason[reason_kind(str(reason), self.fields)] += int(n)
        if dropped:
            self._take_dropped(pd.DataFrame(dropped, columns=_DROPPED))

    def _take_dropped(self, frame: pd.DataFrame) -> None:
        # an event without a timestamp is listed as not recorded; an empty value is not an invalid one
        invalid = frame[frame["value"].str.strip().ne("") & frame["column"].isin(list(self.fields))]
        self.invalid.update({str(c): int(n) for c, n in invalid.groupby("column").size().items()})
        shown = Counter(key.split("\0")[0] for key in self.examples)
        for row in invalid.drop_duplicates(["column", "value"]).groupby("column").head(EXAMPLES).itertuples():
            key = f"{row.column}\0{row.value}"
            if shown[row.column] < EXAMPLES and key not in self.examples:
                self.examples[key] = {"value": row.value, "reason": reason_kind(row.reason, self.fields),
                                      "record": self._records.get(int(row.line), "")}  # fmt: skip
                shown[row.column] += 1

    def profile(self, profiled_at: str) -> SourceProfile:
        columns = [
            ColumnProfile(column, name, self.rows - self.rejects, self.filled[column], self.invalid[column],
                          [e for k, e in self.examples.items() if k.split("\0")[0] == column])
            for column, name in self.fields.items()
        ]  # fmt: skip
        by_reason = dict(sorted(self.by_reason.items(), key=lambda kv: (-kv[1], kv[0])))
        return SourceProfile(self.source, profiled_at, self.rows, self.rejects, by_reason, columns)


def store_profiles(store: GraphStore, profiles: Sequence[SourceProfile]) -> None:
    """Store each source's profile with the graph, replacing the one its last ingest stored."""

    def save(tx: Any) -> None:
        for found in profiles:
            tx.set_graph_setting(SETTING_PREFIX + found.source, json.dumps(asdict(found)))

    store.write(save, "store the column profiles")


def without_records(settings: Mapping[str, Any], records: Collection[str]) -> dict[str, str]:
    """The stored profiles (setting key -> JSON) that held an example from one of ``records``, without those
    examples: what an erase writes back. Counts stay: they say how many, not whose."""
    changed: dict[str, str] = {}
    for key, data in settings.items():
        if not key.startswith(SETTING_PREFIX) or not isinstance(data, dict):
            continue
        columns = data.get("columns", [])
        kept = [
            {**c, "examples": [e for e in c.get("examples", []) if e.get("record") not in records]} for c in columns
        ]
        if kept != columns:
            changed[key] = json.dumps({**data, "columns": kept})
    return changed


def stored_profiles(settings: Mapping[str, Any]) -> list[SourceProfile]:
    """The profiles among the graph's settings (:meth:`GraphStore.graph_settings`), by source name."""
    found = [value for key, value in sorted(settings.items()) if key.startswith(SETTING_PREFIX)]
    return [
        SourceProfile(**{**data, "columns": [ColumnProfile(**c) for c in data.get("columns", [])]}) for data in found
    ]
