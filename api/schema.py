"""GraphQL schema: thin resolvers over :class:`api.service.CustomerService`, batched by DataLoaders."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, ParserCache, ValidationCache
from strawberry.types import Info

from analytics.lookalike import SeedList
from api import limits
from api.audit import PiiReadAudit
from api.execution import Executors, ThreadedSchema
from api.loaders import Loaders
from api.pii import PiiMask
from api.quality_types import DataQuality, data_quality_answer
from api.query_limits import QueryLimits, capped, limit_extensions
from api.schema_types import (
    AuditLogEntry,
    ChannelShare,
    ComparisonWeight,
    Consent,
    ConsentStatement,
    ErasureReport,
    Event,
    EvidenceHop,
    Explanation,
    FlaggedProfile,
    GoldenAttribute,
    GraphEdge,
    GraphNode,
    Identifier,
    IdentifierInput,
    MatchWeights,
    MergeBarrier,
    NamedCount,
    Overview,
    PageInfo,
    PairScore,
    PairVerdict,
    ProfileGraph,
    ProfileHistoryEntry,
    Recommendation,
    ResolveRunFigures,
    ReviewPair,
    ReviewQueue,
    SegmentChange,
    SegmentPreview,
    SegmentType,
    SourceRecord,
    Traits,
)
from api.service import CustomerService
from graph.errors import CdpError, NotFound
from resolve import explain as explained
from resolve.consent import PURPOSES


# paging arguments, their ranges stated in the schema (api/limits.py)
def _arg(limit: limits.Limit, what: str) -> Any:
    return strawberry.argument(description=limit.describe(what))


EventsLimit = Annotated[int, _arg(limits.EVENTS_LIMIT, "how many events")]
RecommendationsK = Annotated[int, _arg(limits.RECOMMENDATIONS_K, "how many products")]
SimilarK = Annotated[int, _arg(limits.SIMILAR_K, "how many profiles")]
LookalikeSize = Annotated[int, _arg(limits.LOOKALIKE_SIZE, "how many profiles")]
ProfilesFirst = Annotated[int, _arg(limits.PROFILES_FIRST, "how many profiles")]
AuditFirst = Annotated[int, _arg(limits.AUDIT_FIRST, "how many entries")]
NameFirst = Annotated[int, _arg(limits.NAME_SEARCH_FIRST, "how many profiles")]
SegmentSample = Annotated[int, _arg(limits.SEGMENT_SAMPLE, "how many members to show")]
ReviewFirst = Annotated[int, _arg(limits.REVIEW_FIRST, "how many pairs and how many flagged profiles")]
Purpose = Annotated[str, strawberry.argument(description="what the contact details are for: email (emails), sms "
                                             "(phones), ads (both) or analytics (none); each needs the customer's "
                                             "latest consent to it")]  # fmt: skip


def _loaders(info: Info) -> Loaders:
    return info.context["loaders"]


def _pii(info: Info) -> PiiMask:
    """Every customer value an answer holds passes through this (:mod:`api.pii`): masked without read:pii."""
    return info.context["pii"]


@strawberry.type(description="A resolved customer: the 360 view")
class Profile:
    id: strawberry.ID

    @strawberry.field
    async def size(self, info: Info) -> int:
        return int(await _loaders(info).size.load(self.id) or 0)

    @strawberry.field
    async def identifiers(self, info: Info) -> list[Identifier]:
        views = await _loaders(info).identifiers.load(self.id)
        pii = _pii(info)
        return [Identifier(**{**vars(v), "value": pii.identifier(v.type, v.value, self.id)})
                for v in capped(info.context, info.path, views)]  # fmt: skip

    @strawberry.field
    async def records(self, info: Info) -> list[SourceRecord]:
        views = await _loaders(info).records.load(self.id)
        pii = _pii(info)
        return [SourceRecord(**{**vars(v), "attributes": pii.attributes(v.attributes, self.id)})
                for v in capped(info.context, info.path, views)]  # fmt: skip

    @strawberry.field(description="Most recent first")
    async def events(self, info: Info, limit: EventsLimit = 100) -> list[Event]:
        limits.EVENTS_LIMIT.check(limit)
        views = await _loaders(info).events.load(self.id)
        pii = _pii(info)
        return [Event(**{**vars(v), "properties": pii.attributes(v.properties, self.id)}) for v in views[:limit]]

    @strawberry.field(description="What happened to this profile, oldest first")
    async def history(self, info: Info) -> list[ProfileHistoryEntry]:
        entries = await _loaders(info).history.load(str(self.id))
        return [ProfileHistoryEntry(**vars(entry)) for entry in capped(info.context, info.path, entries)]

    @strawberry.field(description="The other profiles of this customer's household: different people, not merged")
    async def household(self, info: Info) -> list[Profile]:
        members = await _loaders(info).household.load(str(self.id))
        return [Profile(id=strawberry.ID(m)) for m in capped(info.context, info.path, members)]

    @strawberry.field
    async def attributes(self, info: Info) -> list[GoldenAttribute]:
        golden = await _loaders(info).golden.load(self.id)
        pii = _pii(info)
        return [GoldenAttribute(**{**vars(g), "value": pii.attribute(g.name, g.value, self.id)}) for g in golden]

    @strawberry.field(description="Consent by purpose: the latest statement of any source, with its history")
    async def consent(self, info: Info) -> list[Consent]:
        records = await _loaders(info).records.load(self.id)
        found = CustomerService.consent_from(records)
        return [Consent(purpose=c.purpose, granted=c.granted, at=c.at, source=c.source,
                        history=[ConsentStatement(**vars(s)) for s in c.history])
                for c in sorted(found.values(), key=lambda c: PURPOSES.index(c.purpose))]  # fmt: skip

    @strawberry.field(description="The names of the segments holding this profile, as of the last ingest or resolve")
    async def segments(self, info: Info) -> list[str]:
        return await asyncio.to_thread(_service(info).segments_of, str(self.id))

    @strawberry.field(description="This profile's segment entries and exits, oldest first")
    async def segment_history(self, info: Info) -> list[SegmentChange]:
        found = await asyncio.to_thread(_service(info).segment_history, str(self.id))
        return [SegmentChange(segment=e["segment"], change=e["change"], at=e["at"]) for e in found]

    @strawberry.field(
        description="Recency, frequency, monetary value and more, from the profile's events; null, with an "
        "error, when they cannot be computed"
    )
    async def traits(self, info: Info) -> Traits | None:
        found = await _loaders(info).traits.load(str(self.id))
        mix = [ChannelShare(channel=channel, share=share) for channel, share in found.channel_mix.items()]
        return Traits(**{**vars(found), "channel_mix": mix})

    @strawberry.field(
        description="Products this customer has not bought, most likely first (from `cdp embed`); empty for a "
        "profile with no events, or newer than the model; null, with an error, before `cdp embed`"
    )
    async def recommendations(self, info: Info, k: RecommendationsK = 10) -> list[Recommendation] | None:
        limits.RECOMMENDATIONS_K.check(k)
        found = await asyncio.to_thread(_service(info).recommendations_of, [str(self.id)], k)
        return [Recommendation(product=row.product, score=row.score) for row in found.itertuples()]


@strawberry.type(description="A profile and its cosine similarity (1 is identical) to the one asked about")
class SimilarProfile:
    profile: Profile
    score: float


@strawberry.type(
    description="A lookalike audience member; email and phone only as the audience's purpose allows, for profiles "
    "whose latest consent to it is a grant"
)
class AudienceMember:
    profile: Profile
    score: float
    email: str | None
    phone: str | None


@strawberry.type
class LookalikeAudience:
    members: list[AudienceMember]
    unknown_seeds: list[str] = strawberry.field(description="seed rows that named no profile, and why")


@strawberry.type
class ProfileEdge:
    cursor: str
    node: Profile


@strawberry.type
class ProfileConnection:
    edges: list[ProfileEdge]
    page_info: PageInfo


def encode_cursor(profile_id: str) -> str:
    return base64.urlsafe_b64encode(profile_id.encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise NotFound(f"invalid cursor '{cursor}'") from None


def _service(info: Info) -> CustomerService:
    return info.context["service"]


@strawberry.type
class Query:
    @strawberry.field(description="One profile by id; an id merged away answers with the profile holding its records")
    async def profile(self, info: Info, id: strawberry.ID) -> Profile | None:
        current = await asyncio.to_thread(_service(info).current_ids, [str(id)])
        return Profile(id=strawberry.ID(current[str(id)])) if str(id) in current else None

    @strawberry.field(
        description="The profile holding an identifier; the value is normalised as at ingest. The type is built "
        "in (email, phone, ...) or mapped by a source; any other is an error listing the known types"
    )
    async def profile_by_identifier(self, info: Info, type: str, value: str) -> Profile | None:
        ids = await asyncio.to_thread(_service(info).profiles_by_identifier, type, value)
        if len(ids) > 1:
            raise NotFound(f"{type} '{value}' is shared by {len(ids)} profiles; use profilesByIdentifier")
        return Profile(id=strawberry.ID(ids[0])) if ids else None

    @strawberry.field(
        description="Every profile holding an identifier, most records first; types as profileByIdentifier"
    )
    async def profiles_by_identifier(self, info: Info, type: str, value: str) -> list[Profile] | None:
        ids = await asyncio.to_thread(_service(info).profiles_by_identifier, type, value)
        return [Profile(id=strawberry.ID(i)) for i in ids]

    @strawberry.field(
        description="Profiles with a record of this name: every word of it in the record's name fields (first, "
        "last, full name), in any order and case; most such records first. Scans the records"
    )
    async def profiles_by_name(self, info: Info, name: str, first: NameFirst = 20) -> list[Profile]:
        limits.NAME_SEARCH_FIRST.check(first)
        ids = await asyncio.to_thread(_service(info).profiles_by_name, name, first)
        return [Profile(id=strawberry.ID(i)) for i in ids]

    @strawberry.field(description="The profile a source record was resolved into")
    async def profile_by_record(self, info: Info, source: str, record_id: str) -> Profile | None:
        pid = await asyncio.to_thread(_service(info).profile_of_record, source, record_id)
        return Profile(id=strawberry.ID(pid)) if pid else None

    @strawberry.field(description="Why two records (SOURCE:RECORD_ID) or profiles (by id) are, or are not, one")
    async def explain(self, info: Info, a: str, b: str) -> Explanation | None:
        found = _masked_explanation(await asyncio.to_thread(_service(info).explain, a, b), _pii(info))
        return Explanation(
            a=found.a,
            b=found.b,
            same_profile=found.same_profile,
            profile_a=strawberry.ID(found.profile_a) if found.profile_a else None,
            profile_b=strawberry.ID(found.profile_b) if found.profile_b else None,
            hops=[
                EvidenceHop(**{**vars(hop), "comparisons": [ComparisonWeight(**vars(c)) for c in hop.comparisons]})
                for hop in found.hops
            ],
            barriers=[MergeBarrier(**vars(barrier)) for barrier in found.barriers],
            pair_score=_pair_score(found.pair_score),
            unscored=found.unscored,
            summary=found.summary,
        )

    @strawberry.field(description="The k profiles most like this one by their embeddings (`cdp embed`)")
    async def similar_profiles(self, info: Info, id: strawberry.ID, k: SimilarK = 10) -> list[SimilarProfile] | None:
        limits.SIMILAR_K.check(k)
        found = await asyncio.to_thread(_service(info).similar_profiles, str(id), k)
        return [SimilarProfile(profile=Profile(id=strawberry.ID(pid)), score=score) for pid, score in found]

    @strawberry.field(description="The profiles most like the seeds (profile ids and/or identifiers), seeds left out")
    async def lookalike_audience(
        self, info: Info, size: LookalikeSize, profile_ids: list[strawberry.ID] | None = None,
        identifiers: list[IdentifierInput] | None = None, purpose: Purpose = "email",
    ) -> LookalikeAudience | None:  # fmt: skip
        limits.LOOKALIKE_SIZE.check(size)
        seeds = SeedList([(f"profileIds[{n}]", str(p)) for n, p in enumerate(profile_ids or [])],
                         [(f"identifiers[{n}]", i.type, i.value) for n, i in enumerate(identifiers or [])])  # fmt: skip
        audience, unknown = await asyncio.to_thread(_service(info).lookalike, seeds, size, purpose)
        pii = _pii(info)
        members = [AudienceMember(profile=Profile(id=strawberry.ID(r.profile_id)), score=r.score,
                                  email=pii.identifier("email", r.email, r.profile_id) or None,
                                  phone=pii.identifier("phone", r.phone, r.profile_id) or None)
                   for r in audience.itertuples()]  # fmt: skip
        return LookalikeAudience(members=members, unknown_seeds=unknown)

    @strawberry.field(
        description="A profile's identity graph for the explorer; an id merged away answers for its survivor"
    )
    async def profile_graph(self, info: Info, id: strawberry.ID) -> ProfileGraph | None:
        found = await asyncio.to_thread(_service(info).profile_graph, str(id))
        if found is None:
            return None
        pii = _pii(info)
        return ProfileGraph(
            profile_id=found.profile_id,
            nodes=[GraphNode(**{**vars(n), "label": pii.identifier(n.type, n.label, n.profile_id)
                                if n.kind == "identifier" else n.label}) for n in found.nodes],
            edges=[GraphEdge(**vars(e)) for e in found.edges],
        )  # fmt: skip

    @strawberry.field(description="The console overview's figures (read:profiles)")
    async def overview(self, info: Info) -> Overview:
        found = await asyncio.to_thread(_service(info).overview)
        counts = lambda d: [NamedCount(name=str(k), count=int(v)) for k, v in d.items()]  # noqa: E731
        return Overview(as_of=found.as_of, run_id=found.run_id, profiles=found.profiles, records=found.records, events=found.events,
                        identifiers=found.identifiers, ignored_identifiers=found.ignored_identifiers,
                        households=found.households, records_by_source=counts(found.records_by_source),
                        identifiers_by_status=counts(found.identifiers_by_status),
                        profile_sizes=counts(found.profile_sizes),
                        conflicting_profiles=counts(found.conflicting_profiles),
                        runs=[ResolveRunFigures(**vars(r)) for r in found.runs],
                        source_overlap=counts(found.source_overlap),
                        match_weights=MatchWeights(**found.match_weights) if found.match_weights else None)  # fmt: skip

    @strawberry.field(
        description="Record pairs scored nearest the match threshold (linked and not) and profiles the health "
        "checks flag, computed after the last resolve run; pairs a reviewer labelled are left out unless "
        "includeLabelled (read:profiles)"
    )
    async def review_queue(self, info: Info, first: ReviewFirst = 50, include_labelled: bool = False) -> ReviewQueue:
        limits.REVIEW_FIRST.check(first)
        found = await asyncio.to_thread(_service(info).review_queue, first, include_labelled)
        pii = _pii(info)
        pairs = [ReviewPair(record_a=p.record_a, record_b=p.record_b, probability=p.probability, weight=p.weight,
                            linked=p.linked, comparisons=[ComparisonWeight(**c) for c in p.evidence],
                            profile_a=p.profile_a, profile_b=p.profile_b,
                            attributes_a=pii.attributes(p.attributes_a, p.profile_a),
                            attributes_b=pii.attributes(p.attributes_b, p.profile_b), verdict=p.verdict)
                 for p in found.pairs]  # fmt: skip
        flagged = [FlaggedProfile(profile_id=f.profile_id, kind=f.kind,
                                  values=[pii.identifier(f.kind, v, f.profile_id) if f.kind != "birth_date"
                                          else pii.attribute(f.kind, v, f.profile_id) for v in f.values])
                   for f in found.flagged]  # fmt: skip
        return ReviewQueue(as_of=found.as_of, run_id=found.run_id, threshold=found.threshold, pairs=pairs,
                           flagged=flagged)  # fmt: skip

    @strawberry.field(description="Each source's columns and rejects, and the values most shared (read:profiles)")
    async def data_quality(self, info: Info) -> DataQuality:
        return data_quality_answer(await asyncio.to_thread(_service(info).data_quality), _pii(info))

    @strawberry.field(description="Every segment, by name (export)")
    async def segments(self, info: Info) -> list[SegmentType]:
        found = await asyncio.to_thread(_service(info).segments)
        return [SegmentType(**vars(s)) for s in found]

    @strawberry.field(description="One segment by name, or null (export)")
    async def segment(self, info: Info, name: str) -> SegmentType | None:
        found = await asyncio.to_thread(_service(info).segments)
        return next((SegmentType(**vars(s)) for s in found if s.name == name), None)

    @strawberry.field(description="How many profiles a rule holds now, and a few of them (export)")
    async def preview_segment(self, info: Info, rule: str, sample: SegmentSample = 10) -> SegmentPreview:
        limits.SEGMENT_SAMPLE.check(sample)
        found = await asyncio.to_thread(_service(info).segment_preview, rule, sample)
        return SegmentPreview(rule=found.rule, members=found.members, profiles=found.profiles, sample=found.sample,
                              as_of=found.as_of)  # fmt: skip

    @strawberry.field(description="The audit log from `since` (an ISO date or time, UTC), oldest first; admin only")
    async def audit_log(self, info: Info, since: str, first: AuditFirst = 100) -> list[AuditLogEntry]:
        limits.AUDIT_FIRST.check(first)
        found = await asyncio.to_thread(_service(info).audit_log, since, first)
        return [AuditLogEntry(at=e.at, actor=e.actor, action=e.action, targets=list(e.targets), outcome=e.outcome,
                              detail=e.detail) for e in found]  # fmt: skip

    @strawberry.field(description="Profiles ordered by id, cursor-paginated")
    async def profiles(
        self, info: Info, first: ProfilesFirst = 20, after: str | None = None
    ) -> ProfileConnection | None:
        limits.PROFILES_FIRST.check(first)
        start = decode_cursor(after) if after else None
        ids, more = await asyncio.to_thread(_service(info).profile_page, first, start)
        edges = [ProfileEdge(cursor=encode_cursor(i), node=Profile(id=strawberry.ID(i))) for i in ids]
        return ProfileConnection(
            edges=edges, page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None)
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="A reviewer's verdict on two records (SOURCE:RECORD_ID): stored as a labelled pair that every "
        "later resolve honours (linked, or not linked by matching) and full runs learn from. Needs write:profiles"
    )
    async def label_pair(self, info: Info, record_a: str, record_b: str, match: bool) -> PairVerdict:
        a, b = await asyncio.to_thread(_service(info).label_pair, record_a, record_b, match)
        return PairVerdict(record_a=a, record_b=b, match=match)

    @strawberry.mutation(
        description="Store a segment: a name and a rule, checked first (an error names its column). Needs export"
    )
    async def create_segment(self, info: Info, name: str, rule: str) -> SegmentType:
        made = await asyncio.to_thread(_service(info).create_segment, name, rule)
        return SegmentType(**vars(made))

    @strawberry.mutation(
        description="Merge profiles for good: every later resolve keeps their records in one profile. "
        "Resolves at once and returns the merged profile; merged-away ids keep answering with it"
    )
    async def merge_profiles(self, info: Info, ids: list[strawberry.ID], reason: str) -> Profile:
        merged = await asyncio.to_thread(_service(info).merge_profiles, [str(i) for i in ids], reason)
        return Profile(id=strawberry.ID(merged))

    @strawberry.mutation(
        description="Split records (SOURCE:RECORD_ID) off a profile for good: every later resolve keeps them "
        "apart from its other records. Resolves at once and returns the profiles now holding its records, "
        "the one with the records not listed first"
    )
    async def split_profile(self, info: Info, id: strawberry.ID, records: list[str], reason: str) -> list[Profile]:
        parts = await asyncio.to_thread(_service(info).split_profile, str(id), records, reason)
        return [Profile(id=strawberry.ID(p)) for p in parts]

    @strawberry.mutation(
        description="Erase a customer for good (the right to be forgotten), named by profile id or by an "
        "identifier only one profile holds: their records, identifiers, events and vector leave the store, what "
        "remains is resolved again, and a re-ingest of the same files skips them. Needs write:profiles"
    )
    async def erase_customer(
        self, info: Info, profile_id: strawberry.ID | None = None, identifier: IdentifierInput | None = None
    ) -> ErasureReport:
        named = (identifier.type, identifier.value) if identifier is not None else None
        found = await asyncio.to_thread(_service(info).erase, str(profile_id) if profile_id else None, named)
        return _erasure(found)


def _erasure(found: Any) -> ErasureReport:
    return ErasureReport(**{**vars(found), "profiles": [strawberry.ID(p) for p in found.profiles]})


def _masked_explanation(found: explained.Explanation, pii: PiiMask) -> explained.Explanation:
    """``found`` with each identifier value masked by its type (the summary is built from them)."""
    for profile in {found.profile_a, found.profile_b} - {None}:
        for item in [*found.hops, *found.barriers]:
            pii.identifier(item.identifier_type, item.identifier_value, profile)  # notes a revealed read
    return dataclasses.replace(
        found,
        hops=[dataclasses.replace(h, identifier_value=pii.identifier(h.identifier_type, h.identifier_value))
              for h in found.hops],
        barriers=[dataclasses.replace(b, identifier_value=pii.identifier(b.identifier_type, b.identifier_value))
                  for b in found.barriers],
    )  # fmt: skip


def _pair_score(score: explained.PairScore | None) -> PairScore | None:
    if score is None:
        return None
    return PairScore(**{**vars(score), "comparisons": [ComparisonWeight(**vars(c)) for c in score.comparisons]})


def _mask(error: Any) -> bool:
    """Hide an unexpected failure's detail; a query's own faults (syntax, validation, an argument's type or
    range, a limit) and the project's errors are the caller's to read."""
    original = getattr(error, "original_error", None)
    return original is not None and not isinstance(original, CdpError | GraphQLError)


def build_schema(executors: Executors | None = None, query_limits: QueryLimits | None = None) -> strawberry.Schema:
    """The schema; with ``executors`` (a server), each operation runs off the server's event loop; an
    operation over ``query_limits`` (:mod:`api.query_limits`) is refused before it reads anything."""
    before, after = limit_extensions(query_limits or QueryLimits())
    return ThreadedSchema(
        executors=executors,
        query=Query,
        mutation=Mutation,
        extensions=[
            lambda: MaskErrors(should_mask_error=_mask),
            *before,
            # an app sends a few query texts with new variables: each is parsed and validated once, in LRU
            # caches strawberry keeps at module level (shared by these per-request instances)
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
            *after,
            PiiReadAudit,
        ],
    )
