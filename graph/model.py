"""Domain model of the identity graph.

Nodes: ``Record`` (one row of one source), ``Identifier`` (a typed, normalised value such as an email),
``Event`` (a purchase or page view kept per record) and ``Profile`` (a resolved customer).
Edges: ``HAS_IDENTIFIER`` (record -> identifier, with source and first/last seen), ``HAS_EVENT``
(record -> event) and ``IN_PROFILE`` (record -> profile).

Labels and relationship types only ever come from these enums, never from input.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any


class Label(enum.StrEnum):
    RECORD = "Record"
    IDENTIFIER = "Identifier"
    EVENT = "Event"
    PROFILE = "CustomerProfile"  # "Profile" is a reserved word in Kuzu-family Cypher
    RESOLVE_RUN = "ResolveRun"


class Rel(enum.StrEnum):
    HAS_IDENTIFIER = "HAS_IDENTIFIER"
    HAS_EVENT = "HAS_EVENT"
    IN_PROFILE = "IN_PROFILE"


class IdentifierStatus(enum.StrEnum):
    """Whether resolution may use an identifier to link records."""

    ACTIVE = "active"
    PLACEHOLDER = "placeholder"  # built-in junk value such as test@test.com
    BLOCKLISTED = "blocklisted"  # listed by the user
    SHARED = "shared"  # links more records than its type's cap allows


def record_key(source: str, record_id: str) -> str:
    """Graph-wide key of a source record. Source names never contain ':' (validated at config load)."""
    return f"{source}:{record_id}"


def identifier_key(id_type: str, value: str) -> str:
    return f"{id_type}:{value}"


def split_key(key: str) -> tuple[str, str]:
    """Inverse of :func:`record_key` / :func:`identifier_key`.

    >>> split_key("crm:42:a")
    ('crm', '42:a')
    """
    head, _, tail = key.partition(":")
    return head, tail


@dataclass(frozen=True)
class IdentifierLink:
    """A record carries an identifier: the edge ``(Record)-[:HAS_IDENTIFIER]->(Identifier)``."""

    id_type: str
    value: str

    @property
    def key(self) -> str:
        return identifier_key(self.id_type, self.value)

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        return (IdentifierLink, (self.id_type, self.value))  # pickles several times faster than the default


@dataclass(frozen=True)
class Event:
    """Something a customer did, kept per record: a purchase, a page view."""

    type: str
    timestamp: str  # ISO 8601, UTC
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class SourceRecord:
    """One row of one source after normalisation."""

    source: str
    record_id: str
    identifiers: list[IdentifierLink]
    attributes: dict[str, str]
    seen_at: str  # ISO 8601: the row's own timestamp when it has one, else the ingest time
    events: list[Event] = field(default_factory=list)

    @property
    def key(self) -> str:
        return record_key(self.source, self.record_id)

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Records cross process boundaries by the million at ingest: pickle them as plain tuples."""
        identifiers = tuple((i.id_type, i.value) for i in self.identifiers)
        events = tuple((e.type, e.timestamp, e.properties) for e in self.events)
        state = (self.source, self.record_id, identifiers, self.attributes, self.seen_at, events, self.content_hash)
        return (_rebuild_record, state)

    @cached_property
    def content_hash(self) -> str:
        """Hash of everything ingest writes for the record; an unchanged row re-ingested is skipped.

        Cached on the instance, so a worker process that builds the record computes it and the value
        travels with the pickled record."""
        payload = repr(  # repr of str/number tuples is deterministic and much cheaper than JSON
            (
                sorted((i.id_type, i.value) for i in self.identifiers),
                sorted(self.attributes.items()),
                [(e.type, e.timestamp, sorted(e.properties.items())) for e in self.events],
            )
        )
        return hashlib.blake2b(payload.encode(), digest_size=12).hexdigest()


def _rebuild_record(
    source: str,
    record_id: str,
    identifiers: tuple[tuple[str, str], ...],
    attributes: dict[str, str],
    seen_at: str,
    events: tuple[tuple[str, str, dict[str, Any]], ...],
    content_hash: str,
) -> SourceRecord:
    record = SourceRecord(
        source,
        record_id,
        [IdentifierLink(t, v) for t, v in identifiers],
        attributes,
        seen_at,
        [Event(t, ts, props) for t, ts, props in events],
    )
    record.__dict__["content_hash"] = content_hash  # the cached_property's slot
    return record
