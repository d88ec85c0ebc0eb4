"""One resolve run: read the graph, apply the guards, take components, keep ids stable, write the diff."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from graph import cypher
from graph.model import IdentifierStatus, Label
from graph.store import GraphStore
from graph.writes import AssignmentChange, apply_assignment, in_batches
from resolve.changes import Attribution, ChangePreview, preview_changes, profile_events
from resolve.components import record_components
from resolve.conflicts import conflicting_pairs, keep_apart
from resolve.fellegi_sunter import MatchModel
from resolve.guards import identifier_status
from resolve.households import households
from resolve.incremental import changed_records, clear_changed, load_model, plan, save_model
from resolve.limits import Rejection, enforce_limits
from resolve.matching import Candidates, block, find_matches, match_links
from resolve.overrides import active_overrides
from resolve.profile_ids import assign_profile_ids, successor_ids
from resolve.settings import ResolveSettings

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

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def resolve(
    store: GraphStore,
    settings: ResolveSettings,
    on_progress: ProgressFn | None = None,
    dry_run: bool = False,
    attribution: Attribution | None = None,
    incremental: bool = False,
    model: MatchModel | None = None,
    labels: pd.DataFrame | None = None,
) -> ResolveSummary:
    """Resolve every record of the store into profiles; only what changed is written, and nothing at
    all with ``dry_run`` (the summary's ``changes`` then say what a real run would do). User overrides
    are honoured; ``attribution`` puts a user's reason and name on the history of the profiles it names.

    ``incremental``: resolve again only what new records can change, with the saved match model (see
    :mod:`resolve.incremental`), falling back to a full run when that is not possible. ``model``: score
    with this model instead of estimating one. ``labels``: labelled pairs (``record_a, record_b, match``, see
    :func:`resolve.labels.check_labels`) that refine the estimated model; they make the run a full one."""
    started = time.perf_counter()

    def step(stage: str, done: int, total: int) -> None:
        logger.info("resolve: %s", stage)
        if on_progress:
            on_progress("resolve", done, total)

    step("read graph", 0, 5)
    records = store.record_keys()["record"]
    links = store.record_links()
    previous = store.assignments().set_index("record")["profile_id"]
    # in record order, whatever order the store returns: EM samples pairs of rows by position
    attributes = store.record_attributes().sort_values("record", ignore_index=True)
    step("guards", 1, 5)
    status = identifier_status(links, settings)
    status_changed = _status_changes(store, status)
    active = links[links["identifier"].map(status).to_numpy() == IdentifierStatus.ACTIVE.value]
    overrides = active_overrides(store.overrides())
    candidates = block(attributes, settings.matching) if settings.matching.enabled and len(attributes) else None
    incremental = incremental and labels is None  # labels refine a model this run estimates
    model, focus = _scope(store, settings, model, incremental, records, links, previous, status_changed,
                          pd.concat([active, overrides.links(records)], ignore_index=True), candidates)  # fmt: skip
    if not dry_run:
        _write_status_changes(store, status, status_changed)
    step("match", 2, 5)
    part = records[focus] if focus is not None else records
    used = active[active["record"].isin(part)] if focus is not None else active
    in_part = candidates.fields.index.isin(part) if candidates is not None and focus is not None else None
    matches = find_matches(attributes, record_components(part, used), settings.matching, model=model,
                           focus=in_part, candidates=candidates, labels=labels)  # fmt: skip
    used = pd.concat([used, match_links(matches.edges, settings.matching), overrides.links(part)], ignore_index=True)
    step("components", 3, 5)
    components, rejected = enforce_limits(part, used, record_components(part, used), settings)
    components, rejected = overrides.enforce(part, used, components, rejected, settings)
    if candidates is not None and matches.model is not None and settings.matching.checks_conflicts:
        conflicts = conflicting_pairs(used, candidates, matches.model, settings, components)
        components, apart = keep_apart(part, used, components, conflicts, settings)
        rejected += apart
    profile_of = assign_profile_ids(components, previous)
    if focus is not None:  # everything outside the focus keeps its profile
        profile_of = pd.concat([previous[~previous.index.isin(part)], profile_of]).reindex(records)
    step("compare" if dry_run else "write profiles", 4, 5)
    change = _diff(profile_of, previous)
    homes = households(links, status, profile_of, settings)
    if not dry_run:
        apply_assignment(store, change)
        _write_rejected(store, rejected, part if focus is not None else None)
        _write_matches(store, matches.edges, part if focus is not None else None)
        _write_households(store, homes)
        clear_changed(store)
        if focus is None and matches.model is not None:
            save_model(store, settings, matches.model)
    summary = _summarise(profile_of, previous, change, links, used, status)
    summary.incremental, summary.resolved_records = focus is not None, len(part)
    if not dry_run:
        events = profile_events(
            profile_of, previous, change.aliases, summary.run_id, "resolver", change.updated_at, attribution
        )
        for batch in in_batches(events, store.transaction_rows):
            with store.transaction():
                store.create_nodes(Label.PROFILE_EVENT, batch)
    summary.changes, summary.dry_run = preview_changes(profile_of, previous), dry_run
    summary.rejected_links, summary.households = len(rejected), int(homes.nunique())
    summary.rejected_examples = [vars(r) for r in rejected[:10]]
    summary.matching, summary.overrides = matches.summary(), overrides.summary()
    summary.seconds = round(time.perf_counter() - started, 3)
    summary.settings = json.loads(settings.to_json())
    if not dry_run:
        # microseconds: the latest run decides the settings explain uses and the embeddings' graph version,
        # so two runs within one second must still sort
        finished = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        saved = {"id": summary.run_id, "finished_at": finished, "summary": summary.to_json()}
        store.run("save_run", cypher.SAVE_RUN, saved)
    step("done", 5, 5)
    logger.info("resolve: %s", summary)
    return summary


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
) -> tuple[MatchModel | None, np.ndarray | None]:
    """The model to score with and, for an incremental run, the records to resolve again (None: all)."""
    if not incremental or previous.empty:
        return model, None
    saved = model or load_model(store, settings)
    if (settings.matching.enabled and saved is None) or changed_records(store):
        logger.info("resolve: a full run is needed (no model for these settings, or changed records)")
        return model, None
    old = store.frame("all_match_links", cypher.ALL_MATCH_LINKS)
    return saved, plan(records, links, influence, previous, status_changed, old, candidates, settings).focus


def _status_changes(store: GraphStore, status: pd.Series) -> pd.Index:
    """Identifiers whose status differs from the one the last run stored."""
    before = pd.Series({row["key"]: row["status"] for row in store.run("flagged", cypher.FLAGGED_IDENTIFIERS)},
                       dtype=object)  # fmt: skip
    now = status[status != IdentifierStatus.ACTIVE.value]
    keys = before.index.union(now.index)
    return keys[before.reindex(keys).to_numpy() != now.reindex(keys).to_numpy()]


def _write_status_changes(store: GraphStore, status: pd.Series, changed: pd.Index) -> None:
    """Store the new status of the identifiers whose status changed (found by :func:`_status_changes`)."""
    now = status.reindex(changed).fillna(IdentifierStatus.ACTIVE.value)
    rows = [{"key": k, "status": s} for k, s in now.items()]
    store.write_rows("set_identifier_status", cypher.SET_IDENTIFIER_STATUS, rows)


def _write_rejected(store: GraphStore, rejected: list[Rejection], part: pd.Series | None) -> None:
    """The run's rejected links replace the last run's, of the records resolved (``cdp explain`` reads them)."""
    frame = pd.DataFrame([vars(r) for r in rejected], columns=["record", "identifier", "reason"], dtype="str")
    with store.transaction():
        if part is None:
            store.run("delete_rejected_links", cypher.DELETE_REJECTED_LINKS)
        else:
            store.write_rows("delete_rejected_links_of", cypher.DELETE_REJECTED_LINKS_OF, part.tolist(), "records")
        store.create_nodes(Label.REJECTED_LINK, frame.assign(key=frame["record"] + "|" + frame["identifier"]))


def _write_matches(store: GraphStore, edges: pd.DataFrame, part: pd.Series | None) -> None:
    """The run's match links replace the last run's, of the records resolved (``cdp explain`` shows
    their evidence)."""
    frame = edges.assign(key=edges["record_a"] + "|" + edges["record_b"])
    with store.transaction():
        if part is None:
            store.run("delete_match_links", cypher.DELETE_MATCH_LINKS)
        else:
            store.write_rows("delete_match_links_of", cypher.DELETE_MATCH_LINKS_OF, part.tolist(), "records")
    for batch in in_batches(frame, store.transaction_rows):
        with store.transaction():
            store.create_nodes(Label.MATCH_LINK, batch)


def _write_households(store: GraphStore, homes: pd.Series) -> None:
    frame = pd.DataFrame({"profile_id": homes.index.astype(str), "household_id": homes.to_numpy()}, dtype="str")
    with store.transaction():
        store.run("delete_households", cypher.DELETE_HOUSEHOLDS)
        store.create_nodes(Label.HOUSEHOLD_MEMBER, frame)


def _diff(profile_of: pd.Series, previous: pd.Series) -> AssignmentChange:
    before = previous.reindex(profile_of.index)
    moved = profile_of[before != profile_of]
    sizes = profile_of.value_counts()
    touched = set(moved.tolist()) | set(before[before != profile_of].dropna().tolist())
    kept = set(sizes.index)
    had_profile = before[before != profile_of].dropna()
    removed = sorted(set(previous) - kept)
    return AssignmentChange(
        moves=dict(zip(moved.index.tolist(), moved.tolist(), strict=True)),
        reassigned=set(had_profile.index.tolist()),
        sizes=dict(zip(*_sizes_of(sizes, touched & kept), strict=True)),
        removed=removed,
        updated_at=_now(),
        aliases=successor_ids(previous, profile_of, removed),
    )


def _sizes_of(sizes: pd.Series, profiles: set[str]) -> tuple[list[str], list[int]]:
    picked = sizes.reindex(list(profiles))
    return picked.index.tolist(), picked.astype(int).tolist()


def _summarise(
    profile_of: pd.Series,
    previous: pd.Series,
    change: AssignmentChange,
    links: pd.DataFrame,
    used: pd.DataFrame,
    status: pd.Series,
) -> ResolveSummary:
    sizes = profile_of.value_counts()
    degree = links.groupby("identifier")["record"].nunique()
    ignored = status[status != IdentifierStatus.ACTIVE.value]
    shared = degree[ignored.index[ignored == IdentifierStatus.SHARED.value]].sort_values(ascending=False)
    return ResolveSummary(
        run_id=uuid.uuid4().hex[:12],
        records=len(profile_of),
        identifiers=len(status),
        links_used=len(used),
        profiles=len(sizes),
        singletons=int((sizes == 1).sum()),
        largest_profile=int(sizes.max()) if len(sizes) else 0,
        new_profiles=len(set(sizes.index) - set(previous)),
        removed_profiles=len(change.removed),
        moved_records=len(change.moves),
        ignored_identifiers={str(k): int(v) for k, v in ignored.value_counts().items()},
        top_shared=[{"identifier": k, "records": int(v)} for k, v in shared.head(10).items()],
    )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
