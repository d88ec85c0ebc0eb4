"""GraphQL errors stay local, over real HTTP on each store: a field that cannot be answered is null with an
error at its path and the rest comes back; paging arguments out of range and unknown identifier types are
errors that say what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.service import CustomerService
from ingest.config import load_config
from ingest.lookup import remember_ingest
from ingest.normalise import NormaliseOptions
from ingest.pipeline import ingest
from resolve.runner import resolve
from resolve.settings import ResolveSettings
from tests.api.conftest import Server

ANN = 'profileByRecord(source: "crm", recordId: "C1")'
CLUB_SOURCES = """
sources:
  club:
    path: club.csv
    record_id: member
    identifiers: {member: member_no, email: email}
"""
CLUB = "member,email\nM-7,ann@mailbox.co.uk\n"


def _errors(body: dict) -> list[tuple[str, list]]:
    return [(e["message"], e.get("path")) for e in body.get("errors", [])]


def test_recommendations_before_embed_fail_alone(server: Server) -> None:
    body = server.query(f"{{ {ANN} {{ id size records {{ recordId }} recommendations {{ product score }} }} }}")
    profile = body["data"]["profileByRecord"]
    assert profile["size"] == 5 and len(profile["records"]) == 5 and profile["recommendations"] is None
    [(message, path)] = _errors(body)
    assert path == ["profileByRecord", "recommendations"] and "cdp embed" in message


def test_a_failing_root_field_leaves_the_others(server: Server) -> None:
    pid = server.query(f"{{ {ANN} {{ id }} }}")["data"]["profileByRecord"]["id"]
    body = server.query(f"query($id: ID!) {{ similarProfiles(id: $id) {{ score }} {ANN} {{ id }} }}", id=pid)
    assert body["data"] == {"similarProfiles": None, "profileByRecord": {"id": pid}}
    [(message, path)] = _errors(body)
    assert path == ["similarProfiles"] and "cdp embed" in message


def test_an_unexpected_failure_is_masked_and_stays_local(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(CustomerService, "traits_from", staticmethod(broken))
    body = server.query(f"{{ {ANN} {{ size traits {{ frequency }} attributes {{ name }} }} }}")
    profile = body["data"]["profileByRecord"]
    assert profile["size"] == 5 and profile["traits"] is None and profile["attributes"]
    assert _errors(body) == [("Unexpected error.", ["profileByRecord", "traits"])]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{ profiles(first: 100000) { edges { cursor } } }", "first must be between 0 and 500 (got 100000)"),
        ("{ profiles(first: -1) { edges { cursor } } }", "first must be between 0 and 500 (got -1)"),
        (f"{{ {ANN} {{ events(limit: -1) {{ type }} }} }}", "limit must be between 0 and 10000 (got -1)"),
        (f"{{ {ANN} {{ recommendations(k: 101) {{ product }} }} }}", "k must be between 0 and 100 (got 101)"),
        ('{ similarProfiles(id: "p", k: 501) { score } }', "k must be between 0 and 500 (got 501)"),
        ('{ similarProfiles(id: "p", k: -2) { score } }', "k must be between 0 and 500 (got -2)"),
        ('{ lookalikeAudience(size: 10001, profileIds: ["p"]) { unknownSeeds } }',
         "size must be between 0 and 10000 (got 10001)"),
    ],
)  # fmt: skip
def test_paging_arguments_out_of_range_are_errors_naming_the_limit(server: Server, query: str, message: str) -> None:
    assert [m for m, _ in _errors(server.query(query))] == [message]


def test_paging_arguments_at_the_limits_are_answered(server: Server) -> None:
    body = server.query(f"{{ all: profiles(first: 500) {{ edges {{ cursor }} }} none: profiles(first: 0) {{ "
                        f"edges {{ cursor }} }} {ANN} {{ events(limit: 0) {{ type }} }} }}")  # fmt: skip
    assert "errors" not in body
    assert len(body["data"]["all"]["edges"]) == 4 and body["data"]["none"]["edges"] == []
    assert body["data"]["profileByRecord"]["events"] == []


def test_an_unknown_identifier_type_is_an_error_listing_the_known_ones(server: Server, tmp_path: Path) -> None:
    (tmp_path / "club.yaml").write_text(CLUB_SOURCES)  # a source mapping a type of its own: member_no
    (tmp_path / "club.csv").write_text(CLUB)
    club = load_config(tmp_path / "club.yaml")
    remember_ingest(server.store, NormaliseOptions(), set(club.sources["club"].identifiers.values()))  # as cdp ingest
    ingest(club, server.store, tmp_path / "rejects")
    resolve(server.store, ResolveSettings(blocklist={"email": ["family@mailbox.co.uk"]}))
    known = "cookie_id, crm_id, device_id, email, loyalty_id, member_no, national_id, phone"
    for field in ("profileByIdentifier", "profilesByIdentifier"):
        body = server.query(f'{{ {field}(type: "emial", value: "ann@mailbox.co.uk") {{ id }} }}')
        assert body["data"] == {field: None}
        assert _errors(body) == [(f"unknown identifier type 'emial'; known: {known}", [field])]
    custom = server.query('{ profileByIdentifier(type: "member_no", value: "M-7") { records { recordId } } }')
    assert "errors" not in custom and {"C1", "M-7"} <= {
        r["recordId"] for r in custom["data"]["profileByIdentifier"]["records"]
    }
    seeds = server.query('{ lookalikeAudience(size: 5, identifiers: [{type: "emial", value: "a@b.co"}]) { '
                         "unknownSeeds } }")  # fmt: skip
    [(message, _)] = _errors(seeds)
    assert f"identifiers[0]: unknown identifier type 'emial'; known: {known}" in message
