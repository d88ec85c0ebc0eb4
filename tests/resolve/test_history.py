"""Profile history on each real store: created, merged, split and merged_into, with reason and actor."""

from __future__ import annotations

from api.service import CustomerService
from graph.model import IdentifierLink, SourceRecord
from graph.store import GraphStore
from resolve.runner import resolve
from resolve.settings import ResolveSettings


def _rec(rid: str, *emails: str) -> SourceRecord:
    return SourceRecord("crm", rid, [IdentifierLink("email", e) for e in emails], {}, "2025-01-01T00:00:00Z")


def _profile(store: GraphStore, key: str) -> str:
    frame = store.assignments()
    return str(frame.loc[frame["record"] == key, "profile_id"].iloc[0])


def _kinds(service: CustomerService, profile: str) -> list[tuple[str, str]]:
    return [(e.kind, e.detail) for e in service.history_of([profile]).get(profile, [])]


def test_history_records_creation_merges_and_splits(store: GraphStore) -> None:
    service = CustomerService(store)
    store.upsert_records([_rec("1", "a@x.com"), _rec("2", "a@x.com"), _rec("3", "b@x.com")])
    first = resolve(store, ResolveSettings())
    ann, bo = _profile(store, "crm:1"), _profile(store, "crm:3")
    assert _kinds(service, ann) == [("created", "2 records")]
    entry = service.history_of([ann])[ann][0]
    assert (entry.reason, entry.actor) == (f"resolve run {first.run_id}", "resolver")
    store.upsert_records([_rec("4", "a@x.com", "b@x.com")])  # joins Bo into Ann's profile
    resolve(store, ResolveSettings())
    assert _kinds(service, ann)[-1] == ("merged", bo)
    assert _kinds(service, bo) == [("created", "1 records"), ("merged_into", ann)]
    store.upsert_records([_rec("4", "c@x.com")])  # the bridge changes its email: Bo's record and it leave
    resolve(store, ResolveSettings())
    parts = [_profile(store, key) for key in ("crm:1", "crm:3", "crm:4")]
    assert parts[0] == ann and len(set(parts)) == 3
    assert _kinds(service, ann)[-1] == ("split", " ".join(sorted(parts)))
    assert [_kinds(service, p)[0][0] for p in parts[1:]] == ["created", "created"]


def test_a_dry_run_writes_no_history(store: GraphStore) -> None:
    store.upsert_records([_rec("1", "a@x.com")])
    resolve(store, ResolveSettings(), dry_run=True)
    assert store.cypher("n", "MATCH (e:ProfileEvent) RETURN count(*) AS n")[0]["n"] == 0
