"""Golden record, v1 survivorship: per attribute the most frequent non-empty value, ties to the most recent."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class AttributeValue:
    """One attribute value as a record holds it."""

    name: str
    value: str
    source: str
    seen_at: str  # ISO 8601, so it sorts as text


@dataclass(frozen=True)
class GoldenAttribute:
    name: str
    value: str
    source: str  # the source of the most recent record holding the winning value
    support: int  # how many records hold it


def golden_attributes(values: Iterable[AttributeValue]) -> list[GoldenAttribute]:
    """Choose one value per attribute name. O(n) in the number of values.

    >>> vals = [AttributeValue("city", "Leeds", "crm", "2024-01-01"),
    ...         AttributeValue("city", "York", "pos", "2025-01-01"),
    ...         AttributeValue("city", "Leeds", "web", "2023-01-01")]
    >>> golden_attributes(vals)[0]
    GoldenAttribute(name='city', value='Leeds', source='crm', support=2)
    """
    # name -> value -> [count, latest seen_at, source of the latest]
    tally: dict[str, dict[str, list]] = {}
    for item in values:
        if not item.value:
            continue
        entry = tally.setdefault(item.name, {}).setdefault(item.value, [0, "", ""])
        entry[0] += 1
        if item.seen_at >= entry[1]:
            entry[1], entry[2] = item.seen_at, item.source
    golden = []
    for name in sorted(tally):
        value, (count, _, source) = max(tally[name].items(), key=lambda kv: (kv[1][0], kv[1][1], kv[0]))
        golden.append(GoldenAttribute(name, value, source, count))
    return golden
