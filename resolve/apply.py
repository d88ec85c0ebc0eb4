"""Apply a resolve run's :class:`resolve.journal.RunPlan` to the store.

The writes are units (a batch of profiles, of assignments, of history entries, ...) packed into
transactions of at most :attr:`GraphStore.transaction_rows` rows each, in order. A plan that fits in one
transaction is applied in one, atomically, with no journal; a larger one is journalled first (see
:mod:`resolve.journal`), because it spans many. Each unit can run again without harm: profiles are
created or updated, a record's assignment edge is deleted before its new one is created (so a record is
never in two profiles, nor in none, at any commit), derived tables are deleted before they are written,
and a history entry whose key exists is skipped. The last unit records the run and deletes the journal,
so a run is either pending or done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from graph.frames import among
from graph.store import GraphStore
from resolve.incremental import MODEL_ID
from resolve.journal import RunPlan

logger = logging.getLogger(__name__)

__all__ = ["apply_plan", "plan_rows"]

#: (stage, units done, units in all)
StepFn = Callable[[str, int, int], None]
#: a unit of writes: its name, how many rows it writes, and the work on a transaction
Unit = tuple[str, int, Callable[[Any], None]]


def plan_rows(plan: RunPlan) -> int:
    """How many rows the plan writes (what decides if it fits in one transaction)."""
    frames = (plan.statuses, plan.profiles, plan.moves, plan.aliases, plan.rejected, plan.matches, plan.households,
              plan.events, plan.overrides)  # fmt: skip
    return sum(map(len, frames)) + len(plan.removed) + len(plan.stale_aliases)


def apply_plan(
    store: GraphStore,
    plan: RunPlan,
    resumed: bool = False,
    on_step: StepFn | None = None,
    final_summary: Callable[[], str] | None = None,
    with_overrides: bool = False,
) -> str:
    """Write ``plan``. ``resumed``: an interrupted run may have applied part of it. ``with_overrides``:
    store the plan's overrides too (a journalled plan stored them with its journal). ``final_summary``:
    the run's summary (JSON) when the writes are done (default: the plan's). Returns the time the run
    finished (microseconds: two runs within a second must still sort)."""
    finished = {"at": ""}

    def finish(tx: Any) -> None:
        finished["at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        tx.clear_changed_records()
        if plan.model is not None:
            tx.save_match_model(MODEL_ID, plan.model["settings"], plan.model["model"])
        tx.save_run(plan.run_id, finished["at"], final_summary() if final_summary else plan.summary)
        tx.delete_journal()

    units = list(_units(store, plan, resumed, with_overrides)) + [("finish", 1, finish)]
    pending: list[Unit] = []
    for n, unit in enumerate(units):
        if pending and sum(rows for _, rows, _ in pending) + unit[1] > store.transaction_rows:
            _commit(store, pending)
            pending = []
            if on_step:
                on_step(unit[0], n, len(units))
        pending.append(unit)
    _commit(store, pending)
    if on_step:
        on_step("done", len(units), len(units))
    return finished["at"]


def _commit(store: GraphStore, units: list[Unit]) -> None:
    names = ", ".join(dict.fromkeys(name for name, _, _ in units))
    logger.info("resolve: writing %s", names)

    def work(tx: Any) -> None:
        for _, _, unit in units:
            unit(tx)

    store.write(work, f"resolve: {names}")


def _units(store: GraphStore, plan: RunPlan, resumed: bool, with_overrides: bool) -> Iterator[Unit]:
    size = store.transaction_rows
    part = None if plan.part is None else plan.part["record"].tolist()
    reassigned = None if resumed or plan.reassigned is None else set(plan.reassigned)

    def move(tx: Any, batch: pd.DataFrame) -> None:
        keys = batch["record"] if reassigned is None else batch["record"][among(batch["record"], reassigned)]
        tx.assign_records(batch, keys.tolist())

    if with_overrides and len(plan.overrides):
        yield "overrides", len(plan.overrides), lambda tx: tx.add_overrides(plan.overrides)
    yield from _each("identifier statuses", plan.statuses, size, lambda tx, b: tx.set_identifier_statuses(b))
    yield from _each("profiles", plan.profiles, size, lambda tx, b: tx.upsert_profiles(b))
    yield from _each("assignments", plan.moves, size, move)
    yield from _each("removed profiles", pd.DataFrame({"id": plan.removed}), size,
                     lambda tx, b: tx.delete_profiles(b["id"].tolist()))  # fmt: skip
    yield from _each("aliases", pd.DataFrame({"id": plan.stale_aliases}), size,
                     lambda tx, b: tx.delete_aliases(b["id"].tolist()))  # fmt: skip
    yield from _each("aliases", plan.aliases, size, lambda tx, b: tx.add_aliases(b))
    yield "rejected links", 1, lambda tx: tx.delete_rejected_links(part)
    yield from _each("rejected links", plan.rejected, size, lambda tx, b: tx.add_rejected_links(b))
    yield "match links", 1, lambda tx: tx.delete_match_links(part)
    yield from _each("match links", plan.matches, size, lambda tx, b: tx.add_match_links(b))
    yield "households", max(len(plan.households), 1), lambda tx: tx.replace_households(plan.households)
    removed = frozenset(plan.removed)
    yield from _each("history", plan.events, size, lambda tx, b: tx.add_profile_events(b, removed))


def _each(name: str, frame: pd.DataFrame, size: int, work: Callable[[Any, pd.DataFrame], None]) -> Iterator[Unit]:
    for start in range(0, len(frame), size):
        batch = frame.iloc[start : start + size]
        yield name, len(batch), lambda tx, batch=batch: work(tx, batch)
