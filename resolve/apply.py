"""Apply a resolve run's :class:`resolve.journal.RunPlan` to the store, step by step.

Each step is one or more transactions of at most :attr:`GraphStore.transaction_rows` rows, and each can
run again without harm: profiles are created or updated, a record's assignment edge is deleted before
its new one is created (a record is never in two profiles, nor in none, at any commit), derived tables
are deleted before they are written, and a history entry whose key exists is skipped. The last
transaction records the run and deletes the journal, so a run is either pending or done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from graph.store import GraphStore
from resolve.incremental import MODEL_ID
from resolve.journal import RunPlan

logger = logging.getLogger(__name__)

__all__ = ["apply_plan"]

#: (step, steps done, steps in all)
StepFn = Callable[[str, int, int], None]


def apply_plan(
    store: GraphStore,
    plan: RunPlan,
    resumed: bool = False,
    on_step: StepFn | None = None,
    final_summary: Callable[[], str] | None = None,
) -> str:
    """Write ``plan``; ``resumed``: a run interrupted before may have applied part of it;
    ``final_summary``: the run's summary (JSON) as it stands when the writes are done (default: the
    plan's). Returns the time the run finished (microseconds: two runs within a second must still sort)."""
    steps = _steps(store, plan, resumed)
    for n, (name, step) in enumerate(steps):
        if on_step:
            on_step(name, n, len(steps))
        logger.info("resolve: apply %s", name)
        step()
    finished = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def finish(tx: Any) -> None:
        tx.clear_changed_records()
        if plan.model is not None:
            tx.save_match_model(MODEL_ID, plan.model["settings"], plan.model["model"])
        tx.save_run(plan.run_id, finished, final_summary() if final_summary else plan.summary)
        tx.delete_journal()

    store.write(finish, "record the resolve run")
    if on_step:
        on_step("done", len(steps), len(steps))
    return finished


def _steps(store: GraphStore, plan: RunPlan, resumed: bool) -> list[tuple[str, Callable[[], None]]]:
    rows = store.transaction_rows
    part = None if plan.part is None else plan.part["record"].tolist()

    def each(name: str, frame: pd.DataFrame, work: Callable[[Any, pd.DataFrame], None]) -> None:
        for batch in _batches(frame, rows):
            store.write(lambda tx, batch=batch: work(tx, batch), name)

    reassigned = None if resumed or plan.reassigned is None else set(plan.reassigned)

    def move(tx: Any, batch: pd.DataFrame) -> None:
        keys = batch["record"] if reassigned is None else batch["record"][batch["record"].isin(reassigned)]
        tx.assign_records(batch, keys.tolist())

    return [
        ("identifier statuses", lambda: each("statuses", plan.statuses, lambda tx, b: tx.set_identifier_statuses(b))),
        ("profiles", lambda: each("profiles", plan.profiles, lambda tx, b: tx.upsert_profiles(b))),
        ("assignments", lambda: each("assignments", plan.moves, move)),
        ("removed profiles", lambda: each("removed profiles", pd.DataFrame({"id": plan.removed}),
                                          lambda tx, b: tx.delete_profiles(b["id"].tolist()))),  # fmt: skip
        ("aliases", lambda: _aliases(store, plan, rows)),
        ("rejected links", lambda: _replace(store, plan.rejected, rows, "rejected links",
                                            lambda tx: tx.delete_rejected_links(part), lambda tx, b: tx.add_rejected_links(b))),
        ("match links", lambda: _replace(store, plan.matches, rows, "match links",
                                         lambda tx: tx.delete_match_links(part), lambda tx, b: tx.add_match_links(b))),
        ("households", lambda: store.write(lambda tx: tx.replace_households(plan.households), "households")),
        ("history", lambda: each("history", plan.events, lambda tx, b: tx.add_profile_events(b))),
    ]


def _aliases(store: GraphStore, plan: RunPlan, rows: int) -> None:
    """Aliases of the removed ids; a created profile whose id was an alias stops being one."""
    for ids in _batches(pd.DataFrame({"id": plan.stale_aliases}), rows):
        store.write(lambda tx, ids=ids: tx.delete_aliases(ids["id"].tolist()), "aliases")
    for batch in _batches(plan.aliases, rows):
        store.write(lambda tx, batch=batch: tx.add_aliases(batch), "aliases")


def _replace(
    store: GraphStore,
    frame: pd.DataFrame,
    rows: int,
    what: str,
    clear: Callable[[Any], None],
    add: Callable[[Any, pd.DataFrame], None],
) -> None:
    """The run's rejected or match links replace the last run's, of the records resolved."""
    store.write(clear, what)
    for batch in _batches(frame, rows):
        store.write(lambda tx, batch=batch: add(tx, batch), what)


def _batches(frame: pd.DataFrame, size: int) -> Iterator[pd.DataFrame]:
    for start in range(0, len(frame), size):
        yield frame.iloc[start : start + size]
