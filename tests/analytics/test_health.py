"""Label-free health on each real store: profiles holding two values of a one-per-person field."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from analytics.health import conflicting_profiles, strong_values
from graph.model import IdentifierLink, SourceRecord
from graph.store import GraphStore
from resolve.runner import resolve
from resolve.settings import ResolveSettings


def _rec(rid: str, email: str, national_id: str | None = None, dob: str | None = None) -> SourceRecord:
    links = [IdentifierLink("email", email)] + ([IdentifierLink("national_id", national_id)] if national_id else [])
    return SourceRecord("crm", rid, links, {"birth_date": dob} if dob else {}, "2025-01-01T00:00:00Z")


def test_conflicting_strong_values_are_counted_per_profile(store: GraphStore) -> None:
    store.upsert_records([
        _rec("1", "ann@x.com", "AB123456A", "1980-01-01"),
        _rec("2", "ann@x.com", "CD654321B", "1980-01-01"),   # same email, another national id: conflict
        _rec("3", "bo@x.com", "EF111111C", "1975-05-05"),
        _rec("4", "bo@x.com", "EF111111C", "1976-06-06"),    # same person id, two birth dates: conflict
        _rec("5", "cy@x.com", None, "1990-01-01"),
    ])  # fmt: skip
    resolve(store, ResolveSettings(max_values_per_profile={}))  # the limit would have split the first pair
    values = strong_values(store)
    assert set(values["kind"]) == {"national_id", "birth_date"}
    assert conflicting_profiles(values) == {"national_id": 1, "birth_date": 1}
    resolve(store, ResolveSettings())  # with the default limit: split, and only the birth dates conflict
    assert conflicting_profiles(strong_values(store)) == {"birth_date": 1}


def test_an_unresolved_store_has_no_conflicts(store: GraphStore) -> None:
    store.upsert_records([_rec("1", "ann@x.com", "AB123456A", "1980-01-01")])
    assert conflicting_profiles(strong_values(store)) == {}


@pytest.mark.parametrize("seed", range(5))
def test_conflict_counts_equal_a_direct_count(seed: int) -> None:
    rng = random.Random(seed)
    rows = [(f"p{rng.randrange(30)}", rng.choice(["national_id", "birth_date"]), str(rng.randrange(4)))
            for _ in range(rng.randrange(1, 200))]  # fmt: skip
    expected: dict[str, int] = {}
    for kind in {k for _, k, _ in rows}:
        values: dict[str, set[str]] = {}
        for profile, k, value in rows:
            if k == kind:
                values.setdefault(profile, set()).add(value)
        expected[kind] = sum(len(v) > 1 for v in values.values())
    expected = {kind: n for kind, n in expected.items() if n}
    assert conflicting_profiles(pd.DataFrame(rows, columns=["profile_id", "kind", "value"])) == expected
