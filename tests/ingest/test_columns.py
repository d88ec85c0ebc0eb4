"""Column-at-a-time normalisation equals the per-value rules, value for value and reason for reason."""

from __future__ import annotations

import math
import random
from functools import partial
from typing import Any

import pytest

from ingest import columns, normalise
from ingest.columns import canonical_timestamps, identifier_fast_path, normalise_column
from ingest.normalise import InvalidValue, NormaliseOptions, normalise_attribute, normalise_identifier
from ingest.records import parse_timestamp

MESSY: list[Any] = [
    None, math.nan, "", "  ", "\u200b", 42, 42.0, 1.5, True, "Ann.Lee@Example.co.uk", "ann.lee@example.co.uk",
    " ann.lee@example.co.uk", "mailto:Bo@x.org", "bo@x--y.org", "bo@host.test", "bo@localhost", "a" * 65 + "@x.org",
    "José@x.org", "bo@x", "no-at-sign", "CRM 0042", "crm0042", "AbC-9", "ab\tc", "dev_1F", "07700 900123",
    "+447700900123", "0044 20 7946 0958", "2024-11-01T10:00:00Z", "2024-02-30T10:00:00Z", "2024-11-01T10:00:00+01:00",
    "2024-11-01 10:00:00", "0999-01-01T00:00:00Z", "not a time", "Ann.Lee@Example.co.uk", "42",
]  # fmt: skip
TYPES = ["email", "phone", "crm_id", "loyalty_id", "cookie_id", "device_id", "national_id", "membership_no"]


def _per_value(rule: Any, raws: list[Any]) -> tuple[list[Any], list[tuple[int, str]]]:
    values, invalid = [], []
    for row, raw in enumerate(raws):
        try:
            values.append(rule(raw))
        except InvalidValue as exc:
            values.append(None)
            invalid.append((row, exc.reason))
    return values, invalid


def _check(raws: list[Any], rule: Any, fast: Any) -> None:
    result = normalise_column(raws, rule, fast)
    assert (result.values, result.invalid) == _per_value(rule, raws)


@pytest.mark.parametrize("id_type", TYPES)
def test_identifier_columns_equal_the_per_value_rule(id_type: str) -> None:
    rule = partial(normalise_identifier, id_type, opts=NormaliseOptions())
    _check(MESSY, rule, identifier_fast_path(id_type))
    strings = [v for v in MESSY if isinstance(v, str)]
    _check(strings, rule, identifier_fast_path(id_type))  # an all-text column takes the fast path


def test_timestamp_columns_equal_the_per_value_rule() -> None:
    _check([v for v in MESSY if isinstance(v, str) or v is None], parse_timestamp, canonical_timestamps)
    _check(MESSY, parse_timestamp, canonical_timestamps)


@pytest.mark.parametrize("seed", range(5))
def test_random_text_columns_equal_the_per_value_rule(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = "aAbZ09@.-_+ \t'é\u200b:/T"
    raws = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(400)]
    raws += [f"{rng.choice(['ann', 'Bo', 'x--y'])}@{rng.choice(['ex.com', 'Ex.Org', 'a--b.io', 'h.local'])}"
             for _ in range(200)]  # fmt: skip
    rng.shuffle(raws)
    for id_type in TYPES:
        _check(raws, partial(normalise_identifier, id_type, opts=NormaliseOptions()), identifier_fast_path(id_type))
    _check(raws, partial(normalise_attribute, "first_name", opts=NormaliseOptions()), None)


def test_a_boolean_is_never_merged_with_a_number() -> None:
    rule = partial(normalise_identifier, "crm_id", opts=NormaliseOptions())
    assert normalise_column([True, 1, 1.0], rule).values == ["true", "1", "1"]


def test_every_identifier_rule_has_a_fast_path_entry() -> None:
    # a type without an entry is treated as opaque text; a rule added without one would be bypassed
    assert set(normalise._IDENTIFIER_RULES) <= set(columns._IDENTIFIER_FAST_PATHS)
