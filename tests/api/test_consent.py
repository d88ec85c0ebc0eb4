"""Consent by purpose, on each store: sources map consent columns (with the time given or withdrawn) at
ingest; the 360 view keeps the latest statement per purpose with its source and history; an export of
contact details honours the purpose it names; `email_opt_in` is the email purpose."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.embeddings import EmbeddingSettings, embed_store
from api.service import CustomerService
from graph.errors import CdpError, InvalidRequest
from graph.model import Event, IdentifierLink, SourceRecord
from graph.store import GraphStore
from ingest.config import load_config
from ingest.pipeline import ingest
from resolve.consent import consent_of
from resolve.runner import resolve
from resolve.settings import ResolveSettings
from tests.api.conftest import Server

SOURCES = """
sources:
  crm:
    path: crm.csv
    record_id: id
    identifiers: {email: email, phone: phone}
    consent:
      email: {column: email_ok, at: email_ok_at}
      sms: sms_ok
  web:
    path: web.csv
    record_id: id
    identifiers: {email: email}
    attributes: {newsletter: email_opt_in}
"""
CRM = """id,email,phone,email_ok,email_ok_at,sms_ok
1,ann@x.com,07911 123456,yes,2025-01-10T09:00:00Z,no
2,bob@x.com,07812 345678,yes,2025-03-01,yes
3,cat@x.com,07700 900123,maybe,not a time,Y
"""
WEB = """id,email,newsletter
w1,ann@x.com,no
"""


def _ingested(store: GraphStore, tmp_path: Path) -> CustomerService:
    (tmp_path / "sources.yaml").write_text(SOURCES)
    (tmp_path / "crm.csv").write_text(CRM)
    (tmp_path / "web.csv").write_text(WEB)
    summary = ingest(load_config(tmp_path / "sources.yaml"), store, tmp_path / "rejects")
    assert {s.source: s.invalid_values for s in summary.sources}["crm"] == {"email_ok": 1, "email_ok_at": 1}
    resolve(store, ResolveSettings())
    return CustomerService(store)


def _profile(service: CustomerService, email: str) -> str:
    [pid] = service.profiles_by_identifier("email", email)
    return pid


def test_the_latest_statement_per_purpose_wins_with_its_history(store: GraphStore, tmp_path: Path) -> None:
    service = _ingested(store, tmp_path)
    ann, bob, cat = (_profile(service, e) for e in ("ann@x.com", "bob@x.com", "cat@x.com"))
    found = service.consent_of([ann, bob, cat])
    email = found[ann]["email"]  # granted in the CRM on 10 January, withdrawn on the website when last seen
    assert (email.granted, email.source) == (False, "web")
    assert [(s.granted, s.source) for s in email.history] == [(True, "crm"), (False, "web")]
    assert email.history[0].at == "2025-01-10T09:00:00Z"
    assert (found[ann]["sms"].granted, found[bob]["sms"].granted, found[bob]["email"].at) == (
        False, True, "2025-03-01T00:00:00Z",
    )  # fmt: skip
    assert set(found[cat]) == {"sms"}  # "maybe" is no statement: dropped at ingest, listed in the rejects file
    assert "email_ok" in (tmp_path / "rejects" / "crm.csv").read_text()
    golden = {a.name for a in service.golden_of([ann])[ann]}
    assert not {n for n in golden if n.startswith("consent_")}  # consent has its own view


def test_consent_over_graphql(server: Server) -> None:
    server.store.upsert_records([
        SourceRecord("app", "a1", [IdentifierLink("email", "ann@mailbox.co.uk")],
                     {"consent_ads": "true", "consent_ads_at": "2026-01-02T00:00:00Z"}, "2026-01-03T00:00:00Z"),
    ])  # fmt: skip
    resolve(server.store, ResolveSettings(blocklist={"email": ["family@mailbox.co.uk"]}))
    body = server.query('{ profileByRecord(source: "app", recordId: "a1") { consent { purpose granted at source '
                        "history { granted at source } } } }")  # fmt: skip
    assert body["data"]["profileByRecord"]["consent"] == [
        {"purpose": "ads", "granted": True, "at": "2026-01-02T00:00:00Z", "source": "app",
         "history": [{"granted": True, "at": "2026-01-02T00:00:00Z", "source": "app"}]},
    ]  # fmt: skip


def _shoppers(n: int = 24) -> list[SourceRecord]:
    """Shoppers with an email and a phone; a third consent to email, a third to sms, a third to ads."""
    purposes = ["email", "sms", "ads"]
    return [
        SourceRecord("shop", str(c), [IdentifierLink("email", f"c{c}@x.com"), IdentifierLink("phone", f"+4477009001{c:02d}")],
                     {f"consent_{purposes[c % 3]}": "true"}, "2025-01-01T00:00:00Z",
                     [Event("purchase", f"2025-0{k + 1}-01T00:00:00Z", {"sku": f"S{(c + k) % 4}"}) for k in range(3)])
        for c in range(n)
    ]  # fmt: skip


@pytest.mark.parametrize(("purpose", "email", "phone"), [("email", 0, None), ("sms", None, 1), ("ads", 2, 2),
                                                        ("analytics", None, None)])  # fmt: skip
def test_an_audience_carries_only_what_its_purpose_allows_and_was_consented(
    store: GraphStore, purpose: str, email: int | None, phone: int | None
) -> None:
    store.upsert_records(_shoppers())
    resolve(store, ResolveSettings())
    embed_store(store, EmbeddingSettings(workers=1, walks_per_node=10, dimensions=8))
    service = CustomerService(store)
    seeds = [service.profiles_by_identifier("email", "c0@x.com")[0]]
    from analytics.lookalike import SeedList

    audience, _ = service.lookalike(SeedList([("seed", seeds[0])], []), 20, purpose)
    number = audience["profile_id"].map({service.profiles_by_identifier("email", f"c{c}@x.com")[0]: c
                                         for c in range(24)})  # fmt: skip
    with_email = set(number[audience["email"] != ""] % 3)
    with_phone = set(number[audience["phone"] != ""] % 3)
    assert with_email == ({email} if email is not None else set())
    assert with_phone == ({phone} if phone is not None else set())


def test_an_unknown_purpose_is_an_error_listing_them(store: GraphStore) -> None:
    store.upsert_records(_shoppers(6))
    resolve(store, ResolveSettings())
    embed_store(store, EmbeddingSettings(workers=1, walks_per_node=5, dimensions=8))
    from analytics.lookalike import SeedList

    service = CustomerService(store)
    with pytest.raises(InvalidRequest, match="unknown purpose 'phone' \\(purposes: email, sms, ads, analytics\\)"):
        service.lookalike(SeedList([("seed", service.profiles_by_identifier("email", "c0@x.com")[0])], []), 3, "phone")


def test_a_consent_purpose_outside_the_list_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(SOURCES.replace("sms: sms_ok", "fax: sms_ok"))
    with pytest.raises(CdpError, match="fax"):
        load_config(tmp_path / "s.yaml")


def test_consent_of_ties_and_legacy_opt_in() -> None:
    same_time = [("a", "2025-01-01T00:00:00Z", {"consent_sms": "true"}), ("b", "2025-01-01T00:00:00Z",
                                                                         {"consent_sms": "false"})]  # fmt: skip
    assert consent_of(same_time)["sms"].source == "b"  # equal times: ordered by source, the last wins
    assert consent_of([("w", "2025-01-01T00:00:00Z", {"email_opt_in": "true"})])["email"].granted is True
    assert consent_of([("w", "2025-01-01T00:00:00Z", {"consent_fax": "true", "city": "Leeds"})]) == {}
