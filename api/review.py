"""The review queue: record pairs the match model scored nearest its threshold (just linked and just not), and
profiles the label-free health checks flag (two national ids or birth dates), each with its evidence.

Computed once per resolve run with the overview (:func:`refresh_review`) and stored with the graph, so the
console reads one small value. An incremental run scores only the records it looks at, so its pairs are
added to those already queued. A reviewer's verdict on a pair (:func:`label_pair`) is stored as a
``PairLabel`` (the ``--labels`` columns; ``cdp review labels`` writes them as that CSV): every later resolve
links or keeps apart that pair as labelled, and a full run refines its match model with every verdict
(:func:`resolve.labels.reviewed_pairs`). Merging and splitting are the API's ``mergeProfiles`` and
``splitProfile``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from graph.errors import InvalidRequest, NotFound
from graph.store import GraphStore

__all__ = ["FlaggedProfile", "ReviewPair", "ReviewQueue", "label_pair", "refresh_review", "review_queue"]

SETTING = "review"
#: flagged profiles kept in the queue (the overview counts them all)
FLAGGED = 100


@dataclass
class ReviewPair:
    record_a: str
    record_b: str
    probability: float
    weight: float
    linked: bool  # whether the run linked them (at or above the threshold, not vetoed)
    evidence: list[dict[str, Any]]  # per comparison: comparison, level, weight
    profile_a: str = ""
    profile_b: str = ""
    attributes_a: dict[str, Any] = field(default_factory=dict)
    attributes_b: dict[str, Any] = field(default_factory=dict)
    verdict: bool | None = None  # a reviewer's label: match, not a match, or none yet


@dataclass
class FlaggedProfile:
    profile_id: str
    kind: str  # national_id, birth_date
    values: list[str]


@dataclass
class ReviewQueue:
    as_of: str
    run_id: str
    threshold: float
    pairs: list[ReviewPair]
    flagged: list[FlaggedProfile]


def refresh_review(store: GraphStore, strong: pd.DataFrame) -> dict[str, Any]:
    """Queue the pairs of the run that just finished (with those queued before, when it was incremental) and
    the flagged profiles (``strong``: ``profile_id, kind, value``, :func:`analytics.health.strong_values`);
    store them with the graph."""
    run = store.latest_run()
    summary = json.loads(run["summary"] or "{}") if run else {}
    matching = summary.get("matching") or {}
    pairs = list(matching.get("near_threshold") or [])
    before = store.graph_settings().get(SETTING) or {}
    if summary.get("incremental") and before.get("pairs"):
        seen = {(p["record_a"], p["record_b"]) for p in pairs}
        pairs += [p for p in before["pairs"] if (p["record_a"], p["record_b"]) not in seen]
    present = store.existing_records(sorted({k for p in pairs for k in (p["record_a"], p["record_b"])}))
    pairs = [p for p in pairs if p["record_a"] in present and p["record_b"] in present]
    threshold = float((summary.get("settings") or {}).get("matching", {}).get("threshold", 0.0) or 0.0)
    stored = {"as_of": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "run_id": str(run["id"]) if run else "",
              "threshold": threshold, "pairs": pairs, "flagged": _flagged(strong)}  # fmt: skip
    store.write(lambda tx: tx.set_graph_setting(SETTING, json.dumps(stored)), "store the review queue")
    return stored


def _flagged(strong: pd.DataFrame) -> list[dict[str, Any]]:
    """Profiles holding more than one distinct value of a kind a person has one of, most values first."""
    if strong.empty:
        return []
    distinct = strong.drop_duplicates()
    counts = distinct.groupby(["profile_id", "kind"]).size()
    counts = counts[counts > 1]  # vectorised: a million values, a few hundred profiles flagged
    if counts.empty:
        return []
    flagged = counts.reset_index(name="n").sort_values(["n", "profile_id", "kind"], ascending=[False, True, True])
    flagged = flagged.head(FLAGGED)
    keep = distinct.merge(flagged[["profile_id", "kind"]], on=["profile_id", "kind"]).sort_values("value")
    groups = keep.groupby(["profile_id", "kind"])["value"].agg(list)
    order = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    return [{"profile_id": str(pid), "kind": str(kind), "values": [str(v) for v in values]}
            for (pid, kind), values in order]  # fmt: skip


def review_queue(store: GraphStore, limit: int, include_labelled: bool = False) -> ReviewQueue:
    """The queue stored by the last resolve run: pairs nearest the threshold first (without a verdict yet,
    unless ``include_labelled``), at most ``limit`` pairs and ``limit`` flagged profiles, with each record's
    current profile and attributes, and flagged profiles still as flagged when stored."""
    stored = store.graph_settings().get(SETTING) or {}
    verdicts = store.pair_labels()
    verdict = dict(zip(verdicts["key"], verdicts["match"].astype(bool), strict=True))
    threshold = float(stored.get("threshold") or 0.0)
    pairs = []
    for p in stored.get("pairs", []):
        a, b = sorted((p["record_a"], p["record_b"]))
        found = verdict.get(f"{a}|{b}")
        if found is None or include_labelled:
            pairs.append(ReviewPair(p["record_a"], p["record_b"], float(p["probability"]), float(p["weight"]),
                                    bool(p["linked"]), json.loads(p["detail"]), verdict=found))  # fmt: skip
    at = _threshold_weight(stored)
    pairs = sorted(pairs, key=lambda p: (abs(p.weight - at), p.record_a, p.record_b))[:limit]
    keys = sorted({k for p in pairs for k in (p.record_a, p.record_b)})
    profile_of = store.profiles_of_records(keys)
    attributes = store.record_attributes_of(keys)
    attributes_of = {k: json.loads(v) for k, v in zip(attributes["record"], attributes["attributes"], strict=True)}
    for p in pairs:
        p.profile_a, p.profile_b = profile_of.get(p.record_a, ""), profile_of.get(p.record_b, "")
        p.attributes_a, p.attributes_b = attributes_of.get(p.record_a, {}), attributes_of.get(p.record_b, {})
    flagged = [FlaggedProfile(**f) for f in stored.get("flagged", [])][:limit]
    return ReviewQueue(str(stored.get("as_of", "")), str(stored.get("run_id", "")), threshold, pairs, flagged)


def _threshold_weight(stored: dict[str, Any]) -> float:
    t = float(stored.get("threshold") or 0.5)
    return math.log2(t / (1 - t))


def label_pair(store: GraphStore, record_a: str, record_b: str, match: bool, actor: str) -> tuple[str, str]:
    """Store a reviewer's verdict on two records (``SOURCE:RECORD_ID``), replacing an earlier one on the
    same pair; both must be in the store and differ. Returns the pair in stored order."""
    a, b = (record_a.strip(), record_b.strip())
    if not a or not b or a == b:
        raise InvalidRequest("a verdict needs two different records, SOURCE:RECORD_ID each")
    missing = sorted({a, b} - store.existing_records([a, b]))
    if missing:
        raise NotFound(f"no record {', '.join(repr(m) for m in missing)} in the store (records are SOURCE:RECORD_ID)")
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    store.write(lambda tx: tx.set_pair_label(a, b, match, actor, at), "store a review verdict")
    first, second = sorted((a, b))
    return first, second
