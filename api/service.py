"""The customer facade: every read of the 360 view goes through here, in batches, after an access check."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from api.access import LOCAL_USER, AccessPolicy, Principal, ScopePolicy
from graph import cypher
from graph.errors import NotFound
from graph.model import identifier_key, record_key
from graph.store import GraphStore
from ingest.normalise import InvalidValue, NormaliseOptions, normalise_identifier
from resolve.explain import Explanation
from resolve.explain import explain as explain_records
from resolve.survivorship import AttributeValue, GoldenAttribute, golden_attributes


@dataclass(frozen=True)
class RecordView:
    source: str
    record_id: str
    attributes: dict[str, Any]
    seen_at: str


@dataclass
class IdentifierView:
    type: str
    value: str
    status: str
    sources: list[str] = field(default_factory=list)
    first_seen: str = ""
    last_seen: str = ""


@dataclass(frozen=True)
class EventView:
    type: str
    timestamp: str
    source: str
    properties: dict[str, Any]


_MAX_ALIAS_HOPS = 50  # an id merged away, whose successor was merged away, ...


@dataclass(frozen=True)
class HistoryEntry:
    kind: str
    detail: str
    reason: str
    actor: str
    at: str


class CustomerService:
    def __init__(
        self,
        store: GraphStore,
        options: NormaliseOptions | None = None,
        policy: AccessPolicy | None = None,
        principal: Principal = LOCAL_USER,
    ) -> None:
        self.store = store
        self.options = options or NormaliseOptions()
        self.policy = policy or ScopePolicy()
        self.principal = principal

    def _allow(self, action: str) -> None:
        self.policy.check(self.principal, action)

    def existing_profiles(self, ids: Sequence[str]) -> dict[str, int]:
        """Profile id -> size, for those of ``ids`` that exist."""
        self._allow("profiles:read")
        rows = self.store.run("profiles_by_id", cypher.PROFILES_BY_ID, {"ids": list(ids)})
        return {row["id"]: row["size"] for row in rows}

    def current_ids(self, ids: Sequence[str]) -> dict[str, str]:
        """Requested id -> the live profile it names now: itself, or, for an id merged away, the profile
        that took its records (following later merges). Unknown ids are left out."""
        self._allow("profiles:read")
        live = set(self.existing_profiles(ids))
        current = {i: i for i in ids if i in live}
        pending = {i: i for i in ids if i not in live}  # requested id -> id to look up next
        for _ in range(_MAX_ALIAS_HOPS):
            if not pending:
                break
            rows = self.store.run("alias_targets", cypher.ALIAS_TARGETS, {"ids": sorted(set(pending.values()))})
            targets = {row["id"]: row["target"] for row in rows}
            pending = {asked: targets[at] for asked, at in pending.items() if at in targets}
            alive = set(self.existing_profiles(sorted(set(pending.values()))))
            current.update({asked: at for asked, at in pending.items() if at in alive})
            pending = {asked: at for asked, at in pending.items() if at not in alive}
        return current

    def profile_page(self, first: int, after: str | None) -> tuple[list[str], bool]:
        self._allow("profiles:read")
        rows = self.store.run("profile_page", cypher.PROFILE_PAGE, {"after": after or "", "first": first + 1})
        ids = [row["id"] for row in rows]
        return ids[:first], len(ids) > first

    def records_of(self, ids: Sequence[str]) -> dict[str, list[RecordView]]:
        self._allow("profiles:read")
        out: dict[str, list[RecordView]] = defaultdict(list)
        for row in self.store.run("profile_records", cypher.PROFILE_RECORDS, {"ids": list(ids)}):
            view = RecordView(row["source"], row["record_id"], json.loads(row["attributes"]), row["seen_at"])
            out[row["profile_id"]].append(view)
        for views in out.values():
            views.sort(key=lambda r: (r.source, r.record_id))
        return out

    def identifiers_of(self, ids: Sequence[str]) -> dict[str, list[IdentifierView]]:
        self._allow("profiles:read")
        merged: dict[str, dict[str, IdentifierView]] = defaultdict(dict)
        for row in self.store.run("profile_identifiers", cypher.PROFILE_IDENTIFIERS, {"ids": list(ids)}):
            key = identifier_key(row["type"], row["value"])
            view = merged[row["profile_id"]].setdefault(
                key, IdentifierView(row["type"], row["value"], row["status"], [], row["first_seen"], row["last_seen"])
            )
            if row["source"] not in view.sources:
                view.sources = sorted([*view.sources, row["source"]])
            view.first_seen = min(view.first_seen, row["first_seen"])
            view.last_seen = max(view.last_seen, row["last_seen"])
        return {pid: sorted(views.values(), key=lambda v: (v.type, v.value)) for pid, views in merged.items()}

    def events_of(self, ids: Sequence[str]) -> dict[str, list[EventView]]:
        self._allow("profiles:read")
        out: dict[str, list[EventView]] = defaultdict(list)
        for row in self.store.run("profile_events", cypher.PROFILE_EVENTS, {"ids": list(ids)}):
            view = EventView(row["type"], row["ts"], row["source"], json.loads(row["properties"]))
            out[row["profile_id"]].append(view)
        for views in out.values():
            views.sort(key=lambda e: e.timestamp, reverse=True)
        return out

    def golden_of(self, ids: Sequence[str]) -> dict[str, list[GoldenAttribute]]:
        records = self.records_of(ids)
        return {
            pid: golden_attributes(
                AttributeValue(name, str(value), r.source, r.seen_at)
                for r in records.get(pid, [])
                for name, value in r.attributes.items()
            )
            for pid in ids
        }

    def profiles_by_identifier(self, id_type: str, raw_value: str) -> list[str]:
        """Profiles holding an identifier, the value normalised exactly as at ingest; most records first."""
        self._allow("profiles:read")
        try:
            value = normalise_identifier(id_type, raw_value, self.options)
        except InvalidValue as exc:
            raise NotFound(f"{id_type} '{raw_value}' is not a valid value: {exc.reason}") from None
        if value is None:
            return []
        rows = self.store.run(
            "profiles_by_identifier", cypher.PROFILES_BY_IDENTIFIER, {"key": identifier_key(id_type, value)}
        )
        return [row["id"] for row in rows]

    def history_of(self, ids: Sequence[str]) -> dict[str, list[HistoryEntry]]:
        """Profile id -> its history, oldest first: created, merged, split, merged_into, with reason and actor."""
        self._allow("profiles:read")
        out: dict[str, list[HistoryEntry]] = defaultdict(list)
        for row in self.store.run("profile_history", cypher.PROFILE_HISTORY, {"ids": list(ids)}):
            out[row["profile_id"]].append(
                HistoryEntry(row["kind"], row["detail"], row["reason"], row["actor"], row["at"])
            )
        return out

    def household_of(self, ids: Sequence[str]) -> dict[str, list[str]]:
        """Profile id -> the other profiles of its household (people sharing a home, not merged)."""
        self._allow("profiles:read")
        out: dict[str, list[str]] = defaultdict(list)
        for row in self.store.run("household_of", cypher.HOUSEHOLD_OF, {"ids": list(ids)}):
            out[row["profile_id"]].append(row["member"])
        return out

    def explain(self, a: str, b: str) -> Explanation:
        """Why records (``source:record_id``) or profiles ``a`` and ``b`` are, or are not, one profile."""
        self._allow("profiles:read")
        return explain_records(self.store, a, b)

    def profile_of_record(self, source: str, record_id: str) -> str | None:
        self._allow("profiles:read")
        rows = self.store.run("profile_of_record", cypher.PROFILE_OF_RECORD, {"key": record_key(source, record_id)})
        return rows[0]["id"] if rows else None
