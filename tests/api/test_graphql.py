"""The GraphQL API over real HTTP, on each store."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.schema import build_schema
from graph.errors import ConfigError
from graph.model import IdentifierLink, SourceRecord
from graph.settings import StoreSettings
from resolve.incremental import saved_model
from resolve.match_settings import MatchSettings
from resolve.runner import resolve
from resolve.settings import ResolveSettings
from tests.api.conftest import Server

PROFILE_FIELDS = """
  id size
  identifiers { type value sources firstSeen lastSeen status }
  records { source recordId attributes }
  events { type timestamp source properties }
  attributes { name value source support }
"""


def test_healthz(server: Server) -> None:
    body = httpx.get(f"{server.url}/healthz").json()
    assert body["status"] == "ok" and body["store"] == server.store.kind


def test_graphiql_is_served(server: Server) -> None:
    page = httpx.get(f"{server.url}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


def test_profile_by_identifier_normalises_the_value_and_returns_the_360_view(server: Server) -> None:
    data = server.query(
        f'query($v: String!) {{ profileByIdentifier(type: "phone", value: $v) {{ {PROFILE_FIELDS} }} }}',
        v="+44 (0) 7911-123456",
    )
    profile = data["data"]["profileByIdentifier"]
    records = {(r["source"], r["recordId"]) for r in profile["records"]}
    assert records == {("crm", "C1"), ("crm", "C2"), ("crm", "C3"), ("pos", "T1"), ("pos", "T2")}
    assert profile["size"] == 5
    phone = next(i for i in profile["identifiers"] if i["type"] == "phone")
    assert phone == {
        "type": "phone", "value": "+447911123456", "sources": ["crm", "pos"],
        "firstSeen": phone["firstSeen"], "lastSeen": phone["lastSeen"], "status": "active",
    }  # fmt: skip
    assert phone["firstSeen"] <= "2025-01-05T10:00:00Z" <= phone["lastSeen"] or phone["lastSeen"] >= "2025"
    assert [e["timestamp"] for e in profile["events"]] == ["2025-02-05T10:00:00Z", "2025-01-05T10:00:00Z"]
    assert profile["events"][1]["properties"] == {"sku": "SKU-1", "amount": 10.5}
    golden = {a["name"]: (a["value"], a["support"]) for a in profile["attributes"]}
    assert golden == {"first_name": ("Ann", 2), "last_name": ("Smith", 3), "city": ("Leeds", 2)}


def test_profile_by_id_and_by_record_agree(server: Server) -> None:
    by_record = server.query('{ profileByRecord(source: "pos", recordId: "T3") { id records { recordId } } }')
    profile = by_record["data"]["profileByRecord"]
    assert {r["recordId"] for r in profile["records"]} == {"C4", "T3"}
    by_id = server.query("query($id: ID!) { profile(id: $id) { id size } }", id=profile["id"])
    assert by_id["data"]["profile"] == {"id": profile["id"], "size": 2}
    assert server.query('{ profile(id: "p_nope") { id } }')["data"]["profile"] is None


def test_a_shared_identifier_is_an_explained_error(server: Server) -> None:
    body = server.query('{ profileByIdentifier(type: "email", value: "family@mailbox.co.uk") { id } }')
    assert "shared by 2 profiles" in body["errors"][0]["message"]
    many = server.query('{ profilesByIdentifier(type: "email", value: "FAMILY@mailbox.co.uk") { id } }')
    assert len(many["data"]["profilesByIdentifier"]) == 2


def test_an_invalid_lookup_value_is_a_clear_error(server: Server) -> None:
    body = server.query('{ profileByIdentifier(type: "email", value: "not an email") { id } }')
    assert "not a valid value" in body["errors"][0]["message"]


def test_explain_gives_the_evidence_chain_or_the_rule_that_kept_records_apart(server: Server) -> None:
    query = """query($a: String!, $b: String!) { explain(a: $a, b: $b) {
        sameProfile summary hops { fromRecord toRecord kind identifierType identifierValue }
        barriers { identifierType identifierValue status records reason }
        pairScore { probability weight threshold blockingRules note comparisons { comparison level weight } }
        unscored } }"""
    joined = server.query(query, a="crm:C2", b="pos:T1")["data"]["explain"]
    assert joined["sameProfile"] and [h["identifierType"] for h in joined["hops"]] == ["email", "phone"]
    assert joined["pairScore"] is None and joined["unscored"] is None
    assert joined["hops"][0] == {
        "fromRecord": "crm:C2", "toRecord": "crm:C1", "kind": "shared_identifier",
        "identifierType": "email", "identifierValue": "ann@mailbox.co.uk",
    }  # fmt: skip
    apart = server.query(query, a="crm:C5", b="crm:C6")["data"]["explain"]
    assert not apart["sameProfile"] and apart["barriers"] == [{
        "identifierType": "email", "identifierValue": "family@mailbox.co.uk", "status": "blocklisted",
        "records": 2, "reason": "is on the user blocklist",
    }]  # fmt: skip
    score = apart["pairScore"]  # Cat and Dan Lee: no blocking rule brings them together
    assert score["blockingRules"] == [] and score["threshold"] == 0.95
    assert score["note"].startswith("not scored: the records share no blocking key") and apart["summary"].endswith(
        score["note"]
    )
    levels = {c["comparison"]: c["level"] for c in score["comparisons"]}
    # email_local: compared because the sources map emails (zero-config), missing on one of these two
    assert levels == {"first_name": "different", "last_name": "exact", "city": "exact", "email_local": "missing"}
    model = saved_model(server.store)
    assert model is not None
    assert score["weight"] == pytest.approx(model.prior_weight() + sum(c["weight"] for c in score["comparisons"]))
    bare = server.query(query, a="pos:T3", b="crm:C5")["data"]["explain"]
    assert bare["pairScore"] is None and bare["unscored"] == "not scored: pos:T3 has no attributes to compare"
    missing = server.query(query, a="crm:C1", b="crm:C99")
    assert "no record 'crm:C99'" in missing["errors"][0]["message"]


def test_a_merged_away_profile_id_answers_with_the_surviving_profile(server: Server) -> None:
    ann = server.query('{ profileByRecord(source: "crm", recordId: "C1") { id } }')["data"]["profileByRecord"]["id"]
    bob = server.query('{ profileByRecord(source: "crm", recordId: "C4") { id } }')["data"]["profileByRecord"]["id"]
    links = [IdentifierLink("email", "ann@mailbox.co.uk"), IdentifierLink("email", "bob@mailbox.co.uk")]
    server.store.upsert_records([SourceRecord("web", "x", links, {}, "2025-06-01T00:00:00Z")])
    # Ann Smith and Bob Jones disagree on both names: the attribute check would part them again
    off = MatchSettings(conflict_weight=None, household_conflict_weight=None)
    resolve(server.store, ResolveSettings(blocklist={"email": ["family@mailbox.co.uk"]}, matching=off))
    merged = server.query("query($id: ID!) { profile(id: $id) { id size } }", id=bob)["data"]["profile"]
    assert merged == {"id": ann, "size": 8}  # Ann's five records, Bob's two, and the session joining them


def test_a_profile_has_a_history(server: Server) -> None:
    query = '{ profileByRecord(source: "crm", recordId: "C4") { history { kind detail reason actor at } } }'
    history = server.query(query)["data"]["profileByRecord"]["history"]
    assert [(h["kind"], h["detail"], h["actor"]) for h in history] == [("created", "2 records", "resolver")]
    assert history[0]["reason"].startswith("resolve run ") and history[0]["at"] >= "2026"


def test_a_household_lists_the_other_people_of_a_shared_home(server: Server) -> None:
    query = '{ profileByRecord(source: "crm", recordId: "C5") { id household { records { recordId } } } }'
    profile = server.query(query)["data"]["profileByRecord"]
    assert [[r["recordId"] for r in m["records"]] for m in profile["household"]] == [["C6"]]  # family email


def test_cursor_pagination_visits_every_profile_once(server: Server) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = server.query(
            "query($after: String) { profiles(first: 2, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }",
            after=after,
        )["data"]["profiles"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    total = server.store.cypher("n", "MATCH (p:CustomerProfile) RETURN count(*) AS n")[0]["n"]
    assert len(seen) == len(set(seen)) == total == 4


def test_dataloaders_batch_one_read_per_field(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = server.store.run
    monkeypatch.setattr(server.store, "run", lambda query, **k: calls.append(query.name) or original(query, **k))
    found = server.query(
        "{ profiles(first: 10) { edges { node { id size records { recordId } identifiers { value } } } } }"
    )
    profiles = len(found["data"]["profiles"]["edges"])
    assert calls.count("api_key_by_hash") == 1  # the key checked once per request, then the data
    # one read per field for all the profiles: on a store that reads profiles by id one id at a time
    # (graph.cypher.per_profile), that read runs its one-profile form once per profile
    reads = Counter(c.removesuffix("_one") for c in calls if c != "api_key_by_hash")
    per_id = profiles if server.store.per_profile_reads else 1
    assert profiles > 1
    assert reads == {"profile_page": 1, "profiles_by_id": 1, "profile_records": per_id, "profile_identifiers": per_id}


def test_committed_schema_matches_the_code() -> None:
    committed = (Path(__file__).parents[2] / "schema.graphql").read_text()
    assert committed == build_schema().as_str() + "\n", "run: cdp schema --out schema.graphql"


def test_refuses_to_serve_neo4j_with_a_default_password() -> None:
    for password in ("", "neo4j", "password"):
        with pytest.raises(ConfigError, match="refusing to serve"):
            create_app(StoreSettings(store="neo4j", neo4j_password=password))
