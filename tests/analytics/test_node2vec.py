"""node2vec walks against the exact transition probabilities of the paper, and skip-gram vectors that
separate communities; embeddings end to end on a store."""

from __future__ import annotations

import time
from collections import Counter

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from analytics.customer_graph import CustomerGraph
from analytics.embeddings import EmbeddingSettings, adjacency, embed
from analytics.node2vec import _alias, random_walks, train_skipgram


def _csr(graph: nx.Graph) -> sp.csr_matrix:
    matrix = nx.to_scipy_sparse_array(graph, nodelist=sorted(graph), weight="weight", format="csr")
    matrix.sort_indices()
    return matrix


def _exact(graph: nx.Graph, prev: int, cur: int, p: float, q: float) -> dict[int, float]:
    """node2vec's second-order transition probabilities from ``cur``, having come from ``prev``."""
    alpha = {x: (1 / p if x == prev else 1.0 if graph.has_edge(prev, x) else 1 / q) for x in graph[cur]}
    raw = {x: graph[cur][x]["weight"] * alpha[x] for x in graph[cur]}
    total = sum(raw.values())
    return {x: w / total for x, w in raw.items()}


@pytest.mark.parametrize(("p", "q"), [(1.0, 1.0), (4.0, 0.25), (0.25, 4.0)])
def test_walk_steps_follow_node2vec_transition_probabilities(p: float, q: float) -> None:
    rng = np.random.default_rng(1)
    graph = nx.gnm_random_graph(12, 30, seed=4)
    graph.add_edges_from((i, i + 1) for i in range(11))  # connected
    for a, b in graph.edges:
        graph[a][b]["weight"] = float(rng.integers(1, 5))
    matrix = _csr(graph)
    walks = random_walks(matrix.indptr, matrix.indices, matrix.data, 3000, 12, p, q, seed=7)
    seen: dict[tuple[int, int], Counter] = {}
    for walk in walks:
        for prev, cur, nxt in zip(walk, walk[1:], walk[2:], strict=False):
            assert graph.has_edge(cur, nxt)  # every step is an edge
            seen.setdefault((int(prev), int(cur)), Counter())[int(nxt)] += 1
    checked = 0
    for (prev, cur), counts in seen.items():
        total = sum(counts.values())
        if total < 2000:
            continue
        for x, probability in _exact(graph, prev, cur, p, q).items():
            assert abs(counts[x] / total - probability) < 4 * np.sqrt(probability * (1 - probability) / total) + 0.005
        checked += 1
    assert checked >= 10


def test_walks_are_the_same_for_a_seed_and_differ_across_seeds() -> None:
    matrix = _csr(nx.karate_club_graph())
    args = (matrix.indptr, matrix.indices, matrix.data, 2, 10, 1.0, 0.5)
    assert np.array_equal(random_walks(*args, seed=3), random_walks(*args, seed=3))
    assert not np.array_equal(random_walks(*args, seed=3), random_walks(*args, seed=4))
    isolated = sp.csr_matrix((3, 3))
    walks = random_walks(isolated.indptr, isolated.indices, isolated.data, 1, 4, 1.0, 1.0, seed=0)
    assert (walks[:, 0] >= 0).all() and (walks[:, 1:] == -1).all()  # a walk from an isolated node stops


def _communities(seed: int) -> nx.Graph:
    graph = nx.planted_partition_graph(2, 30, 0.4, 0.01, seed=seed)
    nx.set_edge_attributes(graph, 1.0, "weight")
    return graph


def test_skipgram_vectors_put_a_community_together() -> None:
    graph = _communities(seed=2)
    matrix = _csr(graph)
    walks = random_walks(matrix.indptr, matrix.indices, matrix.data, 10, 20, 1.0, 1.0, seed=0)
    vectors, _ = train_skipgram(walks, 60, 16, 5, 5, 3, 0.0, 1, seed=0)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cosine = unit @ unit.T
    same = np.add.outer(np.arange(60) < 30, np.arange(60) < 30) != 1  # both in one half
    np.fill_diagonal(same, False)
    other = ~same
    np.fill_diagonal(other, False)
    assert cosine[same].mean() > cosine[other].mean() + 0.3
    again, _ = train_skipgram(walks, 60, 16, 5, 5, 3, 0.0, 1, seed=0)
    assert np.array_equal(vectors, again)  # one worker: reproducible


def test_embed_keeps_node_order_and_reports_its_timings() -> None:
    graph = _communities(seed=5)
    edges = np.array(sorted((min(a, b), max(a, b)) for a, b in graph.edges), dtype=np.int64)
    keys = np.array([f"profile:p{i}" for i in range(60)], dtype=object)
    customers = CustomerGraph(keys, np.full(60, "profile", dtype=object), edges, np.ones(len(edges)), version="r:1")
    assert (adjacency(customers) != adjacency(customers).T).nnz == 0  # symmetric
    settings = EmbeddingSettings(dimensions=8, walks_per_node=4, walk_length=10, workers=1)
    calls: list[tuple[str, int, int]] = []
    started = time.perf_counter()
    result = embed(customers, settings, lambda stage, done, total: calls.append((stage, done, total)))
    elapsed = time.perf_counter() - started
    walks = [(d, t) for s, d, t in calls if s == "walks"]
    train = [(d, t) for s, d, t in calls if s == "train"]
    assert walks == [(i, 4) for i in range(5)] and train[-1][0] == train[-1][1] > 1  # progress shown as it goes
    assert result.vectors.shape == (60, 8) and result.keys.tolist() == keys.tolist()
    assert result.version == "r:1" and result.settings["dimensions"] == 8
    assert result.summary["walks"] == 240 and result.summary["tokens"] == 2400
    timed = (result.summary["walks_s"], result.summary["train_s"])  # seconds (to the millisecond), not ms
    assert min(timed) >= 0 and sum(timed) <= elapsed + 0.002


def test_alias_tables_give_back_every_probability() -> None:
    rng = np.random.default_rng(3)
    for probabilities in (rng.dirichlet(np.ones(1000)), rng.dirichlet(np.full(500, 0.05)), np.full(7, 1 / 7)):
        j, q = _alias(probabilities)
        n = len(probabilities)
        assert j.min() >= 0 and j.max() < n and ((q >= 0) & (q <= 1)).all()
        # column c keeps q[c] of its 1/n share, and gives 1 - q[c] of it to j[c]
        back = (q + np.bincount(j, weights=1 - q.astype(np.float64), minlength=n)) / n
        np.testing.assert_allclose(back, probabilities, atol=1e-6)
