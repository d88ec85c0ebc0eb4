"""Segments: named rules over profiles (:mod:`analytics.segment_rules`), stored with the graph, previewed and
listed against the profile table (:mod:`analytics.profile_table`).

The profile table is built once per resolve run and kept in this process (:func:`profile_table`): a preview
or a member list is then a vectorised pass over it. Windows (``within: "90d"``) and traits count back from
when the table was built; it is rebuilt after :data:`TABLE_TTL_S` so "90 days" does not drift far.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from analytics.profile_table import ProfileTable, build_profile_table
from analytics.segment_eval import evaluate
from analytics.segment_rules import parse_rule
from graph.errors import InvalidRequest, NotFound
from graph.store import GraphStore

__all__ = [
    "Preview",
    "Segment",
    "create_segment",
    "fresh_profile_table",
    "preview",
    "profile_table",
    "segment_members",
    "segments",
]

#: a segment's name: what destinations and files are named after
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
#: seconds a built profile table serves before it is built again (its "now" moves on)
TABLE_TTL_S = 600.0
SAMPLE = 10


@dataclass(frozen=True)
class Segment:
    name: str
    rule: str  # as stored: the parsed rule written back (analytics.segment_rules.Node.text)
    created_by: str
    created_at: str


@dataclass(frozen=True)
class Preview:
    rule: str
    members: int
    profiles: int
    sample: list[str]  # a few members' profile ids, in id order
    as_of: str  # when the table it was evaluated on was built
    seconds: float  # the evaluation (the table's build not included when it was cached)


_cache: dict[int, tuple[str, float, ProfileTable]] = {}
_lock = threading.Lock()


def profile_table(store: GraphStore) -> ProfileTable:
    """The profile table of ``store``, built after its latest resolve run (kept per store in this process)."""
    run = store.latest_run()
    run_id = str(run["id"]) if run else ""
    with _lock:
        cached = _cache.get(id(store))
        if cached and cached[0] == run_id and time.monotonic() - cached[1] < TABLE_TTL_S:
            return cached[2]
        table = with_lookalikes(store, build_profile_table(store, datetime.now(UTC)))
        _cache[id(store)] = (run_id, time.monotonic(), table)
        return table


def fresh_profile_table(store: GraphStore, as_of: datetime) -> ProfileTable:
    """The profile table built now (after an ingest or a resolve), kept for the previews that follow."""
    run = store.latest_run()
    table = with_lookalikes(store, build_profile_table(store, as_of))
    with _lock:
        _cache[id(store)] = (str(run["id"]) if run else "", time.monotonic(), table)
    return table


def with_lookalikes(store: GraphStore, table: ProfileTable) -> ProfileTable:
    """``table`` able to answer ``lookalike(segment:, size:)``: the seed segment's members evaluated on the same
    table (a segment naming itself, directly or not, is an error), scored by the stored embeddings."""
    from analytics.embeddings import current_embeddings
    from analytics.lookalike import lookalike_scores
    from analytics.similarity import SimilarityIndex

    asked: list[str] = []

    def lookalike(name: str, size: int) -> set[str]:
        if name in asked:
            raise InvalidRequest(f"segment '{name}' is a lookalike of itself ({' -> '.join([*asked, name])})")
        asked.append(name)
        try:
            seeds = evaluate(parse_rule(segment_named(store, name).rule), table)
        finally:
            asked.pop()
        embeddings, _ = current_embeddings(store)
        found = lookalike_scores(
            SimilarityIndex(embeddings, "profile"), list(table.profiles.index[seeds.to_numpy()]), size
        )
        return set(found["profile_id"])

    table.lookalike = lookalike
    return table


def segments(store: GraphStore) -> list[Segment]:
    return [Segment(r["name"], r["rule"], r["created_by"], r["created_at"]) for r in store.segments()]


def segment_named(store: GraphStore, name: str) -> Segment:
    found = next((s for s in segments(store) if s.name == name), None)
    if found is None:
        raise NotFound(f"no segment '{name}' (cdp segment list shows them)")
    return found


def create_segment(store: GraphStore, name: str, rule: str, actor: str) -> Segment:
    """Store a new segment; the rule is parsed first (an error names its column) and stored normalised."""
    if not NAME.match(name):
        raise InvalidRequest(f"segment name '{name}': letters, digits, '_', '.' and '-', at most 64, not starting "
                             "with a sign")  # fmt: skip
    text = parse_rule(rule, where=f"segment '{name}'").text()
    if any(s.name == name for s in segments(store)):
        raise InvalidRequest(f"a segment '{name}' exists already")
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    store.write(lambda tx: tx.create_segment(name, text, actor, at), "create a segment")
    from api.memberships import refresh_memberships  # it reads segments: imported here, not at the top

    refresh_memberships(store)  # its members enter now
    return Segment(name, text, actor, at)


def preview(store: GraphStore, rule: str, sample: int = SAMPLE) -> Preview:
    """How many profiles ``rule`` holds now, and a few of them."""
    parsed = parse_rule(rule)
    table = profile_table(store)
    started = time.perf_counter()
    members = evaluate(parsed, table)
    held = members.index[members.to_numpy()]
    return Preview(parsed.text(), int(len(held)), len(members), [str(p) for p in held[:sample]],
                   table.as_of.strftime("%Y-%m-%dT%H:%M:%SZ"), time.perf_counter() - started)  # fmt: skip


def segment_members(store: GraphStore, name: str) -> pd.DataFrame:
    """``profile_id, size`` of the segment's members now, by profile id."""
    found = segment_named(store, name)
    table = profile_table(store)
    members = evaluate(parse_rule(found.rule), table)
    held = table.profiles.loc[members.to_numpy(), ["profile.size"]]
    return pd.DataFrame({"profile_id": held.index.astype(str), "size": held["profile.size"].to_numpy()})


def as_dict(segment: Segment) -> dict[str, Any]:
    return {"name": segment.name, "rule": segment.rule, "created_by": segment.created_by,
            "created_at": segment.created_at}  # fmt: skip
