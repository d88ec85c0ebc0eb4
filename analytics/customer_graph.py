"""The customer graph for learning: resolved profiles linked to the products, categories and stores of
their events, each link weighted by what the customer did (a purchase weighs more than a page view) and
how often.

Nodes are keyed ``profile:<id>``, ``product:<sku>``, ``category:<name>`` and ``store:<name>``; products
also link to their category, so two customers who bought different items of one category are close.
Built from :meth:`graph.store.GraphStore.profile_events`, so both stores give the same graph.

>>> events = pd.DataFrame({
...     "profile_id": ["p1", "p1", "p2"], "type": ["purchase", "page_view", "purchase"],
...     "ts": ["2025-01-01", "2025-01-02", "2025-01-03"], "source": ["pos", "web", "pos"],
...     "properties": ['{"sku": "S1", "category": "books", "store": "Leeds"}',
...                    '{"sku": "S1", "category": "books"}', '{"sku": "S2", "category": "books"}']})
>>> graph = build_customer_graph(events)
>>> graph.weight("profile:p1", "product:S1")  # a purchase (3) and a view (1)
4.0
>>> graph.weight("product:S2", "category:books")
1.0
>>> graph.n_nodes, graph.n_edges
(6, 7)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from graph.store import GraphStore

#: node kinds, in the order their keys are numbered
KINDS = ("profile", "product", "category", "store")
#: the event property naming the item of each kind (a product is its SKU)
ITEM_PROPERTY = {"product": "sku", "category": "category", "store": "store"}


@dataclass(frozen=True)
class InteractionWeights:
    """How much one event adds to the link between a customer and its item; any other type weighs
    ``other``. ``category_share``: a customer's link to a category is this share of its interactions
    there (the products already carry the full weight)."""

    purchase: float = 3.0
    page_view: float = 1.0
    other: float = 1.0
    category_share: float = 0.5

    def of(self, types: pd.Series) -> np.ndarray:
        weights = {"purchase": self.purchase, "page_view": self.page_view}
        return types.map(weights).fillna(self.other).to_numpy(dtype=np.float64)


@dataclass
class CustomerGraph:
    """An undirected weighted graph on integer node ids ``0..n_nodes-1``; ``keys[i]`` names node ``i``."""

    keys: np.ndarray  # node keys, "kind:value", profiles first
    kinds: np.ndarray  # kind of each node
    edges: np.ndarray  # (m, 2) int64, each undirected edge once (lower id first)
    weights: np.ndarray  # (m,) float64 > 0
    version: str = ""  # the graph version the embeddings were trained on (see :func:`graph_version`)
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def n_nodes(self) -> int:
        return len(self.keys)

    @property
    def n_edges(self) -> int:
        return len(self.edges)

    def node(self, key: str) -> int:
        if not self._index:
            self._index.update({k: i for i, k in enumerate(self.keys.tolist())})
        return self._index[key]

    def weight(self, a: str, b: str) -> float:
        """The weight of the edge between two node keys (0.0 when there is none). O(m)."""
        low, high = sorted((self.node(a), self.node(b)))
        hit = (self.edges[:, 0] == low) & (self.edges[:, 1] == high)
        return float(self.weights[hit].sum())

    def of_kind(self, kind: str) -> np.ndarray:
        """Node ids of one kind."""
        return np.flatnonzero(self.kinds == kind)


def build_customer_graph(events: pd.DataFrame, weights: InteractionWeights | None = None) -> CustomerGraph:
    """The customer graph of ``events`` (columns ``profile_id, type, properties``, as
    :meth:`GraphStore.profile_events` returns them). Cost: O(events) vectorised, properties parsed by Arrow."""
    weights = weights or InteractionWeights()
    links = _interaction_links(events, weights)
    links = pd.concat([links, _product_categories(events)], ignore_index=True)
    keys = pd.Index(pd.unique(np.concatenate([links["a"].to_numpy(), links["b"].to_numpy()])))
    order = np.argsort([KINDS.index(k.split(":", 1)[0]) for k in keys], kind="stable")
    keys = keys[order]
    a, b = keys.get_indexer(links["a"]), keys.get_indexer(links["b"])
    pairs = pd.DataFrame({"low": np.minimum(a, b), "high": np.maximum(a, b), "w": links["w"].to_numpy()})
    summed = pairs.groupby(["low", "high"], sort=True)["w"].sum().reset_index()
    node_keys = keys.to_numpy(dtype=object)
    return CustomerGraph(
        keys=node_keys,
        kinds=np.array([k.split(":", 1)[0] for k in node_keys], dtype=object),
        edges=summed[["low", "high"]].to_numpy(dtype=np.int64),
        weights=summed["w"].to_numpy(dtype=np.float64),
    )


def read_customer_graph(store: GraphStore, weights: InteractionWeights | None = None) -> CustomerGraph:
    """:func:`build_customer_graph` of every event of a resolved profile in ``store``, with its version."""
    # in a fixed order, whatever order the store returns rows in: node numbers, walks and so the vectors
    # of a seeded, single-worker run follow from it
    events = store.profile_events().sort_values(["profile_id", "ts", "type", "source", "properties"], ignore_index=True)
    graph = build_customer_graph(events, weights)
    graph.version = graph_version(store)
    return graph


def graph_version(store: GraphStore) -> str:
    """Which profiles and events a model was trained on: the last resolve run and the event count. A
    new resolve or new events give a new version, so a model trained before is known to be stale."""
    run = store.latest_run()
    return f"{run['id'] if run else 'none'}:{store.event_count()}"


def _interaction_links(events: pd.DataFrame, weights: InteractionWeights) -> pd.DataFrame:
    """``a, b, w``: one row per event and item kind it names (profile -> product, category, store)."""
    props = parse_properties(events["properties"], list(ITEM_PROPERTY.values()))
    weight = weights.of(events["type"].astype(str))
    profile = "profile:" + events["profile_id"].astype(str).to_numpy(dtype=object)
    parts = []
    for kind, name in ITEM_PROPERTY.items():
        item = props[name]
        named = item.notna().to_numpy()
        share = weights.category_share if kind == "category" else 1.0
        parts.append(pd.DataFrame({"a": profile[named], "b": f"{kind}:" + item[named].astype(str),
                                   "w": weight[named] * share}))  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def _product_categories(events: pd.DataFrame) -> pd.DataFrame:
    """One weight-1 link from each product to the category its events give it."""
    props = parse_properties(events["properties"], ["sku", "category"]).dropna().drop_duplicates("sku")
    return pd.DataFrame({"a": "product:" + props["sku"].astype(str), "b": "category:" + props["category"].astype(str),
                         "w": 1.0})  # fmt: skip


def parse_properties(texts: pd.Series, names: list[str]) -> pd.DataFrame:
    """The ``names`` fields of JSON objects (one per row), as text with None where absent or empty.
    Parsed by Arrow in C++: a million events take about a second."""
    if len(texts) == 0:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in names})
    lines = texts.fillna("").replace("", "{}").astype(str)
    buffer = ("\n".join(lines.tolist()) + "\n").encode()
    options = pa_json.ReadOptions(block_size=max(1 << 20, len(buffer) + 1))
    table = pa_json.read_json(pa.BufferReader(buffer), read_options=options)
    out = {}
    for name in names:
        if name not in table.column_names:
            out[name] = np.full(len(texts), None, dtype=object)
            continue
        text = pc.utf8_trim_whitespace(pc.cast(table[name], pa.string()))
        values = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text).to_numpy(zero_copy_only=False)
        out[name] = np.where(pd.isna(values), None, values).astype(object)
    return pd.DataFrame(out, index=texts.index)


def content_hash(graph: CustomerGraph) -> str:
    """A short digest of the graph's nodes, edges and weights (two builds of the same data agree)."""
    digest = hashlib.sha256()
    digest.update("\n".join(graph.keys.tolist()).encode())
    digest.update(graph.edges.tobytes())
    digest.update(np.round(graph.weights, 6).tobytes())
    return digest.hexdigest()[:16]
