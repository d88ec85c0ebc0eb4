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
from networkx.algorithms.flow import build_residual_network, edmonds_karp

from resolve.fellegi_sunter import MatchModel
from resolve.limits import Rejection
from resolve.matching import MATCH_PREFIX, Candidates, pair_weights, personal_disagreement
from resolve.overrides import OVERRIDE_PREFIX
from resolve.settings import ResolveSettings

_PSEUDO = (MATCH_PREFIX, OVERRIDE_PREFIX)  # links that are not identifiers the records hold


def conflicting_pairs(
    used: pd.DataFrame,
    candidates: Candidates,
    model: MatchModel,
    settings: ResolveSettings,
    components: pd.Series | None = None,
) -> pd.DataFrame:
    """Pairs of records whose attributes disagree strongly: columns ``record_a, record_b, reason, weight``
    (the disagreements' total) and ``direct`` (the two hold one identifier).

    Without ``components``, the pairs sharing an identifier of ``used``. With them (record -> component),
    every pair of records in one component: the two sides of a bridge, a shared tablet linking a mother's
    sessions to her son's, disagree through their CRM records even though those share nothing directly.
    Cost: O(pairs) vectorised comparisons (sum of k² over components of k attributed records); records
    without attributes are skipped."""
    keys = candidates.fields.index
    sharing = _pairs_sharing(used, keys, candidates)
    pairs = _pairs_in(components, keys, candidates) if components is not None else sharing
    if len(pairs) == 0:
        return pd.DataFrame({"record_a": [], "record_b": [], "reason": [], "weight": [], "direct": [], "apart": []})
    width = np.int64(len(keys))
    direct = np.isin(pairs[:, 0] * width + pairs[:, 1], sharing[:, 0] * width + sharing[:, 1])
    comparisons, levels, weights = pair_weights(candidates, model, settings.matching, pairs)
    personal = np.array([c.field in settings.matching.conflict_fields for c in comparisons], dtype=bool)
    against = np.where((weights < 0) & personal, weights, 0.0)
    same_id = personal_disagreement(comparisons, levels, weights, settings.matching) == 0
    against[same_id] = 0.0
    total = against.sum(axis=1)
    # every disagreement, an address too: what parts two records that only a chain of fuzzy matches joins
    everything = np.where(weights < 0, weights, 0.0)
    everything[same_id] = 0.0  # nothing said against who they are (or one national id): nothing to part
    apart = everything.sum(axis=1)
    strong = settings.matching.conflict_weight
    matched = _pairs_sharing(used, keys, candidates, (MATCH_PREFIX,))
    linked = direct | np.isin(pairs[:, 0] * width + pairs[:, 1], matched[:, 0] * width + matched[:, 1])
    chained = (~linked) & (apart <= strong) if strong is not None else np.zeros(len(pairs), dtype=bool)
    conflict = np.flatnonzero((total <= _loosest(settings)) | chained)
    shown = np.where(chained[:, None], everything, against)
    reasons = [
        "conflicting evidence: "
        + ", ".join(
            f"{comparisons[c].name} {model.labels[c][levels[i, c]]} ({weights[i, c]:+.1f})"
            for c in np.flatnonzero(shown[i] < 0)
        )
        for i in conflict
    ]
    return pd.DataFrame(
        {"record_a": keys[pairs[conflict, 0]], "record_b": keys[pairs[conflict, 1]], "reason": reasons}, dtype=object
    ).assign(weight=total[conflict], direct=direct[conflict], apart=apart[conflict])


def _loosest(settings: ResolveSettings) -> float:
    """The disagreement weight from which a pair may be kept apart (by household links only, or at all)."""
    weights = [settings.matching.conflict_weight, settings.matching.household_conflict_weight]
    return max(w for w in weights if w is not None)


def _attributed(candidates: Candidates) -> np.ndarray:
    return candidates.fields.notna().any(axis=1).to_numpy()


def _pairs_sharing(
    used: pd.DataFrame, keys: pd.Index, candidates: Candidates, kinds: tuple[str, ...] | None = None
) -> np.ndarray:
    """Row pairs (a < b) of attributed records holding one identifier (not a match or override link), or,
    with ``kinds``, one link of those prefixes (``match:``: the pairs fuzzy matching linked)."""
    pseudo = used["identifier"].str.startswith(_PSEUDO)
    chosen = ~pseudo if kinds is None else used["identifier"].str.startswith(kinds)
    held = used.loc[chosen, ["record", "identifier"]]
    held = held.assign(row=pd.Index(keys).get_indexer(held["record"]))
    held = held[(held["row"] >= 0)]
    held = held[_attributed(candidates)[held["row"].to_numpy()]]
    joined = held.merge(held, on="identifier", suffixes=("_a", "_b"))
    joined = joined[joined["row_a"] < joined["row_b"]].drop_duplicates(["row_a", "row_b"])
    return joined[["row_a", "row_b"]].to_numpy(dtype=np.int64)


def _pairs_in(components: pd.Series, keys: pd.Index, candidates: Candidates) -> np.ndarray:
    """Row pairs (a < b) of attributed records in one component."""
    rows = pd.Index(keys).get_indexer(components.index)
    found = rows >= 0
    rows, labels = rows[found], components.to_numpy()[found]
    kept = _attributed(candidates)[rows]
    held = pd.DataFrame({"row": rows[kept], "component": labels[kept]})
    held = held[held["component"].duplicated(keep=False)]
    joined = held.merge(held, on="component", suffixes=("_a", "_b"))
    joined = joined[joined["row_a"] < joined["row_b"]]
    return joined[["row_a", "row_b"]].to_numpy(dtype=np.int64)


def keep_apart(
    records: pd.Series,
    used: pd.DataFrame,
    components: pd.Series,
    conflicts: pd.DataFrame,
    settings: ResolveSettings,
    weak: frozenset[str] = frozenset(),
) -> tuple[pd.Series, list[Rejection]]:
    """Cut each component holding both records of a conflicting pair between them (minimum cut); returns
    the new component labels and the cut links. Components without a conflict are untouched, and so is a
    profile a user merged (a must-link in it): the user's word outranks the attributes. ``weak``: the match
    links (``match:A|B``) of little weight, which a chain between disagreeing records is cut along."""
    if conflicts.empty:
        return components, []
    merged = components.reindex(used.loc[used["identifier"].str.startswith(OVERRIDE_PREFIX), "record"])
    of_a, of_b = (
        components.reindex(conflicts["record_a"]).to_numpy(),
        components.reindex(conflicts["record_b"]).to_numpy(),
    )
    conflicts = conflicts[(of_a == of_b) & ~np.isin(of_a, merged.dropna().to_numpy())]
    if conflicts.empty:
        return components, []
    # cuts are taken in turn, so the order is fixed: strongest disagreement first, then by record; the links
    # likewise, so a tie between two equal cuts is broken the same way whatever order the store reads in
    swap = (conflicts["record_a"] > conflicts["record_b"]).to_numpy()
    first = np.where(swap, conflicts["record_b"], conflicts["record_a"])
    conflicts = conflicts.assign(record_a=first, record_b=np.where(swap, conflicts["record_a"], conflicts["record_b"]))
    conflicts = conflicts.sort_values(["weight", "record_a", "record_b"], kind="stable")
    involved = components.reindex(conflicts["record_a"]).to_numpy()
    inside = used[used["record"].map(components).isin(set(involved))]  # the conflicting components' links,
    inside = inside.sort_values(["record", "identifier"], kind="stable")  # then sorted (not all the links)
    overrides = inside["identifier"].str.startswith(OVERRIDE_PREFIX)
    given = inside["strength"] if "strength" in inside.columns else pd.Series(math.nan, index=inside.index)
    degree = inside["identifier"].map(inside["identifier"].value_counts())
    kinds = inside["identifier"].str.split(":", n=1).str[0]
    own = kinds.map(settings.link_strength).astype(float) / degree  # an identifier's: its type's, shared
    strength = given.where(given.notna(), own).mask(overrides, math.inf)  # a user merge is never cut
    inside = inside.assign(strength=strength, component=inside["record"].map(components))
    conflicts, involved = _cuttable(conflicts, involved, inside, settings, weak)
    if conflicts.empty:
        return components, []
    inside = inside[inside["component"].isin(set(involved))]
    rejected: list[Rejection] = []
    next_label = int(components.max()) + 1
    # each component's links and pairs as plain lists, in the order groupby would give them (a pandas
    # frame per component cost more than many of their cuts)
    pair_columns = [conflicts[c].tolist() for c in ("record_a", "record_b", "reason", "weight", "direct", "apart")]
    pairs_of: dict[object, list[tuple[object, ...]]] = {}
    for component, pair in zip(involved.tolist(), zip(*pair_columns, strict=True), strict=True):
        pairs_of.setdefault(component, []).append(pair)
    codes, order = pd.factorize(inside["component"])  # components in order of first appearance
    rows = np.argsort(codes, kind="stable")
    ends = np.cumsum(np.bincount(codes, minlength=len(order))).tolist()
    columns = [inside[c].to_numpy()[rows].tolist() for c in ("record", "identifier", "strength")]
    keys, parts = [], []
    for n, component in enumerate(order.tolist()):
        start = ends[n - 1] if n else 0
        links = tuple(column[start : ends[n]] for column in columns)
        local, cut = _cut_apart(links, pairs_of[component], settings, weak)
        rejected += cut
        keys.append(local.index.to_numpy())
        parts.append(local.to_numpy() + next_label)
        next_label += int(local.max()) + 1
    labels = components.to_numpy().copy()
    labels[components.index.get_indexer(np.concatenate(keys))] = np.concatenate(parts)
    return pd.Series(pd.factorize(labels)[0], index=components.index, name="component"), rejected


def _cuttable(
    conflicts: pd.DataFrame, involved: np.ndarray, inside: pd.DataFrame, settings: ResolveSettings, weak: frozenset[str]
) -> tuple[pd.DataFrame, np.ndarray]:
    """The conflicting pairs :func:`_cut_apart` may cut, with their components: a pair holding one identifier
    whose disagreement reaches ``conflict_weight``; a chained pair where the component holds a weak match
    link; a pair whose disagreement reaches the loosest weight where it holds a household link. The others
    would be passed over whatever their minimum cut, so no flow is computed for them. O(links + pairs)."""
    strong = settings.matching.conflict_weight
    household = tuple(f"{id_type}:" for id_type in settings.household_types)
    identifier = inside["identifier"]
    with_weak = set(inside.loc[identifier.isin(weak), "component"]) if weak else set()
    with_household = set(inside.loc[identifier.str.startswith(household), "component"]) if household else set()
    direct = conflicts["direct"].to_numpy(dtype=bool)
    weight, apart = conflicts["weight"].to_numpy(dtype=float), conflicts["apart"].to_numpy(dtype=float)
    forced = direct & (weight <= strong) if strong is not None else np.zeros(len(conflicts), dtype=bool)
    chained = forced & False
    if strong is not None:
        chained = (~direct) & (apart <= strong) & np.isin(involved, list(with_weak))
    shared = (weight <= _loosest(settings)) & np.isin(involved, list(with_household))
    keep = forced | chained | shared
    return conflicts[keep], involved[keep]


def _connected_without(graph: nx.DiGraph, a: object, b: object, removed: frozenset[object]) -> bool:
    """Whether ``a`` reaches ``b`` in ``graph`` without passing through the nodes of ``removed``."""
    seen, frontier = {a}, [a]
    while frontier:
        node = frontier.pop()
        for nxt in graph.succ[node]:
            if nxt == b:
                return True
            if nxt not in seen and nxt not in removed:
                seen.add(nxt)
                frontier.append(nxt)
    return False


def _source_side(graph: nx.DiGraph, residual: nx.DiGraph, s: object, t: object) -> set[object]:
    """The source side of the minimum ``s``-``t`` cut ``nx.minimum_cut`` gives (every node that cannot reach
    ``t`` through an unsaturated arc), from a maximum flow computed on ``residual``, which is reused across
    the cuts of a component instead of being built for each (its build was half the cost of a cut). The
    flow resets it; a removed link is an arc of no capacity there (see :func:`_remove_link`), so the
    flow, and the cut, are those of a residual network built afresh. Raises ``NetworkXUnbounded`` when a
    path of infinite links joins them."""
    edmonds_karp(graph, s, t, residual=residual)
    pred = residual.pred
    reaches, frontier = {t}, [t]
    while frontier:
        v = frontier.pop()
        for u, arc in pred[v].items():
            if u not in reaches and arc["flow"] < arc["capacity"]:
                reaches.add(u)
                frontier.append(u)
    return set(graph) - reaches


def _remove_link(graph: nx.DiGraph, residual: nx.DiGraph | None, u: object, v: object) -> None:
    """Remove a link (its two arcs) from the graph, and from the residual network as no capacity."""
    graph.remove_edge(u, v)
    graph.remove_edge(v, u)
    if residual is not None:
        for x, y in ((u, v), (v, u)):
            if residual.has_edge(x, y):
                residual[x][y]["capacity"] = 0


def _cut_apart(
    held: tuple[list[str], list[str], list[float]],
    pairs: list[tuple[object, ...]],
    settings: ResolveSettings,
    weak: frozenset[str],
) -> tuple[pd.Series, list[Rejection]]:
    """Cut one component's links (``record, identifier, strength`` columns) between each conflicting pair
    (``record_a, record_b, reason, weight, direct, apart``) in turn; returns a local
    part label per record and the cut links. One flow graph per component, cuts removed from it as found.
    A pair holding one identifier whose disagreement reaches ``conflict_weight`` is always cut. Any other
    pair (a weaker disagreement, or two records joined only through others) is cut only when its minimum
    cut is all household links (a family email, a home phone, a tablet), or, when its records' disagreements
    over every field reach ``conflict_weight``, all weak fuzzy match links (a name-only record matching two
    namesakes; see ``weak_match_weight``): two duplicates of one person, each matched to the original but garbled differently, disagree
    with each other less and stay together. A household value cut this way is cut from every record holding
    it: it is the family's, and links none of them as a person (a tablet's sessions nobody logged in to stay
    on their own)."""
    graph = nx.DiGraph()
    for record, identifier, strength in zip(*held, strict=True):
        arc = {} if strength == math.inf else {"capacity": float(strength)}  # no capacity: infinite
        graph.add_edge(("r", record), ("i", identifier), **arc)  # an undirected link: two opposite arcs
        graph.add_edge(("i", identifier), ("r", record), **arc)
    strong = settings.matching.conflict_weight
    household = tuple(f"{id_type}:" for id_type in settings.household_types)
    household_nodes = frozenset(("i", i) for i in held[1] if i.startswith(household))
    weak_nodes = frozenset(("i", i) for i in held[1] if i in weak)
    rejected: list[Rejection] = []
    residual: nx.DiGraph | None = None  # built at the first cut, then kept in step with the graph
    for a, b, reason, weight, direct, apart in pairs:
        if not nx.has_path(graph, ("r", a), ("r", b)):
            continue  # an earlier cut already parted them
        forced = strong is not None and direct and weight <= strong
        if not forced:  # cut only if every link of the minimum cut is weak or a household's: not if a path avoids all
            removed = (weak_nodes if strong is not None and not direct and apart <= strong else frozenset()) | (
                household_nodes if weight <= _loosest(settings) else frozenset()
            )
            if _connected_without(graph, ("r", a), ("r", b), removed):
                continue
        residual = residual if residual is not None else build_residual_network(graph, "capacity")
        try:
            reachable = _source_side(graph, residual, ("r", a), ("r", b))
        except nx.NetworkXUnbounded:
            continue  # a user merge holds them together
        crossing = [(u, v) for u, v in graph.edges if u in reachable and v not in reachable]
        links = [(u[1], v[1]) if u[0] == "r" else (v[1], u[1]) for u, v in crossing]
        shared = all(i.startswith(household) for _, i in links)
        if strong is not None and direct and weight <= strong:
            pass  # two people holding one identifier: the weakest evidence between them goes
        elif strong is not None and not direct and apart <= strong and all(i in weak for _, i in links):
            pass  # strangers joined only by a chain of weak fuzzy matches (a name-only row matching two namesakes)
        elif weight > _loosest(settings) or not shared:
            continue  # a weaker disagreement, or one across other records, parts only what a household shares
        for (u, v), (record, identifier) in zip(crossing, links, strict=True):
            _remove_link(graph, residual, u, v)
            rejected.append(Rejection(record, identifier, f"{reason} ({a} vs {b})"))
        if shared:  # a value two people share is the household's: it links no one of them to anything else
            for identifier in sorted({i for _, i in links}):
                for u, v in [(u, v) for u, v in graph.in_edges(("i", identifier))]:
                    _remove_link(graph, residual, u, v)
                    rejected.append(Rejection(u[1], identifier, f"household identifier: {reason} ({a} vs {b})"))
    parts = {
        node[1]: n for n, part in enumerate(nx.weakly_connected_components(graph)) for node in part if node[0] == "r"
    }
    return pd.Series(parts, dtype=np.int64), rejected
