"""Computed traits from a hand-built event frame, and against a plain per-profile loop on random events."""

from __future__ import annotations

import json
import math
import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from analytics.traits import (
    EVENT_COLUMNS,
    TRAIT_COLUMNS,
    ProfileTraits,
    profile_traits,
    traits_by_profile,
    traits_of_events,
)

AS_OF = datetime(2025, 3, 1, tzinfo=UTC)


def _event(profile: str, kind: str, ts: str, source: str, **properties: Any) -> tuple[str, str, str, str, str]:
    return profile, kind, ts, source, json.dumps(properties, sort_keys=True)


def _frame(*events: tuple[str, str, str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(list(events), columns=EVENT_COLUMNS)


EVENTS = _frame(
    # ann: two purchases (one amount unreadable), a tie between books (3) and toys (1 + 1 + 1) -> books
    _event("ann", "purchase", "2025-02-19T12:00:00Z", "pos", category="books", amount=12.5),
    _event("ann", "purchase", "2025-01-10T09:00:00Z", "pos", amount="n/a"),
    _event("ann", "page_view", "2025-01-01T08:00:00Z", "web", category="toys"),
    _event("ann", "page_view", "2025-01-02T08:00:00Z", "web", category="toys"),
    _event("ann", "page_view", "2025-01-03T08:00:00Z", "web", category="toys"),
    _event("ann", "page_view", "2025-01-04T08:00:00Z", "web", category="pets"),
    _event("ann", "page_view", "2025-01-05T08:00:00Z", "web", page="/home"),  # no category
    _event("ann", "purchase", "2025-03-02T00:00:00Z", "pos", category="toys", amount=99),  # after as_of
    # bob: page views only, toys and garden tied at 1 each -> garden
    _event("bob", "page_view", "2025-02-01T00:00:00Z", "web", category="toys"),
    _event("bob", "page_view", "2025-02-03T00:00:00Z", "app", category="garden"),
    _event("bob", "page_view", "2025-02-02T00:00:00Z", "web"),
    # cy: amounts as numeric text count, true/null/nested ones do not
    _event("cy", "purchase", "2025-02-28T00:00:00Z", "pos", amount="7.25"),
    _event("cy", "purchase", "2025-02-27T00:00:00Z", "pos", amount=True),
    _event("cy", "purchase", "2025-02-26T00:00:00Z", "pos", amount=None),
    _event("cy", "purchase", "2025-02-25T00:00:00Z", "pos", amount={"value": 3}),
    _event("cy", "purchase", "2025-02-24T00:00:00Z", "pos", amount=0.1),
    _event("cy", "purchase", "2025-02-23T00:00:00Z", "pos", amount=0.2),
    # dan: only an event after as_of: no row at all
    _event("dan", "purchase", "2025-04-01T00:00:00Z", "pos", category="books", amount=5),
)


def test_traits_of_a_hand_built_frame() -> None:
    traits = profile_traits(EVENTS, AS_OF)
    assert list(traits.columns) == TRAIT_COLUMNS and list(traits.index) == ["ann", "bob", "cy"]
    ann, bob, cy = (traits.loc[name].to_dict() for name in ("ann", "bob", "cy"))
    assert ann == {
        "recency_days": 9.5, "frequency": 2, "monetary": 12.5,
        "first_seen": pd.Timestamp("2025-01-01T08:00:00Z"), "last_seen": pd.Timestamp("2025-02-19T12:00:00Z"),
        "top_category": "books", "events": 7, "channel_mix": {"web": 0.7143, "pos": 0.2857},
    }  # fmt: skip
    assert math.isnan(bob.pop("recency_days"))  # no purchase
    assert bob == {
        "frequency": 0, "monetary": 0.0,
        "first_seen": pd.Timestamp("2025-02-01T00:00:00Z"), "last_seen": pd.Timestamp("2025-02-03T00:00:00Z"),
        "top_category": "garden", "events": 3, "channel_mix": {"web": 0.6667, "app": 0.3333},
    }  # fmt: skip
    assert cy["frequency"] == 6 and cy["monetary"] == 7.55  # 7.25 + 0.1 + 0.2, without float noise
    assert cy["recency_days"] == 1.0 and cy["top_category"] is None and cy["channel_mix"] == {"pos": 1.0}


def test_an_equal_share_goes_to_the_first_source_alphabetically() -> None:
    traits = profile_traits(
        _frame(
            _event("p", "page_view", "2025-01-01T00:00:00Z", "web"),
            _event("p", "page_view", "2025-01-01T00:00:00Z", "app"),
        ),
        AS_OF,
    )
    assert list(traits.loc["p", "channel_mix"].items()) == [("app", 0.5), ("web", 0.5)]


def test_naive_as_of_is_utc_and_unreadable_timestamps_count_without_a_date() -> None:
    events = _frame(
        _event("p", "purchase", "2025-02-28T12:00:00+01:00", "pos", amount=4),  # 11:00 UTC
        _event("p", "purchase", "not a time", "pos", amount=1),
    )
    traits = profile_traits(events, datetime(2025, 3, 1, 11, 0))
    row = traits.loc["p"]
    assert row["recency_days"] == 1.0 and row["frequency"] == 2 and row["monetary"] == 5.0 and row["events"] == 2
    assert row["first_seen"] == row["last_seen"] == pd.Timestamp("2025-02-28T11:00:00Z")


def test_no_events_give_an_empty_frame_and_default_traits() -> None:
    for events in (pd.DataFrame(columns=EVENT_COLUMNS), EVENTS[EVENTS["profile_id"] == "dan"]):
        traits = profile_traits(events, AS_OF)
        assert traits.empty and list(traits.columns) == TRAIT_COLUMNS and traits.index.name == "profile_id"
        assert traits_by_profile(traits) == {}
    assert ProfileTraits() == ProfileTraits(0, 0, None, None, None, None, None, {})


def test_traits_by_profile_gives_plain_values() -> None:
    found = traits_by_profile(profile_traits(EVENTS, AS_OF))
    assert found["bob"] == ProfileTraits(
        frequency=0, events=3, recency_days=None, monetary=0.0, first_seen="2025-02-01T00:00:00Z",
        last_seen="2025-02-03T00:00:00Z", top_category="garden", channel_mix={"web": 0.6667, "app": 0.3333},
    )  # fmt: skip
    assert isinstance(found["ann"].frequency, int) and found["ann"].recency_days == 9.5


# ---- oracle: random events against a plain loop over each profile's events ----------------------------


def _random_events(seed: int, n: int) -> pd.DataFrame:
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rows = []
    for _ in range(n):
        properties: dict[str, Any] = {}
        if rng.random() < 0.8:
            properties["category"] = rng.choice(["books", "toys", "pets", "home", "garden"])
        if rng.random() < 0.7:
            properties["amount"] = rng.choice([round(rng.uniform(1, 200), 2), rng.randint(1, 50), "free", None])
        ts = start + timedelta(seconds=rng.randint(0, 500 * 86400))
        rows.append(
            _event(
                f"p{rng.randint(0, n // 8)}",
                rng.choice(["purchase", "page_view", "email_open"]),
                ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
                rng.choice(["web", "pos", "app", "crm"]),
                **properties,
            )
        )
    return _frame(*rows)


def _oracle(events: pd.DataFrame, as_of: datetime) -> dict[str, dict[str, Any]]:
    by_profile: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in events.to_dict("records"):
        row["at"] = datetime.fromisoformat(row["ts"].replace("Z", "+00:00"))
        if row["at"] <= as_of:
            by_profile[row["profile_id"]].append(row)
    out = {}
    for profile, rows in by_profile.items():
        bought = [r for r in rows if r["type"] == "purchase"]
        weights: Counter[str] = Counter()
        for r in rows:
            category = json.loads(r["properties"]).get("category")
            if category:
                weights[category] += 3 if r["type"] == "purchase" else 1
        amounts = [json.loads(r["properties"]).get("amount") for r in bought]
        sources = Counter(r["source"] for r in rows)
        out[profile] = {
            "recency_days": (as_of - max(r["at"] for r in bought)).total_seconds() / 86400 if bought else None,
            "frequency": len(bought),
            "monetary": sum(a for a in amounts if isinstance(a, (int, float))),
            "first_seen": min(r["at"] for r in rows),
            "last_seen": max(r["at"] for r in rows),
            "top_category": min(weights, key=lambda c: (-weights[c], c)) if weights else None,
            "events": len(rows),
            "channel_mix": {s: n / len(rows) for s, n in sorted(sources.items(), key=lambda x: (-x[1], x[0]))},
        }
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_traits_equal_a_plain_loop_on_random_events(seed: int) -> None:
    events = _random_events(seed, 2_000)
    as_of = datetime(2025, 1, 1, tzinfo=UTC)  # some events come later and are left out
    expected = _oracle(events, as_of)
    traits = profile_traits(events, as_of)
    assert sorted(traits.index) == sorted(expected)
    for profile, want in expected.items():
        got = traits.loc[profile].to_dict()
        if want["recency_days"] is None:
            assert math.isnan(got["recency_days"]), profile
        else:
            assert got["recency_days"] == pytest.approx(want["recency_days"], abs=1e-4), profile
        assert got["monetary"] == pytest.approx(want["monetary"], abs=1e-6), profile
        assert got["channel_mix"] == pytest.approx(want["channel_mix"], abs=1e-4), profile
        assert list(got["channel_mix"]) == list(want["channel_mix"]), profile  # largest share first
        for name in ("frequency", "events", "top_category", "first_seen", "last_seen"):
            assert got[name] == want[name], (profile, name)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_traits_event_by_event_equal_the_pandas_pass(seed: int) -> None:
    """The API's plain-Python traits of a few profiles are the export's pandas traits, value for value."""
    events = _random_events(seed, 1_500)
    broken = events.sample(frac=0.02, random_state=seed).index  # unreadable timestamps still count
    events.loc[broken, "ts"] = "not a time"
    events.loc[events.sample(frac=0.05, random_state=seed + 1).index, "properties"] = "{not json"
    as_of = datetime(2025, 1, 1, tzinfo=UTC)
    assert traits_of_events(events.to_dict("records"), as_of) == traits_by_profile(profile_traits(events, as_of))
