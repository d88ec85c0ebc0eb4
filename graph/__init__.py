"""The identity graph: domain model, the store protocol and its embedded and Neo4j backends.

``graph`` imports none of the other layers; everything above it talks to a database only through
:class:`graph.store.GraphStore`.
"""

from graph.errors import CdpError, StoreError, StoreUnavailable
from graph.model import Event, IdentifierLink, Label, Rel, SourceRecord
from graph.store import GraphStore

__all__ = [
    "CdpError",
    "Event",
    "GraphStore",
    "IdentifierLink",
    "Label",
    "Rel",
    "SourceRecord",
    "StoreError",
    "StoreUnavailable",
]
