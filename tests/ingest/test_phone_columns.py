"""Phones in bulk (ingest.phone_columns) equal the per-value rule: E.164 form, unverified flag and, for what
the bulk path leaves, the rejection reason, on random and messy columns in many default regions."""

from __future__ import annotations

import random
from functools import partial
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.columns import normalise_column
from ingest.normalise import InvalidValue, NormaliseOptions, Phone, normalise_phone
from ingest.phone_columns import bulk_phones

REGIONS = ["GB", "US", "DE", "FR", "IN", "AU", "IE", "IT", "BR", "MX", "AR", "JE", "CA", "NZ", "ES", "IM"]
PREFIXES = ["", "", "+", "00", "0", "+44", "+1", "+49", "+33", "+353", "+61", "+39", "+55", "+91", "0044 ",
            "+44 (0)", "1", "011", "+800", "+0", "00 0"]  # fmt: skip
SEPARATORS = [" ", "-", ".", "(", ")", "/", "  "]
ODD = ["x12", "#", "\t", "\u0663", "tel:", "\u00a0", "+", "ext 4"]


def _phone_text(rng: random.Random) -> str:
    out = rng.choice(PREFIXES)
    for _ in range(rng.randint(0, 13)):
        out += rng.choice("0123456789")
        if rng.random() < 0.15:
            out += rng.choice(SEPARATORS)
    if rng.random() < 0.05:
        out = f" {out} "
    if rng.random() < 0.03:
        out += rng.choice(ODD)
    return out


def _per_value(raws: list[Any], opts: NormaliseOptions) -> tuple[list[Any], list[tuple[int, str]]]:
    values, invalid = [], []
    for row, raw in enumerate(raws):
        try:
            values.append(normalise_phone(raw, opts))
        except InvalidValue as exc:
            values.append(None)
            invalid.append((row, exc.reason))
    return values, invalid


@pytest.mark.parametrize("region", REGIONS)
def test_a_random_phone_column_equals_the_per_value_rule(region: str) -> None:
    rng = random.Random(REGIONS.index(region))
    raws: list[Any] = [_phone_text(rng) for _ in range(1500)] + [None, "", "  ", 7911123456]
    opts = NormaliseOptions(region)
    result = normalise_column(raws, partial(normalise_phone, opts=opts), partial(bulk_phones, region=region))
    assert (result.values, result.invalid) == _per_value(raws, opts)
    settled, _ = bulk_phones(pd.Series([r for r in raws if isinstance(r, str)], dtype="str"), region)
    assert settled.sum() > 200  # the bulk path had work: a sixth to a third are possible numbers


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(REGIONS), st.lists(st.text(st.sampled_from("0123456789 +-().()/"), max_size=18), max_size=20))
def test_any_text_of_phone_characters_is_settled_as_the_rule_would(region: str, texts: list[str]) -> None:
    opts = NormaliseOptions(region)
    settled, phones = bulk_phones(pd.Series(texts, dtype="str"), region)
    for text, done, phone in zip(texts, settled, phones, strict=True):
        if done:
            assert normalise_phone(text, opts) == phone, text


def test_the_usual_forms_are_settled_in_bulk_with_their_flags() -> None:
    texts = ["07911 123456", "+44 7911 123456", "0044 7911 123456", "(07911) 123-456", "+44 (0)7911 123456",
             "07700 900123", "020 7946 0958", "+1 415 555 2671", "+353 85 123 4567"]  # fmt: skip
    settled, phones = bulk_phones(pd.Series(texts, dtype="str"), "GB")
    assert settled.all()
    assert list(phones) == [Phone("+447911123456", False)] * 5 + [
        Phone("+447700900123", True), Phone("+442079460958", False), Phone("+14155552671", False),
        Phone("+353851234567", False),
    ]  # fmt: skip
    assert list(phones) == [normalise_phone(t) for t in texts]
    left, _ = bulk_phones(pd.Series(["tel:+447911123456", "447911123456", "+800 1234 5678", "7911 12"]), "GB")
    assert not left.any()  # a URI, digits that start like the country code, a non-geographic code, too short
    local, _ = bulk_phones(pd.Series(["555 0143"]), "US")
    assert not local.any()  # a local number without its area code: the rule rejects it, saying so
