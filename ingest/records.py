"""Turn one raw row into a normalised :class:`graph.model.SourceRecord`.

A value that fails validation is dropped (and counted) while the row keeps its other values; a row
without a usable record id cannot become a record and is rejected.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from graph.model import Event, IdentifierLink, SourceRecord
from ingest.config import SourceSpec
from ingest.normalise import InvalidValue, NormaliseOptions, normalise_attribute, normalise_identifier

_NUMBER = re.compile(r"^-?(0|[1-9]\d{0,17})(\.\d+)?$")


class RejectedRow(Exception):
    """The row cannot become a record; the message is the reason written to the rejects file."""


@dataclass
class InvalidValues:
    """Values dropped from matching, counted per (column, reason) with one example each."""

    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def add(self, column: str, reason: str, line: int) -> None:
        self.counts[column] += 1
        self.examples.setdefault(column, f"line {line}: {reason}")


def parse_timestamp(raw: Any) -> str:
    """ISO 8601 in UTC from a datetime, a date or an ISO string.

    >>> parse_timestamp("2025-03-01T10:00:00+01:00")
    '2025-03-01T09:00:00Z'
    """
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
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


class RecordBuilder:
    """Builds records of one source; keeps the count of values it had to drop."""

    def __init__(self, name: str, spec: SourceSpec, options: NormaliseOptions, ingested_at: str) -> None:
        self.name, self.spec, self.options, self.ingested_at = name, spec, options, ingested_at
        self.invalid = InvalidValues()

    def build(self, line: int, row: dict[str, Any]) -> SourceRecord:
        record_id = self._record_id(row)
        identifiers = [link for link in self._identifiers(line, row) if link is not None]
        attributes = self._attributes(line, row)
        events = self._events(line, row)
        seen_at = events[0].timestamp if events else self.ingested_at
        return SourceRecord(self.name, record_id, identifiers, attributes, seen_at, events)

    def _record_id(self, row: dict[str, Any]) -> str:
        raw = row.get(self.spec.record_id)
        if is_missing(raw):
            raise RejectedRow(f"record_id column '{self.spec.record_id}' is empty")
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        return str(raw).strip()

    def _identifiers(self, line: int, row: dict[str, Any]) -> list[IdentifierLink | None]:
        links = []
        for column, id_type in self.spec.identifiers.items():
            try:
                value = normalise_identifier(id_type, row.get(column), self.options)
            except InvalidValue as exc:
                self.invalid.add(column, exc.reason, line)
                continue
            links.append(IdentifierLink(id_type, value) if value is not None else None)
        return links

    def _attributes(self, line: int, row: dict[str, Any]) -> dict[str, str]:
        attributes: dict[str, str] = {}
        for column, name in self.spec.attributes.items():
            try:
                value = normalise_attribute(name, row.get(column), self.options)
            except InvalidValue as exc:
                self.invalid.add(column, exc.reason, line)
                continue
            if value is not None and name not in attributes:
                attributes[name] = value
        return attributes

    def _events(self, line: int, row: dict[str, Any]) -> list[Event]:
        spec = self.spec.event
        if spec is None:
            return []
        try:
            timestamp = parse_timestamp(row.get(spec.timestamp))
        except InvalidValue as exc:
            self.invalid.add(spec.timestamp, exc.reason, line)
            return []
        properties = {p: _plain(row.get(p)) for p in spec.properties if not is_missing(row.get(p))}
        return [Event(spec.type, timestamp, properties)]


def _plain(value: Any) -> Any:
    """JSON-friendly property value; numbers stay numbers so analytics can sum them."""
    if isinstance(value, (int, float, bool)):
        return value
    text = str(value).strip()
    if not _NUMBER.match(text):
        return text  # ids such as SKU "00123" keep their leading zeros
    return float(text) if "." in text else int(text)
