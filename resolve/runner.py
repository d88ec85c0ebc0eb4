"""One resolve run: read the graph, apply the guards, take components, keep ids stable, plan the writes,
journal the plan and apply it (see :mod:`resolve.journal`)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from graph.frames import among
from graph.lease import writer_lease
from graph.model import USABLE_STATUSES, IdentifierStatus
from graph.store import GraphStore
from resolve.apply import apply_plan, plan_rows
from resolve.changes import Attribution, ChangePreview, preview_changes, profile_events
from resolve.components import record_components
from resolve.conflicts import conflicting_pairs, keep_apart
from resolve.defaults import complete_settings, describe
from resolve.fellegi_sunter import MatchModel
from resolve.guards import identifier_status
from resolve.households import households
from resolve.incremental import changed_records, load_model, plan
from resolve.journal import RunPlan, load_plan, save_plan
from resolve.labels import reviewed_pairs, with_verdicts
from resolve.limits import Rejection, enforce_limits
from resolve.match_settings import MatchSettings
from resolve.matching import MATCH_PREFIX, Candidates, block, find_matches, match_links
from resolve.overrides import active_overrides
from resolve.profile_ids import assign_profile_ids, successor_ids
from resolve.settings import ResolveSettings, last_run_settings

logger = logging.getLogger(__name__)

#: ("resolve", steps done, steps in all)
ProgressFn = Callable[[str, int, int], None]


@dataclass
class ResolveSummary:
    run_id: str
    records: int
    identifiers: int
    links_used: int
    profiles: int
    singletons: int
    largest_profile: int
    new_profiles: int
    removed_profiles: int
    moved_records: int
    ignored_identifiers: dict[str, int]  # status -> count
    rejected_links: int = 0  # links cut because a profile went over a limit
    households: int = 0  # households of two or more profiles
    rejected_examples: list[dict[str, str]] = field(default_factory=list)
    top_shared: list[dict[str, object]] = field(default_factory=list)
    seconds: float = 0.0
    settings: dict[str, object] = field(default_factory=dict)
    changes: ChangePreview = field(default_factory=ChangePreview)
    dry_run: bool = False  # nothing was written
    matching: dict[str, object] = field(default_factory=dict)  # candidate pairs, links made, the estimated model
    overrides: dict[str, object] = field(default_factory=dict)  # user merges and splits applied, and superseded
    incremental: bool = False  # only the part new records could change was resolved again
    resolved_records: int = 0  # records resolved again (all of them in a full run)
    pending_run: str | None = None  # a dry run: an interrupted run whose writes the next real run finishes first

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    def stamp(self, started: float) -> ResolveSummary:
        """The seconds since ``started`` (``time.perf_counter``), recorded."""
        self.seconds = round(time.perf_counter() - started, 3)
        return self


def resolve(
    store: GraphStore,
    settings: ResolveSettings,
    on_progress: ProgressFn | None = None,
    dry_run: bool = False,
    attribution: Attribution | None = None,
    incremental: bool = False,
    model: MatchModel | None = None,
    labels: pd.DataFrame | None = None,
    new_overrides: pd.DataFrame | None = None,
    wait_s: float = 600.0,
) -> ResolveSummary:
    """Resolve every record of the store into profiles; only what changed is written, and nothing at
    all with ``dry_run`` (the summary's ``changes`` then say what a real run would do). User overrides
    are honoured; ``new_overrides`` (a user's merge or split) are stored by this run, with it or not at
    all; ``attribution`` puts a user's reason and name on the history of the profiles it names.

    ``incremental``: resolve again only what new records can change, with the saved match model (see
    :mod:`resolve.incremental`), falling back to a full run when that is not possible. ``model``: score
    with this model instead of estimating one. ``labels``: labelled pairs (``record_a, record_b, match``, see
    :func:`resolve.labels.check_labels`) that refine the estimated model; they make the run a full one.

    A run holds the store's writer lease (waiting up to ``wait_s`` seconds for another writer), first
    finishes a run that was interrupted (see :mod:`resolve.journal`), then plans every write and applies
    it: in one transaction when it fits, else journalled first and applied in many."""
    started = time.perf_counter()

    def step(stage: str, done: int, total: int) -> None:
        logger.info("resolve: %s", stage)
        if on_progress:
            on_progress("resolve", done, total)

    run = _Run(store, settings, attribution, incremental, model, labels, new_overrides)
    if dry_run:
        summary = run.summarise(run.plan(step), started, dry_run=True)
        pending = store.pending_journal()
        summary.pending_run = pending["run_id"] if pending else None
        return summary
    with writer_lease(store, "resolve", wait_s):
        resume_pending(store, on_progress)
        plan = run.plan(step)
        summary = run.summarise(plan, started, dry_run=False)
        step("write profiles", 4, 5)
        journalled = plan_rows(plan) > store.transaction_rows  # more than one transaction: journal it first
        if journalled:
            save_plan(store, plan, run.updated_at)
        apply_plan(store, plan, on_step=_apply_bar(on_progress), final_summary=lambda: summary.stamp(started).to_json(),
                   with_overrides=not journalled)  # fmt: skip
    step("done", 5, 5)
    logger.info("resolve: %s", summary)
    return summary


def chosen_settings(store: GraphStore, settings: ResolveSettings) -> list[str]:
    """What a full resolve of ``store`` would compare and block on under ``settings``, and why: YAML lines a
    settings file can start from (``cdp resolve --show-settings``). Reads the records; writes nothing."""
    links = store.record_links()
    status = identifier_status(links, settings)
    usable = links[links["identifier"].map(status).isin(USABLE_STATUSES).to_numpy()]
    attributes = store.record_attributes().sort_values("record", ignore_index=True)
    if not settings.matching.enabled:
        return ["matching:", "  enabled: false  # fuzzy matching is off: records link on identifiers only"]
    matching, choice = complete_settings(attributes, usable, settings.matching)
    return describe(matching, choice)


def resume_pending(store: GraphStore, on_progress: ProgressFn | None = None) -> bool:
    """Finish the writes of a run that was interrupted, if there is one; True when there was."""
    plan = load_plan(store)
    if plan is None:
        return False
    logger.warning("resolve: finishing the writes of run %s, which was interrupted", plan.run_id)
    apply_plan(store, plan, resumed=True, on_step=_apply_bar(on_progress, "finish last run"))
    return True


def _apply_bar(on_progress: ProgressFn | None, name: str = "write") -> Callable[[str, int, int], None] | None:
    if on_progress is None:
        return None
    return lambda _step, done, total: on_progress(name, done, total)


class _Run:
    """One resolve run's computation: everything it would write, from the graph as it stands."""

    def __init__(
        self,
        store: GraphStore,
        settings: ResolveSettings,
        attribution: Attribution | None,
        incremental: bool,
        model: MatchModel | None,
        labels: pd.DataFrame | None,
        new_overrides: pd.DataFrame | None,
    ) -> None:
        self.store, self.settings, self.attribution = store, settings, attribution
        self.incremental, self.model, self.labels = incremental and labels is None, model, labels
        self.new_overrides = new_overrides
        self.run_id, self.updated_at = uuid.uuid4().hex[:12], _now()

    def plan(self, step: ProgressFn) -> RunPlan:
        store, settings = self.store, self.settings
        step("read graph", 0, 5)
        records = store.record_keys()["record"]
        links = store.record_links()
        previous = store.assignments().set_index("record")["profile_id"]
        # in record order, whatever order the store returns: EM samples pairs of rows by position
        attributes = store.record_attributes().sort_values("record", ignore_index=True)
        step("guards", 1, 5)
        status = identifier_status(links, settings)
        status_changed = _status_changes(store, status)
        active = links[links["identifier"].map(status).isin(USABLE_STATUSES).to_numpy()]
        stored = store.overrides()
        added = self.new_overrides if self.new_overrides is not None else stored.iloc[:0]
        overrides = active_overrides(pd.concat([stored, added], ignore_index=True))
        candidates = None
        if settings.matching.enabled and len(attributes):
            candidates = block(attributes, self._matching(), active)
            # the run goes on with what was chosen from the data (saved with it; the model is keyed on the user's)
            settings = settings.model_copy(update={"matching": candidates.settings})
        self.run_settings = settings
        verdicts = reviewed_pairs(store, records)
        model, focus = _scope(store, settings, self.model, self.incremental, records, links, previous,
                              status_changed, pd.concat([active, overrides.links(records)], ignore_index=True),
                              candidates, key=self.settings, verdicts=verdicts)  # fmt: skip
        step("match", 2, 5)
        part = records[focus] if focus is not None else records
        used = active[among(active["record"], part)] if focus is not None else active
        in_part = among(candidates.fields.index, part) if candidates is not None and focus is not None else None
        # a run that estimates its model learns from the verdicts too (a file's labels make a run estimate one)
        learns = model is None and settings.matching.enabled
        refining = with_verdicts(self.labels, verdicts) if learns else self.labels
        matches = find_matches(attributes, record_components(part, used), settings.matching, model=model,
                               focus=in_part, candidates=candidates, labels=refining, verdicts=verdicts)  # fmt: skip
        used = pd.concat(
            [used, match_links(matches.edges, settings.matching), overrides.links(part)], ignore_index=True
        )
        step("components", 3, 5)
        components, rejected = enforce_limits(part, used, record_components(part, used), settings)
        components, rejected = overrides.enforce(part, used, components, rejected, settings)
        if candidates is not None and matches.model is not None and settings.matching.checks_conflicts:
            conflicts = conflicting_pairs(used, candidates, matches.model, settings, components)
            edges = matches.edges
            weak = edges[edges["weight"].astype(float) < settings.matching.weak_match_weight]
            weak_keys = frozenset(MATCH_PREFIX + weak["record_a"] + "|" + weak["record_b"])
            components, apart = keep_apart(part, used, components, conflicts, settings, weak_keys)
            rejected += apart
        profile_of = assign_profile_ids(components, previous)
        if focus is not None:  # everything outside the focus keeps its profile
            profile_of = pd.concat([previous[~among(previous.index, part)], profile_of]).reindex(records)
        self.outcome = _Outcome(profile_of, previous, links, used, status, rejected, matches, overrides,
                                households(links, status, profile_of, settings), focus is not None, len(part))  # fmt: skip
        plan = _plan(self, status, status_changed, part if focus is not None else None)
        plan.overrides = added
        if focus is None and matches.model is not None:
            plan.model = {"settings": self.settings.to_json(), "model": json.dumps(matches.model.to_dict())}
        return plan

    def _matching(self) -> MatchSettings:
        """The match settings to block with: the user's, or, for an incremental run of settings that leave
        choices to the data, what the last run chose (its saved model was estimated with those)."""
        matching = self.settings.matching
        if self.incremental and matching.automatic and load_model(self.store, self.settings) is not None:
            chosen = last_run_settings(self.store).matching
            if not chosen.automatic:
                return chosen
        return matching

    def summarise(self, plan: RunPlan, started: float, dry_run: bool) -> ResolveSummary:
        o = self.outcome
        summary = _summarise(self.run_id, o.profile_of, o.previous, plan, o.links, o.used, o.status)
        summary.incremental, summary.resolved_records = o.incremental, o.resolved
        summary.changes, summary.dry_run = preview_changes(o.profile_of, o.previous), dry_run
        summary.rejected_links, summary.households = len(o.rejected), int(o.homes.nunique())
        summary.rejected_examples = [vars(r) for r in o.rejected[:10]]
        summary.matching, summary.overrides = o.matches.summary(), o.overrides.summary()
        summary.settings = json.loads(self.run_settings.to_json())
        if o.matches.choice is not None:
            summary.matching["chosen"] = o.matches.choice.to_dict()
        plan.summary = summary.stamp(started).to_json()
        return summary


@dataclass
class _Outcome:
    profile_of: pd.Series
    previous: pd.Series
    links: pd.DataFrame
    used: pd.DataFrame
    status: pd.Series
    rejected: list[Rejection]
    matches: Any
    overrides: Any
    homes: pd.Series
    incremental: bool
    resolved: int


def _plan(run: _Run, status: pd.Series, status_changed: pd.Index, part: pd.Series | None) -> RunPlan:
    """The writes of a run: assignment changes, history, derived tables."""
    o = run.outcome
    profile_of, previous = o.profile_of, o.previous
    before = previous.reindex(profile_of.index)
    moved = profile_of[before != profile_of]
    sizes = profile_of.value_counts()
    # sets of ids built from lists: iterating an Arrow-backed column yields one Python scalar at a time
    live, held_before = set(sizes.index.tolist()), set(previous.tolist())
    touched = (set(moved.tolist()) | set(before[before != profile_of].dropna().tolist())) & live
    removed = sorted(held_before - live)
    aliases = successor_ids(previous, profile_of, removed)
    created = live - held_before
    stale = sorted(set(aliases) | created) if run.store.count_aliases() else []
    picked = sizes.reindex(sorted(touched))
    frame = pd.DataFrame({"id": picked.index.astype(str), "size": picked.astype("int64").to_numpy()})
    rejected = pd.DataFrame([vars(r) for r in o.rejected], columns=["record", "identifier", "reason"], dtype="str")
    events = profile_events(profile_of, previous, aliases, run.run_id, "resolver", run.updated_at, run.attribution)
    return RunPlan(
        run_id=run.run_id,
        updated_at=run.updated_at,
        statuses=_status_rows(status, status_changed),
        profiles=frame.assign(updated_at=run.updated_at),
        moves=pd.DataFrame({"record": moved.index.astype(str), "profile_id": moved.astype(str).to_numpy()}),
        reassigned=before[before != profile_of].dropna().index.astype(str).tolist(),
        removed=removed,
        aliases=pd.DataFrame({"id": list(aliases), "target": list(aliases.values())}, dtype="str").assign(
            updated_at=run.updated_at
        ),
        stale_aliases=stale,
        rejected=rejected.assign(key=rejected["record"] + "|" + rejected["identifier"]),
        matches=o.matches.edges.assign(key=o.matches.edges["record_a"] + "|" + o.matches.edges["record_b"]),
        part=None if part is None else pd.DataFrame({"record": part.astype(str).to_numpy()}),
        households=pd.DataFrame(
            {"profile_id": o.homes.index.astype(str), "household_id": o.homes.to_numpy()}, dtype="str"
        ),  # fmt: skip
        events=events,
    )


def _scope(
    store: GraphStore,
    settings: ResolveSettings,
    model: MatchModel | None,
    incremental: bool,
    records: pd.Series,
    links: pd.DataFrame,
    previous: pd.Series,
    status_changed: pd.Index,
    influence: pd.DataFrame,
    candidates: Candidates | None,
    key: ResolveSettings,
    verdicts: pd.DataFrame | None = None,
) -> tuple[MatchModel | None, np.ndarray | None]:
    """The model to score with and, for an incremental run, the records to resolve again (None: all).
    ``key``: the settings the user gave, which a saved model is looked up by."""
    if not incremental or previous.empty:
        return model, None
    saved = model or load_model(store, key)
    if (settings.matching.enabled and saved is None) or changed_records(store):
        logger.info("resolve: a full run is needed (no model for these settings, or changed records)")
        return model, None
    old = store.match_links()
    return saved, plan(records, links, influence, previous, status_changed, old, candidates, settings, verdicts).focus


def _status_changes(store: GraphStore, status: pd.Series) -> pd.Index:
    """Identifiers whose status differs from the one the last run stored."""
    before = pd.Series(store.flagged_identifiers(), dtype=object)
    now = status[status != IdentifierStatus.ACTIVE.value]
    keys = before.index.union(now.index)
    return keys[before.reindex(keys).to_numpy() != now.reindex(keys).to_numpy()]


def _status_rows(status: pd.Series, changed: pd.Index) -> pd.DataFrame:
    """``key, status``: the new status of the identifiers whose status changed."""
    now = status.reindex(changed).fillna(IdentifierStatus.ACTIVE.value)
    return pd.DataFrame({"key": now.index.astype(str), "status": now.astype(str).to_numpy()})


def _summarise(
    run_id: str,
    profile_of: pd.Series,
    previous: pd.Series,
    plan: RunPlan,
    links: pd.DataFrame,
    used: pd.DataFrame,
    status: pd.Series,
) -> ResolveSummary:
    sizes = profile_of.value_counts()
    degree = links.groupby("identifier")["record"].nunique()
    ignored = status[~status.isin(USABLE_STATUSES)]
    shared = degree[ignored.index[ignored == IdentifierStatus.SHARED.value]].sort_values(ascending=False)
    return ResolveSummary(
        run_id=run_id,
        records=len(profile_of),
        identifiers=len(status),
        links_used=len(used),
        profiles=len(sizes),
        singletons=int((sizes == 1).sum()),
        largest_profile=int(sizes.max()) if len(sizes) else 0,
        new_profiles=len(set(sizes.index.tolist()) - set(previous.tolist())),
        removed_profiles=len(plan.removed),
        moved_records=len(plan.moves),
        ignored_identifiers={str(k): int(v) for k, v in ignored.value_counts().items()},
        top_shared=[{"identifier": k, "records": int(v)} for k, v in shared.head(10).items()],
    )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
