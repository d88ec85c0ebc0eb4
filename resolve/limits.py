"""Profile limits: conflicting strong evidence splits a component instead of being merged into it.

A component that holds more distinct values of a type than a person can have (two national ids), or
more records than a profile may, is cut along its weakest evidence:

- **conflicts**: between the records holding two conflicting values, the minimum cut of the
  record-identifier graph (values one edit apart, a typo or a swap of two neighbouring characters, count
  as one value: ``7180230`` and ``7180320`` are one national id keyed twice, not two people), each link weighted by its type's strength divided by how many records its
  value links (a family email is weaker than a CRM id);
- **size**: the links of the least specific identifier (the one linking most records) are dropped.

Every cut link is returned as a rejected link with its reason, so it is reported, not silently lost.
Only the offending components are touched; the rest of the graph costs O(n + m) to check.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
from rapidfuzz.distance import OSA

from graph.frames import among
from resolve.components import record_components
from resolve.fields import IDENTIFIER_FIELDS
from resolve.settings import ResolveSettings

_SOURCE, _SINK = ("s", ""), ("t", "")
MATCH_PREFIX = "match:"  # as resolve.matching names a match link (that module builds on this one)
#: values shorter than this are never taken for typos of each other (two 4-digit ids one edit apart are
#: as likely two people as one)
TYPO_MIN_LENGTH = 6


@dataclass(frozen=True)
class Rejection:
    record: str
    identifier: str
    reason: str


def enforce_limits(
    records: pd.Series, links: pd.DataFrame, components: pd.Series, settings: ResolveSettings
) -> tuple[pd.Series, list[Rejection]]:
    """Cut every component over a limit; returns new component labels and the rejected links.

    ``links`` has columns ``record, identifier`` (keys ``type:value``), the links resolution uses, and
    optionally ``strength`` (a match link's own strength; NaN for identifier links).
    """
    limited = _limited_links(links, settings).assign(component=lambda f: f["record"].map(components))
    same = vouched_values(links, limited, settings)
    offending = _over_limits(limited, components, settings, same)
    if not offending:
        return components, []
    rejected: list[Rejection] = []
    labels = components.copy()
    next_label = int(components.max()) + 1
    involved = components[components.isin(offending)]
    members_of = involved.groupby(involved).groups  # each offending component's records, found once
    inside = links[among(links["record"], involved.index)]
    links_of = inside.groupby(inside["record"].map(involved)).groups
    for component in offending:
        members = pd.Index(members_of[component])
        kept, cut = _split(members, inside.loc[links_of.get(component, [])], settings, same)
        rejected += cut
        local = record_components(pd.Series(members), kept)
        labels[members] = local[members].to_numpy() + next_label
        next_label += int(local.max()) + 1
    return pd.Series(pd.factorize(labels)[0], index=labels.index, name="component"), rejected


def _limited_links(links: pd.DataFrame, settings: ResolveSettings) -> pd.DataFrame:
    """The links of limited types, with a ``type`` column (a prefix test: splitting every key costs seconds)."""
    if not settings.max_values_per_profile:
        return links.iloc[:0].assign(type=pd.Series(dtype="str"))
    prefixes = tuple(f"{id_type}:" for id_type in settings.max_values_per_profile)
    limited = links[links["identifier"].str.startswith(prefixes)]
    return limited.assign(type=limited["identifier"].str.split(":", n=1).str[0])


def vouched_values(links: pd.DataFrame, limited: pd.DataFrame, settings: ResolveSettings) -> set[frozenset[str]]:
    """Pairs of limited values the match model saw and matched anyway: the two records of a match link hold
    them, and the model compares that type (a national id by edit distance), so their disagreement is
    already weighed in the match, against everything else the records agree on. Such values count as one."""
    compared = {IDENTIFIER_FIELDS[c.field] for c in settings.matching.comparisons or [] if c.field in IDENTIFIER_FIELDS}
    limited = limited[limited["type"].isin(compared)]
    matched = links.loc[links["identifier"].str.startswith(MATCH_PREFIX), "identifier"].drop_duplicates()
    if limited.empty or matched.empty:
        return set()
    ends = matched.str.slice(len(MATCH_PREFIX)).str.split("|", n=1, expand=True)
    pairs = pd.DataFrame({"a": ends[0], "b": ends[1]})
    held = limited[["record", "identifier", "type"]]
    joined = pairs.merge(held, left_on="a", right_on="record").merge(held, left_on=["b", "type"],
                                                                     right_on=["record", "type"])  # fmt: skip
    return {frozenset(p) for p in zip(joined["identifier_x"], joined["identifier_y"], strict=True) if p[0] != p[1]}


def _over_limits(
    limited: pd.DataFrame, components: pd.Series, settings: ResolveSettings, same: set[frozenset[str]]
) -> list[int]:
    sizes = components.value_counts()
    over = set(sizes.index[sizes > settings.max_profile_size])
    if len(limited):
        distinct = limited.groupby(["component", "type"])["identifier"].nunique().reset_index()
        caps = distinct["type"].map(settings.max_values_per_profile)
        suspect = distinct[distinct["identifier"] > caps]
        if len(suspect):  # only these groups are compared pairwise: values one edit apart count once
            grouped = limited[limited["component"].isin(set(suspect["component"]))].groupby(["component", "type"])
            values = grouped["identifier"].unique()
            for (component, id_type), cap in zip(zip(suspect["component"], suspect["type"], strict=True),
                                                 suspect["type"].map(settings.max_values_per_profile), strict=True):  # fmt: skip
                if len(set(value_groups(list(values[(component, id_type)]), same))) > cap:
                    over.add(component)
    return sorted(int(c) for c in over)


def value_groups(keys: list[str], same: set[frozenset[str]] | None = None) -> list[int]:
    """A group number per identifier key (``type:value``): keys whose values are one edit apart (a typo, or
    two neighbouring characters swapped), or paired in ``same``, directly or through a chain, share a
    group. O(k²) for k keys.

    >>> value_groups(["national_id:7180230", "national_id:7180320", "national_id:5304218"])
    [0, 0, 1]
    """
    values = [k.split(":", 1)[1] for k in keys]
    group = list(range(len(values)))

    def root(i: int) -> int:
        while group[i] != i:
            group[i] = group[group[i]]
            i = group[i]
        return i

    for i in range(len(values)):
        for j in range(i + 1, len(values)):
            a, b = values[i], values[j]
            typo = min(len(a), len(b)) >= TYPO_MIN_LENGTH and OSA.distance(a, b, score_cutoff=1) <= 1
            if typo or (same and frozenset((keys[i], keys[j])) in same):
                group[root(j)] = root(i)
    return pd.factorize(np.array([root(i) for i in range(len(values))]))[0].tolist()


def _split(
    members: pd.Index, sub: pd.DataFrame, settings: ResolveSettings, same: set[frozenset[str]]
) -> tuple[pd.DataFrame, list[Rejection]]:
    """Cut ``sub`` (one component's links) until each of its parts is within the limits."""
    rejected: list[Rejection] = []
    for _ in range(len(sub) + 1):  # each round removes at least one link
        parts = record_components(pd.Series(members), sub)
        conflict = _first_conflict(sub, parts, settings, same)
        if conflict is not None:
            id_type, left, right = conflict
            both = set(sub.loc[sub["identifier"] == left, "record"]) & set(
                sub.loc[sub["identifier"] == right, "record"]
            )
            if both:  # one record holds both values: no cut between records can help, drop its second value
                cut = sub[sub["record"].isin(both) & (sub["identifier"] == right)]
            else:
                cut = _min_cut(sub, left, right, settings)
            reason = f"conflicting {id_type}: {left.split(':', 1)[1]} vs {right.split(':', 1)[1]}"
        else:
            sizes = parts.value_counts()
            if sizes.max() <= settings.max_profile_size:
                break
            largest = parts.index[parts == sizes.index[0]]
            inside = sub[sub["record"].isin(largest)]
            generic = inside["identifier"].value_counts().index[0]
            cut = inside[inside["identifier"] == generic]
            reason = f"profile over the {settings.max_profile_size:,}-record limit: least specific identifier dropped"
        rejected += [Rejection(r, i, reason) for r, i in zip(cut["record"], cut["identifier"], strict=True)]
        sub = sub.drop(cut.index)
    return sub, rejected


def _first_conflict(
    sub: pd.DataFrame, parts: pd.Series, settings: ResolveSettings, same: set[frozenset[str]]
) -> tuple[str, str, str] | None:
    """The first part holding too many values of a limited type: (type, most common value, the next)."""
    typed = sub.assign(part=sub["record"].map(parts), type=sub["identifier"].str.split(":").str[0])
    for id_type, cap in sorted(settings.max_values_per_profile.items()):
        of_type = typed[typed["type"] == id_type]
        for _, group in of_type.groupby("part", sort=True):
            values = group["identifier"].value_counts()
            if len(values) <= cap:
                continue
            ranked = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
            groups = dict(zip([k for k, _ in ranked], value_groups([k for k, _ in ranked], same), strict=True))
            if len(set(groups.values())) <= cap:
                continue  # typos of one value: evidence for the match, not against it
            other = next(k for k, _ in ranked if groups[k] != groups[ranked[0][0]])
            return id_type, ranked[0][0], other
    return None


def _min_cut(sub: pd.DataFrame, left: str, right: str, settings: ResolveSettings) -> pd.DataFrame:
    """The weakest links separating the records holding ``left`` from those holding ``right``."""
    holders = [sub.loc[sub["identifier"] == value, "record"] for value in (left, right)]
    return min_cut(sub, holders[0], holders[1], settings)


def min_cut(sub: pd.DataFrame, sources: Iterable[str], sinks: Iterable[str], settings: ResolveSettings) -> pd.DataFrame:
    """The weakest set of links of ``sub`` whose removal separates every record of ``sources`` from every
    record of ``sinks`` (max-flow/min-cut on the record-identifier graph). A link weighs its own
    ``strength`` when it has one (a match link; an infinite one is never cut), else its type's strength
    divided by how many records of ``sub`` its value links."""
    degree = sub["identifier"].value_counts()
    given = sub["strength"] if "strength" in sub.columns else pd.Series(float("nan"), index=sub.index)
    graph = nx.DiGraph()
    for row, own in zip(sub.itertuples(), given, strict=True):
        # a match link carries its own strength; an identifier's is its type's, shared by the records it links
        strength = (
            own if own == own else settings.link_strength(row.identifier.split(":", 1)[0]) / degree[row.identifier]
        )
        arc = {} if strength == math.inf else {"capacity": strength}  # networkx: no capacity is infinite
        # an undirected link is two opposite arcs of the same capacity
        graph.add_edge(("r", row.record), ("i", row.identifier), **arc)
        graph.add_edge(("i", row.identifier), ("r", row.record), **arc)
    for record in sources:
        graph.add_edge(_SOURCE, ("r", record))  # no capacity: never cut
    for record in sinks:
        graph.add_edge(("r", record), _SINK)
    _, (reachable, _) = nx.minimum_cut(graph, _SOURCE, _SINK)
    crossing = [
        ("r", r) in reachable and ("i", i) not in reachable or ("r", r) not in reachable and ("i", i) in reachable
        for r, i in zip(sub["record"], sub["identifier"], strict=True)
    ]
    return sub[crossing]
