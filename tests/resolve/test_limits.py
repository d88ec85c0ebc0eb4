"""Profile limits: conflicting strong evidence and oversize components are cut along the weakest links."""

from __future__ import annotations

import random

import networkx as nx
import pandas as pd
import pytest

from graph.model import IdentifierLink, SourceRecord
from graph.store import GraphStore
from resolve.components import record_components
from resolve.explain import explain
from resolve.limits import enforce_limits
from resolve.runner import resolve
from resolve.settings import ResolveSettings


def _links(pairs: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["record", "identifier"])


def _groups(labels: pd.Series) -> set[frozenset[str]]:
    return {frozenset(group.index) for _, group in labels.groupby(labels)}


def _limit(records: list[str], links: pd.DataFrame, settings: ResolveSettings) -> tuple[pd.Series, list]:
    keys = pd.Series(records)
    return enforce_limits(keys, links, record_components(keys, links), settings)


def test_two_national_ids_joined_by_a_family_email_are_split() -> None:
    links = _links([
        ("r1", "national_id:A"), ("r1", "email:fam@x.com"), ("r1", "crm_id:1"),
        ("r2", "national_id:B"), ("r2", "email:fam@x.com"), ("r2", "crm_id:2"),
    ])  # fmt: skip
    labels, rejected = _limit(["r1", "r2"], links, ResolveSettings())
    assert _groups(labels) == {frozenset({"r1"}), frozenset({"r2"})}
    assert len(rejected) == 1 and rejected[0].identifier == "email:fam@x.com"
    assert rejected[0].reason == "conflicting national_id: A vs B"


def test_the_cut_takes_the_weakest_evidence() -> None:
    # r1 -crm_id- r2 -cookie- r3, with conflicting national ids at the ends: the cookie goes, not the crm id
    links = _links([
        ("r1", "national_id:A"), ("r1", "crm_id:X"), ("r2", "crm_id:X"),
        ("r2", "cookie_id:c"), ("r3", "cookie_id:c"), ("r3", "national_id:B"),
    ])  # fmt: skip
    labels, rejected = _limit(["r1", "r2", "r3"], links, ResolveSettings())
    assert _groups(labels) == {frozenset({"r1", "r2"}), frozenset({"r3"})}
    assert {r.identifier for r in rejected} == {"cookie_id:c"}


def test_an_oversize_component_drops_its_least_specific_identifier() -> None:
    records = [f"r{n}" for n in range(12)]
    links = _links([(r, "phone:+441") for r in records] + [(f"r{n}", f"email:{n // 3}@x.com") for n in range(12)])
    labels, rejected = _limit(records, links, ResolveSettings(max_profile_size=5))
    assert labels.value_counts().max() <= 5 and labels.nunique() == 4  # the four email trios
    assert {r.identifier for r in rejected} == {"phone:+441"} and "5-record limit" in rejected[0].reason


@pytest.mark.parametrize("seed", range(6))
def test_limits_hold_and_nothing_else_changes_on_random_graphs(seed: int) -> None:
    rng = random.Random(seed)
    records = [f"r{n}" for n in range(150)]
    pairs = {(r, f"email:{rng.randrange(60)}") for r in records for _ in range(rng.randrange(0, 3))}
    pairs |= {(r, f"national_id:{rng.randrange(40)}") for r in records if rng.random() < 0.3}
    links = _links(sorted(pairs))
    settings = ResolveSettings(max_profile_size=25)
    before = record_components(pd.Series(records), links)
    labels, rejected = _limit(records, links, settings)
    cut = {(r.record, r.identifier) for r in rejected}
    kept = links[[pair not in cut for pair in zip(links["record"], links["identifier"], strict=True)]]
    # the profiles are exactly the components of the links that were kept (networkx as the oracle)
    graph = nx.Graph()
    graph.add_nodes_from(records)
    graph.add_edges_from(zip(kept["record"], "i:" + kept["identifier"], strict=True))
    expected = {frozenset(n for n in c if not n.startswith("i:")) for c in nx.connected_components(graph)}
    assert _groups(labels) == expected - {frozenset()}
    # every limit holds, and a component within the limits is left as it was
    assert labels.value_counts().max() <= 25
    held = kept[kept["identifier"].str.startswith("national_id:")].assign(profile=lambda f: f["record"].map(labels))
    assert held.groupby("profile")["identifier"].nunique().max() <= 1
    untouched = {g for g in _groups(before) if not any(r in g for r, _ in cut)}
    assert untouched <= _groups(labels)


def _rec(rid: str, *links: tuple[str, str]) -> SourceRecord:
    return SourceRecord("crm", rid, [IdentifierLink(t, v) for t, v in links], {}, "2025-01-01T00:00:00Z")


def test_resolve_reports_rejected_links_and_explain_names_them(store: GraphStore) -> None:
    store.upsert_records([
        _rec("1", ("national_id", "AB123456C"), ("email", "fam@x.com")),
        _rec("2", ("national_id", "CD654321A"), ("email", "fam@x.com")),
    ])  # fmt: skip
    summary = resolve(store, ResolveSettings())
    assert summary.rejected_links == 1 and summary.profiles == 2
    assert summary.rejected_examples[0]["reason"] == "conflicting national_id: AB123456C vs CD654321A"
    why = explain(store, "crm:1", "crm:2")
    assert not why.same_profile
    assert [(b.identifier_value, b.status) for b in why.barriers] == [("fam@x.com", "rejected")]
    assert why.barriers[0].reason == "was cut: conflicting national_id: AB123456C vs CD654321A"
    again = resolve(store, ResolveSettings(max_values_per_profile={}))  # no limit: the email joins them again
    assert again.profiles == 1 and again.rejected_links == 0
    assert store.cypher("n", "MATCH (x:RejectedLink) RETURN count(*) AS n")[0]["n"] == 0
