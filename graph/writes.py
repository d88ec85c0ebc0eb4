"""Batched graph writes: source records on ingest, profile assignments on resolve."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from graph import cypher
from graph.batch import RecordBatch
from graph.model import Label, Rel

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

    def upsert(self, batch: RecordBatch) -> dict[str, UpsertCounts]:
        """Write the batch; what happened, per source."""
        batch = batch.latest()  # a record id repeated in one batch: the last row wins
        records = batch.records
        existing = {
            row["key"]: row["hash"]
            for row in self.store.run("record_hashes", cypher.RECORD_HASHES, {"keys": records["key"].tolist()})
        }
        old_hash = records["key"].map(existing)
        new, changed = old_hash.isna(), old_hash.notna() & (old_hash != records["hash"])
        first_seen = self._forget_old_content(records.loc[changed, "key"].tolist())
        touched = batch.select(records.loc[new | changed, "key"])
        links = _with_first_seen(touched.links, first_seen)
        if self.store.nested_writes:
            self._write_nested(touched.records, links)
        else:
            self._write_flat(records[new], records[changed], links)
        events = touched.events
        self.store.create_nodes(Label.EVENT, events[["key", "type", "ts", "source", "properties"]])
        self.store.create_edges(Rel.HAS_EVENT, events[["record", "key"]])
        counts = {}
        for source in records["source"].unique():
            mine = records["source"] == source
            counts[source] = UpsertCounts(
                created=int((new & mine).sum()),
                updated=int((changed & mine).sum()),
                unchanged=int((mine & ~new & ~changed).sum()),
                identifiers=int((links["source"] == source).sum()),
                events=int((events["source"] == source).sum()),
            )
        return counts

    def _write_flat(self, new: pd.DataFrame, changed: pd.DataFrame, links: pd.DataFrame) -> None:
        """Records, then identifiers, then links: each a plain bulk load (fast on the embedded store)."""
        self.store.create_nodes(Label.RECORD, new[_RECORD_PROPERTIES])
        self.store.write_rows("update_records", cypher.UPDATE_RECORDS, changed[_RECORD_PROPERTIES].to_dict("records"))
        identifiers = links.drop_duplicates("identifier")
        known = _existing(
            self.store, "existing_identifiers", cypher.EXISTING_IDENTIFIERS, identifiers["identifier"].tolist()
        )
        fresh = identifiers.loc[~identifiers["identifier"].isin(known), ["identifier", "type", "value"]]
        self.store.create_nodes(Label.IDENTIFIER, fresh.rename(columns={"identifier": "key"}).assign(status="active"))
        self.store.create_edges(Rel.HAS_IDENTIFIER, links[_LINK_PROPERTIES])

    def _write_nested(self, records: pd.DataFrame, links: pd.DataFrame) -> None:
        """One query per batch: each record with its links nested, so every record is looked up once."""
        by_record: dict[str, list[dict[str, str]]] = {}
        for link in links[["record", "identifier", "type", "value", *_LINK_PROPERTIES[2:]]].to_dict("records"):
            by_record.setdefault(link["record"], []).append(link)
        rows = [{**r, "links": by_record.get(r["key"], [])} for r in records[_RECORD_PROPERTIES].to_dict("records")]
        self.store.write_rows("upsert_records_nested", cypher.UPSERT_RECORDS_NESTED, rows)

    def _forget_old_content(self, keys: list[str]) -> dict[tuple[str, str], str]:
        """Drop a changed record's links and events, remembering when each link was first seen."""
        if not keys:
            return {}
        rows = self.store.run("link_first_seen", cypher.LINK_FIRST_SEEN, {"keys": keys})
        self.store.write_rows("mark_changed_records", cypher.MARK_CHANGED_RECORDS, keys, param="keys")
        self.store.write_rows("delete_record_links", cypher.DELETE_RECORD_LINKS, keys, param="keys")
        self.store.write_rows("delete_record_events", cypher.DELETE_RECORD_EVENTS, keys, param="keys")
        return {(row["record"], row["identifier"]): row["first_seen"] for row in rows}


_RECORD_PROPERTIES = ["key", "source", "record_id", "attributes", "hash", "seen_at"]
_LINK_PROPERTIES = ["record", "identifier", "source", "first_seen", "last_seen"]


def _with_first_seen(links: pd.DataFrame, first_seen: Mapping[tuple[str, str], str]) -> pd.DataFrame:
    """A link keeps the first_seen of the link it replaces; a new one was first seen with its record."""
    links = links.assign(first_seen=links["seen_at"], last_seen=links["seen_at"])
    if first_seen:
        old = pd.Series(first_seen, dtype="str")
        pairs = pd.MultiIndex.from_arrays([links["record"], links["identifier"]])
        links["first_seen"] = old.reindex(pairs).fillna(links["seen_at"].set_axis(pairs)).to_numpy()
    return links


@dataclass
class AssignmentChange:
    """What a resolve run changes: records moving to (possibly new) profiles, profiles that vanish."""

    moves: dict[str, str]  # record key -> profile id, only for records whose profile changed
    sizes: dict[str, int]  # profile id -> size, for every profile touched
    removed: list[str]  # profile ids no longer holding any record
    updated_at: str
    #: moved records that had a profile before (only they need an old edge deleted); None: all of them
    reassigned: set[str] | None = None
    #: removed profile id -> the profile that took most of its records, so the old id keeps resolving
    aliases: dict[str, str] = field(default_factory=dict)


def apply_assignment(store: GraphStore, change: AssignmentChange) -> None:
    """Write a resolve run's result, one transaction per batch of records.

    A record is moved (old edge deleted, new one created) inside one transaction, so it is never in
    two profiles or none; a run stopped half-way leaves some records moved, and the next run, which
    recomputes from the graph, finishes the job. One transaction for a million moves would not fit a
    server's transaction memory.
    """
    profiles = pd.DataFrame({"id": list(change.sizes), "size": list(change.sizes.values())}, dtype=object)
    profiles = profiles.astype({"id": "str", "size": "int64"}).assign(updated_at=change.updated_at)
    created: list[str] = []
    for batch in in_batches(profiles, store.transaction_rows):
        known = _existing(store, "existing_profiles", cypher.PROFILES_BY_ID, batch["id"].tolist(), "ids", "id")
        is_known = batch["id"].isin(known)
        created += batch.loc[~is_known, "id"].tolist()
        with store.transaction():
            store.write_rows("update_profiles", cypher.UPDATE_PROFILES, batch[is_known].to_dict("records"))
            store.create_nodes(Label.PROFILE, batch[~is_known])
    moves = pd.DataFrame({"record": list(change.moves), "profile_id": list(change.moves.values())}, dtype="str")
    for batch in in_batches(moves, store.transaction_rows):
        keys = (
            batch["record"] if change.reassigned is None else batch["record"][batch["record"].isin(change.reassigned)]
        )
        with store.transaction():
            store.write_rows("delete_assignments", cypher.DELETE_ASSIGNMENTS, keys.tolist(), param="keys")
            store.create_edges(Rel.IN_PROFILE, batch)
    for ids in in_batches(change.removed, store.transaction_rows):
        with store.transaction():
            store.write_rows("delete_profiles", cypher.DELETE_PROFILES, ids, param="ids")
    _write_aliases(store, change, created)


def _write_aliases(store: GraphStore, change: AssignmentChange, created: list[str]) -> None:
    """Aliases for the removed ids; a created profile whose id was an alias (ids derive from record keys,
    so one can come back) stops being one."""
    aliases = pd.DataFrame({"id": list(change.aliases), "target": list(change.aliases.values())}, dtype="str")
    stale = sorted(set(change.aliases) | set(created))
    if not store.run("count_aliases", cypher.COUNT_ALIASES)[0]["n"]:
        stale = []  # nothing to delete: skips a lookup per new profile on a first run
    for ids in in_batches(stale, store.transaction_rows):
        with store.transaction():
            store.write_rows("delete_aliases", cypher.DELETE_ALIASES, ids, param="ids")
    for batch in in_batches(aliases.assign(updated_at=change.updated_at), store.transaction_rows):
        with store.transaction():
            store.create_nodes(Label.PROFILE_ALIAS, batch)


def _existing(
    store: GraphStore, name: str, query: str, keys: list[str], param: str = "keys", column: str = "key"
) -> set[str]:
    found: set[str] = set()
    for batch in in_batches(keys, store.batch_size):
        found.update(row[column] for row in store.run(name, query, {param: batch}))
    return found


def in_batches(rows: Any, size: int) -> Iterator[Any]:
    """Slices of a list or a DataFrame."""
    for start in range(0, len(rows), size):
        yield rows.iloc[start : start + size] if isinstance(rows, pd.DataFrame) else rows[start : start + size]
