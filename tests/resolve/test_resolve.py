"""Deterministic resolution against each real store: shared identifiers join, junk never chains."""

from __future__ import annotations

import random

import networkx as nx
import pandas as pd

from graph.model import IdentifierLink, SourceRecord
from graph.store import GraphStore
from resolve.runner import resolve
from resolve.settings import ResolveSettings


def _rec(source: str, rid: str, **ids: str) -> SourceRecord:
    links = [IdentifierLink(t.rstrip("_0123456789"), v) for t, v in ids.items()]
    return SourceRecord(source, rid, links, {}, "2025-01-01T00:00:00Z")


def _profiles(store: GraphStore) -> dict[str, str]:
    frame = store.assignments()
    assert frame["record"].is_unique, "a record is in two profiles"
    return dict(zip(frame["record"], frame["profile_id"], strict=True))


def _groups(store: GraphStore) -> set[frozenset[str]]:
    by_profile: dict[str, set[str]] = {}
    for record, profile in _profiles(store).items():
        by_profile.setdefault(profile, set()).add(record)
    return {frozenset(g) for g in by_profile.values()}


def test_records_sharing_an_identifier_form_one_profile(store: GraphStore) -> None:
    store.upsert_records([
        _rec("crm", "1", email="ann@x.com"),
        _rec("web", "s1", email="ann@x.com", cookie_id="c1"),
        _rec("web", "s2", cookie_id="c1"),
        _rec("pos", "t1", phone="+447911123456"),
    ])  # fmt: skip
    summary = resolve(store, ResolveSettings())
    assert _groups(store) == {frozenset({"crm:1", "web:s1", "web:s2"}), frozenset({"pos:t1"})}
    assert (summary.profiles, summary.singletons, summary.largest_profile) == (2, 1, 3)


def test_placeholders_and_blocklisted_values_never_chain_strangers(store: GraphStore) -> None:
    store.upsert_records([
        _rec("crm", "1", email="test@test.com", phone="+447911000001"),
        _rec("crm", "2", email="test@test.com", phone="+447911000002"),
        _rec("crm", "3", email="shop@store.com"),
        _rec("crm", "4", email="shop@store.com"),
    ])  # fmt: skip
    summary = resolve(store, ResolveSettings(blocklist={"email": ["  SHOP@store.com "]}))
    assert len(_groups(store)) == 4
    assert summary.ignored_identifiers == {"placeholder": 1, "blocklisted": 1}
    status = store.cypher("s", "MATCH (i:Identifier {key: 'email:test@test.com'}) RETURN i.status AS s")
    assert status == [{"s": "placeholder"}]


def test_an_unverified_phone_links_records_unless_a_guard_ignores_it(store: GraphStore) -> None:
    """A phone in no assigned range (ingest flags it) still links; placeholder and shared take precedence,
    and when a value is no longer over its cap it is unverified again, not active."""
    drama, junk = IdentifierLink("phone", "+447700900123", True), IdentifierLink("phone", "+15555555555", True)
    store.upsert_records([
        SourceRecord("crm", "1", [drama], {}, "2025-01-01T00:00:00Z"),
        SourceRecord("pos", "t1", [drama, IdentifierLink("loyalty_id", "L1")], {}, "2025-01-01T00:00:00Z"),
        SourceRecord("crm", "2", [junk], {}, "2025-01-01T00:00:00Z"),
        SourceRecord("crm", "3", [junk], {}, "2025-01-01T00:00:00Z"),
    ])  # fmt: skip
    summary = resolve(store, ResolveSettings())
    assert _groups(store) == {frozenset({"crm:1", "pos:t1"}), frozenset({"crm:2"}), frozenset({"crm:3"})}
    assert summary.ignored_identifiers == {"placeholder": 1}  # unverified is not ignored
    assert store.flagged_identifiers() == {"phone:+447700900123": "unverified", "phone:+15555555555": "placeholder"}
    resolve(store, ResolveSettings(max_records_per_identifier={"phone": 1}))
    assert store.flagged_identifiers()["phone:+447700900123"] == "shared" and len(_groups(store)) == 4
    resolve(store, ResolveSettings())
    assert store.flagged_identifiers()["phone:+447700900123"] == "unverified" and len(_groups(store)) == 3


def test_a_value_over_its_type_cap_is_shared_and_ignored(store: GraphStore) -> None:
    store.upsert_records([_rec("pos", str(n), phone="+442071234567", loyalty_id=f"L{n}") for n in range(5)])
    summary = resolve(store, ResolveSettings(max_records_per_identifier={"phone": 4}))
    assert len(_groups(store)) == 5
    assert summary.top_shared == [{"identifier": "phone:+442071234567", "records": 5}]
    # lifting the cap lets the phone link them again, and the status is cleared
    resolve(store, ResolveSettings(max_records_per_identifier={"phone": 10}))
    assert len(_groups(store)) == 1
    assert store.cypher("s", "MATCH (i:Identifier {type: 'phone'}) RETURN i.status AS s") == [{"s": "active"}]


def test_profile_ids_survive_a_rerun_and_new_data(store: GraphStore) -> None:
    store.upsert_records([_rec("crm", "1", email="a@x.com"), _rec("crm", "2", email="b@x.com")])
    resolve(store, ResolveSettings())
    first = _profiles(store)
    again = resolve(store, ResolveSettings())
    assert _profiles(store) == first and again.moved_records == 0
    store.upsert_records([_rec("web", "s", email="a@x.com")])
    later = resolve(store, ResolveSettings())
    assert _profiles(store)["web:s"] == first["crm:1"]
    assert later.moved_records == 1 and later.new_profiles == 0


def test_resolution_equals_networkx_components_on_random_data(store: GraphStore) -> None:
    rng = random.Random(11)
    records = [
        _rec("src", str(n), **{f"email_{k}": f"e{rng.randrange(150)}@x.com" for k in range(rng.randrange(0, 3))})
        for n in range(200)
    ]
    store.upsert_records(records)
    resolve(store, ResolveSettings())
    graph = nx.Graph()
    graph.add_nodes_from(r.key for r in records)
    graph.add_edges_from((r.key, i.key) for r in records for i in r.identifiers)
    expected = {frozenset(n for n in c if n.startswith("src:")) for c in nx.connected_components(graph)}
    assert _groups(store) == expected - {frozenset()}
    sizes = pd.Series(_profiles(store)).value_counts()
    stored = {
        r["id"]: r["size"] for r in store.cypher("p", "MATCH (p:CustomerProfile) RETURN p.id AS id, p.size AS size")
    }
    assert stored == sizes.to_dict()


def test_a_dry_run_reports_merges_and_splits_and_writes_nothing(store: GraphStore) -> None:
    store.upsert_records([
        _rec("crm", "1", email="a@x.com"), _rec("crm", "2", email="a@x.com", phone="+447911000001"),
        _rec("crm", "3", email="b@x.com"), _rec("crm", "4", email="c@x.com"),
    ])  # fmt: skip
    resolve(store, ResolveSettings())
    before, runs = _profiles(store), store.cypher("n", "MATCH (x:ResolveRun) RETURN count(*) AS n")
    # web:s joins b and c's profiles; crm:2 drops the email that held it beside crm:1
    store.upsert_records(
        [_rec("web", "s", email="b@x.com", loyalty_id="L9"), _rec("pos", "t", email="c@x.com", loyalty_id="L9")]
    )
    store.upsert_records([_rec("crm", "2", phone="+447911000001")])
    preview = resolve(store, ResolveSettings(), dry_run=True)
    assert preview.dry_run and _profiles(store) == before  # nothing written
    assert store.cypher("n", "MATCH (x:ResolveRun) RETURN count(*) AS n") == runs
    changes = preview.changes
    assert (changes.merges, changes.splits) == (1, 1)
    assert changes.merge_examples[0]["from"] == sorted([before["crm:3"], before["crm:4"]])
    assert changes.merge_examples[0]["records"] == 4
    split = changes.split_examples[0]
    assert split["profile"] == before["crm:1"] and split["records"] == 2
    assert len(split["into"]) == 2 and before["crm:1"] in split["into"]
    real = resolve(store, ResolveSettings())
    assert (real.changes.merges, real.changes.splits, real.moved_records) == (1, 1, preview.moved_records)
    assert _groups(store) == {
        frozenset({"crm:1"}), frozenset({"crm:2"}), frozenset({"crm:3", "crm:4", "web:s", "pos:t"}),
    }  # fmt: skip


def test_the_latest_of_two_runs_in_one_second_is_the_last_one(store: GraphStore) -> None:
    from resolve.settings import last_run_settings

    store.upsert_records([SourceRecord("crm", "1", [IdentifierLink("email", "a@x.com")], {}, "2025-01-01")])
    for size in (50, 60, 70):  # well within a second of each other
        resolve(store, ResolveSettings(max_profile_size=size))
    assert last_run_settings(store).max_profile_size == 70
