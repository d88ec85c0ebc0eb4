"""Segment membership kept current: after every ingest, resolve, merge, split and erase, each segment's rule
is evaluated over the profiles as they now are, and each profile's entries and exits are stored with their
time (a ``SegmentState`` per profile: its segments, since when, and its history).

A profile merged away hands its memberships to the profile that took its records (the earlier "since" wins,
and no exit or entry is recorded for the move); a split's new profiles enter the segments they qualify for.
An erased customer's state is deleted with them. A segment deleted since is exited by its members.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from analytics.segment_eval import evaluate
from analytics.segment_rules import parse_rule
from api.segments import fresh_profile_table, segments
from graph.store import GraphStore

__all__ = ["MembershipChanges", "refresh_memberships", "segment_history"]


@dataclass
class MembershipChanges:
    entered: dict[str, int] = field(default_factory=dict)  # per segment
    exited: dict[str, int] = field(default_factory=dict)
    moved: int = 0  # profiles merged away whose memberships moved to their survivor
    members: dict[str, int] = field(default_factory=dict)  # per segment, after
    seconds: float = 0.0


def refresh_memberships(store: GraphStore, at: datetime | None = None) -> MembershipChanges:
    """Evaluate every segment now and store what changed. Cost: building the profile table, one pass per
    segment over it, and a read and a write of the changed profiles' states."""
    started = time.perf_counter()
    found = segments(store)
    stored = store.segment_states()
    changes = MembershipChanges()
    if not found and stored.empty:
        return changes
    moment = at or datetime.now(UTC)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    table = fresh_profile_table(store, moment)
    live = table.profiles.index
    now: dict[str, set[str]] = {}
    for segment in found:
        held = evaluate(parse_rule(segment.rule), table)
        ids = live[held.to_numpy()]
        changes.members[segment.name] = len(ids)
        for pid in ids:
            now.setdefault(str(pid), set()).add(segment.name)
    before: dict[str, dict[str, str]] = {str(p): json.loads(s or "{}") for p, s in stored.itertuples(index=False)}
    gone = [pid for pid in before if pid not in now and pid not in live]
    targets = store.alias_targets(gone) if gone else {}
    carried: dict[str, list[str]] = {}
    for pid in gone:
        survivor = targets.get(pid)
        if survivor is not None and survivor in live:  # merged: its memberships move, the earlier since wins
            mine = before.setdefault(survivor, {})
            for name, since in before[pid].items():
                mine[name] = min(since, mine.get(name, since))
            carried.setdefault(survivor, []).append(pid)
            changes.moved += 1
    touched = {pid for pid in set(before) | set(now) if pid in live}
    rows = []
    for pid in sorted(touched):
        old, new = before.get(pid, {}), now.get(pid, set())
        entered, exited = sorted(new - set(old)), sorted(set(old) - new)
        if not entered and not exited and pid not in carried:
            continue
        for name in entered:
            changes.entered[name] = changes.entered.get(name, 0) + 1
        for name in exited:
            changes.exited[name] = changes.exited.get(name, 0) + 1
        rows.append((pid, {n: old.get(n, stamp) for n in sorted(new)},
                     [{"segment": n, "change": "entered", "at": stamp} for n in entered]
                     + [{"segment": n, "change": "exited", "at": stamp} for n in exited]))  # fmt: skip
    _write(store, rows, gone, carried)
    changes.seconds = time.perf_counter() - started
    return changes


def _write(store: GraphStore, rows: list[tuple[str, dict[str, str], list[dict[str, str]]]], gone: list[str],
           carried: dict[str, list[str]]) -> None:  # fmt: skip
    if not rows and not gone:
        return
    ids = [pid for pid, _, _ in rows] + [p for merged in carried.values() for p in merged]
    history = {str(p): json.loads(h or "[]") for p, _, h in store.segment_states_of(ids).itertuples(index=False)}
    states = []
    for pid, current, added in rows:
        earlier = history.get(pid, []) + [e for merged in carried.get(pid, []) for e in history.get(merged, [])]
        states.append({"profile_id": pid, "segments": json.dumps(current),
                       "history": json.dumps(sorted(earlier, key=lambda e: e["at"]) + added)})  # fmt: skip
    frame = pd.DataFrame(states, columns=["profile_id", "segments", "history"])
    store.write(lambda tx: tx.replace_segment_states(frame, gone), "store segment memberships")


def segment_history(store: GraphStore, profile_id: str) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """A profile's segments now (name -> since) and its entries and exits, oldest first."""
    found = store.segment_states_of([profile_id])
    if found.empty:
        return {}, []
    row = found.iloc[0]
    return json.loads(row["segments"] or "{}"), json.loads(row["history"] or "[]")
