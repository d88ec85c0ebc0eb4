"""Erase a customer (the right to be forgotten): every record of their profile, the identifiers only they
held, their events, match links, cuts, overrides, history and aliases leave the store; what remains is
resolved again with the saved match model (a full run: the other customers' profiles keep their ids and
are not re-estimated); their vector leaves the embeddings; and each erased record key and identifier is
stored as a salted hash (:mod:`ingest.suppression`) so a later ingest of the same files skips them.

An identifier another customer holds too (a household's email) stays, for them; it is not suppressed, or
that customer's rows would be skipped too. The erased record keys are, so the erased rows still are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from analytics.embedding_store import Embeddings, load_embeddings, save_embeddings
from api.overview import refresh_overview
from graph.errors import NotFound
from graph.lease import writer_lease
from graph.model import Label
from graph.store import GraphStore
from ingest.column_profile import without_records
from ingest.suppression import salt_of, suppression_hash
from resolve.changes import Attribution
from resolve.incremental import saved_model
from resolve.runner import resolve, resume_pending
from resolve.settings import last_run_settings

__all__ = ["ErasureReport", "erase_customer"]


@dataclass
class ErasureReport:
    """What an erase removed (counts, and the profile ids: never a value)."""

    profiles: list[str] = field(default_factory=list)
    records: int = 0
    identifiers: int = 0  # deleted: no one else held them
    identifiers_kept: int = 0  # held by other customers too (a household's), kept for them
    events: int = 0
    suppressed: int = 0  # suppression entries written (record keys and erased identifiers)
    embeddings: int = 0  # vectors removed from the stored embeddings
    moved_records: int = 0  # other customers' records the resolve after it moved (a household's cut undone)


def erase_customer(store: GraphStore, profile_ids: list[str], actor: str, wait_s: float = 600.0) -> ErasureReport:
    """Erase the customers of ``profile_ids`` (live ids; see :func:`api.service.CustomerService.erase`)."""
    report = ErasureReport(profiles=sorted(set(profile_ids)))
    with writer_lease(store, "erase", wait_s):
        resume_pending(store)  # an interrupted run finishes first: the members read next are its result
        members = sorted({row["record"] for row in store.profile_members(report.profiles)})
        if not members:
            raise NotFound(f"no records in profile {', '.join(report.profiles)}")
        held = store.record_identifiers_of(members)
        report.events = store.record_event_count(members)
        salt = salt_of(store, create=True) or ""
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        keys = [row["key"] for row in held]

        def work(tx) -> int:  # type: ignore[no-untyped-def]
            deleted = tx.erase_records(members, keys, report.profiles)
            _scrub_run_summaries(tx, [*members, *keys, *(k.split(":", 1)[1] for k in keys)])
            tx.forget_profiles_in_activation(report.profiles)  # journeys, syncs and sends name them no more
            for setting, text in without_records(tx.graph_settings(), set(members)).items():
                tx.set_graph_setting(setting, text)  # the data-quality examples taken from their rows
            exclusive = {row["key"] for row in held} - set(tx.existing_identifiers(keys))
            rows = [{"hash": suppression_hash(salt, k), "type": "record", "at": at} for k in members]
            rows += [{"hash": suppression_hash(salt, r["key"]), "type": r["type"], "at": at}
                     for r in held if r["key"] in exclusive]  # fmt: skip
            tx.add_suppressions(rows)
            report.suppressed = len(rows)
            return deleted

        report.identifiers = store.write(work, "erase a customer")
        report.records, report.identifiers_kept = len(members), len(held) - report.identifiers
        if store.latest_run() is not None:
            who = Attribution("erased a customer", actor, frozenset())
            summary = resolve(store, last_run_settings(store), attribution=who, model=saved_model(store), wait_s=wait_s)
            report.moved_records = summary.changes.moved_records
            refresh_overview(store)
    report.embeddings = _forget_vectors(store, report.profiles)
    return report


def _scrub_run_summaries(tx, terms: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Drop from every stored resolve summary the examples naming an erased record or identifier."""
    for run in tx.all_nodes(Label.RESOLVE_RUN):
        summary = json.loads(run["summary"] or "{}")
        cleaned = _without(summary, terms)
        if cleaned != summary:
            tx.save_run(run["id"], run["finished_at"], json.dumps(cleaned))


def _without(value: Any, terms: list[str]) -> Any:
    """``value`` (JSON) without the list items whose text holds any of ``terms``."""
    if isinstance(value, dict):
        return {k: _without(v, terms) for k, v in value.items()}
    if isinstance(value, list):
        return [_without(item, terms) for item in value if not any(t in json.dumps(item) for t in terms)]
    return value


def _forget_vectors(store: GraphStore, profile_ids: list[str]) -> int:
    """Remove the profiles' vectors from the stored embeddings (a new model id, so every cache reloads)."""
    embeddings = load_embeddings(store)
    if embeddings is None:
        return 0
    gone = {f"profile:{pid}" for pid in profile_ids}
    keep = [key not in gone for key in embeddings.keys]
    removed = len(keep) - sum(keep)
    if removed:
        rows = np.flatnonzero(keep)
        kept = Embeddings(embeddings.keys[rows], embeddings.inputs[rows], np.asarray(embeddings.outputs)[rows],
                          np.asarray(embeddings.counts)[rows], embeddings.settings, embeddings.version,
                          embeddings.summary)  # fmt: skip
        save_embeddings(store, kept)  # a new id: the API's model cache loads it at its next check
    return removed
