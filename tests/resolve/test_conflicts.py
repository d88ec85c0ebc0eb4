"""Conflicting evidence keeps people who share an identifier apart, on each real store."""

from __future__ import annotations

import math
import random

import networkx as nx
import pytest
from networkx.algorithms.flow import build_residual_network, edmonds_karp

from graph.model import IdentifierLink, SourceRecord
from graph.store import GraphStore
from resolve import conflicts
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
    off = MatchSettings(conflict_weight=None, household_conflict_weight=None)
    resolve(store, ResolveSettings(matching=off))
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


def _session(rid: str, **ids: str) -> SourceRecord:
    links = [IdentifierLink(t, v) for t, v in ids.items()]
    return SourceRecord("web", rid, links, {}, "2025-01-01T00:00:00Z")


def test_a_shared_tablet_between_two_peoples_sessions_is_cut(store: GraphStore) -> None:
    """The CRM records of mother and son share nothing; a tablet both used bridges their sessions.
    The pair is still compared (they are in one component) and the bridge is what gets cut."""
    store.upsert_records(
        [
            _rec("mum", "Grace", "1961-04-02", crm_id="C1", email="grace@x.com"),
            _session("s1", cookie_id="k1", device_id="tablet", email="grace@x.com"),
            _rec("son", "Tobi", "1993-09-17", crm_id="C2", email="tobi@x.com"),
            _session("s2", cookie_id="k2", device_id="tablet", email="tobi@x.com"),
        ]
    )
    summary = resolve(store, ResolveSettings())
    assigned = store.assignments().set_index("record")["profile_id"]
    assert assigned["crm:mum"] == assigned["web:s1"] != assigned["crm:son"] == assigned["web:s2"]
    cut = {(r["record"], r["identifier"]): r["reason"] for r in summary.rejected_examples}
    # the tablet is the household's: cut from both sessions, it links neither person's
    assert sorted(cut) == [("web:s1", "device_id:tablet"), ("web:s2", "device_id:tablet")]
    assert "(crm:mum vs crm:son)" in next(iter(cut.values())) or "(crm:son vs crm:mum)" in next(iter(cut.values()))
    assert summary.households == 1


def _marketing(rid: str, first: str, **ids: str) -> SourceRecord:
    links = [IdentifierLink(t, v) for t, v in ids.items()]
    return SourceRecord("marketing", rid, links, {"first_name": first, "last_name": "Okafor"}, "2025-01-01T00:00:00Z")


def test_a_different_first_name_alone_parts_only_what_a_household_shares(store: GraphStore) -> None:
    store.upsert_records(
        [
            _rec("mum", "Grace", "1961-04-02", crm_id="C1", email="okafors@x.com", loyalty_id="LC1"),
            _marketing("m1", "Tobi", email="okafors@x.com"),  # the family email only: kept apart
            _marketing("m2", "Ebony", loyalty_id="LC1"),  # her own loyalty card: a name alone does not part it
        ]
    )
    resolve(store, ResolveSettings())
    assigned = store.assignments().set_index("record")["profile_id"]
    assert assigned["crm:mum"] == assigned["marketing:m2"] != assigned["marketing:m1"]
    resolve(store, ResolveSettings(matching=MatchSettings(household_conflict_weight=None)))
    assigned = store.assignments().set_index("record")["profile_id"]
    assert assigned["crm:mum"] == assigned["marketing:m1"]  # the strong check alone needs two disagreements


def test_an_initial_is_no_disagreement(store: GraphStore) -> None:
    store.upsert_records(
        [
            _rec("mum", "Grace", "1961-04-02", phone="+447700900001", email="okafors@x.com"),
            _marketing("m1", "G.", phone="+447700900001"),  # as a till prints her card
            _marketing("m2", "T", email="okafors@x.com"),  # an initial that is not hers
        ]
    )
    resolve(store, ResolveSettings())
    assigned = store.assignments().set_index("record")["profile_id"]
    assert assigned["crm:mum"] == assigned["marketing:m1"] != assigned["marketing:m2"]


def test_the_cuts_do_not_depend_on_the_order_the_store_reads_in() -> None:
    """Cuts are taken in turn, so equal-strength ties must break the same way for any input order."""
    import numpy as np
    import pandas as pd

    from resolve.conflicts import keep_apart
    from resolve.settings import ResolveSettings

    rng = np.random.default_rng(5)
    records = pd.Series([f"crm:{i:02d}" for i in range(40)])
    held = [(r, f"{t}:{rng.integers(0, 12)}") for r in records for t in ("email", "phone") if rng.random() < 0.8]
    used = pd.DataFrame(held, columns=["record", "identifier"]).drop_duplicates()
    picks = rng.choice(len(records), size=(25, 2))
    conflicts = pd.DataFrame(
        {
            "record_a": records[picks[:, 0]].to_numpy(),
            "record_b": records[picks[:, 1]].to_numpy(),
            "reason": "conflicting evidence",
            "weight": rng.choice([-12.0, -9.0, -6.0], size=25),
            "direct": rng.random(25) < 0.5,
        }
    )
    conflicts["apart"] = conflicts["weight"]
    conflicts = conflicts[conflicts["record_a"] != conflicts["record_b"]]
    components = pd.Series(0, index=records.to_numpy())
    from resolve.components import record_components

    components = record_components(records, used)

    def partition(links: pd.DataFrame, pairs: pd.DataFrame) -> set[frozenset[str]]:
        labels, cut = keep_apart(records, links, components, pairs, ResolveSettings())
        assert cut  # the check has work to do
        return {frozenset(group.index) for _, group in labels.groupby(labels)}

    expected = partition(used, conflicts)
    for seed in range(4):
        shuffled = used.sample(frac=1, random_state=seed).reset_index(drop=True)
        flipped = conflicts.sample(frac=1, random_state=seed).rename(
            columns={"record_a": "record_b", "record_b": "record_a"}
        )
        assert partition(shuffled, flipped) == expected


def test_records_joined_only_through_others_are_parted_only_across_household_links() -> None:
    """Two duplicates of one person, each matched to the original but garbled differently, disagree with
    each other: they stay together. The same disagreement across a shared tablet parts them."""
    import pandas as pd

    from resolve.conflicts import keep_apart
    from resolve.settings import ResolveSettings

    records = pd.Series(["a:orig", "a:dup1", "a:dup2"])
    pair = pd.DataFrame(
        {
            "record_a": ["a:dup1"],
            "record_b": ["a:dup2"],
            "reason": ["conflicting evidence"],
            "weight": [-14.0],
            "direct": [False],
            "apart": [-14.0],
        }  # fmt: skip
    )
    components = pd.Series(0, index=records.to_numpy())
    for kind, expected_parts in (("match:", 1), ("device_id:", 2)):
        used = pd.DataFrame(
            {
                "record": ["a:orig", "a:dup1", "a:orig", "a:dup2"],
                "identifier": [f"{kind}1", f"{kind}1", f"{kind}2", f"{kind}2"],
                "strength": [2.9, 2.9, 2.9, 2.9] if kind == "match:" else [float("nan")] * 4,
            }  # fmt: skip
        )
        labels, cut = keep_apart(records, used, components, pair, ResolveSettings())
        assert labels.nunique() == expected_parts, kind
        assert all(r.identifier.startswith("device_id:") for r in cut)
        direct = pair.assign(direct=True)  # holding one identifier, the strong check cuts whatever the link
        labels, _ = keep_apart(records, used, components, direct, ResolveSettings())
        assert labels.nunique() == 2
    # the same two joined by weak fuzzy matches (a name-only record between them): a chain of weak links is cut
    weak_used = used.assign(identifier=["match:1", "match:1", "match:2", "match:2"], strength=2.9)
    labels, cut = keep_apart(records, weak_used, components, pair, ResolveSettings(), frozenset({"match:1", "match:2"}))
    assert labels.nunique() == 2 and all(r.identifier.startswith("match:") for r in cut)


def test_skipping_pairs_no_cut_could_part_changes_nothing(monkeypatch) -> None:
    """Oracle: the pairs passed over without a flow (no weak or household link in their component, or a path
    around every such link) are exactly those the minimum cut would have passed over too."""
    import numpy as np
    import pandas as pd

    import resolve.conflicts as conflicts_module
    from resolve.components import record_components
    from resolve.conflicts import keep_apart
    from resolve.settings import ResolveSettings

    rng = np.random.default_rng(11)
    records = pd.Series([f"r:{i:03d}" for i in range(120)])
    kinds = ["email", "phone", "crm_id", "loyalty_id", "match"]
    held = [(r, f"{rng.choice(kinds)}:{rng.integers(0, 60)}") for r in records for _ in range(rng.integers(1, 4))]
    used = pd.DataFrame(held, columns=["record", "identifier"]).drop_duplicates()
    used["strength"] = np.where(used["identifier"].str.startswith("match:"), rng.uniform(1, 4, len(used)), np.nan)
    weak = frozenset(i for i in used["identifier"].unique() if i.startswith("match:") and rng.random() < 0.6)
    components = record_components(records, used)
    picks = rng.choice(len(records), size=(300, 2))
    pairs = pd.DataFrame(
        {
            "record_a": records[picks[:, 0]].to_numpy(),
            "record_b": records[picks[:, 1]].to_numpy(),
            "reason": "conflicting evidence",
            "weight": rng.choice([-12.0, -9.0, -6.0, -5.0], size=300),
            "direct": rng.random(300) < 0.3,
            "apart": rng.choice([-14.0, -9.0, -4.0], size=300),
        }
    )
    pairs = pairs[pairs["record_a"] != pairs["record_b"]]

    def run() -> tuple[set[frozenset[str]], list[tuple[str, str, str]]]:
        labels, cut = keep_apart(records, used, components, pairs, ResolveSettings(), weak)
        return {frozenset(g.index) for _, g in labels.groupby(labels)}, [
            (c.record, c.identifier, c.reason) for c in cut
        ]

    pruned = run()
    assert pruned[1]  # the check has work to do
    monkeypatch.setattr(conflicts_module, "_cuttable", lambda c, involved, *_: (c, involved))
    monkeypatch.setattr(conflicts_module, "_connected_without", lambda *_: False)
    assert run() == pruned


@pytest.mark.parametrize("seed", range(40))
def test_cuts_on_a_kept_residual_network_equal_networkx_minimum_cut_afresh(seed: int) -> None:
    """The oracle: on random record-identifier graphs (some links infinite, some shared by many records),
    each cut of a sequence, links removed between them, has the source side ``nx.minimum_cut`` gives on
    the graph as it is then."""
    rng = random.Random(seed)
    graph = nx.DiGraph()
    for r in range(rng.randint(3, 14)):
        for i in rng.sample(range(8), rng.randint(1, 3)):
            strength = rng.choice([math.inf, 0.5, 1.0, 1.5, 3.0, rng.uniform(0.1, 4.0)]) if rng.random() > 0.1 else 1.0
            arc = {} if strength == math.inf else {"capacity": strength}
            graph.add_edge(("r", r), ("i", i), **arc)
            graph.add_edge(("i", i), ("r", r), **arc)
    records = sorted(n for n in graph if n[0] == "r")
    residual = None
    for _ in range(6):
        a, b = rng.sample(records, 2)
        residual = residual if residual is not None else build_residual_network(graph, "capacity")
        try:
            _, (expected, _) = nx.minimum_cut(graph, a, b, flow_func=edmonds_karp)
        except nx.NetworkXUnbounded:
            with pytest.raises(nx.NetworkXUnbounded):
                conflicts._source_side(graph, residual, a, b)
            continue
        assert conflicts._source_side(graph, residual, a, b) == expected
        crossing = [(u, v) for u, v in graph.edges if u in expected and v not in expected]
        for u, v in crossing[: rng.randint(0, len(crossing))]:
            conflicts._remove_link(graph, residual, u, v)
