"""Merged-away profile ids keep resolving, on each real store."""

from __future__ import annotations

from api.service import CustomerService
from graph.model import IdentifierLink, SourceRecord
from graph.store import GraphStore
from resolve.runner import resolve
from resolve.settings import ResolveSettings


def _rec(source: str, rid: str, *emails: str) -> SourceRecord:
    return SourceRecord(source, rid, [IdentifierLink("email", e) for e in emails], {}, "2025-01-01T00:00:00Z")


def _profile_of(store: GraphStore, key: str) -> str:
    frame = store.assignments()
    return str(frame.loc[frame["record"] == key, "profile_id"].iloc[0])


def test_an_id_merged_away_answers_with_its_successor_through_later_merges(store: GraphStore) -> None:
    service = CustomerService(store)
    store.upsert_records([_rec("crm", "1", "a@x.com"), _rec("crm", "2", "b@x.com")])
    resolve(store, ResolveSettings())
    first, second = _profile_of(store, "crm:1"), _profile_of(store, "crm:2")
    store.upsert_records([_rec("web", "s", "a@x.com", "b@x.com")])  # joins them: one id survives
    resolve(store, ResolveSettings())
    survivor = _profile_of(store, "crm:1")
    loser = second if survivor == first else first
    assert service.current_ids([loser, survivor, "p_unknown"]) == {loser: survivor, survivor: survivor}
    # a bigger profile absorbs the survivor: the first loser now follows two hops
    store.upsert_records([_rec("crm", str(n), "d@x.com") for n in range(7, 11)])
    resolve(store, ResolveSettings())
    biggest = _profile_of(store, "crm:7")
    store.upsert_records([_rec("web", "t", "a@x.com", "d@x.com")])
    summary = resolve(store, ResolveSettings())
    assert _profile_of(store, "crm:1") == biggest and summary.removed_profiles == 1
    assert service.current_ids([loser, survivor]) == {loser: biggest, survivor: biggest}


def test_a_split_keeps_the_id_with_the_larger_part_and_no_alias(store: GraphStore) -> None:
    store.upsert_records([_rec("crm", "1", "a@x.com"), _rec("crm", "2", "a@x.com"), _rec("crm", "3", "a@x.com")])
    resolve(store, ResolveSettings())
    whole = _profile_of(store, "crm:1")
    store.upsert_records([_rec("crm", "3", "c@x.com")])  # crm:3 leaves
    resolve(store, ResolveSettings())
    assert _profile_of(store, "crm:1") == whole and _profile_of(store, "crm:3") != whole
    assert store.cypher("n", "MATCH (a:ProfileAlias) RETURN count(*) AS n")[0]["n"] == 0
