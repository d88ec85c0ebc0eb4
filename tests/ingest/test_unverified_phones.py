"""Phones the right length for their country but in no assigned range: kept, flagged unverified, linked on.
And the hint when a source's phones look written in another region than the default one."""

from __future__ import annotations

import csv
from pathlib import Path

from graph.store import GraphStore
from ingest.config import load_config
from ingest.pipeline import IngestSummary, ingest
from resolve.runner import resolve
from resolve.settings import ResolveSettings

SOURCES = """
sources:
  crm:
    path: crm.csv
    record_id: crm_id
    identifiers: {phone: phone}
    attributes: {first_name: first_name}
options: {default_region: %s}
"""
CRM = """crm_id,phone,first_name
C1,07700 900123,Ann
C2,+44 (0)7700-900123,Ann
C3,+1 555 555 5555,Bob
C4,07700 9001234,Cat
C5,07911 123456,Dan
C6,7946 0958,Eve
"""
US_NUMBERS = """crm_id,phone,first_name
U1,(415) 555-2671,Ann
U2,212 555 0188,Bob
U3,312.555.0199,Cat
U4,+1 617 253 1000,Dan
U5,call me,Eve
"""


def _ingest(tmp_path: Path, store: GraphStore, rows: str, region: str = "GB") -> IngestSummary:
    (tmp_path / "sources.yaml").write_text(SOURCES % region)
    (tmp_path / "crm.csv").write_text(rows)
    return ingest(load_config(tmp_path / "sources.yaml"), store, tmp_path / "rejects")


def _groups(store: GraphStore) -> set[frozenset[str]]:
    frame = store.assignments()
    return {frozenset(group) for group in frame.groupby("profile_id")["record"].agg(set)}


def _rejected(tmp_path: Path) -> dict[str, str]:
    with (tmp_path / "rejects" / "crm.csv").open(newline="") as handle:
        return {row["value"]: row["reason"] for row in csv.DictReader(handle)}


def test_a_possible_number_in_no_assigned_range_is_kept_and_links_records(tmp_path: Path, store: GraphStore) -> None:
    summary = _ingest(tmp_path, store, CRM)
    assert summary.sources[0].invalid_values == {"phone": 2}  # the wrong length and the local number only
    assert _rejected(tmp_path) == {
        "07700 9001234": "not a valid phone: wrong length for its country",
        "7946 0958": "not a valid phone: a local number without its area code",
    }
    links = store.record_links()
    assert dict(zip(links["record"], links["identifier"], strict=True)) == {
        "crm:C1": "phone:+447700900123", "crm:C2": "phone:+447700900123", "crm:C3": "phone:+15555555555",
        "crm:C5": "phone:+447911123456",
    }  # fmt: skip
    unverified = set(links.loc[links["unverified"], "identifier"])
    assert unverified == {"phone:+447700900123", "phone:+15555555555"}
    resolve(store, ResolveSettings())
    assert frozenset({"crm:C1", "crm:C2"}) in _groups(store)
    statuses = {(row["status"], row["n"]) for row in store.identifiers_by_type()}
    assert statuses == {("unverified", 2), ("active", 1)}  # the placeholder is on one record: it links nothing


def test_a_placeholder_phone_is_still_ignored(tmp_path: Path, store: GraphStore) -> None:
    _ingest(tmp_path, store, "crm_id,phone,first_name\nC1,+15555555555,Ann\nC2,+1 (555) 555-5555,Bob\n")
    summary = resolve(store, ResolveSettings())
    assert _groups(store) == {frozenset({"crm:C1"}), frozenset({"crm:C2"})}
    assert summary.ignored_identifiers == {"placeholder": 1}
    assert store.flagged_identifiers() == {"phone:+15555555555": "placeholder"}


def test_us_numbers_read_in_gb_get_a_region_hint(tmp_path: Path, store: GraphStore) -> None:
    (crm,) = _ingest(tmp_path, store, US_NUMBERS, region="GB").sources
    assert crm.region_hint == (
        "4 of 4 phones written without a country code (100%) are not valid numbers in the default region GB; "
        "3 of 4 sampled are valid in US: set `options: {default_region: US}` in sources.yaml if that is where "
        "they come from"
    )  # +1 617 says where it is from; "call me" is a number nowhere
    (again,) = _ingest(tmp_path, store, US_NUMBERS, region="US").sources
    assert again.region_hint is None


def test_no_hint_when_most_phones_are_valid_or_junk_everywhere(tmp_path: Path, store: GraphStore) -> None:
    valid = "crm_id,phone,first_name\nC1,07911 123456,Ann\nC2,020 7946 0958,Bob\nC3,(415) 555-2671,Cat\n"
    (crm,) = _ingest(tmp_path, store, valid).sources
    assert crm.region_hint is None  # one US number in three
    junk = "crm_id,phone,first_name\nC1,call me,Ann\nC2,n/a,Bob\nC3,12,Cat\n"
    (crm,) = _ingest(tmp_path, store, junk).sources
    assert crm.region_hint is None  # not a region problem: the rejects file lists them
