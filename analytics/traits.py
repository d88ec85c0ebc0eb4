"""Computed traits of every profile from its events: recency, frequency, monetary value (RFM), first and
last seen, top category and channel mix.

Pure pandas over an event frame (the columns :meth:`graph.store.GraphStore.profile_events` returns), so
one pass serves a GraphQL page of profiles and an export of all of them alike.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

#: the event type whose rows are purchases (frequency, monetary, recency)
PURCHASE = "purchase"
#: a purchase says more about taste than a page view: it weighs this much in the top category
PURCHASE_WEIGHT = 3
EVENT_COLUMNS = ["profile_id", "type", "ts", "source", "properties"]
TRAIT_COLUMNS = [
    "recency_days", "frequency", "monetary", "first_seen", "last_seen", "top_category", "events", "channel_mix",
]  # fmt: skip


def profile_traits(events: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
    """Traits per profile, indexed by ``profile_id`` (sorted), as they stood at ``as_of``.

    ``events`` has the columns ``profile_id, type, ts, source, properties`` (``ts`` ISO 8601, ``properties``
    a JSON object as text). Events after ``as_of`` are left out, and so are profiles without events.

    - ``recency_days``: days (fractional, 4 decimals) from the last purchase to ``as_of``; NaN without one
    - ``frequency``: purchases; ``monetary``: the sum of their ``amount`` that are numbers or numeric text
      (any other amount is ignored)
    - ``first_seen``, ``last_seen``: the first and last event (UTC timestamps)
    - ``top_category``: the ``category`` with the most interactions, a purchase weighing
      :data:`PURCHASE_WEIGHT` and any other event 1; ties go to the first alphabetically; None without any
    - ``events``: events; ``channel_mix``: each source's share of them, largest first (4 decimals)

    An event whose timestamp cannot be read still counts, without a date. Cost: O(n log n) in the events,
    each distinct ``properties`` text parsed once; a million events take a few seconds.

    >>> events = pd.DataFrame({
    ...     "profile_id": ["p1", "p1", "p1", "p2"],
    ...     "type": ["page_view", "page_view", "purchase", "page_view"],
    ...     "ts": ["2025-01-01T10:00:00Z", "2025-01-02T10:00:00Z", "2025-01-03T10:00:00Z", "2025-01-04T10:00:00Z"],
    ...     "source": ["web", "web", "pos", "web"],
    ...     "properties": ['{"category": "books"}', '{"category": "books"}',
    ...                    '{"amount": 12.5, "category": "toys"}', "{}"],
    ... })
    >>> traits = profile_traits(events, datetime(2025, 1, 13, 10, tzinfo=UTC))  # p1: 2 book views < 1 toy purchase
    >>> traits[["recency_days", "frequency", "monetary", "top_category", "events"]]  # doctest: +NORMALIZE_WHITESPACE
                recency_days  frequency  monetary top_category  events
    profile_id
    p1                  10.0          1      12.5         toys       3
    p2                   NaN          0       0.0         None       1
    >>> traits.loc["p1", "channel_mix"]
    {'web': 0.6667, 'pos': 0.3333}
    """
    moment = _utc(as_of)
    seen = pd.to_datetime(events["ts"], format="ISO8601", utc=True, errors="coerce")
    kept = ~(seen > moment).to_numpy()
    if not kept.any():
        return pd.DataFrame(columns=TRAIT_COLUMNS, index=pd.Index([], name="profile_id"))
    category, categories, amount = _read_properties(events["properties"])
    profile, profile_ids = pd.factorize(events["profile_id"].to_numpy()[kept], sort=True)
    source, sources = pd.factorize(events["source"].to_numpy()[kept], sort=True)
    work = pd.DataFrame(
        {
            "profile": profile,
            "source": source,
            "seen": seen.array[kept],
            "purchase": events["type"].eq(PURCHASE).to_numpy()[kept],
            "category": category[kept],
            "amount": amount[kept],
        }
    )
    traits = _counts(work, len(profile_ids), moment)
    top = _top_category(work, len(profile_ids), categories)
    traits["top_category"] = pd.Series(top, index=traits.index, dtype=object)  # None, not NaN, without one
    traits["events"] = np.bincount(profile, minlength=len(profile_ids))
    traits["channel_mix"] = _channel_mix(work, len(profile_ids), sources)
    traits.index = pd.Index(profile_ids, name="profile_id")
    return traits[TRAIT_COLUMNS]


def _utc(moment: datetime) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)


def _counts(work: pd.DataFrame, n_profiles: int, moment: pd.Timestamp) -> pd.DataFrame:
    """First/last seen over every event; frequency, monetary and recency over the purchases."""
    every = work.groupby("profile", sort=True)["seen"]
    traits = pd.DataFrame({"first_seen": every.min(), "last_seen": every.max()}).reindex(range(n_profiles))
    bought = work[work["purchase"]]
    last_purchase = bought.groupby("profile")["seen"].max().reindex(traits.index)
    traits["recency_days"] = ((moment - last_purchase) / pd.Timedelta(days=1)).round(4)
    traits["frequency"] = np.bincount(bought["profile"], minlength=n_profiles)
    priced = bought[bought["amount"].notna()]
    # 6 decimals: sums of prices without float noise (12.1 + 3.2 = 15.299999999999999)
    traits["monetary"] = np.bincount(priced["profile"], weights=priced["amount"], minlength=n_profiles).round(6)
    return traits


def _top_category(work: pd.DataFrame, n_profiles: int, categories: np.ndarray) -> np.ndarray:
    """Per profile code, its category with the largest weight, or None. Category codes are in alphabetical
    order, so the lowest code wins a tie."""
    rated = work[work["category"] >= 0]
    rated = rated.assign(weight=np.where(rated["purchase"], PURCHASE_WEIGHT, 1))
    totals = rated.groupby(["profile", "category"], sort=False)["weight"].sum().reset_index()
    totals = totals.sort_values(["profile", "weight", "category"], ascending=[True, False, True], kind="stable")
    best = totals.drop_duplicates("profile")
    top = np.full(n_profiles, None, dtype=object)
    top[best["profile"].to_numpy()] = categories[best["category"].to_numpy()]
    return top


def _channel_mix(work: pd.DataFrame, n_profiles: int, sources: np.ndarray) -> list[dict[str, float]]:
    """Per profile code, {source: share of its events}, largest share first, then by name."""
    counts = work.groupby(["profile", "source"]).size().rename("n").reset_index()
    counts["share"] = (counts["n"] / counts.groupby("profile")["n"].transform("sum")).round(4)
    counts = counts.sort_values(["profile", "share", "source"], ascending=[True, False, True], kind="stable")
    mix: list[dict[str, float]] = [{} for _ in range(n_profiles)]
    names = sources[counts["source"].to_numpy()].tolist()
    for profile, source, share in zip(counts["profile"].tolist(), names, counts["share"].tolist(), strict=True):
        mix[profile][source] = share
    return mix


def _read_properties(properties: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each event's category code (-1 for none; codes in alphabetical order of the ``categories``
    returned) and ``amount`` (a finite number or NaN). Every distinct properties text is parsed once:
    many events share one (a product page, a product's price)."""
    codes, texts = pd.factorize(properties)
    parsed = [_object(text) for text in texts]
    # one extra slot for missing properties: factorize gives them code -1
    names = pd.Series([*(_category(p.get("category")) for p in parsed), None], dtype=object)
    category, categories = pd.factorize(names, sort=True)
    amounts = np.array([*(_number(p.get("amount")) for p in parsed), math.nan], dtype=float)
    return category[codes], np.asarray(categories, dtype=object), amounts[codes]


def _object(text: Any) -> dict[str, Any]:
    try:
        value = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _category(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _number(value: Any) -> float:
    """A numeric amount (or numeric text) as a float; anything else (text, true, nested) NaN: ignored."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return math.nan
    try:
        number = float(value)
    except ValueError:
        return math.nan
    return number if math.isfinite(number) else math.nan


@dataclass(frozen=True)
class ProfileTraits:
    """One profile's traits, for the API; timestamps as ISO 8601 UTC text like every other in the graph.
    The defaults are the traits of a profile without events: zero counts, nothing else to tell."""

    frequency: int = 0
    events: int = 0
    recency_days: float | None = None
    monetary: float | None = None
    first_seen: str | None = None
    last_seen: str | None = None
    top_category: str | None = None
    channel_mix: dict[str, float] = field(default_factory=dict)


def traits_by_profile(traits: pd.DataFrame) -> dict[str, ProfileTraits]:
    """The rows of :func:`profile_traits` as profile id -> :class:`ProfileTraits`. O(rows)."""
    frame = traits.assign(first_seen=iso_utc(traits["first_seen"]), last_seen=iso_utc(traits["last_seen"]))
    frame = frame.astype(object).where(frame.notna(), None)
    return {
        str(profile_id): ProfileTraits(**{**row, "frequency": int(row["frequency"]), "events": int(row["events"])})
        for profile_id, row in zip(frame.index, frame.to_dict("records"), strict=True)
    }


def iso_utc(stamps: pd.Series) -> pd.Series:
    """UTC timestamps as ``2025-01-05T10:00:00Z`` text (NaT stays missing)."""
    return pd.to_datetime(stamps, utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def traits_of_events(rows: list[dict[str, Any]], as_of: datetime) -> dict[str, ProfileTraits]:
    """:func:`traits_by_profile` of :func:`profile_traits`, event by event in plain Python: the same
    traits (a test checks they are equal) for the few profiles of an API request, where a pandas pass
    costs milliseconds of fixed overhead. ``rows``: dicts with the :data:`EVENT_COLUMNS`. O(n log n)."""
    moment = _utc(as_of).to_pydatetime()
    parsed: dict[Any, dict[str, Any]] = {}
    by_profile: dict[str, list[tuple[dict[str, Any], datetime | None]]] = {}
    for row in rows:
        seen = _when(row["ts"])
        if seen is not None and seen > moment:
            continue
        text = row["properties"]
        if text not in parsed:
            parsed[text] = _object(text)
        by_profile.setdefault(str(row["profile_id"]), []).append((row, seen))
    return {pid: _one_profile(events, parsed, moment) for pid, events in sorted(by_profile.items())}


def _one_profile(
    events: list[tuple[dict[str, Any], datetime | None]], parsed: dict[Any, dict[str, Any]], moment: datetime
) -> ProfileTraits:
    dated = [seen for _, seen in events if seen is not None]
    bought = [(row, seen) for row, seen in events if row["type"] == PURCHASE]
    paid = [_number(parsed[row["properties"]].get("amount")) for row, _ in bought]
    last_bought = max((seen for _, seen in bought if seen is not None), default=None)
    weights: dict[str, int] = {}
    sources: dict[str, int] = {}
    for row, _ in events:
        category = _category(parsed[row["properties"]].get("category"))
        if category is not None:
            weights[category] = weights.get(category, 0) + (PURCHASE_WEIGHT if row["type"] == PURCHASE else 1)
        sources[row["source"]] = sources.get(row["source"], 0) + 1
    shares = {s: float(np.round(n / len(events), 4)) for s, n in sources.items()}
    return ProfileTraits(
        frequency=len(bought),
        events=len(events),
        recency_days=None if last_bought is None else float(np.round(_days(moment - last_bought), 4)),
        monetary=float(np.round(sum(a for a in paid if not math.isnan(a)), 6)),
        first_seen=min(dated).strftime("%Y-%m-%dT%H:%M:%SZ") if dated else None,
        last_seen=max(dated).strftime("%Y-%m-%dT%H:%M:%SZ") if dated else None,
        top_category=min(weights, key=lambda c: (-weights[c], c)) if weights else None,
        channel_mix=dict(sorted(shares.items(), key=lambda item: (-item[1], item[0]))),
    )


def _when(text: Any) -> datetime | None:
    """A timestamp as an aware UTC datetime, as ``pd.to_datetime(..., utc=True)`` reads it; None if unreadable."""
    try:
        value = datetime.fromisoformat(str(text))
    except ValueError:
        stamp = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
        return None if pd.isna(stamp) else stamp.to_pydatetime()
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _days(delta: Any) -> float:
    """Days in a timedelta, computed as pandas does (nanoseconds over a day's)."""
    nanoseconds = (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000
    return float(np.float64(nanoseconds) / np.float64(86_400 * 10**9))
