"""The console's data quality: each source's column profile (stored by ingest, :mod:`ingest.column_profile`)
and the identifier values held by the most records, per type (computed once per resolve run, right after
the overview's figures, :func:`refresh_shared_values`, and stored with the graph). The page reads both from
the graph's settings: one small read however large the store.

Invalid examples and shared values are customer data: :func:`masked` passes them through :class:`PiiMask`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from api.pii import PiiMask, pii_kind
from graph.store import GraphStore
from ingest.column_profile import ColumnProfile, SourceProfile, stored_profiles

__all__ = ["ColumnProfile", "DataQuality", "SharedValue", "SourceProfile", "compute_shared_values", "data_quality",
           "masked", "refresh_shared_values"]  # fmt: skip

SETTING = "shared_values"
#: values shown per identifier type
PER_TYPE = 10


@dataclass(frozen=True)
class SharedValue:
    type: str
    value: str
    status: str  # active, or why resolution ignores it (shared, placeholder, blocklisted...)
    records: int


@dataclass
class DataQuality:
    sources: list[SourceProfile] = field(default_factory=list)
    shared_values: list[SharedValue] = field(default_factory=list)  # per type (by name), most records first
    shared_as_of: str = ""  # when the shared values were computed (after the resolve run ``run_id``)
    run_id: str = ""

    @property
    def rejected_rows(self) -> int:
        return sum(s.rejects for s in self.sources)

    @property
    def invalid_values(self) -> int:
        return sum(c.invalid for s in self.sources for c in s.columns)


def data_quality(store: GraphStore) -> DataQuality:
    """The stored profiles and shared values; the shared values computed now (not stored: this is a read)
    when the last resolve run stored none."""
    settings = store.graph_settings()
    found = DataQuality(stored_profiles(settings))
    shared = settings.get(SETTING)
    latest = store.latest_run()
    if shared and latest and shared.get("run_id") == latest["id"]:
        found.shared_values = [SharedValue(**v) for v in shared["values"]]
        found.shared_as_of, found.run_id = shared["as_of"], shared["run_id"]
    else:
        found.shared_values, found.shared_as_of = compute_shared_values(store), _now()
        found.run_id = str(latest["id"]) if latest else ""
    return found


def compute_shared_values(store: GraphStore, per_type: int = PER_TYPE) -> list[SharedValue]:
    """The ``per_type`` values of each identifier type held by most records (two or more). One query per type."""
    types = sorted({str(row["type"]) for row in store.identifiers_by_type()})
    return [
        SharedValue(id_type, str(row["value"]), str(row["status"]), int(row["records"]))
        for id_type in types
        for row in store.most_shared_identifiers(id_type, per_type)
    ]


def refresh_shared_values(store: GraphStore) -> list[SharedValue]:
    """Compute the shared values and store them with the graph, for the resolve run that just finished."""
    values = compute_shared_values(store)
    latest = store.latest_run()
    text = json.dumps(
        {"as_of": _now(), "run_id": str(latest["id"]) if latest else "", "values": [asdict(v) for v in values]}
    )
    store.write(lambda tx: tx.set_graph_setting(SETTING, text), "store the shared identifier values")
    return values


def masked(found: DataQuality, pii: PiiMask) -> DataQuality:
    """``found`` with its customer values (invalid examples, shared values) masked as ``pii`` says."""
    sources = [dataclasses.replace(s, columns=[_masked_column(c, pii) for c in s.columns]) for s in found.sources]
    shared = [dataclasses.replace(v, value=pii.identifier(v.type, v.value)) for v in found.shared_values]
    return dataclasses.replace(found, sources=sources, shared_values=shared)


def _masked_column(column: ColumnProfile, pii: PiiMask) -> ColumnProfile:
    # the field the config maps the column to says what it holds; a column named like personal data is masked too
    name = column.field if pii_kind(column.field) else column.column
    examples = [{**e, "value": pii.attribute(name, e["value"])} for e in column.examples]
    return dataclasses.replace(column, examples=examples)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
