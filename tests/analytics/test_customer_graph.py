"""The customer graph for learning, read from each real store, against a plain per-event loop; and the
embeddings kept in the store."""

from __future__ import annotations

import json
import random
from collections import defaultdict

import numpy as np
import pandas as pd

from analytics.customer_graph import InteractionWeights, build_customer_graph, graph_version, read_customer_graph
from analytics.embedding_store import CHUNK, Embeddings, load_embeddings, save_embeddings
from graph.model import Event, IdentifierLink, SourceRecord
from graph.store import GraphStore
from resolve.runner import resolve
from resolve.settings import ResolveSettings

SKUS = {f"S{i}": ("books", "kitchen", "toys")[i % 3] for i in range(9)}


def _customer(n: int, rng: random.Random) -> SourceRecord:
    events = []
    for _ in range(rng.randint(0, 6)):
        sku = rng.choice(sorted(SKUS))
        if rng.random() < 0.5:
            props = {"sku": sku, "category": SKUS[sku], "store": rng.choice(["Leeds", "York"]), "amount": 5}
            events.append(Event("purchase", f"2025-0{rng.randint(1, 9)}-01T10:00:00Z", props))
        else:
            events.append(Event("page_view", "2025-01-01T10:00:00Z", {"sku": sku, "category": SKUS[sku]}))
    email = f"c{n // 2}@x.com"  # two records per customer: events of both land on one profile
    return SourceRecord("pos", str(n), [IdentifierLink("email", email)], {}, "2025-01-01T00:00:00Z", events)


def _oracle(records: list[SourceRecord], profile_of: dict[str, str], w: InteractionWeights) -> dict:
    edges: dict[frozenset, float] = defaultdict(float)
    for record in records:
        profile = "profile:" + profile_of[record.key]
        for event in record.events:
            weight = {"purchase": w.purchase, "page_view": w.page_view}.get(event.type, w.other)
            props = event.properties
            edges[frozenset((profile, "product:" + props["sku"]))] += weight
            edges[frozenset((profile, "category:" + props["category"]))] += weight * w.category_share
            if "store" in props:
                edges[frozenset((profile, "store:" + props["store"]))] += weight
            edges[frozenset(("product:" + props["sku"], "category:" + props["category"]))] = 1.0
    return dict(edges)


def test_the_customer_graph_sums_each_customers_interactions(store: GraphStore) -> None:
    rng = random.Random(3)
    records = [_customer(n, rng) for n in range(40)]
    store.upsert_records(records)
    resolve(store, ResolveSettings())
    profile_of = store.assignments().set_index("record")["profile_id"].to_dict()
    graph = read_customer_graph(store)
    got = {frozenset((graph.keys[a], graph.keys[b])): w for (a, b), w in zip(graph.edges, graph.weights, strict=True)}
    expected = _oracle(records, profile_of, InteractionWeights())
    assert got.keys() == expected.keys()
    assert all(abs(got[k] - expected[k]) < 1e-9 for k in expected)
    kinds = graph.kinds.tolist()
    assert kinds == sorted(kinds, key=["profile", "product", "category", "store"].index)  # profiles first
    assert graph.version == graph_version(store) and graph.version.endswith(f":{sum(len(r.events) for r in records)}")
    assert len(graph.of_kind("profile")) == len({profile_of[r.key] for r in records if r.events})


def test_events_without_items_and_an_empty_store_give_an_empty_graph() -> None:
    empty = pd.DataFrame(columns=["profile_id", "type", "ts", "source", "properties"])
    graph = build_customer_graph(empty)
    assert graph.n_nodes == 0 and graph.n_edges == 0
    bare = pd.DataFrame({"profile_id": ["p1"], "type": ["login"], "ts": ["2025-01-01"], "source": ["web"],
                         "properties": [json.dumps({"page": "/"})]})  # fmt: skip
    assert build_customer_graph(bare).n_nodes == 0


def test_embeddings_round_trip_through_the_store(store: GraphStore) -> None:
    rng = np.random.default_rng(0)
    keys = np.array([f"profile:p{i}" for i in range(CHUNK + 7)], dtype=object)  # two chunks
    vectors = rng.normal(size=(len(keys), 8)).astype(np.float32)
    first = Embeddings(keys, vectors, settings={"p": 1.0}, version="run:10", summary={"walks_s": 1.5})
    save_embeddings(store, first)
    second = Embeddings(keys[:3], vectors[:3] * 2, settings={"p": 2.0}, version="run:11")
    save_embeddings(store, second)  # replaces the first
    loaded = load_embeddings(store)
    assert loaded is not None and loaded.id == second.id and loaded.settings == {"p": 2.0}
    assert loaded.keys.tolist() == keys[:3].tolist() and np.array_equal(loaded.vectors, vectors[:3] * 2)
    save_embeddings(store, first)
    again = load_embeddings(store)
    assert again is not None and np.array_equal(again.vectors, vectors) and again.version == "run:10"
    assert again.summary["walks_s"] == 1.5 and again.summary["dimensions"] == 8


def test_no_embeddings_before_cdp_embed(store: GraphStore) -> None:
    assert load_embeddings(store) is None
