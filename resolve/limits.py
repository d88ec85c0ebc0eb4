"""Profile limits: conflicting strong evidence splits a component instead of being merged into it.

A component that holds more distinct values of a type than a person can have (two national ids), or
more records than a profile may, is cut along its weakest evidence:

- **conflicts**: between the records holding two conflicting values, the minimum cut of the
  record-identifier graph, each link weighted by its type's strength divided by how many records its
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
import pandas as pd

from resolve.components import record_components
from resolve.settings import ResolveSettings

_SOURCE, _SINK = ("s", ""), ("t", "")


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
    offending = _over_limits(limited, components, settings)
    if not offending:
        return components, []
    rejected: list[Rejection] = []
    labels = components.copy()
    next_label = int(components.max()) + 1
    involved = components[components.isin(offending)]
    members_of = involved.groupby(involved).groups  # each offending component's records, found once
    inside = links[links["record"].isin(involved.index)]
    links_of = inside.groupby(inside["record"].map(involved)).groups
    for component in offending:
        members = pd.Index(members_of[component])
        kept, cut = _split(members, inside.loc[links_of.get(component, [])], settings)
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


def _over_limits(limited: pd.DataFrame, components: pd.Series, settings: ResolveSettings) -> list[int]:
    sizes = components.value_counts()
    over = set(sizes.index[sizes > settings.max_profile_size])
    if len(limited):
        distinct = limited.groupby(["component", "type"])["identifier"].nunique().reset_index()
        caps = distinct["type"].map(settings.max_values_per_profile)
        over |= set(distinct.loc[distinct["identifier"] > caps, "component"])
    return sorted(int(c) for c in over)


def _split(members: pd.Index, sub: pd.DataFrame, settings: ResolveSettings) -> tuple[pd.DataFrame, list[Rejection]]:
    """Cut ``sub`` (one component's links) until each of its parts is within the limits."""
    rejected: list[Rejection] = []
    for _ in range(len(sub) + 1):  # each round removes at least one link
        parts = record_components(pd.Series(members), sub)
        conflict = _first_conflict(sub, parts, settings)
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


def _first_conflict(sub: pd.DataFrame, parts: pd.Series, settings: ResolveSettings) -> tuple[str, str, str] | None:
    """The first part holding too many values of a limited type: (type, most common value, the next)."""
    typed = sub.assign(part=sub["record"].map(parts), type=sub["identifier"].str.split(":").str[0])
    for id_type, cap in sorted(settings.max_values_per_profile.items()):
        of_type = typed[typed["type"] == id_type]
        for _, group in of_type.groupby("part", sort=True):
            values = group["identifier"].value_counts()
            if len(values) > cap:
                ranked = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
                return id_type, ranked[0][0], ranked[1][0]
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
