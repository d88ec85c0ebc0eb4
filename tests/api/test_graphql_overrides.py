"""The mergeProfiles and splitProfile mutations over real HTTP, on each store."""

from __future__ import annotations

from resolve.runner import resolve
from resolve.settings import last_run_settings
from tests.api.conftest import Server

MERGE = """mutation($ids: [ID!]!, $reason: String!) { mergeProfiles(ids: $ids, reason: $reason) {
    id size history { kind detail reason actor } } }"""
SPLIT = """mutation($id: ID!, $records: [String!]!, $reason: String!) {
    splitProfile(id: $id, records: $records, reason: $reason) {
    id size records { source recordId } history { kind detail reason actor } } }"""


def _id_of(server: Server, record_id: str) -> str:
    query = 'query($r: String!) { profileByRecord(source: "crm", recordId: $r) { id } }'
    return server.query(query, r=record_id)["data"]["profileByRecord"]["id"]


def test_merge_profiles_joins_them_for_good_and_the_old_id_follows(server: Server) -> None:
    ann, bob = _id_of(server, "C1"), _id_of(server, "C4")
    merged = server.query(MERGE, ids=[bob, ann], reason="Bob is Ann's second account")["data"]["mergeProfiles"]
    assert merged["id"] == ann and merged["size"] == 7  # Ann's five records keep her id
    assert merged["history"][-1] == {
        "kind": "merged", "detail": bob, "reason": "Bob is Ann's second account", "actor": "tests",  # the API key's name
    }  # fmt: skip
    by_old_id = server.query("query($id: ID!) { profile(id: $id) { id size } }", id=bob)["data"]["profile"]
    assert by_old_id == {"id": ann, "size": 7}
    resolve(server.store, last_run_settings(server.store))  # a later plain resolve keeps the merge
    assert _id_of(server, "C4") == ann and _id_of(server, "C6") != _id_of(server, "C5")  # the blocklist still holds


def test_split_profile_keeps_the_records_apart_for_good(server: Server) -> None:
    ann = _id_of(server, "C1")
    parts = server.query(SPLIT, id=ann, records=["crm:C2"], reason="C2 is Ann's mother")["data"]["splitProfile"]
    assert [(p["size"], [r["recordId"] for r in p["records"]]) for p in parts] == [
        (4, ["C1", "C3", "T1", "T2"]), (1, ["C2"]),
    ]  # fmt: skip
    assert parts[0]["id"] == ann
    assert parts[0]["history"][-1] == {
        "kind": "split", "detail": " ".join(sorted(p["id"] for p in parts)), "reason": "C2 is Ann's mother",
        "actor": "tests",  # the API key's name
    }  # fmt: skip
    resolve(server.store, last_run_settings(server.store))
    assert _id_of(server, "C2") == parts[1]["id"] and _id_of(server, "C1") == ann
    why = server.query('{ explain(a: "crm:C1", b: "crm:C2") { sameProfile barriers { reason } } }')["data"]["explain"]
    assert why == {"sameProfile": False, "barriers": [{"reason": "was cut: split by user: C2 is Ann's mother"}]}


def test_wrong_overrides_are_errors_that_name_the_ids(server: Server) -> None:
    ann, bob = _id_of(server, "C1"), _id_of(server, "C4")
    cases = [
        (MERGE, {"ids": [ann, "p_nope"], "reason": "x"}, "no profile 'p_nope'"),
        (MERGE, {"ids": [ann], "reason": "x"}, f"a merge needs two or more different profiles, got only '{ann}'"),
        (SPLIT, {"id": ann, "records": ["crm:C4"], "reason": "x"}, f"record 'crm:C4' not in profile '{ann}'"),
        (SPLIT, {"id": bob, "records": ["crm:C4", "pos:T3"], "reason": "x"}, "cannot split off all 2 records"),
        (SPLIT, {"id": bob, "records": ["crm:C4"], "reason": " "}, "a reason is required"),
    ]
    for mutation, variables, message in cases:
        body = server.query(mutation, **variables)
        assert body["data"] is None and message in body["errors"][0]["message"], body
    assert server.store.overrides().empty
