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
from typing import Any


class Label(enum.StrEnum):
    RECORD = "Record"
    IDENTIFIER = "Identifier"
    EVENT = "Event"
    PROFILE = "CustomerProfile"  # "Profile" is a reserved word in Kuzu-family Cypher
    PROFILE_ALIAS = "ProfileAlias"  # a merged-away profile id and the profile that took its records
    REJECTED_LINK = "RejectedLink"  # a record-identifier link the last resolve cut, and why
    MATCH_LINK = "MatchLink"  # two records the last resolve linked by fuzzy matching, with the evidence
    HOUSEHOLD = "Household"  # profiles of different people sharing a home (IN_HOUSEHOLD edges)
    PROFILE_EVENT = "ProfileEvent"  # one entry of a profile's history: created, merged, split, merged_into
    OVERRIDE = "Override"  # a user's must-link or cannot-link between two records, kept for every later resolve
    RESOLVE_RUN = "ResolveRun"
    MATCH_MODEL = "MatchModel"  # the match model a full resolve estimated, reused by incremental runs
    CHANGED_RECORD = "ChangedRecord"  # a record ingest changed since the last resolve
    EMBEDDING_MODEL = "EmbeddingModel"  # node2vec settings, graph version and timings of the stored embeddings
    EMBEDDING_CHUNK = "EmbeddingChunk"  # up to 10k nodes' vectors of one embedding model, packed
    RESOLVE_JOURNAL = "ResolveJournal"  # a resolve run's planned writes, kept until all are applied
    JOURNAL_CHUNK = "JournalChunk"  # one packed table of a journalled run
    WRITER_LEASE = "WriterLease"  # who holds the store's single writer role, until when
    GRAPH_SETTING = "GraphSetting"  # a setting stored with the graph (the ingest region)
    API_KEY = "ApiKey"  # a key the API accepts: its SHA-256 (never the key), name, scopes and times
    AUDIT_ENTRY = "AuditEntry"  # who did what to which profiles, when, and how it ended (never the PII itself)
    SUPPRESSION = "Suppression"  # a salted hash of an erased identifier: ingest skips rows holding it
    PAIR_LABEL = "PairLabel"  # a reviewer's verdict on two records (match or not), used by every later resolve
    SEGMENT = "Segment"  # a named rule over profiles (analytics.segment_rules), who made it and when
    SEGMENT_STATE = "SegmentState"  # one profile's segments (since when) and its entries and exits, as JSON
    DESTINATION = "Destination"  # where audiences go: a folder or a webhook (its signing secret), batch size
    SYNC_STATE = "SyncState"  # a segment's members as last planned for a destination (the next sync's base)
    OUTBOX_BATCH = "OutboxBatch"  # one batch of an audience push: members, status, attempts, outcome
    JOURNEY_STATE = "JourneyState"  # where one profile is in one journey: its step, when it is due, its sends


class Rel(enum.StrEnum):
    HAS_IDENTIFIER = "HAS_IDENTIFIER"
    HAS_EVENT = "HAS_EVENT"
    IN_PROFILE = "IN_PROFILE"
    HAS_HISTORY = "HAS_HISTORY"  # a live profile -> an entry of its history
    IN_HOUSEHOLD = "IN_HOUSEHOLD"  # a profile -> its household


class IdentifierStatus(enum.StrEnum):
    """Whether resolution may use an identifier to link records."""

    ACTIVE = "active"
    #: a phone of the right length for its country but in no range libphonenumber knows to be assigned (a
    #: drama number, a range assigned after its metadata was built); still links records, and says so
    UNVERIFIED = "unverified"
    PLACEHOLDER = "placeholder"  # built-in junk value such as test@test.com
    BLOCKLISTED = "blocklisted"  # listed by the user
    SHARED = "shared"  # links more records than its type's cap allows


#: statuses whose identifiers resolution links records on (the rest are ignored, and say why)
USABLE_STATUSES = frozenset({IdentifierStatus.ACTIVE.value, IdentifierStatus.UNVERIFIED.value})


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
    unverified: bool = False  # see IdentifierStatus.UNVERIFIED; ingest decides it where it parses the value

    @property
    def key(self) -> str:
        return identifier_key(self.id_type, self.value)


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

    @property
    def content_hash(self) -> str:
        """Hash of everything ingest writes for the record; an unchanged row re-ingested is skipped."""
        return content_hash(
            [(i.id_type, i.value) for i in self.identifiers],
            self.attributes,
            [(e.type, e.timestamp, e.properties) for e in self.events],
        )


def content_hash(
    identifiers: list[tuple[str, str]], attributes: dict[str, str], events: list[tuple[str, str, dict[str, Any]]]
) -> str:
    """Hash of everything ingest writes for one record (identifiers as ``(type, value)``, events as
    ``(type, timestamp, properties)``); equal content gives an equal hash whatever the order."""
    payload = repr(  # repr of str/number tuples is deterministic and much cheaper than JSON
        (sorted(identifiers), sorted(attributes.items()), [(t, ts, sorted(p.items())) for t, ts, p in events])
    )
    return hashlib.blake2b(payload.encode(), digest_size=12).hexdigest()
