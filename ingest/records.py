"""Turn one raw row into a normalised :class:`graph.model.SourceRecord`.

A value that fails validation is dropped (counted and listed with its line, column and reason) while the
row keeps its other values; an event whose timestamp does not parse is not recorded (listed too) while the
record is kept; a row without a usable record id cannot become a record and is rejected.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from graph.batch import ATTRIBUTES_JSON, PROPERTIES_JSON, RecordBatch
from graph.model import content_hash, identifier_key, record_key
from ingest.columns import FastPath, Normalised, Rule, canonical_timestamps, identifier_fast_path, normalise_column
from ingest.config import SourceSpec
from ingest.normalise import (
    MAX_KEY_CHARS,
    InvalidValue,
    NormaliseOptions,
    normalise_attribute,
    normalise_identifier,
    normalise_phone,
)
from ingest.phone_columns import bulk_phones
from ingest.phone_regions import PhoneTally
from ingest.readers import DroppedValue

_NUMBER = re.compile(r"^-?(0|[1-9]\d{0,17})(\.\d+)?$")
_SHOWN_CHARS = 1000

#: something ingest did not take from a row it kept: (line, kind, column, value, reason), where kind is
#: "value" (the value was dropped from the record) or "event" (the row's event was not recorded)
Dropped = tuple[int, str, str, str, str]


class RejectedRow(Exception):
    """The row cannot become a record; the message is the reason written to the rejects file."""


@dataclass
class InvalidValues:
    """Values dropped from matching and events not recorded, counted per column and listed one by one."""

    counts: Counter[str] = field(default_factory=Counter)  # values dropped, per column
    events: Counter[str] = field(default_factory=Counter)  # events not recorded, per timestamp column
    listed: list[Dropped] = field(default_factory=list)

    def add(self, line: int, column: str, value: Any, reason: str, kind: str = "value") -> None:
        (self.events if kind == "event" else self.counts)[column] += 1
        self.listed.append((line, kind, column, shown(value), reason))


def shown(value: Any) -> str:
    """A value as the rejects file shows it: text as it was read, anything else as JSON."""
    if value is None or isinstance(value, str):
        text = value or ""
    else:
        text = json.dumps(value, default=str) if isinstance(value, (dict, list)) else str(value)
    return text[:_SHOWN_CHARS]


def parse_timestamp(raw: Any) -> str:
    """ISO 8601 in UTC from a datetime, a date or an ISO string.

    >>> parse_timestamp("2025-03-01T10:00:00+01:00")
    '2025-03-01T09:00:00Z'
    """
    if is_missing(raw):
        raise InvalidValue("no timestamp")
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, date):
        value = datetime(raw.year, raw.month, raw.day)
    else:
        try:
            value = datetime.fromisoformat(str(raw).strip())
        except ValueError:
            raise InvalidValue(f"not an ISO 8601 timestamp: {str(raw)[:40]!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    # isoformat, not strftime: strftime writes the year 999 as "999"
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


class RecordBuilder:
    """Builds the records of one source, a chunk of rows at a time, column by column.

    Each distinct raw value of a column is normalised once per chunk (emails, phones and names repeat
    across a customer's rows), and the result is a :class:`graph.batch.RecordBatch`, never a Python
    object per record. Keeps the count of values it had to drop, and a tally of the phones that are not
    valid numbers in the default region.
    """

    def __init__(self, name: str, spec: SourceSpec, options: NormaliseOptions, ingested_at: str) -> None:
        self.name, self.spec, self.options, self.ingested_at = name, spec, options, ingested_at
        self.invalid = InvalidValues()
        self.phones = PhoneTally()
        self._listed: dict[str, set[int]] = {}  # column -> lines whose value the reader already dropped
        self.filled: dict[str, int] = {}  # column -> rows built holding a value (dropped ones included)

    def take_dropped(self, line: int, dropped: tuple[DroppedValue, ...]) -> str | None:
        """List the values the reader dropped from a row; the reason the row cannot be a record when one
        of them was its record id."""
        keys = self.spec.columns()
        for column, _, reason in dropped:
            if keys.get(column) == "record_id":
                return f"record_id column '{column}': {reason}"
        for column, value, reason in dropped:
            if column in keys:  # other columns are not ingested: nothing was lost
                kind = "event" if keys[column] == "event.timestamp" else "value"
                self.invalid.add(line, column, value, reason, kind)
                self._listed.setdefault(column, set()).add(line)
        return None

    def build(self, rows: list[tuple[int, dict[str, Any]]]) -> tuple[RecordBatch, list[tuple[int, str, str]]]:
        """The batch of the rows that have a record id, and ``(line, reason, raw)`` for those that do not."""
        kept, ids, rejects = [], [], []
        for line, values in rows:
            try:
                ids.append(self._record_id(values))
                kept.append((line, values))
            except RejectedRow as exc:
                rejects.append((line, str(exc), str(values)))
        self.filled[self.spec.record_id] = len(kept)
        identifiers = [
            (id_type, *self._identifiers(kept, column, id_type)) for column, id_type in self.spec.identifiers.items()
        ]
        attributes = [
            (name, self._column(kept, column, partial(normalise_attribute, name, opts=self.options)))
            for column, name in self.spec.attribute_columns()
        ]
        events = self._events(kept)
        tables: tuple[list[tuple[Any, ...]], ...] = ([], [], [])
        for row, record_id in enumerate(ids):
            links = [(t, v[row], u[row]) for t, v, u in identifiers]
            self._add(tables, row, record_id, links, attributes, events[row])
        return RecordBatch.from_rows(*tables), rejects

    def _identifiers(
        self, rows: list[tuple[int, dict[str, Any]]], column: str, id_type: str
    ) -> tuple[list[str | None], list[bool]]:
        """The normalised values of an identifier column and whether each is unverified (a phone in no
        assigned range: decided here, where the number is parsed anyway); phones are tallied too."""
        if id_type != "phone":
            rule = partial(normalise_identifier, id_type, opts=self.options)
            values = self._column(rows, column, rule, identifier_fast_path(id_type))
            return values, [False] * len(values)
        fast = partial(bulk_phones, region=self.options.default_region)
        result = self._normalised(rows, column, partial(normalise_phone, opts=self.options), fast)
        phones: list[Any] = result.values
        self.phones.add([values.get(column) for _, values in rows], phones, [row for row, _ in result.invalid])
        return [p.e164 if p else None for p in phones], [p is not None and p.unverified for p in phones]

    def _add(
        self,
        tables: tuple[list[tuple[Any, ...]], ...],
        row: int,
        record_id: str,
        links: list[tuple[str, str | None, bool]],
        attributes: list[tuple[str, list[str | None]]],
        event: tuple[str, str, dict[str, Any]] | None,
    ) -> None:
        records, link_rows, event_rows = tables
        source, key = self.name, record_key(self.name, record_id)
        present = [(t, v) for t, v, _ in links if v is not None]
        unverified = {(t, v) for t, v, flag in links if flag}
        values: dict[str, str] = {}
        for name, column in attributes:
            if (value := column[row]) is not None and name not in values:
                values[name] = value
        events = [event] if event else []
        seen_at = event[1] if event else self.ingested_at
        digest = content_hash(present, values, events)
        records.append((row, key, source, record_id, ATTRIBUTES_JSON(values), digest, seen_at))
        for id_type, value in dict.fromkeys(present):
            link = (row, key, identifier_key(id_type, value), id_type, value, source, seen_at)
            link_rows.append((*link, (id_type, value) in unverified))
        for n, (kind, ts, props) in enumerate(events):
            properties = PROPERTIES_JSON(props)
            event_rows.append((row, key, f"{key}#{n}", kind, ts, source, properties))

    def _record_id(self, row: dict[str, Any]) -> str:
        raw = row.get(self.spec.record_id)
        if is_missing(raw):
            raise RejectedRow(f"record_id column '{self.spec.record_id}' is empty")
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        record_id = str(raw).strip()
        if len(record_id) > MAX_KEY_CHARS // 4 and len(record_id.encode()) > MAX_KEY_CHARS:
            raise RejectedRow(f"record_id column '{self.spec.record_id}' is longer than {MAX_KEY_CHARS:,} bytes")
        return record_id

    def _column(
        self,
        rows: list[tuple[int, dict[str, Any]]],
        column: str,
        rule: Rule,
        fast: FastPath | None = None,
        kind: str = "value",
    ) -> list[Any]:
        """The normalised values of one column; dropped values are counted and listed against their line."""
        return self._normalised(rows, column, rule, fast, kind).values

    def _normalised(
        self,
        rows: list[tuple[int, dict[str, Any]]],
        column: str,
        rule: Rule,
        fast: FastPath | None = None,
        kind: str = "value",
    ) -> Normalised:
        raws = [values.get(column) for _, values in rows]
        result = normalise_column(raws, rule, fast)
        listed = self._listed.get(column, set())
        # a value the reader dropped was there (and is listed as invalid): it fills the column
        self.filled[column] = result.filled + (sum(line in listed for line, _ in rows) if listed else 0)
        for row, reason in result.invalid:
            if rows[row][0] not in listed:
                self.invalid.add(rows[row][0], column, raws[row], reason, kind)
        return result

    def _events(self, rows: list[tuple[int, dict[str, Any]]]) -> list[tuple[str, str, dict[str, Any]] | None]:
        spec = self.spec.event
        if spec is None:
            return [None] * len(rows)
        timestamps = self._column(rows, spec.timestamp, parse_timestamp, canonical_timestamps, kind="event")
        properties = [(p, self._column(rows, p, _property)) for p in spec.properties]
        return [
            (spec.type, ts, {p: column[n] for p, column in properties if column[n] is not _MISSING})
            if ts is not None
            else None
            for n, ts in enumerate(timestamps)
        ]


_MISSING = object()


def _property(value: Any) -> Any:
    return _MISSING if is_missing(value) else _plain(value)


def _plain(value: Any) -> Any:
    """JSON-friendly property value; numbers stay numbers so analytics can sum them."""
    if isinstance(value, (int, float, bool)):
        return value
    text = str(value).strip()
    if not _NUMBER.match(text):
        return text  # ids such as SKU "00123" keep their leading zeros
    return float(text) if "." in text else int(text)
