"""The GraphQL output and input types that are plain data: strawberry types separate from the domain classes.
The types that resolve fields (``Profile``) and the roots live in :mod:`api.schema`."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from analytics.traits import PURCHASE_WEIGHT


@strawberry.type
class Identifier:
    type: str
    value: str
    status: str = strawberry.field(
        description="active; unverified (a phone in no assigned number range: it still links records); or why "
        "resolution ignores it: placeholder, blocklisted, shared"
    )
    sources: list[str]
    first_seen: str
    last_seen: str


@strawberry.type
class SourceRecord:
    source: str
    record_id: str
    attributes: JSON
    seen_at: str


@strawberry.type
class Event:
    type: str
    timestamp: str
    source: str
    properties: JSON


@strawberry.type(description="A golden attribute: the value survivorship chose, with the source it came from")
class GoldenAttribute:
    name: str
    value: str
    source: str
    support: int = strawberry.field(description="how many records hold this value")


@strawberry.type(description="One source's share of a profile's events")
class ChannelShare:
    channel: str
    share: float


@strawberry.type(
    description="Computed from a profile's events as of now (UTC). A profile without events has frequency 0 "
    "and events 0, an empty channelMix and null elsewhere: there is nothing to compute them from"
)
class Traits:
    recency_days: float | None = strawberry.field(description="days since the last purchase; null without one")
    frequency: int = strawberry.field(description="purchases")
    monetary: float | None = strawberry.field(description="the sum of the purchases' numeric amounts")
    first_seen: str | None = strawberry.field(description="the first event")
    last_seen: str | None = strawberry.field(description="the last event")
    top_category: str | None = strawberry.field(
        description=f"the category with the most interactions, a purchase weighing {PURCHASE_WEIGHT} and any "
        "other event 1; ties go to the first alphabetically"
    )
    events: int
    channel_mix: list[ChannelShare] = strawberry.field(description="each source's share of the events, largest first")


@strawberry.type(description="One entry of a profile's history")
class ProfileHistoryEntry:
    kind: str = strawberry.field(description="created, merged, split or merged_into")
    detail: str = strawberry.field(description="the other profile ids involved, or the record count when created")
    reason: str
    actor: str
    at: str


@strawberry.type(description="One comparison of a fuzzy match: the level reached and its weight, log2(m/u)")
class ComparisonWeight:
    comparison: str
    level: str
    weight: float


@strawberry.type(description="One step of evidence: two records holding the same identifier, or a fuzzy match")
class EvidenceHop:
    from_record: str
    to_record: str
    kind: str = strawberry.field(description="shared_identifier, fuzzy_match or user_merge")
    identifier_type: str = strawberry.field(
        description="the identifier's type; 'match' for a fuzzy match, 'override' for a user merge"
    )
    identifier_value: str = strawberry.field(
        description="the identifier's value; the probability for a fuzzy match; the reason for a user merge"
    )
    weight: float | None = strawberry.field(description="a fuzzy match's total match weight, prior included")
    comparisons: list[ComparisonWeight] = strawberry.field(description="a fuzzy match's comparisons")


@strawberry.type(description="An identifier two profiles share that resolution ignored, and the rule that did")
class MergeBarrier:
    identifier_type: str
    identifier_value: str
    status: str = strawberry.field(
        description="placeholder, blocklisted, shared; rejected: a link the last resolve cut; active or "
        "unverified: not ignored, joined after the last resolve"
    )
    records: int
    reason: str


@strawberry.type(description="How the saved match model scores two records in different profiles")
class PairScore:
    probability: float
    weight: float = strawberry.field(description="the total match weight, prior included")
    threshold: float = strawberry.field(description="the match probability from which records are linked")
    comparisons: list[ComparisonWeight]
    blocking_rules: list[str] = strawberry.field(
        description="the blocking rules the two records agree on; none: they are never compared"
    )
    note: str = strawberry.field(description="why the score did not link them")


@strawberry.type(description="Why two records are in one profile (the chain of evidence) or are not")
class Explanation:
    a: str
    b: str
    same_profile: bool
    profile_a: strawberry.ID | None
    profile_b: strawberry.ID | None
    hops: list[EvidenceHop]
    barriers: list[MergeBarrier]
    pair_score: PairScore | None = strawberry.field(
        description="two records in different profiles: the fuzzy-match score; null when not scored (see unscored)"
    )
    unscored: str | None = strawberry.field(description="why two records in different profiles have no pairScore")
    summary: str


@strawberry.type(description="A product recommended to a customer; the score is the model's log-odds, higher first")
class Recommendation:
    product: str
    score: float


@strawberry.type(description="One statement of consent: given (granted) or withdrawn, when and where")
class ConsentStatement:
    granted: bool
    at: str
    source: str


@strawberry.type(description="The latest consent statement for one purpose (any source), and all of them")
class Consent:
    purpose: str = strawberry.field(description="email, sms, ads or analytics")
    granted: bool
    at: str
    source: str
    history: list[ConsentStatement] = strawberry.field(description="oldest first")


@strawberry.type(description="One entry of the audit log: never the personal data itself")
class AuditLogEntry:
    at: str
    actor: str = strawberry.field(description="the API key's name; local for the command line")
    action: str = strawberry.field(description="merge, split, erase, read:pii, export:..., keys:...")
    targets: list[str] = strawberry.field(description="the profile ids it touched")
    outcome: str = strawberry.field(description="ok, denied, or error: KIND")
    detail: str


@strawberry.type(description="What an erase removed: counts and the erased profile ids, never a value")
class ErasureReport:
    profiles: list[strawberry.ID]
    records: int
    identifiers: int = strawberry.field(description="identifiers deleted: no other customer held them")
    identifiers_kept: int = strawberry.field(description="identifiers other customers hold too, kept for them")
    events: int
    suppressed: int = strawberry.field(description="suppression entries written: a re-ingest skips these rows")
    embeddings: int = strawberry.field(description="vectors removed from the stored embeddings")
    moved_records: int = strawberry.field(description="other customers' records the resolve after it moved")


@strawberry.input
class IdentifierInput:
    type: str
    value: str


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="A count of something named: a source's records, profiles of a size, ...")
class NamedCount:
    name: str
    count: int


@strawberry.type(description="One resolve run's figures")
class ResolveRunFigures:
    run_id: str
    finished_at: str
    profiles: int
    merges: int
    splits: int
    moved_records: int
    incremental: bool


@strawberry.type(description="The console overview's figures, computed after the last resolve run, and each run's")
class Overview:
    as_of: str = strawberry.field(description="when the figures were computed (after the resolve run run_id)")
    run_id: str
    profiles: int
    records: int
    events: int
    identifiers: int
    ignored_identifiers: int = strawberry.field(description="placeholders, blocklisted and shared identifiers")
    households: int = strawberry.field(description="households of two or more profiles, at the last resolve")
    records_by_source: list[NamedCount]
    identifiers_by_status: list[NamedCount]
    profile_sizes: list[NamedCount] = strawberry.field(description="name: a profile size; count: profiles of it")
    conflicting_profiles: list[NamedCount] = strawberry.field(
        description="profiles holding two values of a one-per-person field (national id, birth date), per field"
    )
    runs: list[ResolveRunFigures] = strawberry.field(description="oldest first")
    source_overlap: list[NamedCount] = strawberry.field(
        description="name: the sources a profile's records come from, joined by '+'; count: such profiles"
    )
    match_weights: MatchWeights | None = strawberry.field(
        description="the last scoring run's pairs (in different identifier components) by match weight"
    )


@strawberry.type(description="Scored pairs by total match weight, in 1-bit bins around the threshold's weight")
class MatchWeights:
    threshold_weight: float
    start: float = strawberry.field(description="the first bin's lower edge; bin i covers [start + i, start + i + 1)")
    counts: list[int]
    below: int = strawberry.field(description="pairs weighing less than start")
    above: int = strawberry.field(description="pairs weighing at least the last bin's upper edge")


@strawberry.type(description="Two records the match model scored near its threshold, with the evidence")
class ReviewPair:
    record_a: str
    record_b: str
    probability: float
    weight: float = strawberry.field(description="the total match weight, prior included")
    linked: bool = strawberry.field(description="whether the run linked them by matching")
    comparisons: list[ComparisonWeight]
    profile_a: str = strawberry.field(description="the profile holding record_a now")
    profile_b: str
    attributes_a: JSON
    attributes_b: JSON
    verdict: bool | None = strawberry.field(description="a reviewer's label: a match, not a match, or none yet")


@strawberry.type(description="A profile holding two values of a one-per-person field")
class FlaggedProfile:
    profile_id: str
    kind: str
    values: list[str]


@strawberry.type(description="What a reviewer should look at, computed after the last resolve run")
class ReviewQueue:
    as_of: str
    run_id: str
    threshold: float
    pairs: list[ReviewPair] = strawberry.field(description="nearest the threshold first")
    flagged: list[FlaggedProfile]


@strawberry.type(description="A reviewer's verdict on two records, used by every later resolve")
class PairVerdict:
    record_a: str
    record_b: str
    match: bool


@strawberry.type(description="A node of a profile's identity graph: a source record or an identifier")
class GraphNode:
    id: str = strawberry.field(description="r:SOURCE:RECORD, or i: and a token standing for an identifier")
    kind: str = strawberry.field(description="record or identifier")
    type: str = strawberry.field(description="the record's source, or the identifier's type")
    label: str = strawberry.field(description="the record id, or the identifier's value (masked without read:pii)")
    status: str = strawberry.field(description="an identifier's status (rejected: its link was cut); record")
    profile_id: str


@strawberry.type(description="An edge of a profile's identity graph, and its evidence")
class GraphEdge:
    source: str
    target: str
    kind: str = strawberry.field(description="shared_identifier, fuzzy_match, user_merge, or cut (by the last resolve)")
    label: str = strawberry.field(description="the identifier type; the match probability; the merge reason; why cut")
    probability: float | None


@strawberry.type(description="A profile's records and identifiers, and the evidence that joins them")
class ProfileGraph:
    profile_id: str
    nodes: list[GraphNode]
    edges: list[GraphEdge]


@strawberry.type(description="A named rule over profiles (the README's rule language)")
class SegmentType:
    name: str
    rule: str = strawberry.field(description="the rule as stored: parsed and written back")
    created_by: str
    created_at: str


@strawberry.type(description="How many profiles a rule holds now, and a few of them")
class SegmentPreview:
    rule: str
    members: int
    profiles: int = strawberry.field(description="profiles the rule was evaluated over")
    sample: list[str] = strawberry.field(description="a few members' profile ids, by id")
    as_of: str = strawberry.field(description="when the profile table it was evaluated on was built")


@strawberry.type(description="A profile entering or leaving a segment")
class SegmentChange:
    segment: str
    change: str = strawberry.field(description="entered or exited")
    at: str
