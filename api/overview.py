"""The console's overview: the headline figures of the store and of each resolve run, as plain data.

Counts come from the store (``cdp stats`` reads the same, :func:`api.reports.collect_stats`); the history of
merges, splits and moved records comes from each resolve run's stored summary. They are computed once per
resolve run, right after it (:func:`refresh_overview`: ``cdp resolve``, merges, splits, erases), and stored
with the graph, so the page reads one small value however large the store; ``as_of`` says when. Records
ingested since are counted by the next resolve.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from graph.model import USABLE_STATUSES, Label
from graph.store import GraphStore

__all__ = ["Overview", "ResolveRunFigures", "overview"]


@dataclass(frozen=True)
class ResolveRunFigures:
    run_id: str
    finished_at: str
    profiles: int
    merges: int
    splits: int
    moved_records: int
    incremental: bool


@dataclass
class Overview:
    as_of: str  # when these figures were computed: after the resolve run ``run_id``
    run_id: str
    profiles: int
    records: int
    events: int
    identifiers: int
    ignored_identifiers: int  # placeholders, blocklisted and shared: resolution does not link on them
    households: int
    records_by_source: dict[str, int] = field(default_factory=dict)
    identifiers_by_status: dict[str, int] = field(default_factory=dict)
    profile_sizes: dict[int, int] = field(default_factory=dict)
    conflicting_profiles: dict[str, int] = field(default_factory=dict)
    runs: list[ResolveRunFigures] = field(default_factory=list)
    #: profiles by the set of sources their records come from ("crm+pos"), most first
    source_overlap: dict[str, int] = field(default_factory=dict)
    #: the last scoring run's pairs by match weight around the threshold (see resolve.matching._near_threshold)
    match_weights: dict[str, Any] = field(default_factory=dict)


SETTING = "overview"


def overview(store: GraphStore) -> Overview:
    """The figures stored after the last resolve run; computed now (and not stored: this is a read) when that
    run stored none."""
    stored = store.graph_settings().get(SETTING)
    latest = store.latest_run()
    if stored and latest and stored.get("run_id") == latest["id"]:
        return _from_json(stored)
    return compute_overview(store)


def refresh_overview(store: GraphStore) -> Overview:
    """Compute the figures, the review queue (:mod:`api.review`), the data quality page's shared identifier
    values (:mod:`api.data_quality`) and segment memberships (:mod:`api.memberships`), and store them with
    the graph, for the run that just finished."""
    from analytics.health import strong_values
    from api.data_quality import refresh_shared_values
    from api.memberships import refresh_memberships
    from api.review import refresh_review

    strong = strong_values(store)
    found = compute_overview(store, strong)
    text = json.dumps(asdict(found))
    store.write(lambda tx: tx.set_graph_setting(SETTING, text), "store the overview figures")
    refresh_review(store, strong)
    refresh_shared_values(store)
    refresh_memberships(store)  # segments' entries and exits (api.memberships): none to do without segments
    return found


def _from_json(data: dict[str, Any]) -> Overview:
    runs = [ResolveRunFigures(**r) for r in data.pop("runs", [])]
    sizes = {int(k): int(v) for k, v in data.pop("profile_sizes", {}).items()}
    return Overview(**data, profile_sizes=sizes, runs=runs)


def compute_overview(store: GraphStore, strong: pd.DataFrame | None = None) -> Overview:
    """The figures of the overview page, from the store now. O(records) (the health checks read every
    record's attributes, the source overlap every record's profile) plus one read of the runs."""
    from api.reports import collect_stats

    stats = collect_stats(store, strong)
    by_status: dict[str, int] = {}
    for statuses in stats["identifiers_by_type"].values():
        for status, n in statuses.items():
            by_status[status] = by_status.get(status, 0) + int(n)
    runs = sorted((_run(row) for row in store.all_nodes(Label.RESOLVE_RUN)), key=lambda r: r.finished_at)
    last = json.loads(store.latest_run()["summary"]) if runs else {}
    return Overview(
        as_of=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        run_id=str(store.latest_run()["id"]) if runs else "",
        profiles=int(stats["profiles"]),
        records=sum(stats["records_by_source"].values()),
        events=int(stats["events"]),
        identifiers=sum(by_status.values()),
        ignored_identifiers=sum(n for s, n in by_status.items() if s not in USABLE_STATUSES),
        households=int(last.get("households", 0)),
        records_by_source=dict(sorted(stats["records_by_source"].items())),
        identifiers_by_status=dict(sorted(by_status.items())),
        profile_sizes=stats["profile_sizes"],
        conflicting_profiles=dict(sorted(stats["conflicting_profiles"].items())),
        runs=[r for r in runs if r.finished_at],
        source_overlap=source_overlap(store.assignments()),
        match_weights=_latest_weights(store),
    )


def source_overlap(assignments: pd.DataFrame) -> dict[str, int]:
    """Profiles by the sources their records come from (``record, profile_id``; a record key is
    ``SOURCE:ID``), as ``"crm+pos": n``, most first. Vectorised: each source is a bit. O(records).

    >>> source_overlap(pd.DataFrame({"record": ["crm:1", "pos:1", "crm:2", "web:9"], "profile_id": ["p", "p", "q", "r"]}))
    {'crm': 1, 'crm+pos': 1, 'web': 1}
    """
    if assignments.empty:
        return {}
    source = assignments["record"].str.split(":", n=1).str[0]
    codes, names = pd.factorize(source, sort=True)
    if len(names) > 62:  # one bit per source in an int64; beyond that, only single sources are told apart
        return {str(k): int(v) for k, v in source.value_counts().items()}
    pairs = pd.DataFrame({"profile": assignments["profile_id"].to_numpy(), "bit": 1 << codes.astype("int64")})
    masks = pairs.drop_duplicates().groupby("profile")["bit"].sum().value_counts()
    named = {"+".join(n for i, n in enumerate(names) if mask >> i & 1): int(count) for mask, count in masks.items()}
    return dict(sorted(named.items(), key=lambda item: (-item[1], item[0])))


def _latest_weights(store: GraphStore) -> dict[str, Any]:
    """The match-weight histogram of the latest run that scored pairs (an incremental run may score none)."""
    runs = sorted(store.all_nodes(Label.RESOLVE_RUN), key=lambda r: str(r["finished_at"] or ""), reverse=True)
    for run in runs:
        weights = (json.loads(run["summary"] or "{}").get("matching") or {}).get("weights") or {}
        if weights and (sum(weights.get("counts", [])) or weights.get("below") or weights.get("above")):
            return dict(weights)
    return {}


def _run(row: dict[str, Any]) -> ResolveRunFigures:
    summary = json.loads(row["summary"] or "{}")
    changes = summary.get("changes") or {}
    return ResolveRunFigures(str(row["id"]), str(row["finished_at"] or ""), int(summary.get("profiles", 0)),
                             int(changes.get("merges", 0)), int(changes.get("splits", 0)),
                             int(summary.get("moved_records", 0)), bool(summary.get("incremental", False)))  # fmt: skip
