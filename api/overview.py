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
    """Compute the figures and store them with the graph, for the run that just finished; the data quality
    page's shared identifier values too (:mod:`api.data_quality`)."""
    from api.data_quality import refresh_shared_values

    found = compute_overview(store)
    text = json.dumps(asdict(found))
    store.write(lambda tx: tx.set_graph_setting(SETTING, text), "store the overview figures")
    refresh_shared_values(store)
    return found


def _from_json(data: dict[str, Any]) -> Overview:
    runs = [ResolveRunFigures(**r) for r in data.pop("runs", [])]
    sizes = {int(k): int(v) for k, v in data.pop("profile_sizes", {}).items()}
    return Overview(**data, profile_sizes=sizes, runs=runs)


def compute_overview(store: GraphStore) -> Overview:
    """The figures of the overview page, from the store now. O(the store's counts) plus one read of the runs."""
    from api.reports import collect_stats

    stats = collect_stats(store)
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
    )


def _run(row: dict[str, Any]) -> ResolveRunFigures:
    summary = json.loads(row["summary"] or "{}")
    changes = summary.get("changes") or {}
    return ResolveRunFigures(str(row["id"]), str(row["finished_at"] or ""), int(summary.get("profiles", 0)),
                             int(changes.get("merges", 0)), int(changes.get("splits", 0)),
                             int(summary.get("moved_records", 0)), bool(summary.get("incremental", False)))  # fmt: skip
