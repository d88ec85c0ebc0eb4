"""Named reads of the identity graph, shared by a store's auto-commit reads and by transactions.

Every read the layers above need is a method here, with its query, parameters and result shape fixed;
nothing above :mod:`graph` picks a Cypher text. Bulk reads return DataFrames with fixed columns (empty
results included); small ones return rows or plain Python values.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from graph import cypher as q
from graph.model import Label
from graph.runner import QueryRunner, Row

__all__ = ["Reads"]


def _keys(values: Iterable[str]) -> list[str]:
    return [str(v) for v in values]


class Reads(QueryRunner):
    """Domain reads; see the module docstring."""

    #: rows per ``UNWIND`` batch
    batch_size: int = 5_000
    #: up to this many keys, a lookup that goes on from a node found by its key (to its records, its
    #: profile) is run once per key (see :meth:`_per_key`); 0: always as one ``UNWIND``
    per_key_lookups: int = 0
    #: reads of profiles by id run once per id (see :func:`graph.cypher.per_profile`)
    per_profile_reads: bool = False

    def _per_key(self, one: q.Query, batch: q.Query, keys: Sequence[str], param: str) -> list[Row]:
        """The rows of ``batch`` over ``keys``, or of ``one`` run per key when there are at most
        :attr:`per_key_lookups` of them: the embedded store plans ``UNWIND`` then a traversal as a join over
        the whole relationship table (seconds at a million records, for a handful of keys), while one key's
        lookup takes milliseconds."""
        keys = _keys(keys)
        if not keys:  # nothing to look up (the embedded store takes seconds over an empty UNWIND too)
            return []
        if len(keys) <= self.per_key_lookups:
            return [row for key in keys for row in self.run(one, key=key)]
        return self.run(batch, **{param: keys})

    def _of_profiles(self, query: q.Query, ids: Iterable[str]) -> list[Row]:
        """The rows of ``query`` (filtered with ``p.id IN $ids``) for ``ids``, or of its
        :func:`~graph.cypher.per_profile` form run per id on a store with :attr:`per_profile_reads`."""
        ids = list(dict.fromkeys(_keys(ids)))
        if not self.per_profile_reads:
            return self.run(query, ids=ids)
        one = q.per_profile(query)
        return [row for key in ids for row in self.run(one, key=key)]

    # ---- records and identifiers (resolution reads the whole graph) -------------------------------

    def record_keys(self) -> pd.DataFrame:
        """Every record key, column ``record``."""
        return self.frame(q.ALL_RECORD_KEYS)

    def record_links(self) -> pd.DataFrame:
        """Every ``(record, identifier)`` edge, columns ``record, identifier, unverified`` (a bool: the
        identifier is a phone ingest found in no assigned number range, see ``IdentifierStatus.UNVERIFIED``)."""
        return self.frame(q.ALL_LINKS).astype({"unverified": bool})

    def record_attributes(self) -> pd.DataFrame:
        """Every record's attributes, columns ``record, attributes`` (a JSON object per record)."""
        return self.frame(q.ALL_RECORD_ATTRIBUTES)

    def record_attributes_of(self, keys: Sequence[str]) -> pd.DataFrame:
        """The attributes of the records ``keys`` (unknown keys left out). O(len(keys)) lookups by key."""
        return self.frame(q.RECORD_ATTRIBUTES_OF, keys=_keys(keys))

    def profile_record_rows(self) -> pd.DataFrame:
        """``profile_id, source, seen_at, attributes`` (JSON text) of every resolved record: one bulk read."""
        return self.frame(q.PROFILE_RECORD_ROWS)

    def profile_identifier_counts(self, statuses: Sequence[str]) -> pd.DataFrame:
        """``profile_id, type, n``: how many distinct identifiers of each type, of ``statuses``, each profile holds."""
        return self.frame(q.PROFILE_IDENTIFIER_COUNTS, statuses=list(statuses))

    def records_containing(self, text: str, limit: int) -> pd.DataFrame:
        """``record, attributes, profile_id`` of up to ``limit`` resolved records whose attributes (JSON text),
        in lower case, contain ``text`` (give it in lower case): a scan of every record, for a search by name."""
        return self.frame(q.RECORDS_CONTAINING, text=text, limit=limit)

    def existing_records(self, keys: Sequence[str]) -> set[str]:
        """Those of ``keys`` that are records of the graph."""
        return self._existing(q.RECORD_HASHES, "keys", _keys(keys), "key")

    def record_hashes(self, keys: Sequence[str]) -> dict[str, str]:
        """Record key -> content hash, for those of ``keys`` that exist."""
        return {row["key"]: row["hash"] for row in self.run(q.RECORD_HASHES, keys=_keys(keys))}

    def existing_identifiers(self, keys: Sequence[str]) -> set[str]:
        return self._existing(q.EXISTING_IDENTIFIERS, "keys", _keys(keys), "key")

    def flagged_identifiers(self) -> dict[str, str]:
        """Identifier key -> status, for every identifier whose status is not ``active`` (ignored by
        resolution, or unverified)."""
        return {row["key"]: row["status"] for row in self.run(q.FLAGGED_IDENTIFIERS)}

    def identifier_degree(self, keys: Sequence[str]) -> dict[str, int]:
        """Identifier key -> how many records hold it."""
        rows = self._per_key(q.IDENTIFIER_DEGREE_ONE, q.IDENTIFIER_DEGREE, keys, "keys")
        return {row["key"]: int(row["records"]) for row in rows}

    def identifier_profiles(self, keys: Sequence[str]) -> list[Row]:
        """``key, profile_id``: every profile holding each identifier of ``keys`` (read the degree first: an
        identifier held by many records costs as many reads)."""
        return self._per_key(q.IDENTIFIER_PROFILES_ONE, q.IDENTIFIER_PROFILES, keys, "keys")

    def changed_records(self) -> list[str]:
        """Records ingest changed since the last resolve."""
        return [row["key"] for row in self.run(q.CHANGED_RECORDS)]

    # ---- resolution's own state ---------------------------------------------------------------------

    def assignments(self) -> pd.DataFrame:
        """Current ``record -> profile`` assignment, columns ``record, profile_id``."""
        return self.frame(q.ALL_ASSIGNMENTS)

    def overrides(self) -> pd.DataFrame:
        """Every user override (must-link or cannot-link between two records), oldest first, columns
        ``key, action, kind, record_a, record_b, reason, actor, at``."""
        return self.frame(q.ALL_OVERRIDES)

    def segments(self) -> list[Row]:
        """Every segment: ``name, rule, created_by, created_at``, by name."""
        return self.run(q.ALL_SEGMENTS)

    def segment_states(self) -> pd.DataFrame:
        """``profile_id, segments`` (JSON: segment -> since when) of every profile with a segment state."""
        return self.frame(q.ALL_SEGMENT_STATES)

    def segment_states_of(self, ids: Sequence[str]) -> pd.DataFrame:
        """``profile_id, segments, history`` of the profiles ``ids`` that have a segment state."""
        frames = [self.frame(q.SEGMENT_STATES_OF, ids=_keys(ids[i : i + self.batch_size]))
                  for i in range(0, len(ids), self.batch_size)]  # fmt: skip
        return (
            pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(q.SEGMENT_STATES_OF.columns))
        )

    def destinations(self) -> list[Row]:
        """Every destination: ``name, kind, target, secret, batch_size, created_at, format``, by name."""
        return self.run(q.ALL_DESTINATIONS)

    def sync_state(self, key: str) -> Row | None:
        """``members, synced_at`` of a destination's last planned sync of a segment (key ``DEST|SEGMENT``)."""
        rows = self.run(q.SYNC_STATE, key=key)
        return rows[0] if rows else None

    def outbox(self, destination: str, statuses: Sequence[str]) -> pd.DataFrame:
        """A destination's outbox batches of ``statuses`` (pending, sent, dead), oldest first."""
        return self.frame(q.OUTBOX_OF, destination=destination, statuses=list(statuses))

    def journey_states(self, journey: str) -> pd.DataFrame:
        """Every profile's state in ``journey``: ``key, journey, profile_id, step, due_at, entered_at, status, sends``."""
        return self.frame(q.JOURNEY_STATES, journey=journey)

    def pair_labels(self) -> pd.DataFrame:
        """Reviewers' verdicts on record pairs, oldest first: ``key, record_a, record_b, match, actor, at``."""
        return self.frame(q.ALL_PAIR_LABELS)

    def match_links(self) -> pd.DataFrame:
        """The last runs' fuzzy-match links, columns ``record_a, record_b``."""
        return self.frame(q.ALL_MATCH_LINKS)

    def match_links_among(self, records: Sequence[str]) -> pd.DataFrame:
        """Match links between two of ``records`` with their evidence (``probability, weight, detail``)."""
        return self.frame(q.MATCH_LINKS_OF, records=_keys(records))

    def rejected_links_of(self, records: Sequence[str]) -> list[Row]:
        """``record, identifier, reason`` of the links the last resolve cut off ``records``."""
        return self.run(q.REJECTED_LINKS_OF, records=_keys(records))

    def match_model(self, model_id: str) -> Row | None:
        """``settings, model`` (JSON) of a saved match model."""
        rows = self.run(q.LOAD_MODEL, id=model_id)
        return rows[0] if rows else None

    def latest_run(self) -> Row | None:
        """``id, finished_at, summary`` of the last resolve run."""
        rows = self.run(q.LATEST_RUN)
        return rows[0] if rows else None

    def pending_journal(self) -> Row | None:
        """A resolve run whose planned writes are not all applied yet: ``id, run_id, meta, created_at``."""
        rows = self.run(q.PENDING_JOURNAL)
        return rows[0] if rows else None

    def journal_chunks(self, run_id: str) -> list[Row]:
        return self.run(q.JOURNAL_CHUNKS, run_id=run_id)

    def count_aliases(self) -> int:
        return int(self.run(q.COUNT_ALIASES)[0]["n"])

    # ---- profiles: the 360 view -----------------------------------------------------------------------

    def profile_sizes_of(self, ids: Sequence[str]) -> dict[str, int]:
        """Profile id -> size, for those of ``ids`` that exist."""
        return {row["id"]: int(row["size"]) for row in self.run(q.PROFILES_BY_ID, ids=_keys(ids))}

    def alias_targets(self, ids: Sequence[str]) -> dict[str, str]:
        """Merged-away profile id -> the profile that took its records."""
        return {row["id"]: row["target"] for row in self.run(q.ALIAS_TARGETS, ids=_keys(ids))}

    def profile_page(self, after: str, first: int) -> list[str]:
        """Up to ``first`` profile ids after ``after``, in id order."""
        return [row["id"] for row in self.run(q.PROFILE_PAGE, after=after, first=first)]

    def profile_records(self, ids: Sequence[str]) -> list[Row]:
        """``profile_id, key, source, record_id, attributes, seen_at`` of the records of ``ids``."""
        return self._of_profiles(q.PROFILE_RECORDS, ids)

    def profile_members(self, ids: Sequence[str]) -> list[Row]:
        """``profile_id, record`` for every record of ``ids``."""
        return self._of_profiles(q.PROFILE_MEMBERS, ids)

    def profile_record_keys(self, ids: Sequence[str]) -> list[str]:
        return [row["key"] for row in self._of_profiles(q.PROFILE_RECORD_KEYS, ids)]

    def profiles_of_records(self, keys: Sequence[str]) -> dict[str, str]:
        """Record key -> its profile, for the resolved ones of ``keys``."""
        rows = self._per_key(q.PROFILE_OF_RECORD_KEYED, q.PROFILES_OF_RECORDS, keys, "keys")
        return {row["record"]: row["profile_id"] for row in rows}

    def profile_of_record(self, key: str) -> str | None:
        rows = self.run(q.PROFILE_OF_RECORD, key=key)
        return rows[0]["id"] if rows else None

    def profile_identifiers(self, ids: Sequence[str]) -> list[Row]:
        """``profile_id, type, value, status, source, first_seen, last_seen`` per record link of ``ids``."""
        return self._of_profiles(q.PROFILE_IDENTIFIERS, ids)

    def profile_links(self, ids: Sequence[str]) -> pd.DataFrame:
        """``profile_id, record, identifier, type, value, status`` per record link of ``ids``."""
        return pd.DataFrame(self._of_profiles(q.PROFILE_LINKS, ids), columns=list(q.PROFILE_LINKS.columns))

    def events_of(self, ids: Sequence[str]) -> list[Row]:
        """``profile_id, type, ts, source, properties`` (JSON) of every event of ``ids``."""
        return self._of_profiles(q.PROFILE_EVENTS, ids)

    def profile_events(self) -> pd.DataFrame:
        """Every event of a resolved record with its profile: columns ``profile_id, type, ts, source,
        properties`` (a JSON object per event). Events of records no resolve has assigned are left out."""
        return self.frame(q.ALL_PROFILE_EVENTS)

    def profiles_by_identifier(self, key: str) -> list[str]:
        """Profiles holding the identifier ``key``, most records first."""
        return [row["id"] for row in self.run(q.PROFILES_BY_IDENTIFIER, key=key)]

    def profile_by_identifiers(self, keys: Sequence[str]) -> dict[str, str]:
        """Identifier key -> the profile holding it on most records, for the held ones of ``keys``."""
        return {row["key"]: row["id"] for row in self.run(q.PROFILES_BY_IDENTIFIERS, keys=_keys(keys))}

    def profile_history(self, ids: Sequence[str]) -> list[Row]:
        """``profile_id, kind, detail, reason, actor, at`` of the history of ``ids``, each oldest first: along the
        edges of the live profiles, by property for an id merged away (a scan on the embedded store)."""
        asked = _keys(ids)
        rows = self._of_profiles(q.PROFILE_HISTORY, asked)
        gone = sorted(set(asked) - set(self.profile_sizes_of(asked)))
        return rows + self.run(q.HISTORY_OF_GONE, ids=gone) if gone else rows

    def household_of(self, ids: Sequence[str]) -> list[Row]:
        """``profile_id, member``: the other profiles of each one's household."""
        return self._of_profiles(q.HOUSEHOLD_OF, ids)

    # ---- statistics --------------------------------------------------------------------------------

    def records_by_source(self) -> dict[str, int]:
        return {row["source"]: int(row["n"]) for row in self.run(q.COUNT_RECORDS)}

    def identifiers_by_type(self) -> list[Row]:
        """``type, status, n``."""
        return self.run(q.COUNT_IDENTIFIERS)

    def most_shared_identifiers(self, id_type: str, limit: int) -> list[Row]:
        """``value, status, records`` of the ``limit`` identifiers of ``id_type`` held by most records (two or
        more), most first. O(links of the type)."""
        return self.run(q.MOST_SHARED_IDENTIFIERS, type=id_type, limit=limit)

    def event_count(self) -> int:
        return int(self.run(q.COUNT_EVENTS)[0]["n"])

    def profile_size_counts(self) -> dict[int, int]:
        """Profile size -> how many profiles have it."""
        return {int(row["size"]): int(row["n"]) for row in self.run(q.PROFILE_SIZES)}

    def profile_identifiers_of_types(self, types: Sequence[str]) -> pd.DataFrame:
        """``profile_id, kind, value`` of every identifier of these types held by a resolved record."""
        return self.frame(q.PROFILE_IDENTIFIERS_OF_TYPES, types=list(types))

    def profile_record_attributes(self) -> pd.DataFrame:
        """``profile_id, attributes`` (JSON) of every resolved record."""
        return self.frame(q.PROFILE_RECORD_ATTRIBUTES)

    # ---- analytics and settings ------------------------------------------------------------------

    def embedding_model(self) -> Row | None:
        """``id, settings, version, created_at, summary`` of the current embedding model."""
        rows = self.run(q.EMBEDDING_MODEL)
        return rows[0] if rows else None

    def embedding_chunks(self, model_id: str) -> list[Row]:
        """``chunk, keys, vectors`` of a model, in chunk order."""
        return self.run(q.EMBEDDING_CHUNKS, id=model_id)

    def graph_settings(self) -> dict[str, Any]:
        """Settings stored with the graph (the ingest region, identifier types seen), JSON-decoded."""
        return {row["key"]: json.loads(row["value"]) for row in self.run(q.GRAPH_SETTINGS)}

    def api_keys(self) -> list[Row]:
        """``name, scopes, created_at, last_used_at`` of every API key, by name (never a key or its hash)."""
        return self.run(q.API_KEYS)

    def api_key_by_hash(self, key_hash: str) -> Row | None:
        """``name, scopes, last_used_at`` of the key whose SHA-256 is ``key_hash``, or None."""
        rows = self.run(q.API_KEY_BY_HASH, hash=key_hash)
        return rows[0] if rows else None

    def audit_entries(self, since: str, limit: int) -> list[Row]:
        """``key, at, actor, action, targets, outcome, detail`` of the audit log from ``since`` (ISO), oldest first."""
        return self.run(q.AUDIT_SINCE, since=since, limit=limit)

    def suppressions(self) -> set[str]:
        """Every suppression hash (an erased identifier or record, salted)."""
        return {row["hash"] for row in self.run(q.ALL_SUPPRESSIONS)}

    def record_identifiers_of(self, keys: Sequence[str]) -> list[Row]:
        """``key, type`` of every identifier the records ``keys`` hold."""
        return self.run(q.RECORD_IDENTIFIERS_OF, keys=list(keys))

    def record_event_count(self, keys: Sequence[str]) -> int:
        return int(self.run(q.RECORD_EVENT_COUNT, keys=list(keys))[0]["n"])

    def all_nodes(self, label: Label) -> list[Row]:
        """Every node of ``label`` with all its properties: for checks that nothing of a customer is left."""
        return self.run(q.all_nodes(label))

    def ping(self) -> None:
        self.run(q.PING)

    # ---- helpers ------------------------------------------------------------------------------------

    def _existing(self, query: Any, param: str, keys: list[str], column: str) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(keys), self.batch_size):
            found.update(row[column] for row in self.run(query, **{param: keys[start : start + self.batch_size]}))
        return found
