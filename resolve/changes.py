"""What a resolve run changes, in the words an analyst uses: merges, splits and moved records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

EXAMPLES = 5


@dataclass
class ChangePreview:
    """Merges (a new profile taking records from several old ones), splits (an old profile's records
    going to several new ones) and moved records, each counted, with the largest as examples."""

    merges: int = 0
    splits: int = 0
    moved_records: int = 0
    merge_examples: list[dict[str, Any]] = field(default_factory=list)  # profile, from, records
    split_examples: list[dict[str, Any]] = field(default_factory=list)  # profile, into, records
    move_examples: list[dict[str, Any]] = field(default_factory=list)  # record, from, to


def preview_changes(profile_of: pd.Series, previous: pd.Series) -> ChangePreview:
    """Compare ``record -> profile`` after a run with the assignment before it. O(n).

    >>> before = pd.Series({"a": "p1", "b": "p2", "c": "p2"})
    >>> after = pd.Series({"a": "p1", "b": "p1", "c": "p3"})
    >>> p = preview_changes(after, before); (p.merges, p.splits, p.moved_records)
    (1, 1, 2)
    >>> p.move_examples[0]
    {'record': 'b', 'from': 'p2', 'to': 'p1'}
    """
    frame = pd.DataFrame({"new": profile_of, "old": previous.reindex(profile_of.index)})
    pairs = frame.dropna(subset=["old"]).drop_duplicates()  # one row per (new profile, old profile)
    sources = pairs.groupby("new").size()
    merged = sources.index[sources > 1]
    targets = pairs.groupby("old").size()
    split = targets.index[targets > 1]
    moved = frame[frame["old"] != frame["new"]]
    sizes = profile_of.value_counts()
    old_sizes = previous.value_counts()
    return ChangePreview(
        merges=len(merged),
        splits=len(split),
        moved_records=len(moved),
        merge_examples=[
            {"profile": p, "from": sorted(map(str, pairs.loc[pairs["new"] == p, "old"])), "records": int(sizes[p])}
            for p in sizes.reindex(merged).sort_values(ascending=False).index[:EXAMPLES]
        ],
        split_examples=[
            {"profile": p, "into": sorted(map(str, pairs.loc[pairs["old"] == p, "new"])), "records": int(old_sizes[p])}
            for p in old_sizes.reindex(split).sort_values(ascending=False).index[:EXAMPLES]
        ],
        move_examples=[
            {"record": str(r), "from": None if pd.isna(o) else str(o), "to": str(n)}
            for r, n, o in moved.sort_index().head(EXAMPLES).itertuples()  # columns: new, then old
        ],
    )


EVENT_COLUMNS = ["key", "profile_id", "kind", "detail", "reason", "actor", "at"]


@dataclass(frozen=True)
class Attribution:
    """Who asked for a run and why (a user's merge or split). Their words go on the history entries of
    the profiles holding ``records`` before or after the run; the entries of other profiles the same run
    changed (records ingested since the last run) keep the resolver's."""

    reason: str
    actor: str
    records: frozenset[str]

    def apply(self, events: pd.DataFrame, profile_of: pd.Series, previous: pd.Series) -> pd.DataFrame:
        keys = list(self.records)
        named = set(profile_of.reindex(keys).dropna()) | set(previous.reindex(keys).dropna())
        asked = events["profile_id"].isin(named)
        return events.assign(
            reason=events["reason"].where(~asked, self.reason), actor=events["actor"].where(~asked, self.actor)
        )


def profile_events(
    profile_of: pd.Series,
    previous: pd.Series,
    aliases: dict[str, str],
    run_id: str,
    actor: str,
    at: str,
    attribution: Attribution | None = None,
) -> pd.DataFrame:
    """A profile's history entries for one run: ``created`` (a new id), ``merged`` (it took records of
    other profiles; detail: their ids), ``split`` (its records went to several profiles; detail: their
    ids) and ``merged_into`` (an id that disappeared; detail: the profile that took its records). O(n).
    With ``attribution``, the entries of the profiles it names carry its reason and actor instead.

    >>> before = pd.Series({"a": "p1", "b": "p2", "c": "p2"})
    >>> events = profile_events(pd.Series({"a": "p1", "b": "p1", "c": "p3"}), before, {}, "r1", "resolver", "t")
    >>> sorted(zip(events["profile_id"], events["kind"], events["detail"]))
    [('p1', 'merged', 'p2'), ('p2', 'split', 'p1 p3'), ('p3', 'created', '1 records')]
    """
    frame = pd.DataFrame({"new": profile_of, "old": previous.reindex(profile_of.index)})
    pairs = frame.dropna(subset=["old"]).drop_duplicates()
    sizes = profile_of.value_counts()
    created = sizes.index.difference(pd.Index(previous.unique()))
    fresh = pd.DataFrame(
        {"profile_id": created, "kind": "created", "detail": sizes.loc[created].astype(str) + " records"}
    )
    rows: list[tuple[str, str, str]] = []
    others = pairs[pairs["old"] != pairs["new"]]
    for profile, group in others.groupby("new"):
        if profile not in created:
            rows.append((profile, "merged", " ".join(sorted(map(str, group["old"])))))
    targets = pairs.groupby("old")["new"].nunique()
    for profile in targets.index[targets > 1]:
        rows.append((profile, "split", " ".join(sorted(map(str, pairs.loc[pairs["old"] == profile, "new"])))))
    rows += [(old, "merged_into", new) for old, new in aliases.items()]
    events = pd.concat([fresh, pd.DataFrame(rows, columns=["profile_id", "kind", "detail"])], ignore_index=True)
    events = events.astype("str")
    key = events["profile_id"] + "|" + events["kind"] + "|" + run_id
    events = events.assign(key=key, reason=f"resolve run {run_id}", actor=actor, at=at)[EVENT_COLUMNS]
    return attribution.apply(events, profile_of, previous) if attribution else events
