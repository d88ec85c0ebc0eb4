"""A profile's identity graph for the explorer: its records and identifiers as nodes, and the evidence
between them as edges (a shared identifier, a fuzzy match with its probability, a user merge, and the links
the last resolve cut), read from the store the way ``explain`` reads it."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from graph.store import GraphStore

__all__ = ["GraphEdge", "GraphNode", "ProfileGraph", "profile_graph"]


@dataclass(frozen=True)
class GraphNode:
    id: str  # "r:SOURCE:RECORD", or "i:" and an opaque token for an identifier (its value may be masked)
    kind: str  # record or identifier
    type: str  # the record's source, or the identifier's type
    label: str  # the record id, or the identifier's value
    status: str  # an identifier's status (active, unverified, shared, ...); "record" for a record
    profile_id: str


@dataclass(frozen=True)
class GraphEdge:
    source: str
    target: str
    kind: str  # shared_identifier, fuzzy_match, user_merge or cut
    label: str  # the identifier type; the match probability; the merge's reason; why the link was cut
    probability: float | None = None


@dataclass
class ProfileGraph:
    profile_id: str
    nodes: list[GraphNode] = field(default_factory=list)
    edges: list[GraphEdge] = field(default_factory=list)


_SECRET = secrets.token_bytes(32)  # per process: node ids are stable while it serves, and reveal nothing


def identifier_node(key: str) -> str:
    """An identifier's node id: the same for the same identifier in every answer of this process, but not its
    value, nor a plain hash of it (which a key without read:pii could test guesses against)."""
    return "i:" + hmac.new(_SECRET, key.encode(), hashlib.sha256).hexdigest()[:16]


def profile_graph(store: GraphStore, profile_id: str) -> ProfileGraph:
    """The identity graph of one (live) profile. O(its records and links)."""
    out = ProfileGraph(profile_id)
    members = sorted(store.profile_record_keys([profile_id]))
    nodes: dict[str, GraphNode] = {}
    for key in members:
        source, _, record_id = key.partition(":")
        nodes[f"r:{key}"] = GraphNode(f"r:{key}", "record", source, record_id, "record", profile_id)
    links = store.profile_links([profile_id])
    for row in links.itertuples():
        ident = identifier_node(str(row.identifier))
        nodes.setdefault(ident, GraphNode(ident, "identifier", str(row.type), str(row.value), str(row.status),
                                          profile_id))  # fmt: skip
        out.edges.append(GraphEdge(f"r:{row.record}", ident, "shared_identifier", str(row.type)))
    for row in store.rejected_links_of(members):
        id_type, _, value = str(row["identifier"]).partition(":")
        ident = identifier_node(str(row["identifier"]))
        nodes.setdefault(ident, GraphNode(ident, "identifier", id_type, value, "rejected", profile_id))
        out.edges.append(GraphEdge(f"r:{row['record']}", ident, "cut", str(row["reason"])))
    matches = store.match_links_among(members)
    for row in matches.itertuples():
        probability = float(row.probability)
        out.edges.append(GraphEdge(f"r:{row.record_a}", f"r:{row.record_b}", "fuzzy_match", f"{probability:.2f}",
                                   probability))  # fmt: skip
    overrides = store.overrides()
    if len(overrides):
        inside = overrides[(overrides["kind"] == "must_link") & overrides["record_a"].isin(members)
                           & overrides["record_b"].isin(members)]  # fmt: skip
        for row in inside.itertuples():
            out.edges.append(GraphEdge(f"r:{row.record_a}", f"r:{row.record_b}", "user_merge", str(row.reason)))
    out.nodes = sorted(nodes.values(), key=lambda n: n.id)
    return out
