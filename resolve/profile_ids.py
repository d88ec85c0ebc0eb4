"""Stable profile ids: a profile keeps its id across runs while its membership persists."""

from __future__ import annotations

import hashlib

import pandas as pd


def assign_profile_ids(components: pd.Series, previous: pd.Series) -> pd.Series:
    """Map each record to a profile id.

    ``components``: component label per record key. ``previous``: last run's profile id per record key.
    Each previous id goes to the component holding most of its records (ties: larger component, then
    the id itself, so the result is deterministic); a component left without one gets a new id derived
    from its smallest record key. O(n log n).

    >>> comps = pd.Series([0, 0, 1], index=["a", "b", "c"])
    >>> assign_profile_ids(comps, pd.Series({"a": "p_old", "b": "p_old", "c": "p_old"})).tolist()[:2]
    ['p_old', 'p_old']
    """
    frame = pd.DataFrame({"component": components})
    frame.index.name = "record"
    frame["previous"] = previous.reindex(frame.index)
    sizes = frame.groupby("component").size()
    votes = frame.dropna(subset=["previous"]).groupby(["component", "previous"]).size().rename("votes")
    votes = votes.reset_index()
    votes["size"] = votes["component"].map(sizes)
    votes = votes.sort_values(["votes", "size", "previous"], ascending=[False, False, True])
    chosen: dict[int, str] = {}
    taken: set[str] = set()
    for component, old_id in zip(votes["component"].tolist(), votes["previous"].tolist(), strict=True):
        if component not in chosen and old_id not in taken:
            chosen[component] = old_id
            taken.add(old_id)
    first_keys = frame.reset_index().groupby("component")["record"].min()
    for component, key in zip(first_keys.index.tolist(), first_keys.tolist(), strict=True):
        if component not in chosen:
            chosen[component] = _new_id(key, taken)
            taken.add(chosen[component])
    return frame["component"].map(chosen).rename("profile_id")


def successor_ids(previous: pd.Series, profile_of: pd.Series, removed: list[str]) -> dict[str, str]:
    """For each removed profile id, the new profile holding most of its former records (ties: the
    smaller id), so the old id can keep resolving. Ids whose records all left the graph get none. O(n).

    >>> before = pd.Series({"a": "p1", "b": "p2", "c": "p2"})
    >>> successor_ids(before, pd.Series({"a": "p1", "b": "p1", "c": "p1"}), ["p2"])
    {'p2': 'p1'}
    """
    frame = pd.DataFrame({"old": previous, "new": profile_of.reindex(previous.index)}).dropna()
    frame = frame[frame["old"].isin(removed)]
    votes = frame.groupby(["old", "new"]).size().rename("n").reset_index()
    votes = votes.sort_values(["n", "new"], ascending=[False, True]).drop_duplicates("old")
    return dict(zip(votes["old"], votes["new"], strict=True))


def _new_id(seed_key: str, taken: set[str]) -> str:
    salt = 0
    while True:
        digest = hashlib.blake2b(f"{seed_key}#{salt}".encode(), digest_size=8).hexdigest()
        candidate = f"p_{digest}"
        if candidate not in taken:
            return candidate
        salt += 1
