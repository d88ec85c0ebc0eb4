"""Households on each real store: people who share a home are linked, never merged."""

from __future__ import annotations

from api.service import CustomerService
from graph.model import IdentifierLink, SourceRecord
from graph.store import GraphStore
from resolve.runner import resolve
from resolve.settings import ResolveSettings


def _rec(rid: str, *links: tuple[str, str]) -> SourceRecord:
    return SourceRecord("crm", rid, [IdentifierLink(t, v) for t, v in links], {}, "2025-01-01T00:00:00Z")


def _profile(store: GraphStore, key: str) -> str:
    frame = store.assignments()
    return str(frame.loc[frame["record"] == key, "profile_id"].iloc[0])


def test_people_sharing_a_family_email_are_one_household_not_one_profile(store: GraphStore) -> None:
    store.upsert_records([
        _rec("1", ("national_id", "AB123456C"), ("email", "smiths@home.net"), ("phone", "+447911000001")),
        _rec("2", ("national_id", "CD654321A"), ("email", "smiths@home.net")),
        _rec("3", ("phone", "+447911000001")),                       # same person as 1, by phone
        _rec("4", ("email", "test@test.com")), _rec("5", ("email", "test@test.com")),  # junk, not a home
        _rec("6", ("email", "jo@x.com")),
    ])  # fmt: skip
    summary = resolve(store, ResolveSettings())
    one, two = _profile(store, "crm:1"), _profile(store, "crm:2")
    assert one != two and _profile(store, "crm:3") == one and summary.households == 1
    homes = CustomerService(store).household_of([one, two, _profile(store, "crm:4"), _profile(store, "crm:6")])
    assert dict(homes) == {one: [two], two: [one]}


def test_a_value_held_by_too_many_profiles_is_not_a_home(store: GraphStore) -> None:
    store.upsert_records([_rec(str(n), ("phone", "+442071234567")) for n in range(5)])
    summary = resolve(store, ResolveSettings(max_records_per_identifier={"phone": 2}, max_household_profiles=4))
    assert summary.profiles == 5 and summary.households == 0
    lifted = resolve(store, ResolveSettings(max_records_per_identifier={"phone": 2}, max_household_profiles=5))
    assert lifted.households == 1
    assert len(CustomerService(store).household_of([_profile(store, "crm:0")])[_profile(store, "crm:0")]) == 4
