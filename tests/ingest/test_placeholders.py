"""Placeholder identifiers over a column (ingest.placeholders) equal is_placeholder, key for key."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from graph.model import split_key
from ingest.normalise import PLACEHOLDER_VALUES, is_placeholder
from ingest.placeholders import placeholder_keys

TYPES = ["email", "phone", "crm_id", "loyalty_id", "national_id", "cookie_id", "device_id"]
KNOWN = sorted({v for values in PLACEHOLDER_VALUES.values() for v in values}) + [
    "noreply@shop.co.uk", "No.Email@x.org", "ann@mail.example.com", "+447777777777", "+11111111", "+4401234567",
    "+98765432100", "LC0000000000", "LC1818027954", "111", "000", "2222222", " x ", "\x1cnull", "null\u00a0", "+44",
]  # fmt: skip


def _oracle(keys: list[str]) -> list[bool]:
    return [is_placeholder(*split_key(k)) for k in keys]


def test_a_random_column_of_keys_equals_is_placeholder() -> None:
    rng = random.Random(3)
    alphabets = ["0123456789", "0123456789+", "abcxyz@.-_", "AB0123", "test@example.com noreply@ ", "7777", "0000 "]
    keys = []
    for _ in range(20_000):
        alphabet = rng.choice(alphabets)
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        keys.append(f"{rng.choice(TYPES)}:{rng.choice(KNOWN) if rng.random() < 0.1 else value}")
    found = placeholder_keys(keys)
    assert found.tolist() == _oracle(keys)
    assert 1_000 < found.sum() < 10_000  # both answers are common here: the comparison had work


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(TYPES), st.one_of(st.sampled_from(KNOWN), st.text(max_size=16))), max_size=30)
)
def test_any_key_is_judged_as_is_placeholder_judges_it(pairs: list[tuple[str, str]]) -> None:
    keys = [f"{t}:{v}" for t, v in pairs]
    assert placeholder_keys(keys).tolist() == _oracle(keys)
