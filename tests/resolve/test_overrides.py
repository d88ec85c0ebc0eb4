"""User overrides on each real store: merges and splits that every later resolve keeps, with history."""

from __future__ import annotations

import random

import networkx as nx
import pandas as pd
import pytest

from api.access import Principal
from api.service import CustomerService
from graph.errors import InvalidRequest, NotFound
from graph.model import IdentifierLink, SourceRecord
from graph.store import GraphStore
from resolve.components import record_components
from resolve.explain import explain
from resolve.limits import enforce_limits
from resolve.overrides import ActiveOverrides, active_overrides, merge_override, split_override
from resolve.runner import resolve
from resolve.settings import ResolveSettings


def _rec(source: str, rid: str, *links: tuple[str, str]) -> SourceRecord:
    return SourceRecord(source, rid, [IdentifierLink(t, v) for t, v in links], {}, "2025-01-01T00:00:00Z")


def _profile(store: GraphStore, key: str) -> str:
    frame = store.assignments()
    return str(frame.loc[frame["record"] == key, "profile_id"].iloc[0])


def _together(store: GraphStore, *keys: str) -> bool:
    return len({_profile(store, key) for key in keys}) == 1


def _history(service: CustomerService, profile: str) -> list[tuple[str, str, str, str]]:
    return [(e.kind, e.detail, e.reason, e.actor) for e in service.history_of([profile]).get(profile, [])]


@pytest.fixture
def ann(store: GraphStore) -> CustomerService:
    """The service acting as analyst Ann."""
    return CustomerService(store, principal=Principal("ann"))


def test_a_merge_of_profiles_sharing_nothing_survives_resolves_and_reingest(
    store: GraphStore, ann: CustomerService
) -> None:
    records = [_rec("crm", "1", ("email", "a@x.com")), _rec("web", "2", ("email", "b@x.com"))]
    store.upsert_records(records)
    resolve(store, ResolveSettings())
    first, second = _profile(store, "crm:1"), _profile(store, "web:2")
    store.upsert_records([_rec("crm", "9", ("email", "z@x.com"))])  # ingested since: the merge's run resolves it
    merged = ann.merge_profiles([first, second], "same customer: confirmed on the phone")
    assert _history(ann, _profile(store, "crm:9"))[0][3] == "resolver"  # the user's words only on what they asked
    assert merged in (first, second) and _together(store, "crm:1", "web:2")
    loser = second if merged == first else first
    assert ann.current_ids([loser]) == {loser: merged}  # the merged-away id keeps resolving
    assert _history(ann, merged)[-1] == ("merged", loser, "same customer: confirmed on the phone", "ann")
    assert _history(ann, loser)[-1] == ("merged_into", merged, "same customer: confirmed on the phone", "ann")
    again = resolve(store, ResolveSettings())  # a plain resolve keeps the merge
    assert _together(store, "crm:1", "web:2") and again.overrides["must_links"] == 1 and again.moved_records == 0
    store.upsert_records(records)  # re-ingest unchanged, then with web:2 changed
    store.upsert_records([_rec("web", "2", ("email", "c@x.com"), ("phone", "+447911123456"))])
    resolve(store, ResolveSettings())
    assert _together(store, "crm:1", "web:2") and _profile(store, "crm:1") == merged


def test_a_split_keeps_records_apart_while_new_records_join_one_side(store: GraphStore, ann: CustomerService) -> None:
    store.upsert_records([
        _rec("crm", "1", ("email", "fam@x.com"), ("phone", "+447911123456")),
        _rec("crm", "2", ("email", "fam@x.com")),
        _rec("pos", "3", ("phone", "+447911123456")),
    ])  # fmt: skip
    resolve(store, ResolveSettings())
    whole = _profile(store, "crm:1")
    parts = ann.split_profile(whole, ["crm:2"], "two people sharing a family email")
    assert parts[0] == whole == _profile(store, "pos:3") == _profile(store, "crm:1")
    assert parts == [whole, _profile(store, "crm:2")] and len(set(parts)) == 2
    assert _history(ann, whole)[-1] == ("split", " ".join(sorted(parts)), "two people sharing a family email", "ann")
    assert _history(ann, parts[1]) == [("created", "1 records", "two people sharing a family email", "ann")]
    why = explain(store, "crm:1", "crm:2")
    assert [b.reason for b in why.barriers] == ["was cut: split by user: two people sharing a family email"]
    resolve(store, ResolveSettings())
    assert _profile(store, "crm:2") == parts[1] and not _together(store, "crm:1", "crm:2")
    # new records holding the family email join one side, never both: the split stays
    store.upsert_records([
        _rec("web", "4", ("email", "fam@x.com")),
        _rec("web", "5", ("email", "fam@x.com"), ("phone", "+447911123456")),
    ])  # fmt: skip
    resolve(store, ResolveSettings())
    assert not _together(store, "crm:1", "crm:2") and _together(store, "crm:1", "pos:3", "web:5")
    assert _together(store, "web:4", "crm:1") or _together(store, "web:4", "crm:2")


def test_the_later_override_wins_and_the_earlier_is_reported(store: GraphStore, ann: CustomerService) -> None:
    store.upsert_records([_rec("crm", "1", ("email", "a@x.com")), _rec("crm", "2", ("email", "b@x.com"))])
    resolve(store, ResolveSettings())
    merged = ann.merge_profiles([_profile(store, "crm:1"), _profile(store, "crm:2")], "one person")
    ann.split_profile(merged, ["crm:2"], "no, two people after all")
    summary = resolve(store, ResolveSettings())
    assert not _together(store, "crm:1", "crm:2")
    assert [(s["kind"], s["records"]) for s in summary.overrides["superseded"]] == [("must_link", "crm:1 crm:2")]
    ann.merge_profiles([_profile(store, "crm:1"), _profile(store, "crm:2")], "one person: same passport")
    summary = resolve(store, ResolveSettings())
    assert _together(store, "crm:1", "crm:2") and summary.overrides["splits"] == 0
    assert [s["kind"] for s in summary.overrides["superseded"]] == ["must_link", "cannot_link"]


def test_a_merge_outranks_a_limit_and_is_explained(store: GraphStore, ann: CustomerService) -> None:
    store.upsert_records([
        _rec("crm", "1", ("national_id", "AB123456C")), _rec("crm", "2", ("national_id", "CD654321A")),
    ])  # fmt: skip
    resolve(store, ResolveSettings())
    merged = ann.merge_profiles([_profile(store, "crm:1"), _profile(store, "crm:2")], "a typo in one national id")
    summary = resolve(store, ResolveSettings())
    assert _profile(store, "crm:2") == merged == _profile(store, "crm:1") and summary.rejected_links == 0
    why = explain(store, "crm:1", "crm:2")
    assert [(h.kind, h.identifier_value) for h in why.hops] == [("user_merge", "a typo in one national id")]
    assert why.summary == f"same profile {merged}: linked by a user merge (a typo in one national id)"


def test_wrong_requests_are_errors_naming_the_ids_and_store_nothing(store: GraphStore, ann: CustomerService) -> None:
    store.upsert_records([
        _rec("crm", "1", ("email", "a@x.com")), _rec("crm", "2", ("email", "a@x.com")),
        _rec("crm", "3", ("email", "c@x.com")),
    ])  # fmt: skip
    resolve(store, ResolveSettings())
    pair, single = _profile(store, "crm:1"), _profile(store, "crm:3")
    with pytest.raises(NotFound, match="no profile 'p_nope'"):
        ann.merge_profiles([pair, "p_nope"], "why")
    with pytest.raises(InvalidRequest, match=f"different profiles, got only '{pair}'"):
        ann.merge_profiles([pair, pair], "why")
    with pytest.raises(InvalidRequest, match="a reason is required"):
        ann.merge_profiles([pair, single], "  ")
    with pytest.raises(NotFound, match="no profile 'p_nope'"):
        ann.split_profile("p_nope", ["crm:1"], "why")
    with pytest.raises(InvalidRequest, match=f"record 'crm:3' not in profile '{pair}'"):
        ann.split_profile(pair, ["crm:1", "crm:3"], "why")
    with pytest.raises(NotFound, match="no record 'crm:9'"):
        ann.split_profile(pair, ["crm:9"], "why")
    with pytest.raises(InvalidRequest, match="cannot split off all 2 records"):
        ann.split_profile(pair, ["crm:1", "crm:2"], "why")
    with pytest.raises(InvalidRequest, match="name the records to split off"):
        ann.split_profile(pair, [], "why")
    assert store.overrides().empty
    assert _profile(store, "crm:1") == pair and _profile(store, "crm:3") == single


def test_a_merged_away_id_can_be_named_in_a_later_override(store: GraphStore, ann: CustomerService) -> None:
    store.upsert_records([_rec("crm", str(n), ("email", f"{n}@x.com")) for n in range(3)])
    resolve(store, ResolveSettings())
    ids = [_profile(store, f"crm:{n}") for n in range(3)]
    merged = ann.merge_profiles(ids[:2], "same person")
    loser = ids[1] if merged == ids[0] else ids[0]
    assert ann.merge_profiles([loser, ids[2]], "also the same person") == _profile(store, "crm:2")
    assert _together(store, "crm:0", "crm:1", "crm:2")


# -- the constraints as an algorithm, against an oracle, on seeded random graphs -------------------------


def _random_overrides(rng: random.Random, records: list[str], plain: pd.Series) -> pd.DataFrame:
    """Merges of random records, splits of random plain components, cannot-links of random pairs, and
    overrides contradicting an earlier one (a merge across an earlier split, a split of an earlier merge)."""
    parts = [list(group.index) for _, group in plain.groupby(plain) if len(group) > 1]
    rows: list[pd.DataFrame] = []
    for t in range(rng.randrange(3, 14)):
        at, roll = f"2025-01-01T00:00:{t:02d}.000000Z", rng.random()
        earlier = rng.choice(rows) if rows else None
        if roll < 0.3 or (roll < 0.45 and earlier is not None and earlier["kind"].iloc[0] == "cannot_link"):
            a, b = (
                rng.sample(records, 2)
                if roll < 0.3 or earlier is None
                else (earlier["record_a"].iloc[0], rng.choice(list(earlier["record_b"])))
            )
            rows.append(merge_override([a, b], {a: a, b: b}, {a: [a], b: [b]}, f"merge {t}", "ann", at))
        elif roll < 0.8 and parts:
            members = rng.choice(parts)
            listed = rng.sample(members, rng.randrange(1, len(members)))
            rows.append(split_override("p", members, listed, f"split {t}", "ann", at))
        else:
            a, b = rng.sample(records, 2)
            if earlier is not None and earlier["kind"].iloc[0] == "must_link":
                a, b = earlier["record_a"].iloc[0], earlier["record_b"].iloc[0]
            rows.append(split_override("p", [a, b], [a], f"apart {t}", "ann", at))
    return pd.concat(rows, ignore_index=True)


def _apply(records: list[str], links: pd.DataFrame, stored: pd.DataFrame, settings: ResolveSettings) -> tuple:
    keys = pd.Series(records)
    active = active_overrides(stored)
    used = pd.concat([links, active.links(keys)], ignore_index=True)
    components, rejected = enforce_limits(keys, used, record_components(keys, used), settings)
    labels, rejected = active.enforce(keys, used, components, rejected, settings)
    return active, used, labels, rejected


def _groups(labels: pd.Series) -> set[frozenset[str]]:
    return {frozenset(group.index) for _, group in labels.groupby(labels)}


def _check_constraints(active: ActiveOverrides, labels: pd.Series) -> None:
    for group in active.cannot:
        assert not set(labels[list(group.side_a)]) & set(labels[list(group.side_b)]), group
    assert all(labels[a] == labels[b] for a, b in zip(active.must["record_a"], active.must["record_b"], strict=True))


def _oracle_groups(records: list[str], used: pd.DataFrame, rejected: list) -> set[frozenset[str]]:
    cut = {(r.record, r.identifier) for r in rejected}
    graph = nx.Graph()
    graph.add_nodes_from(records)
    graph.add_edges_from(
        (r, "i:" + i) for r, i in zip(used["record"], used["identifier"], strict=True) if (r, i) not in cut
    )
    return {frozenset(n for n in c if not n.startswith("i:")) for c in nx.connected_components(graph)}


@pytest.mark.parametrize("seed", range(8))
def test_overrides_hold_and_nothing_else_changes_on_random_graphs(seed: int) -> None:
    rng = random.Random(seed)
    records = [f"r{n:03d}" for n in range(150)]
    pairs = {(r, f"email:{rng.randrange(80)}") for r in records for _ in range(rng.randrange(0, 3))}
    pairs |= {(r, f"phone:{rng.randrange(80)}") for r in records if rng.random() < 0.5}
    links = pd.DataFrame(sorted(pairs), columns=["record", "identifier"])
    plain = record_components(pd.Series(records), links)
    stored = _random_overrides(rng, records, plain)
    active, used, labels, rejected = _apply(records, links, stored, ResolveSettings(max_values_per_profile={}))
    _check_constraints(active, labels)
    # the profiles are exactly the components of the links kept (networkx as the oracle)
    assert _groups(labels) == _oracle_groups(records, used, rejected)
    # no must-link is ever cut, and every cut is a split's, with its reason
    assert all(r.reason.startswith("split by user: ") and not r.identifier.startswith("override:") for r in rejected)
    # a component no override names is grouped as plain components group it
    named = set(active.must["record_a"]) | set(active.must["record_b"])
    named |= {r for group in active.cannot for r in group.side_a | group.side_b}
    untouched = {g for g in _groups(plain) if not g & named}
    assert untouched <= _groups(labels)
    # every stored action is in force (a merge repeating an earlier pair: through the later one) or was
    # reported as superseded by a later one
    superseded = {s["action"] for s in active.superseded}
    kept_pairs = {frozenset(p) for p in zip(active.must["record_a"], active.must["record_b"], strict=True)}
    merges = stored[stored["kind"] == "must_link"]
    in_force = {c.action for c in active.cannot} | {
        action for action, a, b in zip(merges["action"], merges["record_a"], merges["record_b"], strict=True)
        if frozenset((a, b)) in kept_pairs
    }  # fmt: skip
    assert set(stored["action"]) == in_force | superseded


@pytest.mark.parametrize("seed", range(4))
def test_overrides_hold_through_the_limits(seed: int) -> None:
    rng = random.Random(100 + seed)
    records = [f"r{n:03d}" for n in range(120)]
    pairs = {(r, f"email:{rng.randrange(50)}") for r in records for _ in range(rng.randrange(0, 3))}
    pairs |= {(r, f"national_id:{rng.randrange(30)}") for r in records if rng.random() < 0.3}
    links = pd.DataFrame(sorted(pairs), columns=["record", "identifier"])
    stored = _random_overrides(rng, records, record_components(pd.Series(records), links))
    active, used, labels, rejected = _apply(records, links, stored, ResolveSettings(max_profile_size=20))
    _check_constraints(active, labels)
    assert _groups(labels) == _oracle_groups(records, used, rejected)


def test_a_merge_joining_both_sides_of_an_earlier_split_supersedes_it() -> None:
    split = split_override("p", ["a", "b", "c"], ["a"], "two people", "ann", "2025-01-01T00:00:01Z")
    merge = merge_override(
        ["x", "y"], {"x": "x", "y": "y"}, {"x": ["c"], "y": ["a"]}, "one", "bo", "2025-01-01T00:00:02Z"
    )
    active = active_overrides(pd.concat([merge, split]))  # stored order does not matter, time does
    assert active.cannot == [] and len(active.must) == 1
    assert active.superseded == [
        {"action": split["action"][0], "kind": "cannot_link", "records": "a | b c", "superseded_by": merge["action"][0]}
    ]
