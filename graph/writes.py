"""Writes: the :class:`Transaction` handle (a unit of work) with every named write of the identity graph.

A transaction is a handle passed to the work, never state on a shared store: ``with store.transaction()
as tx: tx.save_run(...)``. Everything run through one handle commits together or not at all, and other
threads and processes never see it before the commit. Backends fill in the hooks (``_rows``, ``_frame``,
``_bulk_nodes``, ``_bulk_edges``, ``_commit``, ``_rollback``).
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from graph import cypher as q
from graph.model import Label, Rel
from graph.query import Query
from graph.reads import Reads
from graph.records import RecordWriter, UpsertCounts

if TYPE_CHECKING:
    from graph.batch import RecordBatch

__all__ = ["Transaction", "UpsertCounts"]


class Transaction(Reads):
    """One unit of work on a store; reads through it see its own writes."""

    #: write each record with its identifiers nested in one query (a server store saves lookups)
    nested_writes: bool = False

    # ---- generic bulk writes --------------------------------------------------------------------------

    def write_rows(self, query: Query, rows: Sequence[Any], param: str = "rows") -> None:
        """Run an ``UNWIND $rows`` write in batches of :attr:`batch_size`."""
        query.check({param: rows})
        for start in range(0, len(rows), self.batch_size):
            batch = list(rows[start : start + self.batch_size])
            self._timed(query.name, self._write_batch, query.text, param, batch)

    def create_nodes(self, label: Label, frame: pd.DataFrame) -> None:
        """Create one ``label`` node per row, each column a property; the keys must not exist yet."""
        if len(frame):
            self._bulk_nodes(label, frame)

    def create_edges(self, rel: Rel, frame: pd.DataFrame) -> None:
        """Create one ``rel`` edge per row: the first two columns are the end nodes' keys, the rest properties."""
        if len(frame):
            self._bulk_edges(rel, frame)

    # ---- ingest --------------------------------------------------------------------------------------

    def upsert_records(self, batch: RecordBatch) -> dict[str, UpsertCounts]:
        """Write a batch of records (new ones created, changed ones replaced, unchanged ones left alone),
        counted per source."""
        return RecordWriter(self).upsert(batch)

    # ---- resolve -------------------------------------------------------------------------------------

    def set_identifier_statuses(self, statuses: pd.DataFrame) -> None:
        """``key, status`` of identifiers whose status changed."""
        self.write_rows(q.SET_IDENTIFIER_STATUS, statuses[["key", "status"]].to_dict("records"))

    def upsert_profiles(self, profiles: pd.DataFrame) -> list[str]:
        """``id, size, updated_at``: existing profiles updated, others created; returns the created ids."""
        known = self._existing(q.PROFILES_BY_ID, "ids", profiles["id"].tolist(), "id")
        is_known = profiles["id"].isin(known)
        self.write_rows(q.UPDATE_PROFILES, profiles[is_known].to_dict("records"))
        self.create_nodes(Label.PROFILE, profiles[~is_known])
        return profiles.loc[~is_known, "id"].tolist()

    def assign_records(self, moves: pd.DataFrame, previously_assigned: Sequence[str]) -> None:
        """``record, profile_id``: each record's assignment edge replaced (the old one, if any, of the
        records in ``previously_assigned``, deleted first), so a record is never in two profiles."""
        self.write_rows(q.DELETE_ASSIGNMENTS, list(previously_assigned), param="keys")
        self.create_edges(Rel.IN_PROFILE, moves[["record", "profile_id"]])

    def delete_profiles(self, ids: Sequence[str]) -> None:
        self.write_rows(q.DELETE_PROFILES, list(ids), param="ids")

    def delete_aliases(self, ids: Sequence[str]) -> None:
        self.write_rows(q.DELETE_ALIASES, list(ids), param="ids")

    def add_aliases(self, aliases: pd.DataFrame) -> None:
        """``id, target, updated_at``; an alias that exists already is left as it is."""
        known = self._existing(q.EXISTING_PROFILE_ALIASES, "ids", aliases["id"].tolist(), "id")
        self.create_nodes(Label.PROFILE_ALIAS, aliases[~aliases["id"].isin(known)])

    def delete_rejected_links(self, records: Sequence[str] | None) -> None:
        """The rejected links of ``records`` (None: all of them)."""
        if records is None:
            self.run(q.DELETE_REJECTED_LINKS)
        else:
            self.write_rows(q.DELETE_REJECTED_LINKS_OF, list(records), param="records")

    def delete_match_links(self, records: Sequence[str] | None) -> None:
        """The match links from ``records`` (None: all of them)."""
        if records is None:
            self.run(q.DELETE_MATCH_LINKS)
        else:
            self.write_rows(q.DELETE_MATCH_LINKS_OF, list(records), param="records")

    def add_rejected_links(self, links: pd.DataFrame) -> None:
        """``key, record, identifier, reason`` of links this run cut."""
        self.create_nodes(Label.REJECTED_LINK, links)

    def add_match_links(self, links: pd.DataFrame) -> None:
        """``key, record_a, record_b, probability, weight, detail`` of this run's fuzzy-match links."""
        self.create_nodes(Label.MATCH_LINK, links)

    def replace_households(self, members: pd.DataFrame) -> None:
        """``profile_id, household_id`` (of live profiles) replace every household."""
        self.run(q.DELETE_HOUSEHOLDS)
        self.create_nodes(Label.HOUSEHOLD, pd.DataFrame({"id": members["household_id"].unique()}))
        self.create_edges(Rel.IN_HOUSEHOLD, members[["profile_id", "household_id"]])

    def add_profile_events(self, events: pd.DataFrame, removed: set[str] | frozenset[str] = frozenset()) -> None:
        """History entries (the columns of :data:`graph.schema.NODES`), each linked to its profile unless
        the profile is in ``removed`` (gone: the entry says where its records went); an entry whose key
        exists is skipped."""
        known = self._existing(q.EXISTING_PROFILE_EVENTS, "keys", events["key"].tolist(), "key")
        fresh = events[~events["key"].isin(known)]
        self.create_nodes(Label.PROFILE_EVENT, fresh)
        self.create_edges(Rel.HAS_HISTORY, fresh.loc[~fresh["profile_id"].isin(removed), ["profile_id", "key"]])

    def add_property(self, label: Label, name: str) -> None:
        """Give the ``label`` nodes of a graph written before ``name`` was declared that property (see
        :data:`graph.schema.ADDED_PROPERTIES`); a store whose nodes are schemaless has nothing to do."""
        statement = self._add_property_statement(label, name)
        if statement is not None:
            self.run(Query(f"add_{label.lower()}_{name}", statement))

    def link_unlinked_history(self) -> None:
        """Link history entries written by an older version (before ``HAS_HISTORY``) to their profiles."""
        self.run(q.UNLINKED_HISTORY)

    def clear_changed_records(self) -> None:
        self.run(q.CLEAR_CHANGED_RECORDS)

    def save_match_model(self, model_id: str, settings: str, model: str) -> None:
        self.run(q.SAVE_MODEL, id=model_id, settings=settings, model=model)

    def save_run(self, run_id: str, finished_at: str, summary: str) -> None:
        self.run(q.SAVE_RUN, id=run_id, finished_at=finished_at, summary=summary)

    def add_overrides(self, overrides: pd.DataFrame) -> None:
        """User overrides (the columns of :meth:`Reads.overrides`)."""
        self.create_nodes(Label.OVERRIDE, overrides[list(q.ALL_OVERRIDES.columns)])

    def start_journal(self, run_id: str, meta: str, created_at: str) -> None:
        """Mark a run's journal complete and pending (its chunks are written first)."""
        self.create_nodes(Label.RESOLVE_JOURNAL, pd.DataFrame([{"id": "pending", "run_id": run_id, "meta": meta,
                                                                "created_at": created_at}]))  # fmt: skip

    def delete_journal(self) -> None:
        """The journal and every chunk (of this run, or left by one that died before its journal was complete)."""
        self.run(q.DELETE_JOURNAL)
        self.run(q.DELETE_JOURNAL_CHUNKS)

    # ---- analytics and settings ----------------------------------------------------------------------

    def replace_embeddings(self, model: dict[str, Any], chunks: pd.DataFrame) -> None:
        """The embedding model (one row) and its chunks replace the current ones."""
        self.run(q.DELETE_EMBEDDINGS)
        self.run(q.DELETE_EMBEDDING_MODELS)
        self.create_nodes(Label.EMBEDDING_MODEL, pd.DataFrame([model]))
        self.create_nodes(Label.EMBEDDING_CHUNK, chunks)

    def set_pair_label(self, record_a: str, record_b: str, match: bool, actor: str, at: str) -> None:
        """A reviewer's verdict on two records (either way round: a later verdict replaces an earlier one)."""
        a, b = sorted((record_a, record_b))
        self.run(q.SET_PAIR_LABEL, key=f"{a}|{b}", record_a=a, record_b=b, match=match, actor=actor, at=at)

    def create_segment(self, name: str, rule: str, created_by: str, created_at: str) -> None:
        self.run(q.CREATE_SEGMENT, name=name, rule=rule, created_by=created_by, created_at=created_at)

    def replace_segment_states(self, states: pd.DataFrame, removed: Sequence[str]) -> None:
        """Write ``states`` (``profile_id, segments, history``), replacing those profiles' states, and delete
        the states of ``removed`` profiles."""
        gone = list(dict.fromkeys([*removed, *states["profile_id"]]))
        if gone:
            self.write_rows(q.DELETE_SEGMENT_STATES, gone, param="ids")
        self.create_nodes(Label.SEGMENT_STATE, states[["profile_id", "segments", "history"]])

    def add_destination(self, row: dict[str, Any]) -> None:
        """``name, kind, target, secret, batch_size, created_at``; the name must be new."""
        self.create_nodes(Label.DESTINATION, pd.DataFrame([row]))

    def plan_sync(self, key: str, destination: str, segment: str, members: str, synced_at: str,
                  batches: pd.DataFrame) -> None:  # fmt: skip
        """A sync's batches, in the outbox as pending, and the members they bring the destination to: together."""
        self.create_nodes(Label.OUTBOX_BATCH, batches)
        self.run(q.SET_SYNC_STATE, key=key, destination=destination, segment=segment, members=members,
                 synced_at=synced_at)  # fmt: skip

    def advance_journey(self, states: pd.DataFrame, batches: pd.DataFrame, sync: tuple[str, str, str] | None) -> None:
        """One journey run's changes together: the profiles' new states (replacing their old ones), the send
        batches those steps planned, and the trigger's members as of this run (``key, members, at``)."""
        if len(states):
            self.write_rows(q.DELETE_JOURNEY_STATES, list(states["key"]), param="keys")
            self.create_nodes(Label.JOURNEY_STATE, states)
        self.create_nodes(Label.OUTBOX_BATCH, batches)
        if sync is not None:
            key, members, at = sync
            self.run(q.SET_SYNC_STATE, key=key, destination="", segment=key, members=members, synced_at=at)

    def forget_profiles_in_activation(self, ids: Sequence[str]) -> None:
        """Take the profiles ``ids`` out of journeys, sync states and outbox batches (an erase)."""
        gone = set(ids)
        self.run(q.DELETE_JOURNEY_STATES_OF, ids=list(ids))
        for row in self.run(q.ALL_SYNC_STATES):
            members = json.loads(row["members"] or "[]")
            if gone & set(members):
                self.run(q.SET_SYNC_MEMBERS, key=row["key"], members=json.dumps([m for m in members if m not in gone]))
        for row in self.run(q.ALL_OUTBOX):
            entered, exited = json.loads(row["entered"] or "[]"), json.loads(row["exited"] or "[]")
            if gone & (set(entered) | set(exited)):
                self.run(q.SET_OUTBOX_MEMBERS, key=row["key"], entered=json.dumps([m for m in entered if m not in gone]),
                         exited=json.dumps([m for m in exited if m not in gone]))  # fmt: skip

    def set_outbox_status(self, key: str, status: str, attempts: int, outcome: str, sent_at: str) -> None:
        self.run(q.SET_OUTBOX_STATUS, key=key, status=status, attempts=attempts, outcome=outcome, sent_at=sent_at)

    def delete_segment(self, name: str) -> None:
        self.run(q.DELETE_SEGMENT, name=name)

    def set_graph_setting(self, key: str, value: str) -> None:
        """Store a setting (JSON text) with the graph."""
        self.run(q.SET_GRAPH_SETTING, key=key, value=value)

    def create_api_key(self, key_hash: str, name: str, scopes: str, created_at: str) -> None:
        """Store a key by its hash (``scopes``: comma-separated)."""
        self.run(q.CREATE_API_KEY, hash=key_hash, name=name, scopes=scopes, created_at=created_at)

    def delete_api_key(self, name: str) -> bool:
        """Delete the key named ``name``; whether there was one."""
        found = bool(self.run(q.API_KEY_NAMED, name=name))
        self.run(q.DELETE_API_KEY, name=name)
        return found

    def api_key_named(self, name: str) -> bool:
        return bool(self.run(q.API_KEY_NAMED, name=name))

    def touch_api_key(self, key_hash: str, at: str) -> None:
        self.run(q.TOUCH_API_KEY, hash=key_hash, at=at)

    def append_audit(self, entries: pd.DataFrame) -> None:
        """Audit entries (``key, at, actor, action, targets, outcome, detail``); keys are new."""
        self.create_nodes(Label.AUDIT_ENTRY, entries)

    def add_suppressions(self, rows: list[dict[str, str]]) -> None:
        """``hash, type, at`` rows; a hash stored already is kept once."""
        self.run(q.ADD_SUPPRESSIONS, rows=rows)

    def erase_records(self, keys: list[str], identifiers: list[str], profile_ids: list[str]) -> int:
        """Delete the records ``keys`` with their events, links, match links, cuts and overrides, then those
        of ``identifiers`` no other record holds, and the profiles ``profile_ids`` with their history and
        aliases. Returns how many identifiers were deleted (the others are held by other customers too)."""
        self.run(q.DELETE_RECORD_EVENTS, keys=keys)
        for query in (q.DELETE_MATCH_LINKS_OF, q.DELETE_MATCH_LINKS_TO, q.DELETE_REJECTED_LINKS_OF,
                      q.DELETE_OVERRIDES_OF, q.DELETE_PAIR_LABELS_OF, q.DELETE_CHANGED_OF):  # fmt: skip
            self.run(query, records=keys)
        self.run(q.DELETE_RECORDS, keys=keys)
        deleted = self.run(q.DELETE_ORPHAN_IDENTIFIERS, keys=identifiers)
        self.run(q.DELETE_HISTORY_OF, ids=profile_ids)
        self.run(q.DELETE_ALIASES_TO, ids=profile_ids)
        self.run(q.DELETE_PROFILES, ids=profile_ids)
        return int(deleted[0]["n"]) if deleted else 0

    # ---- the writer lease -------------------------------------------------------------------------------

    def lock_lease(self, key: str) -> dict[str, Any]:
        """The lease ``key`` (created free if missing), write-locked until this transaction ends."""
        return self.run(q.LOCK_LEASE, key=key)[0]

    def set_lease(self, key: str, holder: str, job: str, expires_at: float) -> None:
        self.run(q.SET_LEASE, key=key, holder=holder, job=job, expires_at=expires_at)

    def renew_lease(self, key: str, holder: str, expires_at: float) -> bool:
        """Push the lease's expiry; False when ``holder`` no longer holds it."""
        return bool(self.run(q.RENEW_LEASE, key=key, holder=holder, expires_at=expires_at))

    def release_lease(self, key: str, holder: str) -> None:
        self.run(q.RELEASE_LEASE, key=key, holder=holder)

    # ---- hooks ---------------------------------------------------------------------------------------

    def _write_batch(self, text: str, param: str, batch: list[Any]) -> None:
        """Write one batch; a backend may use a faster bulk path than ``UNWIND``."""
        self._rows(text, {param: batch})

    def _bulk_nodes(self, label: Label, frame: pd.DataFrame) -> None:
        """``UNWIND``/``CREATE`` here; a backend may bulk-load instead."""
        query = Query(f"create_{label.lower()}_nodes", q.create_nodes(label, list(frame.columns)))
        self.write_rows(query, frame.to_dict("records"))

    def _bulk_edges(self, rel: Rel, frame: pd.DataFrame) -> None:
        query = Query(f"create_{rel.lower()}_edges", q.create_edges(rel, list(frame.columns)))
        self.write_rows(query, frame.to_dict("records"))

    def _add_property_statement(self, label: Label, name: str) -> str | None:
        """The DDL that adds a declared property to an existing table; None where nodes are schemaless."""
        return None

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def _rollback(self) -> None: ...
