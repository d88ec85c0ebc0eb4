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
from networkx.algorithms.flow import edmonds_karp

from resolve.fellegi_sunter import MatchModel
from resolve.limits import Rejection
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
    involved = components.reindex(conflicts["record_a"]).to_numpy()
    inside = used[used["record"].map(components).isin(set(involved))]
    overrides = inside["identifier"].str.startswith(OVERRIDE_PREFIX)
    given = inside["strength"] if "strength" in inside.columns else pd.Series(math.nan, index=inside.index)
    degree = inside["identifier"].map(inside["identifier"].value_counts())
    kinds = inside["identifier"].str.split(":", n=1).str[0]
    own = kinds.map(settings.link_strength).astype(float) / degree  # an identifier's: its type's, shared
    strength = given.where(given.notna(), own).mask(overrides, math.inf)  # a user merge is never cut
    inside = inside.assign(strength=strength, component=inside["record"].map(components))
    rejected: list[Rejection] = []
    next_label = int(components.max()) + 1
    pairs_of = dict(tuple(conflicts.groupby(involved)))
    keys, parts = [], []
    for component, links in inside.groupby("component", sort=False):
        local, cut = _cut_apart(links, pairs_of[component])
        rejected += cut
        keys.append(local.index.to_numpy())
        parts.append(local.to_numpy() + next_label)
        next_label += int(local.max()) + 1
    labels = components.to_numpy().copy()
    labels[components.index.get_indexer(np.concatenate(keys))] = np.concatenate(parts)
    return pd.Series(pd.factorize(labels)[0], index=components.index, name="component"), rejected


def _cut_apart(sub: pd.DataFrame, pairs: pd.DataFrame) -> tuple[pd.Series, list[Rejection]]:
    """Cut one component's links (with ``strength``) between each conflicting pair in turn; returns a local
    part label per record and the cut links. One flow graph per component, cuts removed from it as found."""
    graph = nx.DiGraph()
    for record, identifier, strength in zip(sub["record"], sub["identifier"], sub["strength"], strict=True):
        arc = {} if strength == math.inf else {"capacity": float(strength)}  # no capacity: infinite
        graph.add_edge(("r", record), ("i", identifier), **arc)  # an undirected link: two opposite arcs
        graph.add_edge(("i", identifier), ("r", record), **arc)
    rejected: list[Rejection] = []
    for a, b, reason in zip(pairs["record_a"], pairs["record_b"], pairs["reason"], strict=True):
        if not nx.has_path(graph, ("r", a), ("r", b)):
            continue  # an earlier cut already parted them
        try:
            _, (reachable, _) = nx.minimum_cut(graph, ("r", a), ("r", b), flow_func=edmonds_karp)
        except nx.NetworkXUnbounded:
            continue  # a user merge holds them together
        crossing = [(u, v) for u, v in graph.edges if u in reachable and v not in reachable]
        for u, v in crossing:
            graph.remove_edge(u, v)
            graph.remove_edge(v, u)
            record, identifier = (u[1], v[1]) if u[0] == "r" else (v[1], u[1])
            rejected.append(Rejection(record, identifier, f"{reason} ({a} vs {b})"))
    parts = {
        node[1]: n for n, part in enumerate(nx.weakly_connected_components(graph)) for node in part if node[0] == "r"
    }
    return pd.Series(parts, dtype=np.int64), rejected
