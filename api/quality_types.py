"""GraphQL types of the data quality page (:mod:`api.data_quality`), and the answer built from its figures."""

from __future__ import annotations

import strawberry

from api import data_quality as dq
from api.pii import PiiMask
from api.schema_types import NamedCount

__all__ = ["DataQuality", "data_quality_answer"]


@strawberry.type(description="A value ingest dropped from a column as not valid (masked without read:pii)")
class InvalidExample:
    value: str
    reason: str = strawberry.field(description="why, without what is specific to the row (numbers read N)")


@strawberry.type(description="A column a source reads: how full it is and how many of its values were not valid")
class ColumnQuality:
    column: str
    field: str = strawberry.field(description="what the config maps it to: identifier type, attribute, record_id")
    rows: int = strawberry.field(description="rows ingested (the source's rows less its rejects)")
    filled: int = strawberry.field(description="rows holding a value")
    invalid: int = strawberry.field(description="values dropped as not valid (each listed in the rejects file)")
    fill_rate: float = strawberry.field(description="filled / rows")
    invalid_rate: float = strawberry.field(description="invalid / filled: the share of values given that were not")
    examples: list[InvalidExample] = strawberry.field(description="up to 5 distinct invalid values, in file order")


@strawberry.type(description="A source's column profile, as its last ingest found it")
class SourceQuality:
    source: str
    profiled_at: str
    rows: int = strawberry.field(description="rows read")
    rejects: int = strawberry.field(description="rows not ingested")
    rejects_by_reason: list[NamedCount] = strawberry.field(description="rows not ingested, per kind of reason")
    columns: list[ColumnQuality]


@strawberry.type(description="An identifier value held by many records")
class SharedValue:
    type: str
    value: str = strawberry.field(description="masked without read:pii")
    status: str
    records: int


@strawberry.type(description="Data quality: each source's column profile and the identifier values most shared")
class DataQuality:
    rejected_rows: int = strawberry.field(description="rows not ingested, over every source")
    invalid_values: int = strawberry.field(description="values dropped as not valid, over every source")
    sources: list[SourceQuality]
    shared_values: list[SharedValue] = strawberry.field(
        description="per identifier type, the 10 values held by most records (two or more), most first"
    )
    shared_as_of: str = strawberry.field(description="when the shared values were computed (after the resolve run)")


def data_quality_answer(found: dq.DataQuality, pii: PiiMask) -> DataQuality:
    shown = dq.masked(found, pii)
    return DataQuality(
        rejected_rows=shown.rejected_rows,
        invalid_values=shown.invalid_values,
        sources=[_source(s) for s in shown.sources],
        shared_values=[SharedValue(type=v.type, value=v.value, status=v.status, records=v.records)
                       for v in shown.shared_values],
        shared_as_of=shown.shared_as_of,
    )  # fmt: skip


def _source(found: dq.SourceProfile) -> SourceQuality:
    reasons = [NamedCount(name=k, count=v) for k, v in found.rejects_by_reason.items()]
    return SourceQuality(source=found.source, profiled_at=found.profiled_at, rows=found.rows, rejects=found.rejects,
                         rejects_by_reason=reasons, columns=[_column(c) for c in found.columns])  # fmt: skip


def _column(found: dq.ColumnProfile) -> ColumnQuality:
    return ColumnQuality(
        column=found.column, field=found.field, rows=found.rows, filled=found.filled, invalid=found.invalid,
        fill_rate=found.filled / found.rows if found.rows else 0.0,
        invalid_rate=found.invalid / found.filled if found.filled else 0.0,
        examples=[InvalidExample(value=e["value"], reason=e["reason"]) for e in found.examples],
    )  # fmt: skip
