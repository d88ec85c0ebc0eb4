"""Embeddings kept in the graph store: one ``EmbeddingModel`` node (settings, graph version, timings) and
its vectors packed in ``EmbeddingChunk`` nodes of up to :data:`CHUNK` nodes each (float32, base64), so
both stores hold them, a million vectors are a hundred writes, and an API process reads them back in
one query. Saving replaces the previous model: there is one current model per store.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from graph.model import Label
from graph.schema import property_names
from graph.store import GraphStore

CHUNK = 10_000


@dataclass
class Embeddings:
    """Per node key (``profile:<id>``, ``product:<sku>``, ...) skip-gram's input and output vectors
    (float32) and how often the walks visited it. ``vectors`` (their sum) is what similarity uses."""

    keys: np.ndarray
    inputs: np.ndarray  # (n, dimensions) float32
    outputs: np.ndarray | None = None  # (n, dimensions) float32; zeros when not given
    counts: np.ndarray | None = None  # (n,) visits in the walks; ones when not given
    settings: dict[str, Any] = field(default_factory=dict)
    version: str = ""  # graph version trained on (see :func:`analytics.customer_graph.graph_version`)
    summary: dict[str, Any] = field(default_factory=dict)  # timings, walk counts, quality
    id: str = ""
    created_at: str = ""
    _index: pd.Index | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.inputs = np.asarray(self.inputs, dtype=np.float32)
        if self.outputs is None:
            self.outputs = np.zeros_like(self.inputs)
        if self.counts is None:
            self.counts = np.ones(len(self.keys), dtype=np.float32)
        self.vectors = self.inputs + self.outputs

    @property
    def index(self) -> pd.Index:
        if self._index is None:
            self._index = pd.Index(self.keys)
        return self._index

    def of_kind(self, kind: str) -> np.ndarray:
        """Row numbers of the nodes of one kind (``profile``, ``product``, ...)."""
        return np.flatnonzero(pd.Series(self.keys).str.startswith(f"{kind}:").to_numpy())


def save_embeddings(store: GraphStore, embeddings: Embeddings) -> str:
    """Store ``embeddings`` as the current model (the previous one is deleted); returns its id."""
    embeddings.id = embeddings.id or uuid.uuid4().hex[:12]
    packed = np.hstack([embeddings.inputs, embeddings.outputs, np.asarray(embeddings.counts)[:, None]])
    embeddings.created_at = embeddings.created_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    chunks = [
        {
            "key": f"{embeddings.id}|{n}",
            "model_id": embeddings.id,
            "chunk": n,
            "keys": json.dumps(embeddings.keys[start : start + CHUNK].tolist()),
            "vectors": _pack(packed[start : start + CHUNK]),
        }
        for n, start in enumerate(range(0, len(embeddings.keys), CHUNK))
    ]
    model = {
        "id": embeddings.id,
        "settings": json.dumps(embeddings.settings),
        "version": embeddings.version,
        "created_at": embeddings.created_at,
        "summary": json.dumps(embeddings.summary | {"dimensions": int(embeddings.inputs.shape[1])}),
    }
    frame = pd.DataFrame(chunks, columns=property_names(Label.EMBEDDING_CHUNK))
    store.write(lambda tx: tx.replace_embeddings(model, frame), "save the embeddings")  # one transaction
    return embeddings.id


def load_embeddings(store: GraphStore) -> Embeddings | None:
    """The current model, or None when ``cdp embed`` has not run."""
    model = store.embedding_model()
    if model is None:
        return None
    chunks = store.embedding_chunks(model["id"])
    summary = json.loads(model["summary"])
    dimensions = int(summary.get("dimensions", 0))
    keys = [key for chunk in chunks for key in json.loads(chunk["keys"])]
    parts = [_unpack(chunk["vectors"], 2 * dimensions + 1) for chunk in chunks]
    packed = np.concatenate(parts) if parts else np.zeros((0, 2 * dimensions + 1), dtype=np.float32)
    return Embeddings(
        keys=np.array(keys, dtype=object),
        inputs=packed[:, :dimensions],
        outputs=packed[:, dimensions : 2 * dimensions],
        counts=packed[:, -1],
        settings=json.loads(model["settings"]),
        version=model["version"],
        summary=summary,
        id=model["id"],
        created_at=model["created_at"],
    )


def _pack(vectors: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(vectors, dtype="<f4").tobytes()).decode("ascii")


def _unpack(text: str, dimensions: int) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f4").reshape(-1, dimensions).copy()
