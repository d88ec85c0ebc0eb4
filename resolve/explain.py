"""Why two records are in one profile, or why they are not.

In one profile: the shortest chain of evidence from one record to the other, each hop a shared
identifier that resolution used. In two profiles: every identifier the two profiles have in common,
each ignored by resolution, with the rule that ignored it (a placeholder, the user blocklist, or a
value shared by more records than its type's cap); or, when they share nothing, that no evidence links
them. A fuzzy-match hop carries the level and weight of every comparison and the total weight.
Two records in two profiles are also scored with the match model the last full resolve saved: the
probability against the threshold, or that no blocking key brings them together, so they are never compared.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from graph.errors import NotFound
from graph.model import USABLE_STATUSES, IdentifierStatus
from graph.store import GraphStore
from resolve.blocking import BlockingReport, rule_name
from resolve.fields import record_fields
from resolve.incremental import saved_model
from resolve.matching import MATCH_PREFIX, Candidates, pair_weights
from resolve.overrides import active_overrides
from resolve.settings import ResolveSettings, last_run_settings

FUZZY = "fuzzy_match"
USER_MERGE = "user_merge"


@dataclass(frozen=True)
class ComparisonWeight:
    """One comparison of a fuzzy match: the level the two values reached and its weight (log2 m/u)."""

    comparison: str
    level: str
    weight: float


@dataclass(frozen=True)
class Hop:
    """One step of evidence: two records holding the same identifier, or matched by their attributes."""

    from_record: str
    to_record: str
    identifier_type: str  # "match" for a fuzzy match
    identifier_value: str  # the match probability for a fuzzy match
    kind: str = "shared_identifier"  # or "fuzzy_match", or "user_merge" (type "override", value: the reason)
    weight: float | None = None  # a fuzzy match's total match weight (prior included)
    comparisons: list[ComparisonWeight] = field(default_factory=list)


@dataclass(frozen=True)
class Barrier:
    """An identifier two profiles share that resolution ignored, and why."""

    identifier_type: str
    identifier_value: str
    status: str
    records: int
    reason: str


@dataclass(frozen=True)
class PairScore:
    """The saved match model's score of two records in different profiles, and why it did not link them."""

    probability: float
    weight: float  # the total match weight, prior included
    threshold: float
    comparisons: list[ComparisonWeight]
    blocking_rules: list[str]  # the blocking rules the two records agree on; none: they are never compared
    note: str  # the score's part of the answer


@dataclass
class Explanation:
    a: str
    b: str
    profile_a: str | None
    profile_b: str | None
    hops: list[Hop] = field(default_factory=list)
    barriers: list[Barrier] = field(default_factory=list)
    pair_score: PairScore | None = None
    unscored: str | None = None  # why two records in different profiles have no pair score

    @property
    def same_profile(self) -> bool:
        return self.profile_a is not None and self.profile_a == self.profile_b

    @property
    def summary(self) -> str:
        if self.profile_a is None or self.profile_b is None:
            return "not resolved yet: run `cdp resolve`"
        if self.same_profile:
            steps = ", then ".join(_described(h) for h in self.hops)
            if self.hops:
                return f"same profile {self.profile_a}: linked by {steps}"
            return "the same record" if self.a == self.b and ":" in self.a else f"same profile {self.profile_a}"
        text = "different profiles: no identifier links them"
        if self.barriers:
            kept = "; ".join(f"{b.identifier_type} {b.identifier_value} {b.reason}" for b in self.barriers)
            # an active or unverified one is not ignored: it joined after the last resolve
            verb = "did not join them" if any(b.status in USABLE_STATUSES for b in self.barriers) else "were ignored"
            text = f"different profiles: the identifiers they share {verb} ({kept})"
        score = self.pair_score.note if self.pair_score else self.unscored
        return f"{text}; {score}" if score else text


def explain(store: GraphStore, a: str, b: str) -> Explanation:
    """Explain ``a`` and ``b``: records (``source:record_id``) or profile ids, in any mix; for two
    profiles, what they share and why it did not merge them. Unknown keys are errors."""
    profiles = {key: _profile_of(store, key) for key in (a, b)}
    result = Explanation(a, b, profiles[a], profiles[b])
    if result.profile_a is None or result.profile_b is None:
        return result
    ids = sorted({result.profile_a, result.profile_b})
    links = store.profile_links(ids)
    members = store.profile_record_keys(ids)
    rejected = {(row["identifier"], row["record"]): row["reason"] for row in store.rejected_links_of(members)}
    if result.same_profile and a != result.profile_a and b != result.profile_b:  # two records: the chain
        result.hops = _chain(store, links, members, rejected, a, b)
    elif not result.same_profile:
        result.barriers = _barriers(store, links, rejected)
        if a != result.profile_a and b != result.profile_b:  # two records: how the match model scores them
            result.pair_score, result.unscored = _pair_score(store, a, b, rejected, bool(result.barriers), links)
    return result


def _profile_of(store: GraphStore, key: str) -> str | None:
    """The profile of a record key (``source:record_id``), or the key itself when it is a profile id."""
    if ":" not in key:
        if not store.profile_sizes_of([key]):
            raise NotFound(f"no profile '{key}' (records are named SOURCE:RECORD_ID)")
        return key
    if not store.existing_records([key]):
        raise NotFound(f"no record '{key}' (expected SOURCE:RECORD_ID)")
    return store.profile_of_record(key)


def _chain(
    store: GraphStore, links: pd.DataFrame, members: list[str], rejected: dict[tuple[str, str], str], a: str, b: str
) -> list[Hop]:
    """The evidence resolution used inside one profile (no ignored identifier, no cut link), then the path."""
    used = pd.Series([pair not in rejected for pair in zip(links["identifier"], links["record"], strict=True)],
                     index=links.index, dtype=bool)  # fmt: skip
    matches = store.match_links_among(members)
    keys = MATCH_PREFIX + matches["record_a"] + "|" + matches["record_b"]
    kept = [(key, x) not in rejected and (key, y) not in rejected
            for key, x, y in zip(keys, matches["record_a"], matches["record_b"], strict=True)]  # fmt: skip
    active = links[links["status"].isin(USABLE_STATUSES) & used]
    merges = active_overrides(store.overrides()).must
    merges = merges[merges["record_a"].isin(members) & merges["record_b"].isin(members)]
    return _evidence_path(active, matches[pd.Series(kept, index=matches.index, dtype=bool)], a, b, merges)


def _evidence_path(links: pd.DataFrame, matches: pd.DataFrame, a: str, b: str, merges: pd.DataFrame) -> list[Hop]:
    """Shortest chain from ``a`` to ``b`` through shared identifiers, fuzzy matches and user merges
    (breadth first, O(n + m)); a fuzzy match or a user merge is one hop like a shared identifier."""
    graph = nx.Graph()
    merge_of = {f"o:{row.key}": row for row in merges.itertuples()}
    for node, row in merge_of.items():
        graph.add_edges_from([("r:" + row.record_a, node), (node, "r:" + row.record_b)])
    graph.add_edges_from(zip("r:" + links["record"], "i:" + links["identifier"], strict=True))
    match_of = {f"m:{x}|{y}": row for x, y, row in zip(matches["record_a"], matches["record_b"],
                                                        matches.itertuples(), strict=True)}  # fmt: skip
    for node, row in match_of.items():
        graph.add_edges_from([("r:" + row.record_a, node), (node, "r:" + row.record_b)])
    if a == b or not graph.has_node("r:" + a) or not graph.has_node("r:" + b):
        return []
    try:
        path = nx.shortest_path(graph, "r:" + a, "r:" + b)
    except nx.NetworkXNoPath:  # joined by evidence the graph no longer holds: the next resolve will part them
        return []
    described = links.drop_duplicates("identifier").set_index("identifier")
    hops = []
    for start, via, end in zip(path[0::2], path[1::2], path[2::2], strict=False):
        if via in match_of:
            hops.append(_match_hop(start[2:], end[2:], match_of[via]))
        elif via in merge_of:
            hops.append(Hop(start[2:], end[2:], "override", str(merge_of[via].reason), USER_MERGE))
        else:
            identifier = described.loc[via[2:]]
            hops.append(Hop(start[2:], end[2:], str(identifier["type"]), str(identifier["value"])))
    return hops


def _described(hop: Hop) -> str:
    if hop.kind == FUZZY:
        return f"a fuzzy match (probability {hop.identifier_value}, weight {hop.weight:+.1f})"
    if hop.kind == USER_MERGE:
        return f"a user merge ({hop.identifier_value})"
    return f"{hop.identifier_type} {hop.identifier_value}"


def _match_hop(start: str, end: str, row: Any) -> Hop:
    comparisons = [ComparisonWeight(c["comparison"], c["level"], float(c["weight"])) for c in json.loads(row.detail)]
    return Hop(start, end, "match", f"{float(row.probability):.4f}", FUZZY, float(row.weight), comparisons)


def _barriers(store: GraphStore, links: pd.DataFrame, rejected: dict[tuple[str, str], str]) -> list[Barrier]:
    held = links.groupby("identifier")["profile_id"].nunique()
    common = links[links["identifier"].isin(held.index[held > 1])].drop_duplicates("identifier")
    if common.empty:
        return []
    degree = store.identifier_degree(common["identifier"].tolist())
    settings = last_run_settings(store)
    cut = {identifier: reason for (identifier, _), reason in rejected.items()}
    return [
        Barrier(row.type, row.value, "rejected", int(degree.get(row.identifier, 0)), f"was cut: {cut[row.identifier]}")
        if row.status in USABLE_STATUSES and row.identifier in cut
        else Barrier(row.type, row.value, row.status, int(degree.get(row.identifier, 0)),
                     _reason(row.status, row.type, int(degree.get(row.identifier, 0)), settings))
        for row in common.sort_values("identifier").itertuples()
    ]  # fmt: skip


def _reason(status: str, id_type: str, records: int, settings: ResolveSettings) -> str:
    if status == IdentifierStatus.PLACEHOLDER.value:
        return "is a placeholder value (built-in list)"
    if status == IdentifierStatus.BLOCKLISTED.value:
        return "is on the user blocklist"
    if status == IdentifierStatus.SHARED.value:
        return f"links {records:,} records, over the {id_type} cap of {settings.cap(id_type):,} (a shared value)"
    if status == IdentifierStatus.UNVERIFIED.value:  # links records like an active one: it is not ignored
        return "is unverified (in no assigned number range) but joined after the last resolve: run `cdp resolve`"
    return "is active but joined after the last resolve: run `cdp resolve`"


def _pair_score(
    store: GraphStore, a: str, b: str, rejected: dict[tuple[str, str], str], barred: bool, links: pd.DataFrame
) -> tuple[PairScore | None, str | None]:
    """Score records ``a`` and ``b`` with the saved model; reads their two attributes only (and every
    record's when a block size decides, see :func:`_kept_apart`). Else None and why not."""
    settings = last_run_settings(store)
    if not settings.matching.enabled:
        return None, "not scored: fuzzy matching is off"
    if settings.matching.automatic:
        return None, "not scored: no match model saved (run `cdp resolve`)"
    usable = links[links["status"].isin(USABLE_STATUSES)]
    fields = record_fields(store.record_attributes_of([a, b]), settings.matching.fields, usable).reindex([a, b])
    bare = [key for key in (a, b) if fields.loc[key].isna().all()]
    if bare:
        return None, f"not scored: {bare[0]} has no attributes to compare"
    model = saved_model(store)
    if model is None:
        return None, "not scored: no match model saved (run `cdp resolve`)"
    pair = np.array([[0, 1]], dtype=np.int64)
    candidates = Candidates(fields, [], [], pair, BlockingReport())
    comparisons, levels, weights = pair_weights(candidates, model, settings.matching, pair)
    probability, weight = float(model.probability(weights)[0]), model.prior_weight() + float(weights.sum())
    first, second = fields.loc[a], fields.loc[b]
    rules = [r for r in settings.matching.blocking if first[r].notna().all() and (first[r] == second[r]).all()]
    score, threshold = f"probability {probability:.4f} (weight {weight:+.1f})", settings.matching.threshold
    if not rules:
        note = (f"not scored: the records share no blocking key, so they are never compared (the model would "
                f"give them probability {probability:.4f}, weight {weight:+.1f})")  # fmt: skip
    elif probability < threshold:
        note = f"fuzzy match {score} is below the threshold {threshold:g}"
    else:
        why = _kept_apart(store, a, b, rejected, barred, rules, settings, first)
        note = f"fuzzy match {score} is at or above the threshold {threshold:g}, but {why}"
    detail = [ComparisonWeight(c.name, model.labels[n][int(levels[0, n])], float(weights[0, n]))
              for n, c in enumerate(comparisons)]  # fmt: skip
    return PairScore(probability, weight, threshold, detail, [rule_name(r) for r in rules], note), None


def _kept_apart(
    store: GraphStore,
    a: str,
    b: str,
    rejected: dict[tuple[str, str], str],
    barred: bool,
    rules: list[list[str]],
    settings: ResolveSettings,
    values: pd.Series,
) -> str:
    """Why a pair over the threshold is in two profiles: its match link was cut (a limit, conflicting
    evidence, a user split), an identifier they share was cut or ignored, or every block they share is
    over the size limit (then all records' attributes are read: O(n))."""
    for link in (f"{MATCH_PREFIX}{a}|{b}", f"{MATCH_PREFIX}{b}|{a}"):
        cut = rejected.get((link, a)) or rejected.get((link, b))
        if cut:
            return f"the match link was cut: {cut}"
    if barred:
        return "the identifiers they share were cut or ignored (above)"
    names = list(dict.fromkeys(f for rule in rules for f in rule))
    everyone = record_fields(store.record_attributes(), names)
    limit = settings.matching.max_block_size
    sizes = {rule_name(r): int((everyone[r] == values[r]).all(axis=1).sum()) for r in rules}
    if all(size > limit for size in sizes.values()):
        blocks = ", ".join(f"{name}: {size:,} records" for name, size in sizes.items())
        return f"they were never compared: every block they share is over the size limit of {limit:,} ({blocks})"
    return "the last resolve did not link them (data or settings changed since): run `cdp resolve`"
