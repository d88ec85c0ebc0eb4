"""One resolve run: read the graph, apply the guards, take components, keep ids stable, write the diff."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import pandas as pd

from graph import cypher
from graph.model import IdentifierStatus, Label
from graph.store import GraphStore
from graph.writes import AssignmentChange, apply_assignment, in_batches
from resolve.changes import ChangePreview, preview_changes, profile_events
from resolve.components import record_components
from resolve.guards import identifier_status
from resolve.households import households
from resolve.limits import Rejection, enforce_limits
from resolve.matching import find_matches, match_links
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

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def resolve(
    store: GraphStore, settings: ResolveSettings, on_progress: ProgressFn | None = None, dry_run: bool = False
) -> ResolveSummary:
    """Resolve every record of the store into profiles; only what changed is written, and nothing at
    all with ``dry_run`` (the summary's ``changes`` then say what a real run would do)."""
    started = time.perf_counter()

    def step(stage: str, done: int, total: int) -> None:
        logger.info("resolve: %s", stage)
        if on_progress:
            on_progress("resolve", done, total)

    step("read graph", 0, 5)
    records = store.record_keys()["record"]
    links = store.record_links()
    previous = store.assignments().set_index("record")["profile_id"]
    step("guards", 1, 5)
    status = identifier_status(links, settings)
    if not dry_run:
        _write_status_changes(store, status)
    used = links[links["identifier"].map(status).to_numpy() == IdentifierStatus.ACTIVE.value]
    step("match", 2, 5)
    matches = find_matches(store.record_attributes(), record_components(records, used), settings.matching)
    used = pd.concat([used, match_links(matches.edges, settings.matching)], ignore_index=True)
    step("components", 3, 5)
    components, rejected = enforce_limits(records, used, record_components(records, used), settings)
    profile_of = assign_profile_ids(components, previous)
    step("compare" if dry_run else "write profiles", 4, 5)
    change = _diff(profile_of, previous)
    homes = households(links, status, profile_of, settings)
    if not dry_run:
        apply_assignment(store, change)
        _write_rejected(store, rejected)
        _write_matches(store, matches.edges)
        _write_households(store, homes)
    summary = _summarise(profile_of, previous, change, links, used, status)
    if not dry_run:
        events = profile_events(profile_of, previous, change.aliases, summary.run_id, "resolver", change.updated_at)
        for batch in in_batches(events, store.transaction_rows):
            with store.transaction():
                store.create_nodes(Label.PROFILE_EVENT, batch)
    summary.changes, summary.dry_run = preview_changes(profile_of, previous), dry_run
    summary.rejected_links, summary.households = len(rejected), int(homes.nunique())
    summary.rejected_examples = [vars(r) for r in rejected[:10]]
    summary.matching = matches.summary()
    summary.seconds = round(time.perf_counter() - started, 3)
    summary.settings = json.loads(settings.to_json())
    if not dry_run:
        saved = {"id": summary.run_id, "finished_at": _now(), "summary": summary.to_json()}
        store.run("save_run", cypher.SAVE_RUN, saved)
    step("done", 5, 5)
    logger.info("resolve: %s", summary)
    return summary


def _write_status_changes(store: GraphStore, status: pd.Series) -> None:
    before = {row["key"]: row["status"] for row in store.run("flagged", cypher.FLAGGED_IDENTIFIERS)}
    flagged = status[status != IdentifierStatus.ACTIVE.value]
    rows = [{"key": k, "status": s} for k, s in flagged.items() if before.get(k) != s]
    rows += [{"key": k, "status": IdentifierStatus.ACTIVE.value} for k in before if k not in flagged.index]
    store.write_rows("set_identifier_status", cypher.SET_IDENTIFIER_STATUS, rows)


def _write_rejected(store: GraphStore, rejected: list[Rejection]) -> None:
    """The run's rejected links replace the last run's (``cdp explain`` reads them)."""
    frame = pd.DataFrame([vars(r) for r in rejected], columns=["record", "identifier", "reason"], dtype="str")
    with store.transaction():
        store.run("delete_rejected_links", cypher.DELETE_REJECTED_LINKS)
        store.create_nodes(Label.REJECTED_LINK, frame.assign(key=frame["record"] + "|" + frame["identifier"]))


def _write_matches(store: GraphStore, edges: pd.DataFrame) -> None:
    """The run's match links replace the last run's (``cdp explain`` shows their evidence)."""
    frame = edges.assign(key=edges["record_a"] + "|" + edges["record_b"])
    with store.transaction():
        store.run("delete_match_links", cypher.DELETE_MATCH_LINKS)
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
        sizes={p: int(sizes[p]) for p in touched if p in kept},
        removed=removed,
        updated_at=_now(),
        aliases=successor_ids(previous, profile_of, removed),
    )


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
