"""Explanations against each real store: the chain of evidence, or the rule that kept two records apart."""

from __future__ import annotations

import pytest

from graph.errors import NotFound
from graph.model import IdentifierLink, SourceRecord
from graph.store import GraphStore
from resolve.explain import Hop, explain
from resolve.runner import resolve
from resolve.settings import ResolveSettings


def _rec(source: str, rid: str, **ids: str) -> SourceRecord:
    links = [IdentifierLink(t.rstrip("_0123456789"), v) for t, v in ids.items()]
    return SourceRecord(source, rid, links, {}, "2025-01-01T00:00:00Z")


def test_records_in_one_profile_are_explained_by_the_shortest_chain(store: GraphStore) -> None:
    store.upsert_records([
        _rec("crm", "1", email="ann@x.com", crm_id="1"),
        _rec("web", "s", email="ann@x.com", cookie_id="c1"),
        _rec("pos", "t", cookie_id="c1", loyalty_id="L1"),
        _rec("pos", "u", loyalty_id="L1"),
    ])  # fmt: skip
    resolve(store, ResolveSettings())
    result = explain(store, "crm:1", "pos:u")
    assert result.same_profile
    assert result.hops == [
        Hop("crm:1", "web:s", "email", "ann@x.com"),
        Hop("web:s", "pos:t", "cookie_id", "c1"),
        Hop("pos:t", "pos:u", "loyalty_id", "L1"),
    ]
    assert "linked by email ann@x.com, then cookie_id c1, then loyalty_id L1" in result.summary


def test_records_kept_apart_name_the_ignored_identifier_and_its_rule(store: GraphStore) -> None:
    store.upsert_records(
        [_rec("crm", "1", email="test@test.com"), _rec("crm", "2", email="test@test.com")]
        + [_rec("pos", str(n), phone="+442071234567") for n in range(5)]
        + [_rec("crm", "9", email="solo@x.com")]
    )
    resolve(store, ResolveSettings(max_records_per_identifier={"phone": 4}))
    placeholder = explain(store, "crm:1", "crm:2")
    assert not placeholder.same_profile
    assert [(b.identifier_value, b.status, b.records) for b in placeholder.barriers] == [
        ("test@test.com", "placeholder", 2)
    ]
    shared = explain(store, "pos:0", "pos:3")
    assert shared.barriers[0].reason == "links 5 records, over the phone cap of 4 (a shared value)"
    assert explain(store, "crm:1", "crm:9").summary == (
        "different profiles: no identifier links them; not scored: crm:1 has no attributes to compare"
    )


def test_unknown_and_unresolved_records(store: GraphStore) -> None:
    store.upsert_records([_rec("crm", "1", email="a@x.com")])
    assert explain(store, "crm:1", "crm:1").summary == "not resolved yet: run `cdp resolve`"
    with pytest.raises(NotFound, match="no record 'crm:404'"):
        explain(store, "crm:1", "crm:404")


def test_profiles_can_be_explained_by_id(store: GraphStore) -> None:
    store.upsert_records([
        _rec("crm", "1", email="test@test.com", crm_id="1"), _rec("crm", "2", email="test@test.com"),
        _rec("crm", "3", crm_id="1"),
    ])  # fmt: skip
    resolve(store, ResolveSettings())
    first = store.cypher("p", "MATCH (r:Record {key: 'crm:1'})-[:IN_PROFILE]->(p:CustomerProfile) RETURN p.id AS id")[
        0
    ]["id"]
    second = store.cypher("p", "MATCH (r:Record {key: 'crm:2'})-[:IN_PROFILE]->(p:CustomerProfile) RETURN p.id AS id")[
        0
    ]["id"]
    apart = explain(store, first, second)
    assert (apart.profile_a, apart.profile_b) == (first, second)
    assert [(b.identifier_value, b.status) for b in apart.barriers] == [("test@test.com", "placeholder")]
    mixed = explain(store, "crm:3", first)
    assert mixed.same_profile and mixed.summary == f"same profile {first}"
    with pytest.raises(NotFound, match="no profile 'p_nope'"):
        explain(store, "p_nope", first)
