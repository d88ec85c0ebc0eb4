"""The column profile ingest stores per source: its figures equal a plain pandas computation over the same
CSV (the oracle: every value checked one by one with the normalisation rules), whatever the chunking; a
re-ingest of a source replaces its profile; reasons are counted by kind, with no value left in them."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest

from graph.store import GraphStore
from ingest import pipeline
from ingest.column_profile import SourceProfile, reason_kind, stored_profiles
from ingest.config import load_config
from ingest.normalise import InvalidValue, NormaliseOptions, normalise_attribute, normalise_identifier
from ingest.pipeline import ingest

SOURCES = """
sources:
  crm:
    path: crm.csv
    record_id: crm_id
    identifiers: {crm_id: crm_id, email: email, phone: phone}
    attributes: {first_name: first_name, surname: last_name, dob: birth_date, city: city}
  shop:
    path: shop.csv
    record_id: order_id
    identifiers: {email: email}
"""
EMAILS = ["ann@mailbox.co.uk", "BOB@Example.com ", "not-an-email", "x@@y", "", "   ", "two words@x.com"]
PHONES = ["07911 123456", "+44 7911 123457", "12", "phone?", "", "020 7946 0958"]
NAMES = ["Ann", "b0b", "", "O'Neil", "!!", "  "]
DOBS = ["1985-03-12", "31/02/1990", "2090-01-01", "", "12/03/1985", "soon"]
CITIES = ["Leeds", "", "York"]


def _write_crm(path: Path, rows: int, seed: int) -> None:
    """A messy CRM file: blank and invalid values everywhere, rows without an id, rows with a field too many."""
    rng = random.Random(seed)
    lines = ["crm_id,email,phone,first_name,surname,dob,city"]
    for n in range(rows):
        record_id = "" if rng.random() < 0.08 else f"C{n}"
        values = [rng.choice(EMAILS), rng.choice(PHONES), rng.choice(NAMES), rng.choice(NAMES), rng.choice(DOBS),
                  rng.choice(CITIES)]  # fmt: skip
        extra = ",extra" if rng.random() < 0.05 else ""
        lines.append(",".join([record_id, *(f'"{v}"' for v in values)]) + extra)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _oracle(path: Path) -> dict[str, dict[str, int]]:
    """Rows, filled and invalid per column, and rejects by reason kind, computed by pandas and the per-value rules."""
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    read = pd.read_csv(path, dtype=str, keep_default_na=False, header=None, skiprows=1, names=[*header, "_extra"])
    frame, bad_lines = read[read["_extra"] == ""], int((read["_extra"] != "").sum())  # a field too many: rejected
    kept = frame[frame["crm_id"].str.strip() != ""]
    opts = NormaliseOptions()
    rules = {"email": lambda v: normalise_identifier("email", v, opts),
             "phone": lambda v: normalise_identifier("phone", v, opts),
             "crm_id": lambda v: normalise_identifier("crm_id", v, opts),
             "first_name": lambda v: normalise_attribute("first_name", v, opts),
             "surname": lambda v: normalise_attribute("last_name", v, opts),
             "dob": lambda v: normalise_attribute("birth_date", v, opts),
             "city": lambda v: normalise_attribute("city", v, opts)}  # fmt: skip

    def invalid(rule: object, value: str) -> bool:
        try:
            rule(value)  # type: ignore[operator]
        except InvalidValue:
            return True
        return False

    figures: dict[str, dict[str, int]] = {}
    for column, rule in rules.items():
        filled = int((kept[column].str.strip() != "").sum())
        bad = kept[column][kept[column].str.strip() != ""].map(lambda v, r=rule: invalid(r, v))
        figures[column] = {"rows": len(kept), "filled": filled, "invalid": int(bad.sum())}
    empty_ids = int((frame["crm_id"].str.strip() == "").sum())
    reasons = {"expected N fields, found N": bad_lines, "record_id column 'crm_id' is empty": empty_ids}
    figures["_rejects"] = {k: v for k, v in reasons.items() if v}
    return figures


def _profile(store: GraphStore, source: str) -> SourceProfile:
    return next(p for p in stored_profiles(store.graph_settings()) if p.source == source)


def _ingest(directory: Path, store: GraphStore, only: str | None = None) -> None:
    ingest(load_config(directory / "sources.yaml"), store, directory / "rejects", only=only, workers=0)


@pytest.mark.parametrize("batch_rows", [7, 10_000])
def test_the_profile_equals_a_pandas_computation_over_the_file(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_rows: int
) -> None:
    monkeypatch.setattr(pipeline, "BATCH_ROWS", batch_rows)  # many chunks, or one
    (tmp_path / "sources.yaml").write_text(SOURCES)
    _write_crm(tmp_path / "crm.csv", 300, seed=batch_rows)
    (tmp_path / "shop.csv").write_text("order_id,email\nO1,a@b.com\nO2,\n")
    _ingest(tmp_path, store)
    expected = _oracle(tmp_path / "crm.csv")
    found = _profile(store, "crm")
    assert found.rows == 300 and found.rejects == sum(expected["_rejects"].values())
    assert found.rejects_by_reason == expected["_rejects"]
    shown = {c.column: {"rows": c.rows, "filled": c.filled, "invalid": c.invalid} for c in found.columns}
    assert shown == {k: v for k, v in expected.items() if k != "_rejects"}
    fields = {c.column: c.field for c in found.columns}
    assert fields == {"crm_id": "record_id", "email": "email", "phone": "phone", "first_name": "first_name",
                      "surname": "last_name", "dob": "birth_date", "city": "city"}  # fmt: skip
    assert sum(c.invalid for c in found.columns) > 20  # the data is messy enough for the check to mean something


def test_examples_are_the_first_distinct_invalid_values_with_their_reason_kind(
    store: GraphStore, tmp_path: Path
) -> None:
    (tmp_path / "sources.yaml").write_text(SOURCES)
    emails = ["bad1", "bad1", "ok@x.com", "bad2", "", "bad3", "bad4", "bad5", "bad6"]
    (tmp_path / "crm.csv").write_text("crm_id,email,phone,first_name,surname,dob,city\n"
                                      + "".join(f"C{n},{e},,,,,\n" for n, e in enumerate(emails)))  # fmt: skip
    (tmp_path / "shop.csv").write_text("order_id,email\n")
    _ingest(tmp_path, store, only="crm")
    email = next(c for c in _profile(store, "crm").columns if c.column == "email")
    assert [e["value"] for e in email.examples] == ["bad1", "bad2", "bad3", "bad4", "bad5"]
    assert email.examples[0]["reason"] == "not a valid email: missing @" and email.invalid == 7
    assert email.filled == 8 and email.rows == 9 and next(c for c in _profile(store, "crm").columns).filled == 9


def test_a_re_ingest_replaces_the_source_profile_and_keeps_the_others(store: GraphStore, tmp_path: Path) -> None:
    (tmp_path / "sources.yaml").write_text(SOURCES)
    _write_crm(tmp_path / "crm.csv", 50, seed=1)
    (tmp_path / "shop.csv").write_text("order_id,email\nO1,a@b.com\nO2,nope\n")
    _ingest(tmp_path, store)
    shop_before = _profile(store, "shop")
    _write_crm(tmp_path / "crm.csv", 20, seed=2)
    _ingest(tmp_path, store, only="crm")
    _ingest(tmp_path, store, only="crm")  # twice: a tally that added would show 40 rows
    assert _profile(store, "crm").rows == 20
    assert _oracle(tmp_path / "crm.csv")["email"] == next(
        {"rows": c.rows, "filled": c.filled, "invalid": c.invalid} for c in _profile(store, "crm").columns
        if c.column == "email"
    )  # fmt: skip
    assert _profile(store, "shop") == shop_before and shop_before.columns[1].invalid == 1
    assert [p.source for p in stored_profiles(store.graph_settings())] == ["crm", "shop"]


def test_reason_kinds_keep_column_names_and_drop_values() -> None:
    assert reason_kind("not an ISO 8601 timestamp: 'yesterday'") == "not an ISO N timestamp: '…'"
    assert reason_kind("birth date 2090-01-01 is in the future") == "birth date N-N-N is in the future"
    assert reason_kind('unreadable CSV: field "a,b"', columns={"x"}) == 'unreadable CSV: field "…"'
    assert reason_kind("record_id column 'id': not valid Unicode", columns={"id"}) == (
        "record_id column 'id': not valid Unicode"
    )
