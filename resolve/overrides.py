"""User overrides: merges and splits an analyst asked for, kept as constraints every later resolve honours.

Constraints bind records, not profile ids, because ids change as profiles merge and split. One user
action (a merge or a split) is stored as one or more ``Override`` rows sharing an ``action`` id:

- **merge** (must-link): the first profile's representative record (its smallest key) with the
  representative of each other profile. Resolve adds each as a link of strength
  :data:`OVERRIDE_STRENGTH` through an ``override:<key>`` pseudo identifier, so the profiles' components
  join, a limit cuts around it when anything else can be cut, and a cannot-link never cuts it.
- **split** (cannot-link): the records split off (side A) against the profile's other records
  (side B), as rows ``(a, b0)`` for each listed record and ``(a0, b)`` for each other record: every row
  is a true pair, |A| + |B| - 1 rows rather than |A| x |B|, and all rows of an action are enforced
  together: a component holding records of both sides is cut along one minimum cut between the whole of
  A and the whole of B (link weights as in :mod:`resolve.limits`). A record that joins later is on
  whichever side its evidence ties it to more strongly; the listed records stay together only where
  their own evidence joins them.

When overrides contradict each other, the later action wins and the earlier one is reported: a merge
that joins both sides of an earlier split supersedes that split, and a split of records joined by
earlier merges drops the fewest of those must-links that separate its sides.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx
import pandas as pd

from graph.errors import InvalidRequest, NotFound
from graph.frames import among
from graph.model import Label
from graph.schema import property_names
from resolve.components import record_components
from resolve.limits import Rejection, min_cut
from resolve.settings import ResolveSettings

OVERRIDE_COLUMNS = property_names(Label.OVERRIDE)

MUST_LINK, CANNOT_LINK = "must_link", "cannot_link"
OVERRIDE_PREFIX = "override:"  # pseudo identifier type of a must-link
#: a must-link's strength in the limits' min cut: far above any identifier's (national id: 10) or match link's
OVERRIDE_STRENGTH = 1e6
_MAX_REASON = 1000
_SOURCE, _SINK = ("s", ""), ("t", "")


def merge_override(
    asked: Sequence[str],
    current: Mapping[str, str],
    members: Mapping[str, Sequence[str]],
    reason: str,
    actor: str,
    at: str,
) -> pd.DataFrame:
    """The must-links of merging the profiles ``asked``. ``current`` maps each known id (live or merged
    away) to the live profile it names; ``members`` maps each live profile to its record keys.

    >>> rows = merge_override(["p1", "p2"], {"p1": "p1", "p2": "p2"}, {"p1": ["crm:2", "crm:1"], "p2": ["web:9"]},
    ...                       "same person", "ann", "t")
    >>> rows[["kind", "record_a", "record_b"]].values.tolist()
    [['must_link', 'crm:1', 'web:9']]
    """
    reason = _checked_reason(reason)
    unknown = [i for i in asked if i not in current]
    if unknown:
        raise NotFound(f"no profile {_names(unknown)}")
    profiles = list(dict.fromkeys(current[i] for i in asked))
    if len(profiles) < 2:
        named = f"got only '{profiles[0]}' (from {_names(asked)})" if profiles else "got none"
        raise InvalidRequest(f"a merge needs two or more different profiles, {named}")
    empty = [p for p in profiles if not members.get(p)]
    if empty:
        raise NotFound(f"profile {_names(empty)} holds no records")
    representatives = [min(members[p]) for p in profiles]
    pairs = [(representatives[0], other) for other in representatives[1:]]
    return _rows(MUST_LINK, pairs, reason, actor, at)


def split_override(
    profile: str, members: Sequence[str], records: Sequence[str], reason: str, actor: str, at: str
) -> pd.DataFrame:
    """The cannot-links of splitting ``records`` (``SOURCE:RECORD_ID``) off ``profile``, whose record keys
    are ``members``: each listed record against the first other record, and the first listed record
    against each other record.

    >>> rows = split_override("p1", ["crm:1", "crm:2", "web:9"], ["web:9"], "two people", "ann", "t")
    >>> rows[["kind", "record_a", "record_b"]].values.tolist()
    [['cannot_link', 'web:9', 'crm:1'], ['cannot_link', 'web:9', 'crm:2']]
    """
    reason = _checked_reason(reason)
    listed = sorted({r.strip() for r in records})
    if not listed:
        raise InvalidRequest(f"name the records to split off profile '{profile}' (SOURCE:RECORD_ID)")
    outside = [r for r in listed if r not in set(members)]
    if outside:
        raise InvalidRequest(f"record {_names(outside)} not in profile '{profile}'")
    rest = sorted(set(members) - set(listed))
    if not rest:
        raise InvalidRequest(
            f"cannot split off all {len(listed)} records of profile '{profile}': leave at least one in it"
        )
    pairs = [(a, rest[0]) for a in listed] + [(listed[0], b) for b in rest[1:]]
    return _rows(CANNOT_LINK, pairs, reason, actor, at)


def _checked_reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidRequest("a reason is required: say why, it goes on the profile's history")
    if len(reason) > _MAX_REASON:
        raise InvalidRequest(f"the reason is {len(reason):,} characters long; at most {_MAX_REASON:,}")
    return reason


def _names(ids: Sequence[str]) -> str:
    return ", ".join(f"'{i}'" for i in ids)


def _rows(kind: str, pairs: list[tuple[str, str]], reason: str, actor: str, at: str) -> pd.DataFrame:
    action = f"o_{uuid.uuid4().hex[:12]}"
    frame = pd.DataFrame(pairs, columns=["record_a", "record_b"], dtype="str")
    keys = [f"{action}|{n}" for n in range(len(frame))]
    frame = frame.assign(key=keys, action=action, kind=kind, reason=reason, actor=actor, at=at)
    return frame[OVERRIDE_COLUMNS]


@dataclass(frozen=True)
class CannotLink:
    """One split: no profile may hold a record of ``side_a`` and one of ``side_b``."""

    action: str
    side_a: frozenset[str]
    side_b: frozenset[str]
    reason: str


@dataclass
class ActiveOverrides:
    """The overrides a resolve applies, once contradictions are settled (see :func:`active_overrides`)."""

    must: pd.DataFrame  # key, action, record_a, record_b, reason of each must-link in force
    cannot: list[CannotLink] = field(default_factory=list)
    superseded: list[dict[str, str]] = field(default_factory=list)  # action, kind, records, superseded_by

    def links(self, records: pd.Series) -> pd.DataFrame:
        """Must-links as record-identifier links (``record, identifier, strength``) between present records."""
        known = self.must
        if len(known):  # a record deleted since leaves its must-links idle
            known = known[among(known["record_a"], records) & among(known["record_b"], records)]
        identifier = OVERRIDE_PREFIX + known["key"]
        ends = [pd.DataFrame({"record": known[end], "identifier": identifier}) for end in ("record_a", "record_b")]
        return pd.concat(ends, ignore_index=True).assign(strength=OVERRIDE_STRENGTH)

    def enforce(
        self,
        records: pd.Series,
        links: pd.DataFrame,
        components: pd.Series,
        rejected: list[Rejection],
        settings: ResolveSettings,
    ) -> tuple[pd.Series, list[Rejection]]:
        """After the limits: keep every must-link (a limit cuts one only where nothing else separates two
        conflicting values; the user's word wins) and cut every component holding both sides of a
        cannot-link. ``links`` are the links resolve used, must-links included. Components no constraint
        touches are returned as they were; with no override at all this costs nothing."""
        if self.must.empty and not self.cannot:
            return components, rejected
        links = links if links.index.is_unique else links.reset_index(drop=True)
        kept = [r for r in rejected if not r.identifier.startswith(OVERRIDE_PREFIX)]
        alive = _uncut(links, kept)
        if len(kept) < len(rejected):
            components = record_components(records, links[alive])
        broken = set().union(*(_both_sides(components, group) for group in self.cannot))
        if not broken:
            return components, kept
        labels = components[components.isin(broken)].copy()  # only these components are read or cut from here
        inside = links[alive & among(links["record"], labels.index)]
        for group in self.cannot:
            cut = _separate(inside, labels, group, settings)
            inside = inside.drop(cut.index)
            reason = f"split by user: {group.reason}"
            kept += [Rejection(r, i, reason) for r, i in zip(cut["record"], cut["identifier"], strict=True)]
        relabelled = components.copy()
        relabelled[labels.index] = labels.to_numpy() + int(components.max()) + 1
        return pd.Series(pd.factorize(relabelled)[0], index=relabelled.index, name="component"), kept

    def summary(self) -> dict[str, object]:
        return {"must_links": len(self.must), "splits": len(self.cannot), "superseded": self.superseded}


def active_overrides(frame: pd.DataFrame) -> ActiveOverrides:
    """Settle contradictions between stored overrides (columns of :data:`OVERRIDE_COLUMNS`), oldest
    action first: a merge joining both sides of an earlier split supersedes the split; a split of
    records earlier merges joined drops the fewest of those must-links that keep its sides together
    (a minimum cut of the must-link graph). Cost: one pass over the actions, a cut only on a conflict.

    >>> rows = pd.DataFrame([("a|0", "a", "must_link", "r1", "r2", "same", "ann", "1"),
    ...                      ("b|0", "b", "cannot_link", "r2", "r1", "not same", "bo", "2")], columns=OVERRIDE_COLUMNS)
    >>> found = active_overrides(rows)
    >>> len(found.must), [c.action for c in found.cannot], [s["superseded_by"] for s in found.superseded]
    (0, ['b'], ['b'])
    """
    frame = frame.reindex(columns=OVERRIDE_COLUMNS).sort_values(["at", "action", "key"])
    must = nx.Graph()  # record - record, one edge per merged pair
    cannot: dict[str, CannotLink] = {}
    superseded: list[dict[str, str]] = []
    for action, rows in frame.groupby("action", sort=False):
        if rows["kind"].iloc[0] == MUST_LINK:
            _add_merge(must, rows)
            for earlier in [c for c in cannot.values() if _joined(must, c.side_a, c.side_b)]:
                del cannot[earlier.action]
                superseded.append(_superseded(earlier.action, CANNOT_LINK, _apart(earlier), str(action)))
            continue
        group = CannotLink(
            str(action), frozenset(rows["record_a"]), frozenset(rows["record_b"]), rows["reason"].iloc[0]
        )
        for a, b in _must_cut(must, group):
            pair = " ".join(sorted((a, b)))
            superseded += [_superseded(x, MUST_LINK, pair, group.action) for x in must.edges[a, b]["actions"]]
            must.remove_edge(a, b)
        cannot[group.action] = group
    edges = [(d["key"], d["actions"][-1], a, b, d["reason"]) for a, b, d in must.edges(data=True)]
    columns = ["key", "action", "record_a", "record_b", "reason"]
    return ActiveOverrides(pd.DataFrame(edges, columns=columns, dtype="str"), list(cannot.values()), superseded)


def _add_merge(must: nx.Graph, rows: pd.DataFrame) -> None:
    """Add one merge's pairs; a pair merged again keeps the latest key and reason, and every action."""
    for row in rows.itertuples():
        before = must.edges[row.record_a, row.record_b]["actions"] if must.has_edge(row.record_a, row.record_b) else []
        must.add_edge(row.record_a, row.record_b, key=row.key, reason=row.reason, actions=[*before, row.action])


def _apart(group: CannotLink) -> str:
    """``crm:1 crm:2 | web:3 (+4 more)``: a split's two sides, briefly."""

    def some(side: frozenset[str]) -> str:
        shown = sorted(side)[:3]
        return " ".join(shown) + (f" (+{len(side) - 3} more)" if len(side) > 3 else "")

    return f"{some(group.side_a)} | {some(group.side_b)}"


def _superseded(action: str, kind: str, records: str, by: str) -> dict[str, str]:
    return {"action": action, "kind": kind, "records": records, "superseded_by": by}


def _joined(must: nx.Graph, side_a: frozenset[str], side_b: frozenset[str]) -> bool:
    """Whether must-links join a record of ``side_a`` to one of ``side_b``."""
    seen: set[str] = set()
    for record in side_a:
        if record in must and record not in seen:
            reached = nx.node_connected_component(must, record)
            if reached & side_b:
                return True
            seen |= reached
    return False


def _must_cut(must: nx.Graph, group: CannotLink) -> list[tuple[str, str]]:
    """The fewest must-links whose removal leaves no must-link path between the two sides of ``group``."""
    if not _joined(must, group.side_a, group.side_b):
        return []
    flow = nx.DiGraph()
    for a, b in must.edges:
        flow.add_edge(a, b, capacity=1)
        flow.add_edge(b, a, capacity=1)
    flow.add_edges_from((_SOURCE, a) for a in group.side_a if a in must)  # no capacity: never cut
    flow.add_edges_from((b, _SINK) for b in group.side_b if b in must)
    _, (reachable, _) = nx.minimum_cut(flow, _SOURCE, _SINK)
    return [(a, b) for a, b in must.edges if (a in reachable) != (b in reachable)]


def _uncut(links: pd.DataFrame, rejected: list[Rejection]) -> pd.Series:
    """True for each link not among ``rejected``. O(m)."""
    alive = pd.Series(True, index=links.index)
    if rejected:
        pairs = pd.MultiIndex.from_arrays([links["record"], links["identifier"]])
        alive &= ~pairs.isin([(r.record, r.identifier) for r in rejected])
    return alive


def _both_sides(labels: pd.Series, group: CannotLink) -> set[int]:
    """The components holding records of both sides of ``group``. O(|side a| + |side b|)."""
    side_a = labels.reindex(list(group.side_a)).dropna()
    side_b = labels.reindex(list(group.side_b)).dropna()
    return {int(c) for c in set(side_a) & set(side_b)}


def _separate(links: pd.DataFrame, labels: pd.Series, group: CannotLink, settings: ResolveSettings) -> pd.DataFrame:
    """Cut each component of ``labels`` holding both sides of ``group`` along one minimum cut between the
    sides (must-links are never cut), relabelling its parts in place; returns the links cut."""
    shared = _both_sides(labels, group)
    if not shared:
        return links.iloc[:0]
    members = labels.index[labels.isin(shared)]
    sub = links[among(links["record"], members)]
    strength = sub["strength"] if "strength" in sub.columns else pd.Series(float("nan"), index=sub.index)
    sub = sub.assign(strength=strength.mask(sub["identifier"].str.startswith(OVERRIDE_PREFIX), float("inf")))
    sides = [labels.reindex(list(side)).dropna() for side in (group.side_a, group.side_b)]
    sources, sinks = (side.index[side.isin(shared)] for side in sides)
    cut = min_cut(sub, sources, sinks, settings)
    local = record_components(pd.Series(members), sub.drop(cut.index))
    labels[members] = local[members].to_numpy() + int(labels.max()) + 1
    return cut
