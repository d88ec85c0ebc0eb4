"""Conflicting evidence keeps people who share an identifier apart, on each real store."""

from __future__ import annotations

from graph.model import IdentifierLink, SourceRecord
from graph.store import GraphStore
from resolve.explain import explain
from resolve.match_settings import MatchSettings
from resolve.runner import resolve
from resolve.settings import ResolveSettings


def _rec(rid: str, first: str, born: str, **ids: str) -> SourceRecord:
    links = [IdentifierLink(t.rstrip("_0123456789"), v) for t, v in ids.items()]
    attributes = {"first_name": first, "last_name": "Okafor", "birth_date": born, "postcode": "m1 1aa"}
    return SourceRecord("crm", rid, links, attributes, "2025-01-01T00:00:00Z")


def _family() -> list[SourceRecord]:
    return [
        _rec("mum", "Grace", "1961-04-02", crm_id="C1", email="okafors@x.com"),
        _rec("mum2", "Grace", "1961-04-02", crm_id="C1", phone="+447700900001"),
        _rec("son", "Tobi", "1993-09-17", crm_id="C2", email="okafors@x.com"),
    ]


def test_a_family_email_does_not_merge_mother_and_son(store: GraphStore) -> None:
    store.upsert_records(_family())
    summary = resolve(store, ResolveSettings())
    assigned = store.assignments().set_index("record")["profile_id"]
    assert assigned["crm:mum"] == assigned["crm:mum2"] != assigned["crm:son"]
    assert summary.households == 1  # linked as one household instead
    reasons = {r["identifier"]: r["reason"] for r in summary.rejected_examples}
    assert "email:okafors@x.com" in reasons and "first_name different" in reasons["email:okafors@x.com"]
    apart = explain(store, "crm:mum", "crm:son")
    assert [b.status for b in apart.barriers] == ["rejected"]
    assert "conflicting evidence" in apart.barriers[0].reason


def test_the_check_can_be_turned_off(store: GraphStore) -> None:
    store.upsert_records(_family())
    resolve(store, ResolveSettings(matching=MatchSettings(conflict_weight=None)))
    assert store.assignments()["profile_id"].nunique() == 1  # the shared email merges all three


def test_a_user_merge_outranks_conflicting_evidence(store: GraphStore) -> None:
    from api.access import Principal
    from api.service import CustomerService

    store.upsert_records(_family())
    resolve(store, ResolveSettings())
    assigned = store.assignments().set_index("record")["profile_id"]
    service = CustomerService(store, principal=Principal("ann"))
    service.merge_profiles([assigned["crm:mum"], assigned["crm:son"]], "one customer after all: name changed")
    assert store.assignments()["profile_id"].nunique() == 1
    resolve(store, ResolveSettings())  # and every later run keeps it
    assert store.assignments()["profile_id"].nunique() == 1
