"""The synthetic demo data: deterministic, sized, fully labelled, and as messy as promised."""

from __future__ import annotations

import doctest
import json
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import phonenumbers
import pytest
import yaml

import ingest.synthetic
import ingest.synthetic_people
from ingest.synthetic import HISTORY_SECONDS, REFERENCE_TIME, SyntheticDataset, generate_dataset
from ingest.synthetic_people import (
    CATEGORY_NAMES,
    CITIES,
    JUNK_EMAILS,
    JUNK_LOYALTY,
    JUNK_PHONES,
    MOBILE_PREFIXES,
)

SOURCES = ("crm", "web", "pos", "marketing")
PHONE_COLUMNS = {"crm": "phone", "pos": "phone", "marketing": "mobile"}
EMAIL_COLUMNS = {"crm": ["email", "work_email"], "web": ["login_email"], "marketing": ["email"]}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> SyntheticDataset:
    return generate_dataset(tmp_path_factory.mktemp("synthetic"), n_records=6000, seed=7)


@pytest.fixture(scope="module")
def frames(dataset: SyntheticDataset) -> dict[str, pd.DataFrame]:
    """Every source with the person of each row joined on from truth.csv; missing cells are ''."""
    truth = pd.read_csv(dataset.truth_path, dtype=str, keep_default_na=False)
    config = yaml.safe_load(dataset.config_path.read_text())["sources"]
    out = {}
    for source in SOURCES:
        frame = read_source(dataset.directory / config[source]["path"])
        ids = truth[truth["source"] == source].rename(columns={"record_id": config[source]["record_id"]})
        out[source] = frame.merge(ids[[config[source]["record_id"], "person_id"]], how="left", validate="1:1")
    return out


def read_source(path: Path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    if path.suffix == ".jsonl":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        return pd.DataFrame(rows).astype(object).fillna("")
    return pd.read_parquet(path).astype(object).fillna("")


def present(values: pd.Series) -> list[str]:
    return [v for v in values.tolist() if isinstance(v, str) and v.strip()]


def is_junk_phone(value: str) -> bool:
    return value in JUNK_PHONES or len(re.sub(r"\D", "", value)) < 10


def file_bytes(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


# --- determinism and size -------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    generate_dataset(tmp_path / "a", n_records=1500, seed=3)
    generate_dataset(tmp_path / "b", n_records=1500, seed=3)
    first, second = file_bytes(tmp_path / "a"), file_bytes(tmp_path / "b")
    assert set(first) == {
        "crm.csv",
        "web.jsonl",
        "pos.parquet",
        "marketing.csv",
        "sources.yaml",
        "truth.csv",
        "people.csv",
    }
    assert first == second


def test_same_seed_gives_identical_bytes_across_processes(tmp_path: Path) -> None:
    """String hashing is randomised per process; nothing may depend on it."""
    script = "import sys; from pathlib import Path; from ingest.synthetic import generate_dataset; "
    script += "generate_dataset(Path(sys.argv[1]), n_records=800, seed=11)"
    root = str(Path(ingest.synthetic.__file__).parent.parent)
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": root}
        subprocess.run([sys.executable, "-c", script, str(tmp_path / hash_seed)], check=True, env=env)
    assert file_bytes(tmp_path / "1") == file_bytes(tmp_path / "2")


def test_different_seed_gives_different_data(tmp_path: Path) -> None:
    generate_dataset(tmp_path / "a", n_records=1500, seed=3)
    generate_dataset(tmp_path / "b", n_records=1500, seed=4)
    first, second = file_bytes(tmp_path / "a"), file_bytes(tmp_path / "b")
    for name in ("crm.csv", "web.jsonl", "pos.parquet", "marketing.csv", "truth.csv", "people.csv"):
        assert first[name] != second[name], name


@pytest.mark.parametrize("n_records", [1, 40, 1000, 12_345])
def test_sizes_match_the_request(tmp_path: Path, n_records: int) -> None:
    data = generate_dataset(tmp_path, n_records=n_records, seed=1)
    config = yaml.safe_load(data.config_path.read_text())["sources"]
    rows = {s: len(read_source(tmp_path / config[s]["path"])) for s in SOURCES}
    assert rows == data.records_per_source
    assert data.n_records == sum(rows.values())
    assert abs(data.n_records - n_records) <= 0.1 * n_records
    assert data.n_people == max(1, round(n_records / 3))


def test_ten_thousand_records_are_quick(tmp_path: Path) -> None:
    start = time.perf_counter()
    generate_dataset(tmp_path, n_records=10_000)
    assert time.perf_counter() - start < 3.0  # about 0.5 s on the reference machine; slack for busy CI


def test_progress_is_reported_per_source(tmp_path: Path) -> None:
    calls: list[tuple[str, int]] = []
    data = generate_dataset(tmp_path, n_records=500, on_progress=lambda stage, n: calls.append((stage, n)))
    assert dict(calls) == data.records_per_source and len(calls) == len(SOURCES)


def test_rejects_nonsense_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_dataset(tmp_path, n_records=0)
    with pytest.raises(ValueError):
        generate_dataset(tmp_path, difficulty=-1)


# --- structure ------------------------------------------------------------------------------------


def test_truth_covers_every_row_exactly_once(dataset: SyntheticDataset, frames: dict[str, pd.DataFrame]) -> None:
    truth = pd.read_csv(dataset.truth_path, dtype=str, keep_default_na=False)
    assert list(truth.columns) == ["source", "record_id", "person_id"]
    assert not truth.duplicated(["source", "record_id"]).any()
    assert len(truth) == dataset.n_records
    for source, frame in frames.items():
        assert frame["person_id"].notna().all(), source
        assert (truth["source"] == source).sum() == len(frame)
    people = pd.read_csv(dataset.directory / "people.csv", dtype=str, keep_default_na=False)
    assert set(truth["person_id"]) <= set(people["person_id"])
    assert len(people) == dataset.n_people


def test_sources_yaml_describes_the_files(dataset: SyntheticDataset) -> None:
    config = yaml.safe_load(dataset.config_path.read_text())
    assert set(config) == {"sources"} and set(config["sources"]) == set(SOURCES)
    crm = config["sources"]["crm"]
    assert crm["identifiers"] == {
        "crm_id": "crm_id",
        "email": "email",
        "work_email": "email",
        "phone": "phone",
        "loyalty_card": "loyalty_id",
    }
    assert config["sources"]["web"]["event"] == {
        "type": "page_view",
        "timestamp": "ts",
        "properties": ["page", "category", "product", "sku"],
    }
    assert config["sources"]["pos"]["attributes"] == {"card_name": "full_name"}
    for name, source in config["sources"].items():
        assert set(source) <= {"path", "record_id", "identifiers", "attributes", "event"}, name
        columns = set(read_source(dataset.directory / source["path"]).columns)
        referenced = {source["record_id"], *source["identifiers"], *source.get("attributes", {})}
        if "event" in source:
            referenced |= {source["event"]["timestamp"], *source["event"]["properties"]}
        assert referenced <= columns, (name, referenced - columns)


# --- realism --------------------------------------------------------------------------------------


def test_households_share_a_phone_or_email(frames: dict[str, pd.DataFrame]) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for source, column in PHONE_COLUMNS.items():
        for value, person in zip(frames[source][column], frames[source]["person_id"], strict=False):
            if value and not is_junk_phone(value):
                owners[phonenumbers.format_number(phonenumbers.parse(value, "GB"), 0)].add(person)
    for source, columns in EMAIL_COLUMNS.items():
        for column in columns:
            for value, person in zip(frames[source][column], frames[source]["person_id"], strict=False):
                if "@" in value and value not in JUNK_EMAILS:
                    owners[value.strip().lower()].add(person)
    shared = {value for value, people in owners.items() if len(people) > 1 and "@" not in value}
    assert any(len(people) > 1 and "family@" in value for value, people in owners.items())
    assert len(shared) >= 3  # home landlines


def test_only_households_share_an_email(frames: dict[str, pd.DataFrame]) -> None:
    """Personal and work emails belong to one person; only family emails and junk are shared."""
    owners: dict[str, set[str]] = defaultdict(set)
    for source, columns in EMAIL_COLUMNS.items():
        for column in columns:
            for value, person in zip(frames[source][column], frames[source]["person_id"], strict=False):
                well_formed = value.count("@") == 1 and not value.strip().endswith("@")
                if well_formed and value not in JUNK_EMAILS:
                    owners[value.strip().lower()].add(person)
    shared = [value for value, people in owners.items() if len(people) > 1]
    assert shared and all(re.match(r"^(.+family|the.+s)(\.h\d+)?@", value) for value in shared), shared


def test_junk_and_malformed_identifiers_are_present(frames: dict[str, pd.DataFrame]) -> None:
    emails = present(frames["crm"]["email"]) + present(frames["marketing"]["email"])
    phones = present(frames["crm"]["phone"]) + present(frames["marketing"]["mobile"])
    assert {"test@test.com", "n/a"} & set(emails)
    assert any(e.endswith("@") or "@" not in e or "@@" in e for e in emails if e not in JUNK_EMAILS)
    assert set(JUNK_PHONES) & set(phones)
    assert any(len(re.sub(r"\D", "", p)) < 10 for p in phones if p not in JUNK_PHONES)
    assert set(JUNK_LOYALTY) & set(present(frames["pos"]["loyalty_card"]))


def test_clean_phones_are_valid_uk_numbers_in_several_formats(frames: dict[str, pd.DataFrame]) -> None:
    phones = [v for s, c in PHONE_COLUMNS.items() for v in present(frames[s][c]) if not is_junk_phone(v)]
    assert len(phones) > 500
    invalid = [p for p in phones if not phonenumbers.is_valid_number(phonenumbers.parse(p, "GB"))]
    assert invalid == []
    styles = [
        r"^07\d{9}$",
        r"^07\d{3} \d{6}$",
        r"^\+44 7\d{3} \d{6}$",
        r"^\(07\d{3}\) \d{3} \d{3}$",
        r"^00447\d{9}$",
        r"^\+447\d{9}$",
    ]
    for style in styles:
        assert any(re.match(style, p) for p in phones), style


@pytest.mark.parametrize("prefix", MOBILE_PREFIXES)
def test_every_mobile_block_validates(prefix: str) -> None:
    rng = np.random.default_rng(0)
    for number in rng.integers(0, 10**7, 30):
        assert phonenumbers.is_valid_number(phonenumbers.parse(f"{prefix}{number:07d}", "GB"))


@pytest.mark.parametrize("city", CITIES, ids=lambda c: c.name)
def test_every_landline_range_validates(city: ingest.synthetic_people.City) -> None:
    rng = np.random.default_rng(0)
    for lead in city.lead_digits:
        prefix = city.dial_code + lead
        for number in rng.integers(0, 10**7, 30):
            national = prefix + f"{number:07d}"[: 11 - len(prefix)]
            assert phonenumbers.is_valid_number(phonenumbers.parse(national, "GB")), national


def test_crm_duplicates_disagree_on_name_spelling(frames: dict[str, pd.DataFrame]) -> None:
    crm = frames["crm"]
    spelled = crm["first_name"].str.casefold().str.strip() + " " + crm["surname"].str.casefold().str.strip()
    spellings = spelled.groupby(crm["person_id"]).nunique()
    assert (crm["person_id"].value_counts() > 1).sum() >= 20
    assert (spellings > 1).sum() >= 5
    assert (crm["email"].str.strip().str.lower().groupby(crm["person_id"]).nunique() > 1).any()


def test_format_variants_are_present(frames: dict[str, pd.DataFrame]) -> None:
    crm = frames["crm"]
    for style in (r"^\d{4}-\d{2}-\d{2}$", r"^\d{2}/\d{2}/\d{4}$", r"^\d{1,2} [A-Z][a-z]{2} \d{4}$"):
        assert crm["dob"].str.match(style).any(), style
    assert (
        crm["dob"].str.match(r"^\d{4}-\d{2}-\d{2}$")
        | crm["dob"].str.match(r"^\d{2}/\d{2}/\d{4}$")
        | crm["dob"].str.match(r"^\d{1,2} [A-Z][a-z]{2} \d{4}$")
    ).all()
    emails = present(crm["email"])
    assert any(e != e.strip() for e in emails) and any(e.isupper() for e in emails)
    names = present(crm["first_name"])
    assert any(n.islower() for n in names) and any(n.isupper() and len(n) > 2 for n in names)
    assert any(n != n.strip() for n in names)
    everyone = " ".join(names + present(crm["surname"]))
    assert re.search(r"[éëüöó]", everyone) and "-" in everyone and "'" in everyone


def test_events_follow_each_persons_tastes(dataset: SyntheticDataset, frames: dict[str, pd.DataFrame]) -> None:
    people = pd.read_csv(dataset.directory / "people.csv", dtype=str, keep_default_na=False)
    tastes = {p: set(t.split("|")) for p, t in zip(people["person_id"], people["tastes"], strict=False)}
    assert all(1 <= len(t) <= 3 and t <= set(CATEGORY_NAMES) for t in tastes.values())
    for source in ("web", "pos"):
        frame = frames[source]
        hits = [c in tastes[p] for c, p in zip(frame["category"], frame["person_id"], strict=False)]
        assert 0.75 < np.mean(hits) < 0.92, source
        assert set(frame["category"]) == set(CATEGORY_NAMES)


def test_event_fields_are_well_typed(frames: dict[str, pd.DataFrame]) -> None:
    pos, web = frames["pos"], frames["web"]
    times = pd.to_datetime(pd.concat([pos["ts"], web["ts"]]), format="%Y-%m-%dT%H:%M:%SZ", utc=True)
    end = pd.Timestamp(str(REFERENCE_TIME), tz="UTC")
    assert times.max() <= end and times.min() >= end - pd.Timedelta(seconds=HISTORY_SECONDS)
    assert all(isinstance(a, float) and a > 0 for a in pos["amount"])
    assert web["page"].str.startswith("/").all() and (pos["store"] != "").all() and (pos["sku"] != "").all()
    assert (web["login_email"] != "").mean() > 0.2 and (web["cookie"] != "").all()
    assert (pos["loyalty_card"] != "").mean() > 0.6 and 0.05 < (pos["phone"] != "").mean() < 0.4
    assert (pos.groupby("person_id").size() > 1).any() and (web.groupby("person_id").size() > 1).any()


def test_difficulty_zero_is_clean(tmp_path: Path) -> None:
    data = generate_dataset(tmp_path, n_records=3000, difficulty=0.0)
    crm = pd.read_csv(tmp_path / "crm.csv", dtype=str, keep_default_na=False)
    assert crm["dob"].str.match(r"^\d{4}-\d{2}-\d{2}$").all()
    assert crm["phone"].str.match(r"^(0\d{10})?$").all()
    assert not (set(crm["email"]) & set(JUNK_EMAILS)) and data.records_per_source["crm"] == len(crm)
    assert (crm["first_name"] == crm["first_name"].str.strip()).all()


def test_doctests_pass() -> None:
    for module in (ingest.synthetic, ingest.synthetic_people):
        assert doctest.testmod(module).failed == 0, module.__name__
