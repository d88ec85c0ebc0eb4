"""Fuzzy matching: records that share no identifier are blocked, compared, scored and linked.

The pipeline: the records' attributes become comparable fields; blocking rules name the candidate
pairs; each comparison gives every pair a level; the Fellegi-Sunter model (estimated from the data, see
:mod:`resolve.fellegi_sunter`) turns levels into weights and a match probability; pairs at or above the
threshold whose records are in different identifier components become match links.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial

import numpy as np
import pandas as pd

from graph.errors import ConfigError
from graph.frames import among
from resolve.blocking import BlockingReport, candidate_pairs
from resolve.comparisons import Comparison, FieldColumn
from resolve.defaults import Choice, complete_settings
from resolve.fellegi_sunter import MatchModel, default_model, estimate_m, estimate_prior, estimate_u, refine_with_labels
from resolve.fields import record_fields
from resolve.labels import check_labels, label_positions
from resolve.match_settings import MatchSettings
from resolve.names import names_swapped

logger = logging.getLogger(__name__)

MATCH_PREFIX = "match:"  # pseudo identifier type of a match link
EDGE_COLUMNS = ["record_a", "record_b", "probability", "weight", "detail"]


@dataclass
class MatchResult:
    #: ``record_a, record_b`` record keys, ``probability``, total ``weight`` and ``detail`` (JSON: per comparison
    #: level and weight) of every pair linked by matching
    edges: pd.DataFrame
    model: MatchModel | None = None
    blocking: BlockingReport = field(default_factory=BlockingReport)
    scored_pairs: int = 0
    comparisons: list[str] = field(default_factory=list)  # the comparisons used (fields no record has are left out)
    labels: dict[str, object] = field(default_factory=dict)  # the labelled pairs that refined the model, if any
    choice: Choice | None = None  # what was chosen from the data
    #: pairs in different components scored nearest the threshold, on each side (the review queue's), as
    #: edge rows with ``linked``; and how the weights of every such pair fall around the threshold
    near_threshold: list[dict[str, object]] = field(default_factory=list)
    weights: dict[str, object] = field(default_factory=dict)
    verdicts: dict[str, int] = field(default_factory=dict)  # reviewers' verdicts honoured: pairs linked, kept apart

    def summary(self) -> dict[str, object]:
        return {
            "candidate_pairs": self.blocking.pairs,
            "pairs_per_rule": self.blocking.pairs_per_rule,
            "skipped_blocks": self.blocking.skipped_blocks,
            "match_links": len(self.edges),
            "comparisons": self.comparisons,
            "model": self.model.to_dict(with_tf=False) if self.model else None,
            "labels": self.labels,
            "verdicts": self.verdicts,
            "weights": self.weights,
            "near_threshold": self.near_threshold,
        }


def no_matches() -> MatchResult:
    return MatchResult(pd.DataFrame({c: pd.Series(dtype="str") for c in EDGE_COLUMNS}))


@dataclass
class Candidates:
    """The records' comparable fields and the candidate pairs blocking found among them."""

    fields: pd.DataFrame  # one row per record (index: record key)
    comparisons: list[Comparison]
    rules: list[list[str]]
    pairs: np.ndarray  # (n, 2) row positions into ``fields``
    report: BlockingReport
    settings: MatchSettings | None = None  # the settings blocked with, their chosen parts filled in
    choice: Choice | None = None  # what was chosen from the data, and why

    @cached_property
    def codes(self) -> pd.DataFrame:
        """Each field as integer codes of its values (-1: missing): what blocking keys on."""
        return pd.DataFrame({name: column.codes for name, column in self.columns.items()}, index=self.fields.index)

    @cached_property
    def columns(self) -> dict[str, FieldColumn]:
        """Every field factorised once (see :class:`FieldColumn`)."""
        return {name: FieldColumn.of(self.fields[name].to_numpy(dtype=object)) for name in self.fields.columns}


def block(attributes: pd.DataFrame, settings: MatchSettings, identifiers: pd.DataFrame | None = None) -> Candidates:
    """Fields of every record and the candidate pairs of the blocking rules; comparisons and rules the
    settings leave out are chosen from the data first (:mod:`resolve.defaults`; ``identifiers``, the usable
    links ``record, identifier``, give the identifier fields and the pairs reach is measured on).
    O(records + pairs)."""
    settings, choice = complete_settings(attributes, identifiers, settings)
    wanted = settings.fields
    read = choice.fields  # what choosing read already: the same columns, computed alike
    fields = (
        read[wanted]
        if read is not None and set(wanted) <= set(read.columns)
        else record_fields(attributes, wanted, identifiers)
    )
    choice.fields = None  # the choice is kept with the candidates: not its copy of the fields
    comparisons = _usable(settings, fields)
    rules = [r for r in settings.blocking or [] if all(fields[f].notna().any() for f in r)]
    found = Candidates(fields, comparisons, rules, np.empty((0, 2), dtype=np.int64), BlockingReport(), settings,
                       choice)  # fmt: skip
    found.pairs, found.report = candidate_pairs(found.codes, rules, settings.max_block_size)
    return found


def find_matches(
    attributes: pd.DataFrame,
    components: pd.Series,
    settings: MatchSettings,
    on_progress: Callable[[str], None] | None = None,
    model: MatchModel | None = None,
    focus: np.ndarray | None = None,
    candidates: Candidates | None = None,
    labels: pd.DataFrame | None = None,
    verdicts: pd.DataFrame | None = None,
) -> MatchResult:
    """Score the candidate pairs of records in different identifier ``components`` (record key -> label)
    and return those at or above the threshold. Cost: O(records + candidate pairs x comparisons).

    With ``model`` (a model estimated by an earlier run) nothing is estimated; with ``focus`` (a boolean
    per attributes row) only pairs of two focused records are scored, while blocks are still sized over
    every record, so a focused pair is scored exactly as in a run over everything. ``labels`` (labelled
    pairs, see :func:`resolve.labels.check_labels`) refine the model this run estimates (see :func:`refine_with_labels`).
    ``verdicts`` (reviewers' labelled pairs, the same columns) are honoured pair by pair whatever the score:
    a pair labelled a match is linked, one labelled not a match is not linked by matching (other evidence may
    still join them; a split keeps them apart for good).
    """
    if labels is not None:
        _check_labelled_run(settings, model)
    if not settings.enabled or attributes.empty:
        return no_matches()
    candidates = candidates or block(attributes, settings)
    settings = candidates.settings or settings
    fields, comparisons, rules, pairs, report = (
        candidates.fields, candidates.comparisons, candidates.rules, candidates.pairs, candidates.report)  # fmt: skip
    if model is not None:
        comparisons = [c for c in settings.comparisons if c.name in model.names]
    if not comparisons:
        return no_matches()
    if focus is not None:
        pairs = pairs[focus[pairs[:, 0]] & focus[pairs[:, 1]]]
    _progress(on_progress, f"{len(pairs):,} candidate pairs")
    columns = candidates.columns
    levels = _levels(comparisons, columns, pairs)
    trained = model is None and len(fields) >= 50 and len(pairs) >= settings.min_training_pairs
    if model is None:
        model = default_model([c.name for c in comparisons], [c.labels() for c in comparisons])
        model.prior = min(0.1, 1 / len(fields))  # untrained: about one duplicate per record
        if trained:
            model.tf = _tf_tables(comparisons, columns)
    tf_u = _term_frequencies(comparisons, columns, pairs, model.tf) if model.tf else None
    if trained:
        trained_on = [r for r in rules if settings.training_blocking is None or r in settings.training_blocking]
        _train(model, comparisons, columns, pairs, levels, tf_u, trained_on or rules, settings)
        _progress(on_progress, "model estimated")
    labelled: dict[str, object] = {}
    if labels is not None:
        model, labelled = _refine(model, comparisons, candidates, labels)
        _progress(on_progress, f"model refined with {labelled['pairs']:,} labelled pairs")
    group = components.reindex(fields.index).to_numpy()
    weights = implied_removed(comparisons, levels, model.level_weights(levels, tf_u))
    probability = model.probability(weights)
    apart = group[pairs[:, 0]] != group[pairs[:, 1]]
    keep = (probability >= settings.threshold) & apart
    keep &= ~vetoed(comparisons, levels, weights, settings)
    total = model.prior_weight() + weights.sum(axis=1)
    near, spread = _near_threshold(total[apart], keep[apart], _threshold_weight(settings.threshold))
    near_rows = _edges(fields.index, pairs[apart][near], probability[apart][near], weights[apart][near],
                       levels[apart][near], model).assign(linked=keep[apart][near])  # fmt: skip
    edges = _edges(fields.index, pairs[keep], probability[keep], weights[keep], levels[keep], model)
    found = MatchResult(edges, model, report, len(pairs), [c.name for c in comparisons], labelled, candidates.choice,
                        near_rows.to_dict("records"), spread)  # fmt: skip
    if verdicts is not None and len(verdicts):
        _honour(found, verdicts, comparisons, candidates, model, group, focus)
    return found


#: the review queue's pairs on each side of the threshold, and how far from it (bits of match weight) they may be
NEAR_PAIRS = 50
NEAR_BITS = 4.0
#: the overview's histogram of match weights: 1-bit bins this many either side of the threshold
SPREAD_BITS = 10


def _threshold_weight(threshold: float) -> float:
    return float(np.log2(threshold / (1 - threshold)))


def _near_threshold(total: np.ndarray, linked: np.ndarray, at: float) -> tuple[np.ndarray, dict[str, object]]:
    """Positions of the pairs nearest the threshold's weight ``at`` (up to :data:`NEAR_PAIRS` linked and as
    many not, within :data:`NEAR_BITS`), and a histogram of every weight around it. O(pairs log pairs).

    >>> near, spread = _near_threshold(np.array([-20.0, 3.0, 5.0, 4.5, 30.0]), np.array([0, 0, 1, 1, 1], bool), 4.0)
    >>> sorted(near.tolist()), spread["below"], spread["above"], sum(spread["counts"])
    ([1, 2, 3], 1, 1, 3)
    """
    distance = np.abs(total - at)
    close = distance <= NEAR_BITS
    chosen = []
    for side in (linked, ~linked):
        found = np.flatnonzero(close & side)
        chosen.append(found[np.argsort(distance[found], kind="stable")[:NEAR_PAIRS]])
    start = float(np.floor(at)) - SPREAD_BITS
    bins = np.floor(total - start).astype(np.int64)
    inside = (bins >= 0) & (bins < 2 * SPREAD_BITS)
    spread = {"threshold_weight": round(at, 3), "start": start,
              "counts": np.bincount(bins[inside], minlength=2 * SPREAD_BITS).tolist(),
              "below": int((bins < 0).sum()), "above": int((bins >= 2 * SPREAD_BITS).sum())}  # fmt: skip
    return np.sort(np.concatenate(chosen)), spread


def _honour(
    found: MatchResult, verdicts: pd.DataFrame, comparisons: list[Comparison], candidates: Candidates,
    model: MatchModel, group: np.ndarray, focus: np.ndarray | None,
) -> None:  # fmt: skip
    """Make ``found.edges`` follow reviewers' verdicts: drop the match links of pairs labelled not a match,
    and link pairs labelled a match (scored as any pair, whether blocking paired them or not) unless one
    identifier component holds them already. Pairs outside ``focus`` are left to the run that covers them.
    Cost: O(verdicts + edges)."""
    keys = candidates.fields.index
    known = verdicts[among(verdicts["record_a"], keys) & among(verdicts["record_b"], keys)]  # erased: no longer here
    positions = label_positions(known, keys) if len(known) else np.empty((0, 2), dtype=np.int64)
    if focus is not None:
        inside = focus[positions[:, 0]] & focus[positions[:, 1]]
        known, positions = known[inside], positions[inside]
    is_match = known["match"].to_numpy(dtype=bool)
    edges = found.edges
    pair = edges["record_a"].where(edges["record_a"] < edges["record_b"], edges["record_b"]) + "|" + \
        edges["record_b"].where(edges["record_a"] < edges["record_b"], edges["record_a"])  # fmt: skip
    a, b = known["record_a"], known["record_b"]
    labelled = (a.where(a < b, b) + "|" + b.where(a < b, a)).to_numpy()
    kept_apart = pair.isin(labelled[~is_match])
    linked = positions[is_match]
    linked = linked[(group[linked[:, 0]] != group[linked[:, 1]]) & ~np.isin(labelled[is_match], pair.to_numpy())]
    if len(linked):
        levels = _levels(comparisons, candidates.columns, linked)
        weights = implied_removed(comparisons, levels, model.level_weights(levels))
        added = _edges(keys, linked, np.ones(len(linked)), weights, levels, model)  # a person said so: certain
        added["detail"] = '[{"comparison": "review", "level": "labelled a match", "weight": 0.0}, ' + \
            added["detail"].str.slice(1)  # fmt: skip
        edges = pd.concat([edges[~kept_apart.to_numpy()], added], ignore_index=True)
    else:
        edges = edges[~kept_apart.to_numpy()].reset_index(drop=True)
    found.edges = edges
    found.verdicts = {"linked": len(linked), "kept_apart": int(kept_apart.sum())}


def vetoed(
    comparisons: list[Comparison], levels: np.ndarray, weights: np.ndarray, settings: MatchSettings
) -> np.ndarray:
    """Per pair, whether who the two are says "two people" whatever else they share: their personal fields
    disagree by ``conflict_weight``, or by ``household_conflict_weight`` (a different first name alone) when
    every field that agrees is one a family shares (``family_fields``: surname, address, email local part):
    Hannah and Jason Ramirez at one address are a household, as a shared home phone would make them.
    O(pairs x comparisons)."""
    against = personal_disagreement(comparisons, levels, weights, settings)
    out = np.zeros(len(levels), dtype=bool)
    if settings.conflict_weight is not None:
        out |= against <= settings.conflict_weight
    if settings.household_conflict_weight is not None:
        family = np.array([c.field in settings.family_fields for c in comparisons], dtype=bool)
        family_only = ~((weights > 0) & ~family).any(axis=1)
        out |= family_only & (against <= settings.household_conflict_weight)
    return out


def personal_disagreement(
    comparisons: list[Comparison], levels: np.ndarray, weights: np.ndarray, settings: MatchSettings
) -> np.ndarray:
    """Per pair, the weight of its disagreements on ``conflict_fields`` (who a person is: names, birth date,
    gender); 0 where a field that is one person's own and not a family's agrees (a national id, a customer
    number compared as an attribute: exactly or by a typo), as one person's id outweighs garbled names.
    Fields a family shares (``family_fields``: surname, address, email local part) vouch for no one.
    O(pairs x comparisons)."""
    personal = np.array([c.field in settings.conflict_fields for c in comparisons], dtype=bool)
    total = np.where((weights < 0) & personal, weights, 0.0).sum(axis=1)
    own = np.array([not personal[n] and c.field not in settings.family_fields for n, c in enumerate(comparisons)])
    if own.any():
        vouched = ((levels[:, own] >= 2) & (weights[:, own] > 0)).any(axis=1)  # 0 missing, 1 different
        total[vouched] = 0.0
    return total


def _usable(settings: MatchSettings, fields: pd.DataFrame) -> list[Comparison]:
    present = {name for name in fields.columns if fields[name].notna().any()}
    missing = [c for c in settings.chosen_comparisons if c.field not in present]
    if missing and settings.explicit:
        first = missing[0]
        raise ConfigError(
            f"comparison '{first.name}' names field '{first.field}', which no record has "
            f"(fields seen: {', '.join(sorted(present)) or 'none'})"
        )
    return [c for c in settings.chosen_comparisons if c.field in present]


def pair_weights(
    candidates: Candidates, model: MatchModel, settings: MatchSettings, pairs: np.ndarray
) -> tuple[list[Comparison], np.ndarray, np.ndarray]:
    """The comparisons of ``model``, and the level and weight of each for ``pairs`` (row positions)."""
    comparisons = [c for c in (candidates.settings or settings).chosen_comparisons if c.name in model.names]
    levels = _levels(comparisons, candidates.columns, pairs)
    tf_u = _term_frequencies(comparisons, candidates.columns, pairs, model.tf) if model.tf else None
    return comparisons, levels, implied_removed(comparisons, levels, model.level_weights(levels, tf_u))


def implied_removed(comparisons: list[Comparison], levels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``weights`` with the agreement of a comparison set to 0 where the comparisons it is ``implied_by``
    all agree exactly: an email's local part built from the name (``john.smith``) says nothing more about
    two John Smiths than their names do. O(pairs x comparisons)."""
    index = {c.name: n for n, c in enumerate(comparisons)}
    for n, comparison in enumerate(comparisons):
        implied = [index[name] for name in comparison.implied_by if name in index]
        if implied:
            exact = np.all([levels[:, i] == comparisons[i].n_levels - 1 for i in implied], axis=0)
            weights[exact & (weights[:, n] > 0), n] = 0.0
    return weights


def _levels(comparisons: list[Comparison], columns: dict[str, FieldColumn], pairs: np.ndarray) -> np.ndarray:
    levels = np.zeros((len(pairs), len(comparisons)), dtype=np.int8)
    for c, comparison in enumerate(comparisons):
        levels[:, c] = comparison.pair_levels(columns[comparison.field], pairs)
    _swapped_names(comparisons, columns, pairs, levels)
    return levels


def _swapped_names(
    comparisons: list[Comparison], columns: dict[str, FieldColumn], pairs: np.ndarray, levels: np.ndarray
) -> None:
    """Pairs whose first and last names are swapped (see :func:`resolve.names.names_swapped`) are compared
    crosswise, first name against last name, when that agrees better. Updates ``levels`` in place."""
    by_field = {c.field: n for n, c in enumerate(comparisons)}
    if "first_name" not in by_field or "last_name" not in by_field or len(pairs) == 0:
        return
    first, last = columns["first_name"], columns["last_name"]
    first_values = np.append(first.values, None)[first.codes]  # code -1 picks the trailing None
    last_values = np.append(last.values, None)[last.codes]
    swapped = np.flatnonzero(names_swapped(first_values, last_values, pairs))
    if len(swapped) == 0:
        return
    a, b = pairs[swapped, 0], pairs[swapped, 1]
    for name, left, right in (
        ("first_name", first_values[a], last_values[b]),
        ("last_name", last_values[a], first_values[b]),
    ):
        n = by_field[name]
        levels[swapped, n] = np.maximum(levels[swapped, n], comparisons[n].levels(left, right))


def _tf_tables(comparisons: list[Comparison], columns: dict[str, FieldColumn]) -> dict[str, dict[str, float]]:
    """Per term-frequency comparison, each value's share of the records that have one."""
    tables = {}
    for comparison in comparisons:
        if comparison.term_frequency:
            column = columns[comparison.field]
            present = column.codes >= 0
            counts = np.bincount(column.codes[present], minlength=len(column.values))
            shares = counts / max(int(present.sum()), 1)
            tables[comparison.name] = dict(zip(column.values.tolist(), shares.tolist(), strict=True))
    return tables


def _term_frequencies(
    comparisons: list[Comparison],
    columns: dict[str, FieldColumn],
    pairs: np.ndarray,
    tables: dict[str, dict[str, float]],
) -> dict[int, np.ndarray]:
    """Per term-frequency comparison, the share of the left record's value in the model's table (a value
    the table has not seen counts as seen once)."""
    out = {}
    for c, comparison in enumerate(comparisons):
        table = tables.get(comparison.name)
        if comparison.term_frequency and table is not None:
            column = columns[comparison.field]
            unseen = min(table.values()) if table else 1.0  # as rare as the rarest value seen
            share = np.array([table.get(v, unseen) for v in column.values.tolist()] + [1.0])
            out[c] = share[column.codes[pairs[:, 0]]]  # code -1 (missing) picks the trailing 1.0
    return out


def _train(
    model: MatchModel,
    comparisons: list[Comparison],
    columns: dict[str, FieldColumn],
    pairs: np.ndarray,
    levels: np.ndarray,
    tf_u: dict[int, np.ndarray] | None,
    rules: list[list[str]],
    settings: MatchSettings,
) -> None:
    """``u`` from random pairs, ``m`` by EM per blocking rule, then the prior; updates ``model``."""
    rng = np.random.default_rng(settings.seed)
    n = len(next(iter(columns.values())).codes)
    sample = rng.integers(0, n, size=(settings.random_pairs, 2))
    sample = sample[sample[:, 0] != sample[:, 1]]
    exact = [columns[c.field].agreement() for c in comparisons]
    model.u = estimate_u(_levels(comparisons, columns, sample), [len(m) for m in model.m], exact)
    estimates: list[list[tuple[np.ndarray, float]]] = [[] for _ in comparisons]
    fields = {c.name: c.field for c in comparisons}

    def _implied_by(comparison: Comparison, rule: list[str]) -> bool:
        return bool(comparison.implied_by) and all(fields.get(name, name) in rule for name in comparison.implied_by)

    for rule in rules:
        on_rule = np.ones(len(pairs), dtype=bool)
        for name in rule:
            codes = columns[name].codes
            on_rule &= (codes[pairs[:, 0]] >= 0) & (codes[pairs[:, 0]] == codes[pairs[:, 1]])
        chosen = np.flatnonzero(on_rule)
        if len(chosen) < settings.min_training_pairs:
            continue
        if len(chosen) > settings.training_pairs:
            chosen = rng.choice(chosen, settings.training_pairs, replace=False)
        # a blocked-on field agrees on every pair, and so does one the rule's fields imply (an email's local
        # part built from the names, on a block of namesakes): neither tells this rule's matches apart
        skip = {
            c for c, comparison in enumerate(comparisons) if comparison.field in rule or _implied_by(comparison, rule)
        }
        rule_tf = {c: v[chosen] for c, v in tf_u.items()} if tf_u else None
        on = levels[chosen]
        m, prior = estimate_m(
            on, model, skip, settings.em_iterations, rule_tf, partial(implied_removed, comparisons, on)
        )
        for c in range(len(comparisons)):
            # EM may settle on a "match" class that is not one (a block of namesakes): an estimate in
            # which agreeing exactly is likelier for non-matches is dropped
            if c not in skip and m[c][-1] > model.u[c][-1]:
                estimates[c].append((m[c], prior * len(chosen)))  # weighed by the matches it saw
    model.m = [_weighted_mean(e) if e else model.m[c] for c, e in enumerate(estimates)]
    # The prior over *all* record pairs, as random-pair u assumes: the expected matches among the
    # candidates spread over n(n-1)/2 pairs. A pair is then judged against the whole population, so
    # agreeing on a common name alone is not enough in a large one.
    candidate_prior = estimate_prior(
        levels, model, tf_u, settings.em_iterations, partial(implied_removed, comparisons, levels)
    )
    model.prior = max(candidate_prior * len(pairs) / (n * (n - 1) / 2), 1e-12)
    model.trained = {"records": n, "random_pairs": len(sample), "candidate_pairs": len(pairs)}


def _check_labelled_run(settings: MatchSettings, model: MatchModel | None) -> None:
    if not settings.enabled:
        raise ConfigError("labelled pairs refine the match model, but matching is turned off")
    if model is not None:
        raise ConfigError("labelled pairs refine the model a run estimates: run without a given (saved) model")


def _refine(
    model: MatchModel, comparisons: list[Comparison], candidates: Candidates, labels: pd.DataFrame
) -> tuple[MatchModel, dict[str, object]]:
    """The model refined by the labelled pairs, and how many refined it (per comparison: with both values)."""
    checked = check_labels(labels)
    levels = _levels(comparisons, candidates.columns, label_positions(checked, candidates.fields.index))
    is_match = checked["match"].to_numpy(dtype=bool)
    used = {
        "pairs": len(is_match),
        "matches": int(is_match.sum()),
        "non_matches": int((~is_match).sum()),
        "per_comparison": {c.name: int((levels[:, i] > 0).sum()) for i, c in enumerate(comparisons)},
    }
    return refine_with_labels(model, levels, is_match), used


def _weighted_mean(estimates: list[tuple[np.ndarray, float]]) -> np.ndarray:
    weights = np.array([w for _, w in estimates]) + 1e-9
    return np.average(np.stack([m for m, _ in estimates]), axis=0, weights=weights)


def _edges(
    keys: pd.Index,
    pairs: np.ndarray,
    probability: np.ndarray,
    weights: np.ndarray,
    levels: np.ndarray,
    model: MatchModel,
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "record_a": keys[pairs[:, 0]].astype(str),
            "record_b": keys[pairs[:, 1]].astype(str),
            "probability": probability.round(6),
            "weight": (model.prior_weight() + weights.sum(axis=1)).round(3),
            "detail": _details(levels, weights, model),
        }
    )


def _details(levels: np.ndarray, weights: np.ndarray, model: MatchModel) -> np.ndarray:
    """Per pair, a JSON list of ``{comparison, level, weight}``, assembled column by column (names and
    labels are encoded once; a per-pair ``json.dumps`` costs seconds at a million pairs)."""
    text = np.full(len(levels), "[", dtype=object)
    for c, name in enumerate(model.names):
        labels = np.array([json.dumps(label) for label in model.labels[c]], dtype=object)
        head = ("," if c else "") + '{"comparison": ' + json.dumps(name) + ', "level": '
        rounded = np.char.mod("%.3f", weights[:, c]).astype(object)
        text = text + head + labels[levels[:, c]] + ', "weight": ' + rounded + "}"
    return (text + "]").astype(str)


def match_links(edges: pd.DataFrame, settings: MatchSettings) -> pd.DataFrame:
    """Match links as record-identifier links (``record, identifier, strength``): each linked pair shares
    a ``match:A|B`` node, so components, limits and cuts treat fuzzy evidence like any identifier."""
    key = MATCH_PREFIX + edges["record_a"] + "|" + edges["record_b"]
    strength = edges["probability"].astype(float) * settings.link_strength
    return pd.concat(
        [
            pd.DataFrame({"record": edges["record_a"], "identifier": key, "strength": strength}),
            pd.DataFrame({"record": edges["record_b"], "identifier": key, "strength": strength}),
        ],
        ignore_index=True,
    )


def _progress(on_progress: Callable[[str], None] | None, message: str) -> None:
    logger.info("matching: %s", message)
    if on_progress:
        on_progress(message)
