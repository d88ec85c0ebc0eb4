"""The customer facade: every read of the 360 view goes through here, in batches, after an access check."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from analytics.lookalike import SeedList
from analytics.traits import ProfileTraits, traits_of_events
from api import insights
from api.access import LOCAL_USER, AccessPolicy, Principal, ScopePolicy
from api.audit import AuditEntry, audited, read_audit
from api.data_quality import DataQuality, data_quality
from api.destinations import PushReport, RetryPolicy, push, replay
from api.erasure import ErasureReport, erase_customer
from api.graph_view import ProfileGraph, profile_graph
from api.journeys import JourneyRun, load_journeys, run_journeys
from api.memberships import segment_history
from api.name_search import profiles_by_name
from api.overview import Overview, overview, refresh_overview
from api.review import ReviewQueue, label_pair, review_queue
from api.segments import Preview, Segment, create_segment, segments
from api.segments import preview as segment_preview
from graph.errors import InvalidRequest, NotFound
from graph.lease import writer_lease
from graph.model import identifier_key, record_key
from graph.store import GraphStore
from ingest.config import IDENTIFIER_TYPES
from ingest.lookup import known_identifier_types
from ingest.normalise import InvalidValue, NormaliseOptions, normalise_identifier
from resolve.changes import Attribution
from resolve.consent import ConsentState, consent_of
from resolve.explain import Explanation
from resolve.explain import explain as explain_records
from resolve.overrides import merge_override, split_override
from resolve.runner import resolve, resume_pending
from resolve.settings import ResolveSettings, last_run_settings
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
        options: NormaliseOptions | Callable[[], NormaliseOptions] | None = None,
        policy: AccessPolicy | None = None,
        principal: Principal = LOCAL_USER,
        wait_s: float = 600.0,
    ) -> None:
        self.store, self.wait_s = store, wait_s
        self._options = options or NormaliseOptions()
        self.policy = policy or ScopePolicy()
        self.principal = principal

    @property
    def options(self) -> NormaliseOptions:
        """How looked-up values are normalised (as ingest normalised the graph's)."""
        return self._options() if callable(self._options) else self._options

    def _allow(self, action: str) -> None:
        self.policy.check(self.principal, action)

    def existing_profiles(self, ids: Sequence[str]) -> dict[str, int]:
        """Profile id -> size, for those of ``ids`` that exist."""
        self._allow("read:profiles")
        return self.store.profile_sizes_of(ids)

    def current_ids(self, ids: Sequence[str]) -> dict[str, str]:
        """Requested id -> the live profile it names now: itself, or, for an id merged away, the profile
        that took its records (following later merges). Unknown ids are left out."""
        self._allow("read:profiles")
        live = set(self.existing_profiles(ids))
        current = {i: i for i in ids if i in live}
        pending = {i: i for i in ids if i not in live}  # requested id -> id to look up next
        for _ in range(_MAX_ALIAS_HOPS):
            if not pending:
                break
            targets = self.store.alias_targets(sorted(set(pending.values())))
            pending = {asked: targets[at] for asked, at in pending.items() if at in targets}
            alive = set(self.existing_profiles(sorted(set(pending.values()))))
            current.update({asked: at for asked, at in pending.items() if at in alive})
            pending = {asked: at for asked, at in pending.items() if at not in alive}
        return current

    def profile_page(self, first: int, after: str | None) -> tuple[list[str], bool]:
        self._allow("read:profiles")
        ids = self.store.profile_page(after or "", first + 1)
        return ids[:first], len(ids) > first

    def records_of(self, ids: Sequence[str]) -> dict[str, list[RecordView]]:
        self._allow("read:profiles")
        out: dict[str, list[RecordView]] = defaultdict(list)
        for row in self.store.profile_records(ids):
            view = RecordView(row["source"], row["record_id"], json.loads(row["attributes"]), row["seen_at"])
            out[row["profile_id"]].append(view)
        for views in out.values():
            views.sort(key=lambda r: (r.source, r.record_id))
        return out

    def identifiers_of(self, ids: Sequence[str]) -> dict[str, list[IdentifierView]]:
        self._allow("read:profiles")
        merged: dict[str, dict[str, IdentifierView]] = defaultdict(dict)
        for row in self.store.profile_identifiers(ids):
            key = identifier_key(row["type"], row["value"])
            view = merged[row["profile_id"]].setdefault(
                key, IdentifierView(row["type"], row["value"], row["status"], [], row["first_seen"], row["last_seen"])
            )
            if row["source"] not in view.sources:
                view.sources = sorted([*view.sources, row["source"]])
            view.first_seen = min(view.first_seen, row["first_seen"])
            view.last_seen = max(view.last_seen, row["last_seen"])
        return {pid: sorted(views.values(), key=lambda v: (v.type, v.value)) for pid, views in merged.items()}

    def event_rows_of(self, ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Profile id -> its events as stored (``profile_id, type, ts, source, properties`` as JSON text),
        the one read :meth:`events_from` and :meth:`traits_from` share."""
        self._allow("read:profiles")
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in self.store.events_of(ids):
            out[row["profile_id"]].append(row)
        return out

    @staticmethod
    def events_from(rows: Sequence[dict[str, Any]]) -> list[EventView]:
        """One profile's event rows as views, most recent first."""
        views = [EventView(row["type"], row["ts"], row["source"], json.loads(row["properties"])) for row in rows]
        return sorted(views, key=lambda e: e.timestamp, reverse=True)

    @staticmethod
    def traits_from(rows: Sequence[dict[str, Any]], as_of: datetime | None = None) -> ProfileTraits:
        """One profile's traits from its event rows as of ``as_of`` (default now, UTC)."""
        found = traits_of_events(list(rows), as_of or datetime.now(UTC))
        return next(iter(found.values()), ProfileTraits())

    def events_of(self, ids: Sequence[str]) -> dict[str, list[EventView]]:
        return {pid: self.events_from(rows) for pid, rows in self.event_rows_of(ids).items()}

    def traits_of(self, ids: Sequence[str], as_of: datetime | None = None) -> dict[str, ProfileTraits]:
        """Profile id -> its traits computed from its events as of ``as_of`` (default now, UTC); profiles
        without events are left out (their traits are ``ProfileTraits()``: zero counts, nothing else)."""
        self._allow("read:profiles")
        return traits_of_events(self.store.events_of(ids), as_of or datetime.now(UTC))

    def consent_of(self, ids: Sequence[str]) -> dict[str, dict[str, ConsentState]]:
        """Profile id -> purpose -> the latest consent statement with its history (:mod:`resolve.consent`)."""
        records = self.records_of(ids)
        return {pid: self.consent_from(records.get(pid, [])) for pid in ids}

    @staticmethod
    def consent_from(records: Sequence[RecordView]) -> dict[str, ConsentState]:
        return consent_of((r.source, r.seen_at, r.attributes) for r in records)

    def golden_of(self, ids: Sequence[str]) -> dict[str, list[GoldenAttribute]]:
        records = self.records_of(ids)
        return {pid: self.golden_from(records.get(pid, [])) for pid in ids}

    @staticmethod
    def golden_from(records: Sequence[RecordView]) -> list[GoldenAttribute]:
        """The golden attributes of one profile's records (survivorship); consent is in :meth:`consent_from`."""
        return golden_attributes(
            AttributeValue(name, str(value), r.source, r.seen_at)
            for r in records
            for name, value in r.attributes.items()
            if not name.startswith("consent_")
        )

    def profiles_by_identifier(self, id_type: str, raw_value: str) -> list[str]:
        """Profiles holding an identifier, the value normalised exactly as at ingest; most records first."""
        self._allow("read:profiles")
        self.check_identifier_type(id_type)
        try:
            value = normalise_identifier(id_type, raw_value, self.options)
        except InvalidValue as exc:
            shown = raw_value if len(raw_value) <= 80 else raw_value[:80] + "..."
            raise NotFound(f"{id_type} '{shown}' is not a valid value: {exc.reason}") from None
        if value is None:
            return []
        return self.store.profiles_by_identifier(identifier_key(id_type, value))

    def profiles_by_name(self, name: str, first: int) -> list[str]:
        """Profiles with a record of this name (every word of it in the record's name fields), most such
        records first (:mod:`api.name_search`)."""
        self._allow("read:profiles")
        return profiles_by_name(self.store, name, first)

    def check_identifier_type(self, id_type: str) -> None:
        """:class:`InvalidRequest` listing the known types unless ``id_type`` is one: built in, or mapped
        by a source (read from the graph: one query, only for a type that is not built in)."""
        if id_type in IDENTIFIER_TYPES:
            return
        known = known_identifier_types(self.store)
        if id_type not in known:
            raise InvalidRequest(f"unknown identifier type '{id_type}'; known: {', '.join(known)}")

    def history_of(self, ids: Sequence[str]) -> dict[str, list[HistoryEntry]]:
        """Profile id -> its history, oldest first: created, merged, split, merged_into, with reason and actor."""
        self._allow("read:profiles")
        out: dict[str, list[HistoryEntry]] = defaultdict(list)
        for row in self.store.profile_history(ids):
            out[row["profile_id"]].append(
                HistoryEntry(row["kind"], row["detail"], row["reason"], row["actor"], row["at"])
            )
        return out

    def household_of(self, ids: Sequence[str]) -> dict[str, list[str]]:
        """Profile id -> the other profiles of its household (people sharing a home, not merged)."""
        self._allow("read:profiles")
        out: dict[str, list[str]] = defaultdict(list)
        for row in self.store.household_of(ids):
            out[row["profile_id"]].append(row["member"])
        return out

    def explain(self, a: str, b: str) -> Explanation:
        """Why records (``source:record_id``) or profiles ``a`` and ``b`` are, or are not, one profile."""
        self._allow("read:profiles")
        return explain_records(self.store, a, b)

    def similar_profiles(self, profile_id: str, k: int) -> list[tuple[str, float]]:
        """The ``k`` profiles nearest ``profile_id`` by the stored embeddings (a merged-away id answers for
        its survivor), best first, with cosine scores."""
        self._allow("read:profiles")
        current = self.current_ids([profile_id]).get(profile_id)
        if current is None:
            raise NotFound(f"no profile '{profile_id}'")
        return insights.MODELS.get(self.store).profiles.neighbours(current, k)

    def lookalike(self, seeds: SeedList, size: int, purpose: str = "email") -> tuple[pd.DataFrame, list[str]]:
        """A lookalike audience of ``size`` for the seed list (``profile_id, score, email, phone``, the contact
        details ``purpose`` allows of profiles that consented to it) and the seeds not found; no seed found
        is an error."""
        with audited(self.store, self.principal.name, "export:lookalike") as touched:
            self._allow("export")
            found, unknown = insights.seed_profiles(self, seeds)
            if not found and not unknown:
                raise InvalidRequest("no seeds given: name profile ids or identifiers")
            if not found:
                raise NotFound(f"no known customer in the seed list ({len(unknown)} rows: {'; '.join(unknown[:3])})")
            audience = insights.lookalike_audience(self, found, size, insights.check_purpose(purpose))
            touched.extend(audience.loc[(audience["email"] != "") | (audience["phone"] != ""), "profile_id"])
            return audience, unknown

    def erase(self, profile_id: str | None = None, identifier: tuple[str, str] | None = None) -> ErasureReport:
        """Erase the customer of a profile, or of the one profile holding ``identifier`` (type, value): see
        :mod:`api.erasure`. An identifier several profiles hold is an error: erase each by its profile."""
        with audited(self.store, self.principal.name, "erase", [profile_id] if profile_id else []) as touched:
            self._allow("write:profiles")
            if (profile_id is None) == (identifier is None):
                raise InvalidRequest("name the customer to erase by a profile id or by an identifier, not both")
            if identifier is not None:
                ids = self.profiles_by_identifier(*identifier)
                if len(ids) != 1:
                    raise NotFound(f"{identifier[0]} '{identifier[1]}' is held by no profile") if not ids else (
                        InvalidRequest(f"{identifier[0]} '{identifier[1]}' is held by {len(ids)} profiles (a "
                                       "household's?): erase each customer by its profile id"))  # fmt: skip
                live = ids[0]
            else:
                live = self.current_ids([str(profile_id)]).get(str(profile_id), "")
                if not live:
                    raise NotFound(f"no profile '{profile_id}'")
            touched.append(live)
            return erase_customer(self.store, [live], self.principal.name, self.wait_s)

    def profile_graph(self, profile_id: str) -> ProfileGraph | None:
        """The identity graph of a profile (an id merged away answers for its survivor), or None."""
        self._allow("read:profiles")
        live = self.current_ids([profile_id]).get(profile_id)
        return None if live is None else profile_graph(self.store, live)

    def overview(self) -> Overview:
        """The console overview's figures (:mod:`api.overview`)."""
        self._allow("read:profiles")
        return overview(self.store)

    def review_queue(self, first: int, include_labelled: bool = False) -> ReviewQueue:
        """The review queue stored by the last resolve run (:mod:`api.review`)."""
        self._allow("read:profiles")
        return review_queue(self.store, first, include_labelled)

    def label_pair(self, record_a: str, record_b: str, match: bool) -> tuple[str, str]:
        """Store a reviewer's verdict on two records (``SOURCE:RECORD_ID``): the next resolve honours it."""
        with audited(self.store, self.principal.name, "label", []) as touched:
            self._allow("write:profiles")
            pair = label_pair(self.store, record_a, record_b, match, self.principal.name)
            touched.extend(self.store.profiles_of_records(list(pair)).values())
            return pair

    def segments(self) -> list[Segment]:
        """Every segment (:mod:`api.segments`)."""
        self._allow("export")
        return segments(self.store)

    def segment_preview(self, rule: str, sample: int) -> Preview:
        """How many profiles a rule holds now, and a few."""
        self._allow("export")
        return segment_preview(self.store, rule, sample)

    def create_segment(self, name: str, rule: str) -> Segment:
        """Store a segment (its rule checked first)."""
        with audited(self.store, self.principal.name, "segment:create", []):
            self._allow("export")
            return create_segment(self.store, name, rule, self.principal.name)

    def push_audience(
        self, segment: str, destination: str, purpose: str, policy: RetryPolicy | None = None
    ) -> PushReport:
        """Send the entries and exits of a segment's members who consent to ``purpose``, since the last sync,
        to a destination (:mod:`api.destinations`), with the contact details ``purpose`` allows (read when
        each batch is sent, and only of customers who still consent then)."""
        with audited(self.store, self.principal.name, "export:push", []):
            self._allow("export")
            insights.check_purpose(purpose)
            return push(self.store, segment, destination, purpose, self._contacts, self._consenting,
                        policy or RetryPolicy(), self.wait_s)  # fmt: skip

    def replay_dead_letters(self, destination: str, policy: RetryPolicy | None = None) -> PushReport:
        with audited(self.store, self.principal.name, "export:replay", []):
            self._allow("export")
            return replay(self.store, destination, self._contacts, policy or RetryPolicy())

    def run_journeys(
        self, file: Path, now: datetime | None = None, policy: RetryPolicy | None = None
    ) -> list[JourneyRun]:
        """Enrol and advance the journeys of ``file`` once, then send what they planned (:mod:`api.journeys`)."""
        with audited(self.store, self.principal.name, "export:journeys", []):
            self._allow("export")
            return run_journeys(self.store, load_journeys(file), self._contacts, now, policy, self.wait_s)

    def _contacts(self, ids: list[str], purpose: str) -> pd.DataFrame:
        return insights.contacts(self, ids, purpose)

    def _consenting(self, ids: list[str], purpose: str) -> list[str]:
        return insights.consenting(self, ids, purpose)

    def segments_of(self, profile_id: str) -> list[str]:
        """The segments holding a profile, as of the last ingest or resolve."""
        self._allow("read:profiles")
        return sorted(segment_history(self.store, profile_id)[0])

    def segment_history(self, profile_id: str) -> list[dict[str, Any]]:
        """A profile's segment entries and exits, oldest first."""
        self._allow("read:profiles")
        return segment_history(self.store, profile_id)[1]

    def data_quality(self) -> DataQuality:
        """The console's data quality figures, unmasked (:mod:`api.data_quality`)."""
        self._allow("read:profiles")
        return data_quality(self.store)

    def audit_log(self, since: str, limit: int) -> list[AuditEntry]:
        """The audit log from ``since`` (ISO, UTC), oldest first: for ``admin`` only."""
        self._allow("admin")
        return read_audit(self.store, since, limit)

    def recommendations_of(self, ids: Sequence[str] | None, k: int) -> pd.DataFrame:
        """``profile_id, product, score``: ``k`` products per profile (every profile when ``ids`` is None)
        it has not bought, best first."""
        self._allow("read:profiles")
        return insights.recommendations(self, None if ids is None else list(ids), k)

    def profile_of_record(self, source: str, record_id: str) -> str | None:
        self._allow("read:profiles")
        return self.store.profile_of_record(record_key(source, record_id))

    # ---- overrides: a user's merge or split, kept for every later resolve ------------------------------

    def merge_profiles(self, ids: Sequence[str], reason: str, settings: ResolveSettings | None = None) -> str:
        """Merge the profiles ``ids`` (an id merged away names its successor) for good: must-links between
        their records that every later resolve keeps. Resolves at once, with ``settings`` or the last
        run's, and returns the id of the merged profile. Merging profiles that are one already (a merge run
        again after it was interrupted and finished) returns that profile and changes nothing."""
        with audited(self.store, self.principal.name, "merge", [str(i) for i in ids]) as touched:
            self._allow("write:profiles")
            merged = self._merge(ids, reason, settings)
            touched.append(merged)
            return merged

    def _merge(self, ids: Sequence[str], reason: str, settings: ResolveSettings | None) -> str:
        with writer_lease(self.store, "merge", self.wait_s):  # the ids read here must not move before the resolve
            resume_pending(self.store)  # an interrupted run finishes first: the ids read next are its result
            asked = [str(i).strip() for i in ids]
            current = self.current_ids(asked)
            merged = set(current.values())
            if len(set(asked)) > 1 and len(current) == len(asked) and len(merged) == 1:
                return merged.pop()
            rows = merge_override(asked, current, self._members(set(current.values())), reason, *self._who())
            self._apply(rows, settings)
            return self._profiles_of([rows["record_a"].iloc[0]])[0]

    def split_profile(
        self, profile_id: str, records: Sequence[str], reason: str, settings: ResolveSettings | None = None
    ) -> list[str]:
        """Split ``records`` (``SOURCE:RECORD_ID``) off profile ``profile_id`` for good: cannot-links between
        them and its other records that every later resolve keeps. Resolves at once, with ``settings`` or
        the last run's, and returns the profiles now holding its records, the one with the others first.
        Splitting off records no longer in the profile (a split run again after it was interrupted and
        finished) returns where they are and changes nothing."""
        with audited(self.store, self.principal.name, "split", [profile_id]) as touched:
            self._allow("write:profiles")
            parts = self._split(profile_id, records, reason, settings)
            touched.extend(parts)
            return parts

    def _split(
        self, profile_id: str, records: Sequence[str], reason: str, settings: ResolveSettings | None
    ) -> list[str]:
        with writer_lease(self.store, "split", self.wait_s):
            resume_pending(self.store)  # an interrupted run finishes first: the members read next are its result
            current = self.current_ids([profile_id])
            if profile_id not in current:
                raise NotFound(f"no profile '{profile_id}'")
            members = self._members({current[profile_id]}).get(current[profile_id], [])
            listed = sorted({r.strip() for r in records if r.strip()})
            self._check_records_exist([r for r in listed if r not in set(members)])
            if members and self._split_already(listed, members):
                return self._profiles_of([min(members), *listed])
            rows = split_override(current[profile_id], members, records, reason, *self._who())
            self._apply(rows, settings)
            return self._profiles_of([rows["record_b"].iloc[0], *sorted(set(rows["record_a"]))])

    def _split_already(self, listed: list[str], members: list[str]) -> bool:
        """Whether ``listed`` were split off these ``members`` by a stored split (none of them is a member)."""
        if not listed or set(listed) & set(members):
            return False
        stored = self.store.overrides()
        apart = stored[(stored["kind"] == "cannot_link") & stored["record_a"].isin(listed)]
        return set(listed) <= set(apart["record_a"]) and bool(apart["record_b"].isin(members).any())

    def _who(self) -> tuple[str, str]:
        return self.principal.name, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def _members(self, ids: set[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for row in self.store.profile_members(sorted(ids)):
            out[row["profile_id"]].append(row["record"])
        return out

    def _check_records_exist(self, keys: Sequence[str]) -> None:
        found = self.store.existing_records(keys)
        missing = [k for k in keys if k not in found]
        if missing:
            raise NotFound(f"no record {', '.join(repr(k) for k in missing)} (records are named SOURCE:RECORD_ID)")

    def _apply(self, rows: pd.DataFrame, settings: ResolveSettings | None) -> None:
        """Resolve with the override, which the run stores with its journal (so the override is stored
        and applied, or neither); the history of the profiles it touches carries the user's reason and name."""
        who = Attribution(
            str(rows["reason"].iloc[0]), self.principal.name, frozenset(rows["record_a"]) | frozenset(rows["record_b"])
        )
        resolve(self.store, settings or last_run_settings(self.store), attribution=who, new_overrides=rows,
                wait_s=self.wait_s)  # fmt: skip
        refresh_overview(self.store)

    def _profiles_of(self, keys: Sequence[str]) -> list[str]:
        """The distinct profiles holding ``keys``, in the order of the keys."""
        profile_of = self.store.profiles_of_records(keys)
        return list(dict.fromkeys(profile_of[k] for k in keys if k in profile_of))
