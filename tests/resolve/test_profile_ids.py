"""Profile ids stay stable while membership persists."""

from __future__ import annotations

import random

import pandas as pd

from resolve.profile_ids import assign_profile_ids


def _comps(groups: list[list[str]]) -> pd.Series:
    return pd.Series({key: n for n, group in enumerate(groups) for key in group})


def test_first_run_ids_are_deterministic_and_distinct() -> None:
    comps = _comps([["a", "b"], ["c"], ["d", "e", "f"]])
    first = assign_profile_ids(comps, pd.Series(dtype=object))
    again = assign_profile_ids(comps.sample(frac=1, random_state=3), pd.Series(dtype=object))
    assert first.to_dict() == again.to_dict()
    assert first.nunique() == 3


def test_unchanged_membership_keeps_every_id() -> None:
    comps = _comps([["a", "b"], ["c"]])
    previous = pd.Series({"a": "p_1", "b": "p_1", "c": "p_2"})
    assert assign_profile_ids(comps, previous).to_dict() == previous.to_dict()


def test_a_new_record_joining_keeps_the_id() -> None:
    previous = pd.Series({"a": "p_1", "b": "p_1"})
    result = assign_profile_ids(_comps([["a", "b", "new"]]), previous)
    assert set(result) == {"p_1"}


def test_a_merge_keeps_the_larger_profiles_id_and_a_split_keeps_the_larger_part() -> None:
    previous = pd.Series({"a": "p_1", "b": "p_1", "c": "p_1", "d": "p_2"})
    merged = assign_profile_ids(_comps([["a", "b", "c", "d"]]), previous)
    assert set(merged) == {"p_1"}
    split = assign_profile_ids(_comps([["a", "b"], ["c"], ["d"]]), previous)
    assert split["a"] == split["b"] == "p_1"
    assert split["d"] == "p_2"
    assert split["c"] not in {"p_1", "p_2"}


def test_ids_are_unique_per_component_on_random_reshuffles() -> None:
    rng = random.Random(7)
    keys = [f"r{i}" for i in range(300)]
    previous = pd.Series({k: f"p_{rng.randrange(40)}" for k in keys})
    comps = pd.Series({k: rng.randrange(60) for k in keys})
    result = assign_profile_ids(comps, previous)
    by_component = result.groupby(comps).nunique()
    assert (by_component == 1).all()
    assert result.groupby(result).apply(lambda s: comps[s.index].nunique()).max() == 1
