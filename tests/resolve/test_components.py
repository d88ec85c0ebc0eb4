"""Oracle: connected components against networkx on seeded random record-identifier graphs."""

from __future__ import annotations

import random

import networkx as nx
import pandas as pd
import pytest

from resolve.components import record_components


def _random_links(seed: int, n_records: int, n_identifiers: int, n_links: int) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = [(f"r{rng.randrange(n_records)}", f"id:{rng.randrange(n_identifiers)}") for _ in range(n_links)]
    return pd.DataFrame(rows, columns=["record", "identifier"])


def _partition(labels: pd.Series) -> set[frozenset[str]]:
    return {frozenset(group.index) for _, group in labels.groupby(labels)}


@pytest.mark.parametrize("seed", range(12))
def test_components_match_networkx(seed: int) -> None:
    rng = random.Random(seed)
    n_records = rng.randrange(1, 400)
    links = _random_links(seed, n_records, rng.randrange(1, 300), rng.randrange(0, 500))
    records = pd.Series([f"r{i}" for i in range(n_records)])
    graph = nx.Graph()
    graph.add_nodes_from(records)
    graph.add_edges_from(zip(links["record"], links["identifier"], strict=True))
    expected = {frozenset(n for n in comp if n.startswith("r")) for comp in nx.connected_components(graph)}
    expected.discard(frozenset())
    assert _partition(record_components(records, links)) == expected


def test_records_without_identifiers_are_singletons() -> None:
    labels = record_components(pd.Series(["a", "b"]), pd.DataFrame({"record": [], "identifier": []}))
    assert labels.nunique() == 2


def test_links_of_unknown_records_are_ignored() -> None:
    links = pd.DataFrame({"record": ["a", "ghost", "b"], "identifier": ["e:1", "e:1", "e:2"]})
    labels = record_components(pd.Series(["a", "b"]), links)
    assert labels["a"] != labels["b"]
