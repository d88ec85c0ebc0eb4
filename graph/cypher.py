"""Every query of cdp-graph, shared by both stores: named :class:`graph.query.Query` objects and the
builders of bulk writes.

Values only ever travel as parameters; labels and relationship types are interpolated from the
:mod:`graph.model` enums, never from input. Writes are ``UNWIND $rows AS row ...`` over batches. Only
:mod:`graph` runs these: the layers above call the named methods of :mod:`graph.reads` and
:mod:`graph.writes`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from graph.model import Label, Rel
from graph.query import Query
from graph.schema import RELS, key_property, property_names

R, ID, E, P = Label.RECORD, Label.IDENTIFIER, Label.EVENT, Label.PROFILE
HAS_ID, HAS_EV, IN_PROF = Rel.HAS_IDENTIFIER, Rel.HAS_EVENT, Rel.IN_PROFILE

_PROPERTY = re.compile(r"[a-z_][a-z0-9_]*")


def _properties(columns: Sequence[str]) -> str:
    for column in columns:  # columns come from code; this keeps a mistake from ever becoming injectable text
        if not _PROPERTY.fullmatch(column):
            raise ValueError(f"not a property name: {column!r}")
    return ", ".join(f"{c}: row.{c}" for c in columns)


def create_nodes(label: Label, columns: Sequence[str]) -> str:
    """``CREATE`` one ``label`` node per row, each column a property."""
    return f"UNWIND $rows AS row CREATE (n:{label} {{{_properties(columns)}}})"


def create_edges(rel: Rel, columns: Sequence[str]) -> str:
    """``CREATE`` one ``rel`` edge per row: the first two columns are the end nodes' keys, the rest properties."""
    (start, end), (start_col, end_col, *props) = (RELS[rel].start, RELS[rel].end), columns
    _properties([start_col, end_col])
    return (
        f"UNWIND $rows AS row MATCH (a:{start} {{{key_property(start)}: row.{start_col}}}) "
        f"MATCH (b:{end} {{{key_property(end)}: row.{end_col}}}) CREATE (a)-[:{rel} {{{_properties(props)}}}]->(b)"
    )


# -- ingest -------------------------------------------------------------------------------------------

RECORD_HASHES = Query(
    "record_hashes", f"UNWIND $keys AS k MATCH (r:{R} {{key: k}}) RETURN r.key AS key, r.hash AS hash"
)

UPDATE_RECORDS = Query(
    "update_records",
    (
        f"UNWIND $rows AS row MATCH (r:{R} {{key: row.key}}) "
        "SET r.attributes = row.attributes, r.hash = row.hash, r.seen_at = row.seen_at"
    ),
)

LINK_FIRST_SEEN = Query(
    "link_first_seen",
    (
        f"UNWIND $keys AS k MATCH (r:{R} {{key: k}})-[e:{HAS_ID}]->(i:{ID}) "
        "RETURN r.key AS record, i.key AS identifier, e.first_seen AS first_seen"
    ),
)

DELETE_RECORD_LINKS = Query(
    "delete_record_links", f"UNWIND $keys AS k MATCH (r:{R} {{key: k}})-[e:{HAS_ID}]->(:{ID}) DELETE e"
)

DELETE_RECORD_EVENTS = Query(
    "delete_record_events", f"UNWIND $keys AS k MATCH (r:{R} {{key: k}})-[:{HAS_EV}]->(ev:{E}) DETACH DELETE ev"
)

# No MERGE on bulk paths: in ladybug every MERGE pins buffer-pool pages until the database closes
# (a 1M-row ingest filled an 8 GB pool), so writers look keys up and CREATE what is missing.
EXISTING_IDENTIFIERS = Query("existing_identifiers", f"UNWIND $keys AS k MATCH (i:{ID} {{key: k}}) RETURN i.key AS key")

UPSERT_RECORDS_NESTED = Query(
    "upsert_records_nested",
    (
        f"UNWIND $rows AS row MERGE (r:{R} {{key: row.key}}) "
        "SET r.source = row.source, r.record_id = row.record_id, r.attributes = row.attributes, r.hash = row.hash, "
        "r.seen_at = row.seen_at "
        "WITH r, row UNWIND row.links AS link "
        f"MERGE (i:{ID} {{key: link.identifier}}) ON CREATE SET i.type = link.type, i.value = link.value, "
        "i.status = link.status, i.unverified = link.unverified "
        f"CREATE (r)-[:{HAS_ID} {{source: link.source, first_seen: link.first_seen, last_seen: link.last_seen}}]->(i)"
    ),
)

# Writes of the in-place path of a changed record (server stores only, see graph/records.py).
UPDATE_LINKS = Query("update_links", (
    f"UNWIND $rows AS row MATCH (:{R} {{key: row.record}})-[e:{HAS_ID}]->"
    f"(:{ID} {{key: row.identifier}}) SET e.last_seen = row.last_seen"
))  # fmt: skip
DELETE_LINKS = Query("delete_links", (
    f"UNWIND $rows AS row MATCH (:{R} {{key: row.record}})-[e:{HAS_ID}]->"
    f"(:{ID} {{key: row.identifier}}) DELETE e"
))  # fmt: skip
DELETE_STALE_EVENTS = Query("delete_stale_events", (
    f"UNWIND $rows AS row MATCH (:{R} {{key: row.record}})-[:{HAS_EV}]->(ev:{E}) "
    "WHERE NOT ev.key IN row.keep DETACH DELETE ev"
))  # fmt: skip
UPSERT_EVENTS = Query("upsert_events", (
    f"UNWIND $rows AS row MATCH (r:{R} {{key: row.record}}) MERGE (ev:{E} {{key: row.key}}) "
    "SET ev.type = row.type, ev.ts = row.ts, ev.source = row.source, ev.properties = row.properties "
    f"MERGE (r)-[:{HAS_EV}]->(ev)"
))  # fmt: skip


# -- resolve ------------------------------------------------------------------------------------------

ALL_RECORD_KEYS = Query("all_record_keys", f"MATCH (r:{R}) RETURN r.key AS record")

ALL_RECORD_ATTRIBUTES = Query(
    "all_record_attributes", f"MATCH (r:{R}) RETURN r.key AS record, r.attributes AS attributes"
)

RECORDS_CONTAINING = Query(
    "records_containing",
    f"MATCH (r:{R})-[:{IN_PROF}]->(p:{P}) WHERE toLower(r.attributes) CONTAINS $text "
    "RETURN r.key AS record, r.attributes AS attributes, p.id AS profile_id LIMIT $limit",
)

RECORD_ATTRIBUTES_OF = Query(
    "record_attributes_of",
    f"UNWIND $keys AS k MATCH (r:{R} {{key: k}}) RETURN r.key AS record, r.attributes AS attributes",
)

# an identifier written before ``unverified`` was declared has none (Neo4j): it is a verified one
ALL_LINKS = Query(
    "all_links",
    f"MATCH (r:{R})-[:{HAS_ID}]->(i:{ID}) "
    "RETURN r.key AS record, i.key AS identifier, coalesce(i.unverified, false) AS unverified",
)

ALL_ASSIGNMENTS = Query(
    "all_assignments", f"MATCH (r:{R})-[:{IN_PROF}]->(p:{P}) RETURN r.key AS record, p.id AS profile_id"
)

SET_IDENTIFIER_STATUS = Query(
    "set_identifier_status", f"UNWIND $rows AS row MATCH (i:{ID} {{key: row.key}}) SET i.status = row.status"
)

FLAGGED_IDENTIFIERS = Query(
    "flagged_identifiers",
    (
        f"MATCH (i:{ID}) WHERE i.status <> 'active' RETURN i.key AS key, i.type AS type, i.value AS value, "
        "i.status AS status"
    ),
)

UPDATE_PROFILES = Query(
    "update_profiles",
    (f"UNWIND $rows AS row MATCH (p:{P} {{id: row.id}}) SET p.size = row.size, p.updated_at = row.updated_at"),
)

DELETE_ASSIGNMENTS = Query(
    "delete_assignments", f"UNWIND $keys AS k MATCH (r:{R} {{key: k}})-[e:{IN_PROF}]->(:{P}) DELETE e"
)


DELETE_REJECTED_LINKS = Query("delete_rejected_links", f"MATCH (x:{Label.REJECTED_LINK}) DELETE x")

REJECTED_LINKS_OF = Query(
    "rejected_links_of",
    (
        f"UNWIND $records AS k MATCH (x:{Label.REJECTED_LINK} {{record: k}}) "
        "RETURN x.record AS record, x.identifier AS identifier, x.reason AS reason"
    ),
)

DELETE_MATCH_LINKS = Query("delete_match_links", f"MATCH (x:{Label.MATCH_LINK}) DELETE x")

MATCH_LINKS_OF = Query(
    "match_links_of",
    (
        f"MATCH (x:{Label.MATCH_LINK}) WHERE x.record_a IN $records AND x.record_b IN $records "
        "RETURN x.record_a AS record_a, x.record_b AS record_b, x.probability AS probability, x.weight AS weight, x.detail AS detail"
    ),
)

ALL_MATCH_LINKS = Query(
    "all_match_links", f"MATCH (x:{Label.MATCH_LINK}) RETURN x.record_a AS record_a, x.record_b AS record_b"
)
DELETE_MATCH_LINKS_OF = Query(
    "delete_match_links_of", f"UNWIND $records AS k MATCH (x:{Label.MATCH_LINK} {{record_a: k}}) DELETE x"
)
DELETE_REJECTED_LINKS_OF = Query(
    "delete_rejected_links_of", f"UNWIND $records AS k MATCH (x:{Label.REJECTED_LINK} {{record: k}}) DELETE x"
)

DELETE_EMBEDDINGS = Query("delete_embeddings", f"MATCH (x:{Label.EMBEDDING_CHUNK}) DELETE x")
DELETE_EMBEDDING_MODELS = Query("delete_embedding_models", f"MATCH (x:{Label.EMBEDDING_MODEL}) DELETE x")
EMBEDDING_MODEL = Query(
    "embedding_model",
    (
        f"MATCH (x:{Label.EMBEDDING_MODEL}) RETURN x.id AS id, x.settings AS settings, x.version AS version, "
        "x.created_at AS created_at, x.summary AS summary ORDER BY x.created_at DESC LIMIT 1"
    ),
)
EMBEDDING_CHUNKS = Query(
    "embedding_chunks",
    (
        f"MATCH (x:{Label.EMBEDDING_CHUNK} {{model_id: $id}}) RETURN x.chunk AS chunk, x.keys AS keys, "
        "x.vectors AS vectors ORDER BY chunk"
    ),
)

SAVE_MODEL = Query(
    "save_model", f"MERGE (x:{Label.MATCH_MODEL} {{id: $id}}) SET x.settings = $settings, x.model = $model"
)
LOAD_MODEL = Query(
    "load_model", f"MATCH (x:{Label.MATCH_MODEL} {{id: $id}}) RETURN x.settings AS settings, x.model AS model"
)

MARK_CHANGED_RECORDS = Query("mark_changed_records", f"UNWIND $keys AS k MERGE (:{Label.CHANGED_RECORD} {{key: k}})")
CHANGED_RECORDS = Query("changed_records", f"MATCH (x:{Label.CHANGED_RECORD}) RETURN x.key AS key")
CLEAR_CHANGED_RECORDS = Query("clear_changed_records", f"MATCH (x:{Label.CHANGED_RECORD}) DELETE x")

DELETE_HOUSEHOLDS = Query("delete_households", f"MATCH (h:{Label.HOUSEHOLD}) DETACH DELETE h")

HOUSEHOLD_OF = Query(
    "household_of",
    (
        f"MATCH (p:{P})-[:{Rel.IN_HOUSEHOLD}]->(:{Label.HOUSEHOLD})<-[:{Rel.IN_HOUSEHOLD}]-(o:{P}) "
        "WHERE p.id IN $ids AND o.id <> p.id RETURN p.id AS profile_id, o.id AS member ORDER BY member"
    ),
)

PROFILE_HISTORY = Query(
    "profile_history",
    (
        f"MATCH (p:{P})-[:{Rel.HAS_HISTORY}]->(e:{Label.PROFILE_EVENT}) WHERE p.id IN $ids "
        "RETURN p.id AS profile_id, e.kind AS kind, e.detail AS detail, e.reason AS reason, e.actor AS actor, "
        "e.at AS at ORDER BY at, kind"
    ),
)
HISTORY_OF_GONE = Query(  # a profile merged away has no node: its entries are found by their property
    "history_of_gone",
    f"MATCH (e:{Label.PROFILE_EVENT}) WHERE e.profile_id IN $ids "
    "RETURN e.profile_id AS profile_id, e.kind AS kind, e.detail AS detail, e.reason AS reason, e.actor AS actor, "
    "e.at AS at ORDER BY at, kind",
)
UNLINKED_HISTORY = Query(  # entries written before HAS_HISTORY existed (a store of an older version)
    "unlinked_history",
    f"MATCH (e:{Label.PROFILE_EVENT}) MATCH (p:{P}) WHERE p.id = e.profile_id "
    f"AND NOT EXISTS {{ MATCH (p)-[:{Rel.HAS_HISTORY}]->(e) }} CREATE (p)-[:{Rel.HAS_HISTORY}]->(e)",
)

COUNT_ALIASES = Query("count_aliases", f"MATCH (a:{Label.PROFILE_ALIAS}) RETURN count(*) AS n")

DELETE_ALIASES = Query("delete_aliases", f"UNWIND $ids AS pid MATCH (a:{Label.PROFILE_ALIAS} {{id: pid}}) DELETE a")

ALIAS_TARGETS = Query(
    "alias_targets",
    f"UNWIND $ids AS pid MATCH (a:{Label.PROFILE_ALIAS} {{id: pid}}) RETURN a.id AS id, a.target AS target",
)

DELETE_PROFILES = Query("delete_profiles", f"UNWIND $ids AS pid MATCH (p:{P} {{id: pid}}) DETACH DELETE p")

OVERRIDE_COLUMNS = property_names(Label.OVERRIDE)

ALL_OVERRIDES = Query(
    "all_overrides",
    (
        f"MATCH (o:{Label.OVERRIDE}) RETURN "
        + ", ".join(f"o.{c} AS {c}" for c in OVERRIDE_COLUMNS)
        + " ORDER BY at, action, key"
    ),
)

SAVE_RUN = Query(
    "save_run", f"MERGE (x:{Label.RESOLVE_RUN} {{id: $id}}) SET x.finished_at = $finished_at, x.summary = $summary"
)

LATEST_RUN = Query(
    "latest_run",
    (
        f"MATCH (x:{Label.RESOLVE_RUN}) RETURN x.id AS id, x.finished_at AS finished_at, x.summary AS summary "
        "ORDER BY x.finished_at DESC LIMIT 1"
    ),
)

# -- reads for the 360 view ---------------------------------------------------------------------------

PROFILE_PAGE = Query(
    "profile_page", f"MATCH (p:{P}) WHERE p.id > $after RETURN p.id AS id, p.size AS size ORDER BY p.id LIMIT $first"
)

PROFILES_BY_ID = Query(
    "profiles_by_id", f"UNWIND $ids AS pid MATCH (p:{P} {{id: pid}}) RETURN p.id AS id, p.size AS size"
)

# Reads of a few profiles filter with ``p.id IN $ids`` (Neo4j looks each id up in the index; ladybug's
# plan costs ~4.4 ms an id at 1M records, so the embedded store runs the :func:`per_profile` form of these
# once per id instead, ~0.4 ms each; ``UNWIND $ids AS pid MATCH (p {id: pid})`` scanned and joined there)
_IDS_FILTER = "p.id IN $ids"


@functools.cache
def per_profile(query: Query) -> Query:
    """The form of a read over ``p.id IN $ids`` that reads one profile, ``p.id = $key``.

    >>> per_profile(PROFILE_RECORD_KEYS).text.split(" WHERE ")[1]
    'p.id = $key RETURN r.key AS key'
    """
    if query.text.count(_IDS_FILTER) != 1:
        raise ValueError(f"query '{query.name}' does not filter with {_IDS_FILTER} once")
    return Query(f"{query.name}_one", query.text.replace(_IDS_FILTER, "p.id = $key"))


PROFILE_RECORDS = Query(
    "profile_records",
    (
        f"MATCH (r:{R})-[:{IN_PROF}]->(p:{P}) WHERE p.id IN $ids "
        "RETURN p.id AS profile_id, r.key AS key, r.source AS source, r.record_id AS record_id, "
        "r.attributes AS attributes, r.seen_at AS seen_at"
    ),
)

PROFILE_MEMBERS = Query(
    "profile_members",
    (f"MATCH (r:{R})-[:{IN_PROF}]->(p:{P}) WHERE p.id IN $ids RETURN p.id AS profile_id, r.key AS record"),
)

PROFILES_OF_RECORDS = Query(
    "profiles_of_records",
    (f"UNWIND $keys AS k MATCH (r:{R} {{key: k}})-[:{IN_PROF}]->(p:{P}) RETURN r.key AS record, p.id AS profile_id"),
)

PROFILE_OF_RECORD_KEYED = Query(
    "profile_of_record_keyed",
    f"MATCH (r:{R} {{key: $key}})-[:{IN_PROF}]->(p:{P}) RETURN r.key AS record, p.id AS profile_id",
)

PROFILE_RECORD_KEYS = Query(
    "profile_record_keys", f"MATCH (r:{R})-[:{IN_PROF}]->(p:{P}) WHERE p.id IN $ids RETURN r.key AS key"
)

PROFILE_IDENTIFIERS = Query(
    "profile_identifiers",
    (
        f"MATCH (i:{ID})<-[e:{HAS_ID}]-(r:{R})-[:{IN_PROF}]->(p:{P}) WHERE p.id IN $ids "
        "RETURN p.id AS profile_id, i.type AS type, i.value AS value, i.status AS status, e.source AS source, "
        "e.first_seen AS first_seen, e.last_seen AS last_seen"
    ),
)

PROFILE_EVENTS = Query(
    "profile_events",
    (
        f"MATCH (ev:{E})<-[:{HAS_EV}]-(r:{R})-[:{IN_PROF}]->(p:{P}) WHERE p.id IN $ids "
        "RETURN p.id AS profile_id, ev.type AS type, ev.ts AS ts, ev.source AS source, ev.properties AS properties"
    ),
)

ALL_PROFILE_EVENTS = Query(
    "all_profile_events",
    (
        f"MATCH (ev:{E})<-[:{HAS_EV}]-(r:{R})-[:{IN_PROF}]->(p:{P}) "
        "RETURN p.id AS profile_id, ev.type AS type, ev.ts AS ts, ev.source AS source, ev.properties AS properties"
    ),
)

PROFILES_BY_IDENTIFIER = Query(
    "profiles_by_identifier",
    (
        f"MATCH (i:{ID} {{key: $key}})<-[:{HAS_ID}]-(r:{R})-[:{IN_PROF}]->(p:{P}) "
        "RETURN p.id AS id, count(r) AS records ORDER BY records DESC, id"
    ),
)

PROFILES_BY_IDENTIFIERS = Query(
    "profiles_by_identifiers",
    (  # per key, the profile holding it on most records comes last
        f"UNWIND $keys AS k MATCH (i:{ID} {{key: k}})<-[:{HAS_ID}]-(r:{R})-[:{IN_PROF}]->(p:{P}) "
        "RETURN k AS key, p.id AS id, count(r) AS records ORDER BY key, records, id"
    ),
)

PROFILE_OF_RECORD = Query("profile_of_record", f"MATCH (r:{R} {{key: $key}})-[:{IN_PROF}]->(p:{P}) RETURN p.id AS id")

# -- stats ----------------------------------------------------------------------------------------------

COUNT_RECORDS = Query("count_records", f"MATCH (r:{R}) RETURN r.source AS source, count(*) AS n")
COUNT_IDENTIFIERS = Query(
    "count_identifiers", f"MATCH (i:{ID}) RETURN i.type AS type, i.status AS status, count(*) AS n"
)
COUNT_EVENTS = Query("count_events", f"MATCH (ev:{E}) RETURN count(*) AS n")
PROFILE_SIZES = Query("profile_sizes", f"MATCH (p:{P}) RETURN p.size AS size, count(*) AS n")
MOST_SHARED_IDENTIFIERS = Query(
    "most_shared_identifiers",
    (
        f"MATCH (i:{ID})<-[:{HAS_ID}]-(r:{R}) WHERE i.type = $type WITH i, count(r) AS records WHERE records > 1 "
        "RETURN i.value AS value, i.status AS status, records ORDER BY records DESC, value LIMIT $limit"
    ),
)

PROFILE_IDENTIFIERS_OF_TYPES = Query(
    "profile_identifiers_of_types",
    (
        f"MATCH (i:{ID})<-[:{HAS_ID}]-(r:{R})-[:{IN_PROF}]->(p:{P}) WHERE i.type IN $types "
        "RETURN p.id AS profile_id, i.type AS kind, i.value AS value"
    ),
)
PROFILE_RECORD_ROWS = Query(
    "profile_record_rows",
    f"MATCH (r:{R})-[:{IN_PROF}]->(p:{P}) "
    "RETURN p.id AS profile_id, r.source AS source, r.seen_at AS seen_at, r.attributes AS attributes",
)

PROFILE_IDENTIFIER_COUNTS = Query(
    "profile_identifier_counts",
    f"MATCH (i:{ID})<-[:{HAS_ID}]-(:{R})-[:{IN_PROF}]->(p:{P}) WHERE i.status IN $statuses "
    "RETURN p.id AS profile_id, i.type AS type, count(DISTINCT i.key) AS n",
)

PROFILE_RECORD_ATTRIBUTES = Query(
    "profile_record_attributes",
    f"MATCH (r:{R})-[:{IN_PROF}]->(p:{P}) RETURN p.id AS profile_id, r.attributes AS attributes",
)

# -- explanations ---------------------------------------------------------------------------------------

PROFILE_LINKS = Query(
    "profile_links",
    (
        f"MATCH (i:{ID})<-[:{HAS_ID}]-(r:{R})-[:{IN_PROF}]->(p:{P}) WHERE p.id IN $ids "
        "RETURN p.id AS profile_id, r.key AS record, i.key AS identifier, i.type AS type, i.value AS value, "
        "i.status AS status"
    ),
)
IDENTIFIER_DEGREE = Query(
    "identifier_degree",
    (f"UNWIND $keys AS k MATCH (i:{ID} {{key: k}})<-[:{HAS_ID}]-(r:{R}) RETURN i.key AS key, count(r) AS records"),
)

IDENTIFIER_DEGREE_ONE = Query(
    "identifier_degree_one",
    f"MATCH (i:{ID} {{key: $key}})<-[:{HAS_ID}]-(r:{R}) RETURN i.key AS key, count(r) AS records",
)
IDENTIFIER_PROFILES_ONE = Query(
    "identifier_profiles_one",
    f"MATCH (i:{ID} {{key: $key}})<-[:{HAS_ID}]-(:{R})-[:{IN_PROF}]->(p:{P}) "
    "RETURN DISTINCT i.key AS key, p.id AS profile_id",
)
IDENTIFIER_PROFILES = Query(
    "identifier_profiles",
    f"UNWIND $keys AS k MATCH (i:{ID} {{key: k}})<-[:{HAS_ID}]-(:{R})-[:{IN_PROF}]->(p:{P}) "
    "RETURN DISTINCT i.key AS key, p.id AS profile_id",
)

EXISTING_PROFILE_EVENTS = Query(
    "existing_profile_events", f"UNWIND $keys AS k MATCH (e:{Label.PROFILE_EVENT} {{key: k}}) RETURN e.key AS key"
)
EXISTING_PROFILE_ALIASES = Query(
    "existing_profile_aliases", f"UNWIND $ids AS pid MATCH (a:{Label.PROFILE_ALIAS} {{id: pid}}) RETURN a.id AS id"
)
PING = Query("ping", "RETURN 1 AS ok")

# -- the resolve journal: a run's planned writes, applied step by step --------------------------------

PENDING_JOURNAL = Query(
    "pending_journal",
    f"MATCH (x:{Label.RESOLVE_JOURNAL}) RETURN x.id AS id, x.run_id AS run_id, x.meta AS meta, "
    "x.created_at AS created_at",
)
JOURNAL_CHUNKS = Query(
    "journal_chunks",
    f"MATCH (x:{Label.JOURNAL_CHUNK} {{run_id: $run_id}}) RETURN x.part AS part, x.chunk AS chunk, x.data AS data "
    "ORDER BY part, chunk",
)
DELETE_JOURNAL = Query("delete_journal", f"MATCH (x:{Label.RESOLVE_JOURNAL}) DELETE x")
DELETE_JOURNAL_CHUNKS = Query("delete_journal_chunks", f"MATCH (x:{Label.JOURNAL_CHUNK}) DELETE x")

# -- the writer lease: one multi-transaction writer at a time, across processes -----------------------

LOCK_LEASE = Query(  # SET before reading takes the node's write lock, so two writers cannot both see it free
    "lock_lease",
    f"MERGE (x:{Label.WRITER_LEASE} {{key: $key}}) ON CREATE SET x.holder = '', x.job = '', x.expires_at = 0.0 "
    "SET x.job = x.job RETURN x.holder AS holder, x.job AS job, x.expires_at AS expires_at",
)
SET_LEASE = Query(
    "set_lease",
    f"MATCH (x:{Label.WRITER_LEASE} {{key: $key}}) SET x.holder = $holder, x.job = $job, x.expires_at = $expires_at",
)
RENEW_LEASE = Query(
    "renew_lease",
    f"MATCH (x:{Label.WRITER_LEASE} {{key: $key}}) WHERE x.holder = $holder SET x.expires_at = $expires_at "
    "RETURN x.holder AS holder",
)
RELEASE_LEASE = Query(
    "release_lease",
    f"MATCH (x:{Label.WRITER_LEASE} {{key: $key}}) WHERE x.holder = $holder SET x.holder = '', x.job = '', "
    "x.expires_at = 0.0",
)

# -- settings stored with the graph -------------------------------------------------------------------

GRAPH_SETTINGS = Query("graph_settings", f"MATCH (x:{Label.GRAPH_SETTING}) RETURN x.key AS key, x.value AS value")
SET_GRAPH_SETTING = Query("set_graph_setting", f"MERGE (x:{Label.GRAPH_SETTING} {{key: $key}}) SET x.value = $value")

# -- API keys (only their hashes are stored) -------------------------------------------------------------

API_KEYS = Query(
    "api_keys",
    f"MATCH (x:{Label.API_KEY}) RETURN x.name AS name, x.scopes AS scopes, x.created_at AS created_at, "
    "x.last_used_at AS last_used_at ORDER BY name",
)
API_KEY_BY_HASH = Query(
    "api_key_by_hash",
    f"MATCH (x:{Label.API_KEY} {{hash: $hash}}) RETURN x.name AS name, x.scopes AS scopes, "
    "x.last_used_at AS last_used_at",
)
CREATE_API_KEY = Query(
    "create_api_key",
    f"CREATE (x:{Label.API_KEY} {{hash: $hash, name: $name, scopes: $scopes, created_at: $created_at, "
    "last_used_at: ''})",
)
API_KEY_NAMED = Query("api_key_named", f"MATCH (x:{Label.API_KEY}) WHERE x.name = $name RETURN x.name AS name")
DELETE_API_KEY = Query("delete_api_key", f"MATCH (x:{Label.API_KEY}) WHERE x.name = $name DELETE x")
TOUCH_API_KEY = Query("touch_api_key", f"MATCH (x:{Label.API_KEY} {{hash: $hash}}) SET x.last_used_at = $at")

# -- the audit log and erasure suppressions ------------------------------------------------------------

AUDIT_SINCE = Query(
    "audit_since",
    f"MATCH (x:{Label.AUDIT_ENTRY}) WHERE x.at >= $since RETURN x.key AS key, x.at AS at, x.actor AS actor, "
    "x.action AS action, x.targets AS targets, x.outcome AS outcome, x.detail AS detail ORDER BY key LIMIT $limit",
)
ALL_SUPPRESSIONS = Query("all_suppressions", f"MATCH (x:{Label.SUPPRESSION}) RETURN x.hash AS hash")
ADD_SUPPRESSIONS = Query(
    "add_suppressions",
    f"UNWIND $rows AS row MERGE (x:{Label.SUPPRESSION} {{hash: row.hash}}) SET x.type = row.type, x.at = row.at",
)

# -- reviewers' verdicts on record pairs ------------------------------------------------------------------

ALL_PAIR_LABELS = Query(
    "all_pair_labels",
    f"MATCH (x:{Label.PAIR_LABEL}) RETURN x.key AS key, x.record_a AS record_a, x.record_b AS record_b, "
    "x.match AS match, x.actor AS actor, x.at AS at ORDER BY at, key",
)
SET_PAIR_LABEL = Query(
    "set_pair_label",
    f"MERGE (x:{Label.PAIR_LABEL} {{key: $key}}) SET x.record_a = $record_a, x.record_b = $record_b, "
    "x.match = $match, x.actor = $actor, x.at = $at",
)
DELETE_PAIR_LABELS_OF = Query(
    "delete_pair_labels_of",
    f"UNWIND $records AS k MATCH (x:{Label.PAIR_LABEL}) WHERE x.record_a = k OR x.record_b = k DELETE x",
)

# -- segments ------------------------------------------------------------------------------------------

ALL_SEGMENTS = Query(
    "all_segments",
    f"MATCH (x:{Label.SEGMENT}) RETURN x.name AS name, x.rule AS rule, x.created_by AS created_by, "
    "x.created_at AS created_at ORDER BY name",
)
CREATE_SEGMENT = Query(
    "create_segment",
    f"CREATE (x:{Label.SEGMENT} {{name: $name, rule: $rule, created_by: $created_by, created_at: $created_at}})",
)
DELETE_SEGMENT = Query("delete_segment", f"MATCH (x:{Label.SEGMENT} {{name: $name}}) DELETE x")
ALL_SEGMENT_STATES = Query(
    "all_segment_states", f"MATCH (x:{Label.SEGMENT_STATE}) RETURN x.profile_id AS profile_id, x.segments AS segments"
)
SEGMENT_STATES_OF = Query(
    "segment_states_of",
    f"UNWIND $ids AS pid MATCH (x:{Label.SEGMENT_STATE} {{profile_id: pid}}) "
    "RETURN x.profile_id AS profile_id, x.segments AS segments, x.history AS history",
)
DELETE_SEGMENT_STATES = Query(
    "delete_segment_states", f"UNWIND $ids AS pid MATCH (x:{Label.SEGMENT_STATE} {{profile_id: pid}}) DELETE x"
)

# -- destinations and audience pushes ------------------------------------------------------------------

ALL_DESTINATIONS = Query(
    "all_destinations",
    f"MATCH (x:{Label.DESTINATION}) RETURN x.name AS name, x.kind AS kind, x.target AS target, x.secret AS secret, "
    "x.batch_size AS batch_size, x.created_at AS created_at, coalesce(x.format, 'csv') AS format ORDER BY name",
)
SYNC_STATE = Query(
    "sync_state",
    f"MATCH (x:{Label.SYNC_STATE} {{key: $key}}) RETURN x.members AS members, x.synced_at AS synced_at",
)
SET_SYNC_STATE = Query(
    "set_sync_state",
    f"MERGE (x:{Label.SYNC_STATE} {{key: $key}}) SET x.destination = $destination, x.segment = $segment, "
    "x.members = $members, x.synced_at = $synced_at",
)
OUTBOX_OF = Query(
    "outbox_of",
    f"MATCH (x:{Label.OUTBOX_BATCH}) WHERE x.destination = $destination AND x.status IN $statuses "
    "RETURN x.key AS key, x.destination AS destination, x.segment AS segment, x.sync AS sync, x.batch AS batch, "
    "x.purpose AS purpose, x.entered AS entered, x.exited AS exited, x.status AS status, x.attempts AS attempts, "
    "x.outcome AS outcome, x.created_at AS created_at, x.sent_at AS sent_at ORDER BY created_at, key",
)
SET_OUTBOX_STATUS = Query(
    "set_outbox_status",
    f"MATCH (x:{Label.OUTBOX_BATCH} {{key: $key}}) SET x.status = $status, x.attempts = $attempts, "
    "x.outcome = $outcome, x.sent_at = $sent_at",
)

JOURNEY_STATES = Query(
    "journey_states",
    f"MATCH (x:{Label.JOURNEY_STATE}) WHERE x.journey = $journey RETURN x.key AS key, x.journey AS journey, "
    "x.profile_id AS profile_id, x.step AS step, x.due_at AS due_at, x.entered_at AS entered_at, "
    "x.status AS status, x.sends AS sends ORDER BY key",
)
DELETE_JOURNEY_STATES = Query(
    "delete_journey_states", f"UNWIND $keys AS k MATCH (x:{Label.JOURNEY_STATE} {{key: k}}) DELETE x"
)

DELETE_JOURNEY_STATES_OF = Query(
    "delete_journey_states_of", f"MATCH (x:{Label.JOURNEY_STATE}) WHERE x.profile_id IN $ids DELETE x"
)
ALL_SYNC_STATES = Query("all_sync_states", f"MATCH (x:{Label.SYNC_STATE}) RETURN x.key AS key, x.members AS members")
SET_SYNC_MEMBERS = Query("set_sync_members", f"MATCH (x:{Label.SYNC_STATE} {{key: $key}}) SET x.members = $members")
ALL_OUTBOX = Query(
    "all_outbox", f"MATCH (x:{Label.OUTBOX_BATCH}) RETURN x.key AS key, x.entered AS entered, x.exited AS exited"
)
SET_OUTBOX_MEMBERS = Query(
    "set_outbox_members",
    f"MATCH (x:{Label.OUTBOX_BATCH} {{key: $key}}) SET x.entered = $entered, x.exited = $exited",
)

# -- erasing a customer: every trace of their records, then what only they held --------------------------

RECORD_IDENTIFIERS_OF = Query(
    "record_identifiers_of",
    f"UNWIND $keys AS k MATCH (:{R} {{key: k}})-[:{HAS_ID}]->(i:{ID}) RETURN DISTINCT i.key AS key, i.type AS type",
)
RECORD_EVENT_COUNT = Query(
    "record_event_count", f"UNWIND $keys AS k MATCH (:{R} {{key: k}})-[:{HAS_EV}]->(ev:{E}) RETURN count(ev) AS n"
)
DELETE_MATCH_LINKS_TO = Query(
    "delete_match_links_to", f"UNWIND $records AS k MATCH (x:{Label.MATCH_LINK} {{record_b: k}}) DELETE x"
)
DELETE_OVERRIDES_OF = Query(
    "delete_overrides_of",
    f"UNWIND $records AS k MATCH (x:{Label.OVERRIDE}) WHERE x.record_a = k OR x.record_b = k DELETE x",
)
DELETE_CHANGED_OF = Query(
    "delete_changed_of", f"UNWIND $records AS k MATCH (x:{Label.CHANGED_RECORD} {{key: k}}) DELETE x"
)
DELETE_RECORDS = Query("delete_records", f"UNWIND $keys AS k MATCH (r:{R} {{key: k}}) DETACH DELETE r")
DELETE_ORPHAN_IDENTIFIERS = Query(
    "delete_orphan_identifiers",
    f"UNWIND $keys AS k MATCH (i:{ID} {{key: k}}) WHERE NOT EXISTS {{ MATCH (i)<-[:{HAS_ID}]-(:{R}) }} "
    "DETACH DELETE i RETURN count(*) AS n",
)
DELETE_HISTORY_OF = Query(
    "delete_history_of",
    f"UNWIND $ids AS pid MATCH (x:{Label.PROFILE_EVENT}) WHERE x.profile_id = pid DETACH DELETE x",
)
DELETE_ALIASES_TO = Query(
    "delete_aliases_to",
    f"UNWIND $ids AS pid MATCH (a:{Label.PROFILE_ALIAS}) WHERE a.target = pid OR a.id = pid DELETE a",
)


def all_nodes(label: Label) -> Query:
    """Every node of ``label`` with every declared property (what an erase test searches)."""
    columns = ", ".join(f"x.{name} AS {name}" for name in property_names(label))
    return Query(f"all_{label.lower()}_nodes", f"MATCH (x:{label}) RETURN {columns}")
