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
    id: str  # "r:SOURCE:RECORD"; "i:" and an opaque token for an identifier (its value may be masked); "p:ID"
    kind: str  # record, identifier or profile (the profile itself, one sharing an identifier, a household member)
    type: str  # the record's source, or the identifier's type
    label: str  # the record id, or the identifier's value
    status: str  # an identifier's status (active, unverified, shared, ...); "record" for a record
    profile_id: str


@dataclass(frozen=True)
class GraphEdge:
    source: str
    target: str
    #: shared_identifier, fuzzy_match, user_merge, cut; in_profile (a record of the profile), also_held_by (an
    #: identifier another profile holds too), household (a profile of the same household)
    kind: str
    label: str  # the identifier type; the match probability; the merge's reason; why the link was cut
    probability: float | None = None


@dataclass
class ProfileGraph:
    profile_id: str
    nodes: list[GraphNode] = field(default_factory=list)
    edges: list[GraphEdge] = field(default_factory=list)


#: identifiers held by more records than this are not followed to the other profiles holding them (a
#: placeholder held by thousands would flood the drawing; its status already says it is shared)
NEIGHBOUR_DEGREE = 50

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
    held = {str(k) for k in links["identifier"]}
    for row in store.rejected_links_of(members):
        held.add(str(row["identifier"]))
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
    _neighbours(store, profile_id, members, sorted(held), nodes, out)
    out.nodes = sorted(nodes.values(), key=lambda n: n.id)
    return out


def _neighbours(store: GraphStore, profile_id: str, members: list[str], keys: list[str], nodes: dict[str, GraphNode],
                out: ProfileGraph) -> None:  # fmt: skip
    """The profile as a node, joined to its records; the other profiles holding one of its identifiers (held
    by at most :data:`NEIGHBOUR_DEGREE` records), and its household's profiles, as nodes the explorer expands."""
    me = f"p:{profile_id}"
    nodes[me] = GraphNode(me, "profile", "self", profile_id, "profile", profile_id)
    out.edges.extend(GraphEdge(f"r:{key}", me, "in_profile", "") for key in members)
    degree = store.identifier_degree(keys)
    followed = [k for k in keys if 1 < degree.get(k, 0) <= NEIGHBOUR_DEGREE]
    for row in store.identifier_profiles(followed):
        other = str(row["profile_id"])
        if other != profile_id:
            nodes.setdefault(f"p:{other}", GraphNode(f"p:{other}", "profile", "neighbour", other, "profile", other))
            out.edges.append(GraphEdge(identifier_node(str(row["key"])), f"p:{other}", "also_held_by", ""))
    for row in store.household_of([profile_id]):
        other = str(row["member"])
        nodes[f"p:{other}"] = GraphNode(f"p:{other}", "profile", "household", other, "profile", other)
        out.edges.append(GraphEdge(me, f"p:{other}", "household", "household"))
