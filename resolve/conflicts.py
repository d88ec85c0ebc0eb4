"""Conflicting evidence: records that share an identifier but whose attributes say they are two people.

A family email, a home phone or a shared tablet links a mother and her son; their first names and birth
dates say they are two people. For every pair of records sharing an identifier, the comparisons of the
match model are scored; when the disagreements alone weigh ``conflict_weight`` or less (by default a
different first name *and* a different birth date), the pair is kept apart: the minimum cut between the
two records is removed from their component, so the weakest evidence goes (the shared family email,
not either person's own CRM id). The cut links are rejected links with the reason, and the people stay
linked as one household. User merges (infinite strength) are never cut.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd

from resolve.components import record_components
from resolve.fellegi_sunter import MatchModel
from resolve.limits import Rejection, min_cut
from resolve.matching import MATCH_PREFIX, Candidates, pair_weights
from resolve.overrides import OVERRIDE_PREFIX
from resolve.settings import ResolveSettings

_PSEUDO = (MATCH_PREFIX, OVERRIDE_PREFIX)  # links that are not identifiers the records hold


def conflicting_pairs(
    used: pd.DataFrame, candidates: Candidates, model: MatchModel, settings: ResolveSettings
) -> pd.DataFrame:
    """Pairs of records sharing an identifier whose attributes disagree strongly: columns ``record_a,
    record_b, reason``. Cost: O(pairs sharing an identifier) comparisons; records without attributes
    are skipped."""
    keys = candidates.fields.index
    has_any = candidates.fields.notna().any(axis=1).to_numpy()
    held = used.loc[~used["identifier"].str.startswith(_PSEUDO), ["record", "identifier"]]
    held = held.assign(row=pd.Index(keys).get_indexer(held["record"]))
    held = held[(held["row"] >= 0)]
    held = held[has_any[held["row"].to_numpy()]]
    joined = held.merge(held, on="identifier", suffixes=("_a", "_b"))
    joined = joined[joined["row_a"] < joined["row_b"]].drop_duplicates(["row_a", "row_b"])
    pairs = joined[["row_a", "row_b"]].to_numpy(dtype=np.int64)
    if len(pairs) == 0:
        return pd.DataFrame({"record_a": [], "record_b": [], "reason": []}, dtype=object)
    comparisons, levels, weights = pair_weights(candidates, model, settings.matching, pairs)
    against = np.where(weights < 0, weights, 0.0)
    conflict = np.flatnonzero(against.sum(axis=1) <= settings.matching.conflict_weight)
    reasons = [
        "conflicting evidence: "
        + ", ".join(
            f"{comparisons[c].name} {model.labels[c][levels[i, c]]} ({weights[i, c]:+.1f})"
            for c in np.flatnonzero(against[i] < 0)
        )
        for i in conflict
    ]
    return pd.DataFrame(
        {"record_a": keys[pairs[conflict, 0]], "record_b": keys[pairs[conflict, 1]], "reason": reasons}, dtype=object
    )


def keep_apart(
    records: pd.Series,
    used: pd.DataFrame,
    components: pd.Series,
    conflicts: pd.DataFrame,
    settings: ResolveSettings,
) -> tuple[pd.Series, list[Rejection]]:
    """Cut each component holding both records of a conflicting pair between them (minimum cut); returns
    the new component labels and the cut links. Components without a conflict are untouched."""
    if conflicts.empty:
        return components, []
    same = components.reindex(conflicts["record_a"]).to_numpy() == components.reindex(conflicts["record_b"]).to_numpy()
    conflicts = conflicts[same]
    if conflicts.empty:
        return components, []
    labels, rejected = components.copy(), []
    next_label = int(components.max()) + 1
    by_component = conflicts.groupby(components.reindex(conflicts["record_a"]).to_numpy())
    involved = set(by_component.groups)
    inside = used[used["record"].map(components).isin(involved)]
    if "strength" in inside.columns:  # a user merge is never cut (its finite strength only ranks it in limits)
        inside = inside.assign(strength=inside["strength"].mask(inside["identifier"].str.startswith(OVERRIDE_PREFIX),
                                                                 math.inf))  # fmt: skip
    links_of = inside.groupby(inside["record"].map(components)).groups
    for component, pairs in by_component:
        members = components.index[components == component]
        sub, cut = _cut_apart(inside.loc[links_of[component]], pairs, settings)
        rejected += cut
        local = record_components(pd.Series(members), sub)
        labels[members] = local[members].to_numpy() + next_label
        next_label += int(local.max()) + 1
    return pd.Series(pd.factorize(labels)[0], index=labels.index, name="component"), rejected


def _cut_apart(
    sub: pd.DataFrame, pairs: pd.DataFrame, settings: ResolveSettings
) -> tuple[pd.DataFrame, list[Rejection]]:
    rejected: list[Rejection] = []
    for a, b, reason in zip(pairs["record_a"], pairs["record_b"], pairs["reason"], strict=True):
        graph = nx.Graph()
        graph.add_edges_from(zip("r:" + sub["record"], "i:" + sub["identifier"], strict=True))
        if not (graph.has_node("r:" + a) and graph.has_node("r:" + b) and nx.has_path(graph, "r:" + a, "r:" + b)):
            continue  # an earlier cut already parted them
        try:
            cut = min_cut(sub, [a], [b], settings)
        except nx.NetworkXUnbounded:
            continue  # a user merge holds them together
        rejected += [
            Rejection(r, i, f"{reason} ({a} vs {b})") for r, i in zip(cut["record"], cut["identifier"], strict=True)
        ]
        sub = sub.drop(cut.index)
    return sub, rejected
