"""The held-out retail data: deterministic, truthful about every record, ingestible, and holding its traps."""

from __future__ import annotations

import csv
import doctest
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path

import phonenumbers
import pytest

import bench.retail_data
from analytics.quality import load_truth
from bench.retail_data import FILES, NICKNAMES, PLACEHOLDER_EMAILS, generate_retail, main
from ingest.config import load_config
from ingest.normalise import InvalidValue, NormaliseOptions, normalise_attribute

PEOPLE = 300
US_MDY = NormaliseOptions("US", "MDY")


def _read(path: Path) -> list[dict[str, str]]:
    if path.suffix == ".jsonl":
        return [{k: "" if v is None else str(v) for k, v in json.loads(line).items()} for line in path.open()]
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("retail")
    generate_retail(directory, people=PEOPLE, seed=1)
    return directory


@pytest.fixture(scope="module")
def rows(data: Path) -> dict[str, list[dict[str, str]]]:
    """Every source's rows, each with the ``person`` the truth gives it."""
    truth = {(r["source"], r["record_id"]): r["person_id"] for r in _read(data / "truth.csv")}
    out = {}
    for source, (name, id_column, _) in FILES.items():
        out[source] = [r | {"person": truth[source, r[id_column]]} for r in _read(data / name)]
    return out


@pytest.fixture(scope="module")
def people(data: Path) -> dict[str, dict[str, str]]:
    return {p["person_id"]: p for p in _read(data / "people.csv")}


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_the_same_seed_writes_byte_identical_files(data: Path, tmp_path: Path) -> None:
    generate_retail(tmp_path / "again", people=PEOPLE, seed=1)
    assert _files(tmp_path / "again") == _files(data)
    assert set(_files(data)) == {"crm.csv", "web_sessions.jsonl", "receipts.csv", "marketing.csv", "sources.yaml",
                                 "truth.csv", "people.csv"}  # fmt: skip


def test_another_seed_writes_other_data(data: Path, tmp_path: Path) -> None:
    generate_retail(tmp_path, people=PEOPLE, seed=2)
    for name in ("crm.csv", "web_sessions.jsonl", "receipts.csv", "marketing.csv", "people.csv"):
        assert (tmp_path / name).read_bytes() != (data / name).read_bytes(), name


def test_the_truth_lists_every_record_once_and_every_person(data: Path, rows: dict, people: dict) -> None:
    truth = _read(data / "truth.csv")
    keys = [(r["source"], r["record_id"]) for r in truth]
    assert len(keys) == len(set(keys)) == sum(len(r) for r in rows.values())
    for source, (_, id_column, _) in FILES.items():
        assert sorted(k for s, k in keys if s == source) == sorted(r[id_column] for r in rows[source])
    assert {r["person_id"] for r in truth} == set(people) and len(people) == PEOPLE
    assert len(load_truth(str(data / "truth.csv"))) == len(truth)  # the file `cdp evaluate --truth` reads


def test_records_per_person_vary_from_one_to_heavy_shoppers(rows: dict) -> None:
    per_person: dict[str, int] = defaultdict(int)
    receipts: dict[str, int] = defaultdict(int)
    for source, records in rows.items():
        for r in records:
            per_person[r["person"]] += 1
            receipts[r["person"]] += source == "pos"
    counts = sorted(per_person.values())
    assert counts[0] >= 1 and 2 <= counts[len(counts) // 2] <= 4
    assert max(receipts.values()) >= 20


def test_sources_yaml_loads_and_cdp_ingests_it(data: Path, tmp_path: Path) -> None:
    config = load_config(data / "sources.yaml")
    assert set(config.sources) == set(FILES)
    assert (config.options.default_region, config.options.date_order) == ("US", "MDY")
    env = {**os.environ, "CDP_STORE": "embedded", "CDP_EMBEDDED_BUFFER_POOL_MB": "256", "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "ingest", str(data / "sources.yaml"), "--data-dir", str(tmp_path / "store")],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    out = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 0, out
    total = sum(1 for _ in (data / "truth.csv").open()) - 1
    assert f"{total:,} rows in" in out and "error" not in out.lower()


def test_households_share_a_tablet_and_a_home_phone(rows: dict, people: dict) -> None:
    devices: dict[str, set[str]] = defaultdict(set)
    for r in rows["web"]:
        if r["device_id"]:
            devices[r["device_id"].lower()].add(r["person"])
    shared = [ids for ids in devices.values() if len(ids) > 1]
    assert shared and all(len({people[p]["household_id"] for p in ids}) == 1 for ids in shared)
    phones: dict[str, set[str]] = defaultdict(set)
    for r in rows["crm"] + rows["pos"]:
        digits = re.sub(r"\D", "", r["phone"])[-10:]
        if len(digits) == 10 and digits != "0000000000":
            phones[digits].add(r["person"])
    assert any(len({people[p]["household_id"] for p in ids}) == 1 < len(ids) for ids in phones.values())


def test_namesakes_live_apart_and_a_junk_row_holds_only_their_name(rows: dict, people: dict) -> None:
    by_name: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for p in people.values():
        by_name[p["first_name"], p["last_name"]].append(p)
    pairs = [
        (a, b) for group in by_name.values() for a in group for b in group
        if a["birth_date"] < b["birth_date"] and a["zip"] != b["zip"]
        and date.fromisoformat(b["birth_date"]).year - date.fromisoformat(a["birth_date"]).year >= 15
    ]  # fmt: skip
    assert pairs
    taylors = sorted(p["first_name"] for p in people.values() if p["last_name"] == "Taylor")
    assert "Samuel" in taylors and "Samantha" in taylors
    junk = [r for r in rows["marketing"] if r["email"] in PLACEHOLDER_EMAILS and r["last_name"] and not r["zip"]]
    assert any(r["first_name"] == "Sam" and r["last_name"] == "Taylor" for r in junk)


def test_twins_share_a_birth_date_and_a_household(people: dict) -> None:
    born: dict[tuple[str, str], set[str]] = defaultdict(set)
    for p in people.values():
        born[p["household_id"], p["birth_date"]].add(p["first_name"])
    assert any(len(names) >= 2 for names in born.values())


def test_nicknames_appear_in_every_named_source(rows: dict, people: dict) -> None:
    def nicknamed(first: str, person: str) -> bool:
        return first.strip().title() in NICKNAMES.get(people[person]["first_name"], ())

    for source, column in (("crm", "first_name"), ("marketing", "first_name"), ("web", "first_name")):
        assert any(nicknamed(r[column], r["person"]) for r in rows[source]), source
    assert any(nicknamed(r["card_name"].split()[0], r["person"]) for r in rows["pos"] if r["card_name"])


def test_receipts_hold_only_a_name_sometimes(rows: dict) -> None:
    def filled(r: dict[str, str]) -> set[str]:
        return {c for c in ("loyalty_card", "card_name", "zip", "phone") if r[c]}

    kinds = [filled(r) for r in rows["pos"]]
    assert {"card_name"} in kinds and {"card_name", "zip"} in kinds
    assert all(kinds)  # no receipt without any customer data
    assert any(r["card_name"].count(" ") == 1 and len(r["card_name"].split()[0]) == 1 for r in rows["pos"])  # R STEVENS
    assert any("/" in r["card_name"] for r in rows["pos"])  # STEVENS/ROBERT


def test_crm_holds_duplicates_movers_and_wrong_birth_dates(rows: dict, people: dict) -> None:
    accounts: dict[str, int] = defaultdict(int)
    wrong_dates = moved = 0
    for r in rows["crm"]:
        accounts[r["person"]] += 1
        moved += bool(r["zip"]) and r["zip"][:5] != people[r["person"]]["zip"]
        try:
            parsed = normalise_attribute("birth_date", r["dob"], US_MDY)
        except InvalidValue:
            continue
        wrong_dates += parsed is not None and parsed != people[r["person"]]["birth_date"]
    assert max(accounts.values()) >= 2 and moved and wrong_dates
    assert any(re.fullmatch(r"\d{5}-\d{4}", r["zip"]) for r in rows["crm"])  # ZIP+4


def test_values_are_messy_and_some_are_junk(rows: dict) -> None:
    crm, marketing = rows["crm"], rows["marketing"]
    assert any(r["last_name"].isupper() for r in crm) and any(r["last_name"] != r["last_name"].strip() for r in crm)
    assert any(r["email"] in PLACEHOLDER_EMAILS for r in marketing)
    values = [v for r in crm + marketing + rows["pos"] for v in r.values()]
    assert {"N/A", "000-000-0000"} & set(values)
    formats = {re.sub(r"\d", "9", r["phone"]) for r in crm if r["phone"]}
    assert {"(999) 999-9999", "999.999.9999", "+9 999 999 9999", "9999999999"} <= formats


def test_most_phones_are_assigned_numbers_and_some_are_not(rows: dict) -> None:
    numbers = [re.sub(r"\D", "", r["phone"])[-10:] for r in rows["crm"] + rows["pos"] if r["phone"]]
    valid = [phonenumbers.is_valid_number(phonenumbers.parse(n, "US")) for n in numbers if n.strip("0")]
    assert 0.9 < sum(valid) / len(valid) < 1


def test_the_command_line_prints_counts_per_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main([str(tmp_path), "--people", "50", "--seed", "4"])
    out = capsys.readouterr().out
    for source in FILES:
        assert re.search(rf"^{source}\s+[\d,]+ records", out, re.MULTILINE), out
    assert "of 50 people" in out


def test_docstring_examples() -> None:
    assert doctest.testmod(bench.retail_data).failed == 0
