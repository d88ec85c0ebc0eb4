"""The identity graph: domain model, the store protocol and its embedded and Neo4j backends.

``graph`` imports none of the other layers; everything above it talks to a database only through
:class:`graph.store.GraphStore` and the named reads and writes of :mod:`graph.reads` and
:mod:`graph.writes`. Names are imported lazily, so ``import graph.errors`` stays cheap (the CLI starts fast).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CdpError": "graph.errors",
    "StoreError": "graph.errors",
    "StoreUnavailable": "graph.errors",
    "Event": "graph.model",
    "IdentifierLink": "graph.model",
    "Label": "graph.model",
    "Rel": "graph.model",
    "SourceRecord": "graph.model",
    "GraphStore": "graph.store",
    "Transaction": "graph.writes",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'graph' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
