"""A resolve run's writes, planned in full before the first one and kept in the store until all are applied.

A run writes in many transactions (a million records do not fit in one), so a run killed half-way
would otherwise leave some records moved and the rest not, and lose for good the history of what it
had moved: the next run, seeing the moved records where they belong, would find nothing to record.
So a run first stores its :class:`RunPlan` (each table packed as Parquet in ``JournalChunk`` nodes, then
one ``ResolveJournal`` node in the transaction that marks it complete), then applies it step by step,
and deletes the journal in the transaction that records the run. Every step can be applied again
without harm, so the next resolve finds a pending journal, applies it from the start, and the result,
history included, is that of a run never interrupted. A journal left incomplete is discarded: nothing
of its run was applied.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass, field, fields

import pandas as pd

from graph.model import Label
from graph.schema import property_names
from graph.store import GraphStore

__all__ = ["RunPlan", "load_plan", "save_plan"]

_CHUNK_CHARS = 4 << 20  # base64 characters per chunk node
_TABLES = ("statuses", "profiles", "moves", "aliases", "rejected", "matches", "households", "events",
           "overrides", "part")  # fmt: skip


def _empty(*columns: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="str") for c in columns})


@dataclass
class RunPlan:
    """Every write of one resolve run. ``part``: the records resolved again (an incremental run), whose
    rejected and match links this run replaces; None: all of them (a full run)."""

    run_id: str
    updated_at: str
    statuses: pd.DataFrame = field(default_factory=lambda: _empty("key", "status"))
    profiles: pd.DataFrame = field(default_factory=lambda: _empty("id", "size", "updated_at"))
    moves: pd.DataFrame = field(default_factory=lambda: _empty("record", "profile_id"))
    #: moved records that had a profile before (only their old edge needs deleting); None: any of them may
    reassigned: list[str] | None = None
    removed: list[str] = field(default_factory=list)
    aliases: pd.DataFrame = field(default_factory=lambda: _empty("id", "target", "updated_at"))
    stale_aliases: list[str] = field(default_factory=list)
    rejected: pd.DataFrame = field(default_factory=lambda: _empty("key", "record", "identifier", "reason"))
    matches: pd.DataFrame = field(default_factory=lambda: _empty("key", "record_a", "record_b", "probability",
                                                                 "weight", "detail"))  # fmt: skip
    part: pd.DataFrame | None = None  # column ``record``
    households: pd.DataFrame = field(default_factory=lambda: _empty("profile_id", "household_id"))
    events: pd.DataFrame = field(default_factory=lambda: _empty(*property_names(Label.PROFILE_EVENT)))
    overrides: pd.DataFrame = field(default_factory=lambda: _empty(*property_names(Label.OVERRIDE)))
    model: dict[str, str] | None = None  # ``settings, model`` (JSON) to save as the current match model
    summary: str = "{}"  # the run's summary (JSON), saved with the run


def save_plan(store: GraphStore, plan: RunPlan, created_at: str) -> None:
    """Store ``plan`` as the pending journal; the last transaction also stores the plan's overrides, so a
    user's merge or split is either wholly pending or not stored at all."""
    store.write(lambda tx: tx.delete_journal(), "discard an incomplete journal")
    chunks = _chunks(plan)
    for start in range(0, len(chunks), 8):
        part = chunks.iloc[start : start + 8]
        store.write(lambda tx, part=part: tx.create_nodes(Label.JOURNAL_CHUNK, part), "write the journal")

    def complete(tx: object) -> None:
        tx.add_overrides(plan.overrides)  # type: ignore[attr-defined]
        tx.start_journal(plan.run_id, _meta(plan), created_at)  # type: ignore[attr-defined]

    store.write(complete, "complete the journal")


def load_plan(store: GraphStore) -> RunPlan | None:
    """The pending run's plan, or None. A journal whose run never completed writing it is dropped here."""
    pending = store.pending_journal()
    if pending is None:
        return None
    meta = json.loads(pending["meta"])
    tables: dict[str, list[str]] = {}
    for row in store.journal_chunks(pending["run_id"]):
        tables.setdefault(row["part"], []).append(row["data"])
    frames = {name: pd.read_parquet(io.BytesIO(base64.b64decode("".join(parts)))) for name, parts in tables.items()}
    values = {f.name: frames[f.name] for f in fields(RunPlan) if f.name in frames}
    plan = RunPlan(**meta, **values)
    if "part" not in frames:
        plan.part = None
    return plan


def _meta(plan: RunPlan) -> str:
    return json.dumps({"run_id": plan.run_id, "updated_at": plan.updated_at, "reassigned": plan.reassigned,
                       "removed": plan.removed, "stale_aliases": plan.stale_aliases, "model": plan.model,
                       "summary": plan.summary})  # fmt: skip


def _chunks(plan: RunPlan) -> pd.DataFrame:
    rows = []
    for name in _TABLES:
        frame = getattr(plan, name)
        if frame is None:
            continue
        buffer = io.BytesIO()
        frame.reset_index(drop=True).to_parquet(buffer, index=False, compression="zstd")
        text = base64.b64encode(buffer.getvalue()).decode("ascii")
        for n, start in enumerate(range(0, max(len(text), 1), _CHUNK_CHARS)):
            rows.append({"key": f"{plan.run_id}|{name}|{n}", "run_id": plan.run_id, "part": name, "chunk": n,
                         "data": text[start : start + _CHUNK_CHARS]})  # fmt: skip
    return pd.DataFrame(rows, columns=property_names(Label.JOURNAL_CHUNK))
