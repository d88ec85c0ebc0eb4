"""Batched graph writes: source records on ingest, profile assignments on resolve."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graph import cypher
from graph.model import Event, IdentifierLink, SourceRecord

if TYPE_CHECKING:
    from graph.store import GraphStore


@dataclass
class UpsertCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    identifiers: int = 0
    events: int = 0

    def add(self, other: UpsertCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class RecordWriter:
    """Writes one batch of records; the caller wraps it in a transaction."""

    def __init__(self, store: GraphStore) -> None:
        self.store = store

    def upsert(self, records: Sequence[SourceRecord]) -> UpsertCounts:
        batch = {r.key: r for r in records}  # a record id repeated in one batch: the last row wins
        hashes = {r.key: r.content_hash for r in batch.values()}
        existing = {
            row["key"]: row["hash"]
            for row in self.store.run("record_hashes", cypher.RECORD_HASHES, {"keys": list(batch)})
        }
        new = [r for k, r in batch.items() if k not in existing]
        changed = [r for k, r in batch.items() if k in existing and existing[k] != hashes[k]]
        first_seen = self._forget_old_content([r.key for r in changed])
        touched = new + changed
        links = [_link_row(r, i, first_seen) for r in touched for i in _unique(r)]
        if self.store.nested_writes:
            self._write_nested(touched, hashes, links)
        else:
            self._write_flat(new, changed, hashes, links)
        events = [_event_row(r, n, e) for r in touched for n, e in enumerate(r.events)]
        self.store.write_rows("create_events", cypher.CREATE_EVENTS, events)
        return UpsertCounts(
            created=len(new),
            updated=len(changed),
            unchanged=len(batch) - len(touched),
            identifiers=len(links),
            events=len(events),
        )

    def _write_flat(
        self, new: list[SourceRecord], changed: list[SourceRecord], hashes: dict[str, str], links: list[dict[str, str]]
    ) -> None:
        """Records, then identifiers, then links: each a plain bulk load (fast on the embedded store)."""
        write = self.store.write_rows
        write("create_records", cypher.CREATE_RECORDS, [_record_row(r, hashes[r.key]) for r in new])
        write("update_records", cypher.UPDATE_RECORDS, [_record_row(r, hashes[r.key]) for r in changed])
        identifiers = {link["identifier"]: link for link in links}
        known = _existing(self.store, "existing_identifiers", cypher.EXISTING_IDENTIFIERS, list(identifiers))
        rows = [
            {"key": k, "type": link["type"], "value": link["value"]}
            for k, link in identifiers.items()
            if k not in known
        ]
        write("create_identifiers", cypher.CREATE_IDENTIFIERS, rows)
        write("create_links", cypher.CREATE_LINKS, links)

    def _write_nested(self, touched: list[SourceRecord], hashes: dict[str, str], links: list[dict[str, str]]) -> None:
        """One query per batch: each record with its links nested, so every record is looked up once."""
        by_record: dict[str, list[dict[str, str]]] = {}
        for link in links:
            by_record.setdefault(link["record"], []).append(link)
        rows = [{**_record_row(r, hashes[r.key]), "links": by_record.get(r.key, [])} for r in touched]
        self.store.write_rows("upsert_records_nested", cypher.UPSERT_RECORDS_NESTED, rows)

    def _forget_old_content(self, keys: list[str]) -> dict[tuple[str, str], str]:
        """Drop a changed record's links and events, remembering when each link was first seen."""
        if not keys:
            return {}
        rows = self.store.run("link_first_seen", cypher.LINK_FIRST_SEEN, {"keys": keys})
        self.store.write_rows("delete_record_links", cypher.DELETE_RECORD_LINKS, keys, param="keys")
        self.store.write_rows("delete_record_events", cypher.DELETE_RECORD_EVENTS, keys, param="keys")
        return {(row["record"], row["identifier"]): row["first_seen"] for row in rows}


def _unique(record: SourceRecord) -> list[IdentifierLink]:
    seen: dict[str, IdentifierLink] = {}
    for link in record.identifiers:
        seen.setdefault(link.key, link)
    return list(seen.values())


def _record_row(record: SourceRecord, content_hash: str) -> dict[str, str]:
    return {
        "key": record.key,
        "source": record.source,
        "record_id": record.record_id,
        "attributes": json.dumps(record.attributes, sort_keys=True),
        "hash": content_hash,
        "seen_at": record.seen_at,
    }


def _link_row(record: SourceRecord, link: IdentifierLink, first_seen: Mapping[tuple[str, str], str]) -> dict[str, str]:
    key = link.key
    return {
        "record": record.key,
        "identifier": key,
        "type": link.id_type,
        "value": link.value,
        "source": record.source,
        "first_seen": first_seen.get((record.key, key), record.seen_at),
        "last_seen": record.seen_at,
    }


def _event_row(record: SourceRecord, n: int, event: Event) -> dict[str, str]:
    return {
        "record": record.key,
        "key": f"{record.key}#{n}",
        "type": event.type,
        "ts": event.timestamp,
        "source": record.source,
        "properties": json.dumps(event.properties, sort_keys=True, default=str),
    }


@dataclass
class AssignmentChange:
    """What a resolve run changes: records moving to (possibly new) profiles, profiles that vanish."""

    moves: dict[str, str]  # record key -> profile id, only for records whose profile changed
    sizes: dict[str, int]  # profile id -> size, for every profile touched
    removed: list[str]  # profile ids no longer holding any record
    updated_at: str
    #: moved records that had a profile before (only they need an old edge deleted); None: all of them
    reassigned: set[str] | None = None


def apply_assignment(store: GraphStore, change: AssignmentChange) -> None:
    """Write a resolve run's result, one transaction per batch of records.

    A record is moved (old edge deleted, new one created) inside one transaction, so it is never in
    two profiles or none; a run stopped half-way leaves some records moved, and the next run, which
    recomputes from the graph, finishes the job. One transaction for a million moves would not fit a
    server's transaction memory.
    """
    rows = [{"id": p, "size": n, "updated_at": change.updated_at} for p, n in change.sizes.items()]
    for batch in _batches(rows, store.batch_size):
        known = _existing(store, "existing_profiles", cypher.PROFILES_BY_ID, [r["id"] for r in batch], "ids", "id")
        with store.transaction():
            store.write_rows("update_profiles", cypher.UPDATE_PROFILES, [r for r in batch if r["id"] in known])
            store.write_rows("create_profiles", cypher.CREATE_PROFILES, [r for r in batch if r["id"] not in known])
    moves = [{"record": k, "profile_id": p} for k, p in change.moves.items()]
    for batch in _batches(moves, store.batch_size):
        with store.transaction():
            keys = [m["record"] for m in batch if change.reassigned is None or m["record"] in change.reassigned]
            store.write_rows("delete_assignments", cypher.DELETE_ASSIGNMENTS, keys, param="keys")
            store.write_rows("create_assignments", cypher.CREATE_ASSIGNMENTS, batch)
    for batch in _batches(change.removed, store.batch_size):
        with store.transaction():
            store.write_rows("delete_profiles", cypher.DELETE_PROFILES, batch, param="ids")


def _existing(
    store: GraphStore, name: str, query: str, keys: list[str], param: str = "keys", column: str = "key"
) -> set[str]:
    found: set[str] = set()
    for batch in _batches(keys, store.batch_size):
        found.update(row[column] for row in store.run(name, query, {param: batch}))
    return found


def _batches(rows: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
