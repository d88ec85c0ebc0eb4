"""``cdp embed``: node2vec embeddings of the customer graph, stored with their settings and graph version.

A model is **stale** when the graph changed since it was trained (a new resolve, new events): the
profiles it knows are no longer the ones in the store. Reads that must match the store (a lookalike
audience export) refuse a stale model; interactive reads (similar customers) answer and say so.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt

from analytics.customer_graph import CustomerGraph, graph_version, read_customer_graph
from analytics.embedding_store import Embeddings, load_embeddings, save_embeddings
from analytics.node2vec import random_walks, train_skipgram
from graph.errors import ConfigError, NotFound
from graph.store import GraphStore

logger = logging.getLogger(__name__)

#: (stage, done, total)
ProgressFn = Callable[[str, int, int], None]


class EmbeddingSettings(BaseModel):
    """node2vec's settings (the defaults of the paper, but q = 0.5: walks that wander outward find
    customers of similar taste rather than only the same shop)."""

    model_config = ConfigDict(extra="forbid")

    p: PositiveFloat = 1.0  # return parameter: high p, walks seldom step back
    q: PositiveFloat = 0.5  # in-out parameter: low q, walks move outward (structural equivalence at high q)
    walk_length: int = Field(default=30, ge=2)
    walks_per_node: PositiveInt = 10
    dimensions: PositiveInt = 64
    window: PositiveInt = 5
    negative: PositiveInt = 5
    epochs: PositiveInt = 1
    sample: float = Field(default=1e-3, ge=0)  # frequent-node subsampling, as word2vec's
    seed: int = Field(default=0, ge=0)
    workers: PositiveInt = 2  # training threads; 1 makes training reproducible for a seed


def adjacency(graph: CustomerGraph) -> sp.csr_matrix:
    """The graph as a symmetric CSR matrix of weights, neighbours sorted in each row."""
    n = graph.n_nodes
    rows = np.concatenate([graph.edges[:, 0], graph.edges[:, 1]])
    cols = np.concatenate([graph.edges[:, 1], graph.edges[:, 0]])
    weights = np.concatenate([graph.weights, graph.weights])
    matrix = sp.csr_matrix((weights, (rows, cols)), shape=(n, n))
    matrix.sum_duplicates()
    matrix.sort_indices()
    return matrix


def embed(graph: CustomerGraph, settings: EmbeddingSettings, on_progress: ProgressFn | None = None) -> Embeddings:
    """node2vec vectors of every node of ``graph``; the summary has the seconds of walks and training."""
    if graph.n_nodes == 0:
        raise NotFound("the customer graph is empty: no resolved profile has events (run `cdp resolve`)")
    walks_bar = _bar(on_progress, "walks")
    walks_bar(0, settings.walks_per_node)
    started = time.perf_counter()
    matrix = adjacency(graph)
    walks = random_walks(matrix.indptr, matrix.indices, matrix.data, settings.walks_per_node, settings.walk_length,
                         settings.p, settings.q, settings.seed, on_round=walks_bar)  # fmt: skip
    walked = time.perf_counter()
    inputs, outputs = train_skipgram(walks, graph.n_nodes, settings.dimensions, settings.window, settings.negative,
                                     settings.epochs, settings.sample, settings.workers, settings.seed,
                                     on_block=_bar(on_progress, "train"))  # fmt: skip
    trained = time.perf_counter()
    summary = {
        "nodes": graph.n_nodes,
        "edges": graph.n_edges,
        "walks": int(len(walks)),
        "tokens": int((walks >= 0).sum()),
        "walks_s": round(walked - started, 3),
        "train_s": round(trained - walked, 3),
    }
    logger.info("embed: %s", summary)
    counts = np.bincount(walks[walks >= 0], minlength=graph.n_nodes).astype(np.float32)
    return Embeddings(graph.keys, inputs, outputs, counts, settings=settings.model_dump(), version=graph.version,
                      summary=summary)  # fmt: skip


def embed_store(store: GraphStore, settings: EmbeddingSettings, on_progress: ProgressFn | None = None) -> Embeddings:
    """Read the customer graph of ``store``, embed it and store the model (replacing the last one)."""
    graph = read_customer_graph(store)
    embeddings = embed(graph, settings, on_progress)
    save_embeddings(store, embeddings)
    return embeddings


def current_embeddings(store: GraphStore, fresh: bool = False) -> tuple[Embeddings, bool]:
    """The stored model and whether it is stale; with ``fresh``, a stale model is an error."""
    embeddings = load_embeddings(store)
    if embeddings is None:
        raise NotFound("no embeddings yet: run `cdp embed` (after `cdp resolve`)")
    stale = embeddings.version != graph_version(store)
    if stale and fresh:
        raise ConfigError(
            f"the embeddings are stale: trained on graph version {embeddings.version}, the store is at "
            f"{graph_version(store)} (a resolve or new events since): run `cdp embed` again"
        )
    return embeddings, stale


def _bar(on_progress: ProgressFn | None, stage: str) -> Callable[[int, int], None]:
    def update(done: int, total: int) -> None:
        logger.debug("embed: %s %d/%d", stage, done, total)
        if on_progress:
            on_progress(stage, done, total)

    return update
