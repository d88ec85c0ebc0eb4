"""The schema of the identity graph, declared once: every node label with its properties (key first),
every relationship type with its end labels and properties, and the properties looked up by value.

Each backend generates its DDL from these tables (:func:`embedded_ddl`, :func:`neo4j_ddl`), so the two
stores cannot drift apart, and the key of a label is read here rather than spelled in queries.
"""

from __future__ import annotations

from dataclasses import dataclass

from graph.model import Label, Rel

__all__ = [
    "ADDED_PROPERTIES",
    "NODES",
    "RELS",
    "NodeTable",
    "RelTable",
    "embedded_add_property",
    "embedded_ddl",
    "key_property",
    "neo4j_ddl",
    "property_names",
]


@dataclass(frozen=True)
class NodeTable:
    """A node label: its properties as ``(name, type)`` with the key first, and the properties indexed for
    lookups by value (the key is always unique and indexed)."""

    label: Label
    properties: tuple[tuple[str, str], ...]
    indexed: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.properties[0][0]


@dataclass(frozen=True)
class RelTable:
    rel: Rel
    start: Label
    end: Label
    properties: tuple[tuple[str, str], ...] = ()


def _node(label: Label, spec: str, indexed: tuple[str, ...] = ()) -> NodeTable:
    pairs = tuple(tuple(part.split()) for part in spec.split(","))
    return NodeTable(label, tuple((name, kind) for name, kind in pairs), indexed)


S = "STRING"
NODES: dict[Label, NodeTable] = {
    t.label: t
    for t in (
        _node(
            Label.RECORD,
            "key STRING, source STRING, record_id STRING, attributes STRING, hash STRING, seen_at STRING",
            ("source",),
        ),
        _node(
            Label.IDENTIFIER, "key STRING, type STRING, value STRING, status STRING, unverified BOOLEAN", ("status",)
        ),
        _node(Label.EVENT, "key STRING, type STRING, ts STRING, source STRING, properties STRING"),
        _node(Label.PROFILE, "id STRING, size INT64, updated_at STRING"),
        _node(Label.PROFILE_ALIAS, "id STRING, target STRING, updated_at STRING"),
        _node(Label.REJECTED_LINK, "key STRING, record STRING, identifier STRING, reason STRING", ("record",)),
        _node(
            Label.MATCH_LINK,
            "key STRING, record_a STRING, record_b STRING, probability DOUBLE, weight DOUBLE, detail STRING",
            ("record_a", "record_b"),
        ),
        _node(Label.HOUSEHOLD, "id STRING"),
        _node(
            Label.PROFILE_EVENT,
            "key STRING, profile_id STRING, kind STRING, detail STRING, reason STRING, actor STRING, at STRING",
            ("profile_id",),
        ),
        _node(
            Label.OVERRIDE,
            "key STRING, action STRING, kind STRING, record_a STRING, record_b STRING, "
            "reason STRING, actor STRING, at STRING",
        ),
        _node(Label.RESOLVE_RUN, "id STRING, finished_at STRING, summary STRING"),
        _node(Label.MATCH_MODEL, "id STRING, settings STRING, model STRING"),
        _node(Label.CHANGED_RECORD, "key STRING"),
        _node(Label.EMBEDDING_MODEL, "id STRING, settings STRING, version STRING, created_at STRING, summary STRING"),
        _node(
            Label.EMBEDDING_CHUNK,
            "key STRING, model_id STRING, chunk INT64, keys STRING, vectors STRING",
            ("model_id",),
        ),
        _node(Label.RESOLVE_JOURNAL, "id STRING, run_id STRING, meta STRING, created_at STRING"),
        _node(Label.JOURNAL_CHUNK, "key STRING, run_id STRING, part STRING, chunk INT64, data STRING", ("run_id",)),
        _node(Label.WRITER_LEASE, "key STRING, holder STRING, job STRING, expires_at DOUBLE"),
        _node(Label.GRAPH_SETTING, "key STRING, value STRING"),
        _node(Label.API_KEY, "hash STRING, name STRING, scopes STRING, created_at STRING, last_used_at STRING"),
        _node(
            Label.AUDIT_ENTRY,
            "key STRING, at STRING, actor STRING, action STRING, targets STRING, outcome STRING, detail STRING",
            ("at",),
        ),
        _node(Label.SUPPRESSION, "hash STRING, type STRING, at STRING"),
        _node(Label.PAIR_LABEL, "key STRING, record_a STRING, record_b STRING, match BOOLEAN, actor STRING, at STRING"),
        _node(Label.SEGMENT, "name STRING, rule STRING, created_by STRING, created_at STRING"),
        _node(Label.SEGMENT_STATE, "profile_id STRING, segments STRING, history STRING"),
        _node(
            Label.DESTINATION,
            "name STRING, kind STRING, target STRING, secret STRING, batch_size INT64, created_at STRING, format STRING",
        ),
        _node(Label.SYNC_STATE, "key STRING, destination STRING, segment STRING, members STRING, synced_at STRING"),
        _node(
            Label.JOURNEY_STATE,
            "key STRING, journey STRING, profile_id STRING, step INT64, due_at STRING, entered_at STRING, "
            "status STRING, sends STRING",
        ),
        _node(
            Label.OUTBOX_BATCH,
            "key STRING, destination STRING, segment STRING, sync STRING, batch INT64, purpose STRING, entered STRING, "
            "exited STRING, status STRING, attempts INT64, outcome STRING, created_at STRING, sent_at STRING",
        ),
    )
}

RELS: dict[Rel, RelTable] = {
    Rel.HAS_IDENTIFIER: RelTable(
        Rel.HAS_IDENTIFIER, Label.RECORD, Label.IDENTIFIER, (("source", S), ("first_seen", S), ("last_seen", S))
    ),  # fmt: skip
    Rel.HAS_EVENT: RelTable(Rel.HAS_EVENT, Label.RECORD, Label.EVENT),
    Rel.IN_PROFILE: RelTable(Rel.IN_PROFILE, Label.RECORD, Label.PROFILE),
    # reads of a profile's history and household follow edges from it: the embedded store indexes
    # nothing but keys, and a property lookup there scans the whole table
    Rel.HAS_HISTORY: RelTable(Rel.HAS_HISTORY, Label.PROFILE, Label.PROFILE_EVENT),
    Rel.IN_HOUSEHOLD: RelTable(Rel.IN_HOUSEHOLD, Label.PROFILE, Label.HOUSEHOLD),
}


#: properties added to a label after graphs were written without them: ``(layout version, label, property)``.
#: :mod:`graph.migrations` adds them to an older graph when it is opened; a node written before reads as
#: the type's default (a BOOLEAN false), so queries read such a property through ``coalesce``.
ADDED_PROPERTIES: tuple[tuple[int, Label, str], ...] = (
    (3, Label.IDENTIFIER, "unverified"),
    (4, Label.DESTINATION, "format"),
)


def key_property(label: Label) -> str:
    """The property that identifies a node of ``label``.

    >>> key_property(Label.PROFILE), key_property(Label.RECORD)
    ('id', 'key')
    """
    return NODES[label].key


def property_names(label: Label) -> list[str]:
    """Every property of ``label``, key first, in the order bulk loads take them."""
    return [name for name, _ in NODES[label].properties]


def embedded_ddl() -> list[str]:
    """``CREATE NODE/REL TABLE IF NOT EXISTS`` for every label and relationship type (ladybug)."""
    nodes = [
        f"CREATE NODE TABLE IF NOT EXISTS {t.label}({', '.join(f'{n} {k}' for n, k in t.properties)}, "
        f"PRIMARY KEY ({t.key}))"
        for t in NODES.values()
    ]
    rels = [
        f"CREATE REL TABLE IF NOT EXISTS {r.rel}(FROM {r.start} TO {r.end}"
        f"{''.join(f', {n} {k}' for n, k in r.properties)})"
        for r in RELS.values()
    ]
    return nodes + rels


def embedded_add_property(label: Label, name: str) -> str:
    """``ALTER TABLE ... ADD IF NOT EXISTS`` for a declared property an older graph's table lacks (ladybug);
    a BOOLEAN starts false on every existing node, any other type null.

    >>> embedded_add_property(Label.IDENTIFIER, "unverified")
    'ALTER TABLE Identifier ADD IF NOT EXISTS unverified BOOLEAN DEFAULT false'
    """
    kind = dict(NODES[label].properties)[name]
    return f"ALTER TABLE {label} ADD IF NOT EXISTS {name} {kind}{' DEFAULT false' if kind == 'BOOLEAN' else ''}"


def neo4j_ddl() -> list[str]:
    """A uniqueness constraint on every label's key and an index on each looked-up property (Neo4j)."""
    constraints = [
        f"CREATE CONSTRAINT {t.label.lower()}_{t.key} IF NOT EXISTS FOR (n:{t.label}) REQUIRE n.{t.key} IS UNIQUE"
        for t in NODES.values()
    ]
    indexes = [
        f"CREATE INDEX {t.label.lower()}_{p} IF NOT EXISTS FOR (n:{t.label}) ON (n.{p})"
        for t in NODES.values()
        for p in t.indexed
    ]
    return constraints + indexes
