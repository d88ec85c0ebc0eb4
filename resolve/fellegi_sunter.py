"""The Fellegi-Sunter match model, its weights estimated without labels.

For each comparison and level, ``m`` is the chance a *matching* pair lands on that level and ``u`` the
chance a *non-matching* pair does. A pair's match weight is ``log2(prior odds) + sum(log2(m / u))``
over its comparisons (a missing value adds 0), and its match probability ``2^w / (1 + 2^w)``.

- ``u`` comes from random record pairs, which are almost all non-matches (as Splink does);
- ``m`` comes from expectation maximisation on the pairs of each blocking rule, leaving out the
  comparisons the rule blocks on (those agree on every pair of the rule, so they say nothing);
- the prior (share of all record pairs that match) from the expected matches among the candidate pairs,
  found by expectation maximisation with ``m`` and ``u`` fixed;
- term frequencies: at a comparison's exact level, a common value's ``u`` is its own frequency, so
  agreeing on "Smith" weighs less than agreeing on "Featherstonehaugh";
- labelled pairs, when there are some, then refine ``m`` (see :func:`refine_with_labels`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

_SMOOTH = 0.01  # pseudo-count keeping every m and u above zero
_MIN_U = 1e-6  # the least chance a non-matching pair lands on a level below exact
#: how many labelled matches the unsupervised m is worth when labels refine it: a short review's few dozen
#: matches outweigh it, since EM's error is bias (a household taken for a person), not too few pairs
LABEL_STRENGTH = 5.0


@dataclass
class MatchModel:
    names: list[str]
    labels: list[list[str]]  # per comparison, the name of each level
    m: list[np.ndarray]  # per comparison, probability of each level (index 0, missing, unused)
    u: list[np.ndarray]
    prior: float = 0.1  # share of record pairs that match
    trained: dict[str, int] = field(default_factory=dict)  # what was estimated from how many pairs
    #: per term-frequency comparison, each value's share of the records when the model was estimated
    tf: dict[str, dict[str, float]] = field(default_factory=dict)

    def level_weights(self, levels: np.ndarray, tf_u: dict[int, np.ndarray] | None = None) -> np.ndarray:
        """``log2(m / u)`` of every pair and comparison (``levels`` is pairs x comparisons); 0 for missing.
        ``tf_u`` gives, per comparison index, each pair's term-frequency ``u`` used at the exact level."""
        weights = np.zeros(levels.shape, dtype=np.float64)
        for c in range(len(self.names)):
            table = np.log2(self.m[c] / self.u[c])
            table[0] = 0.0
            # a closer level never weighs less than a looser one, and a nickname (Bob for Robert) is no
            # disagreement, however rarely a data set's matches use one
            table[1:] = np.maximum.accumulate(table[1:])
            nickname = [n for n, label in enumerate(self.labels[c]) if label == "nickname"]
            table[nickname] = np.maximum(table[nickname], 0.0)
            weights[:, c] = table[levels[:, c]]
            if tf_u and c in tf_u:
                exact = levels[:, c] == len(self.m[c]) - 1
                weights[exact, c] = np.log2(self.m[c][-1] / np.maximum(tf_u[c][exact], 1e-9))
        return weights

    def with_parts(self, m: list[np.ndarray], u: list[np.ndarray], prior: float) -> MatchModel:
        return MatchModel(self.names, self.labels, m, u, prior, self.trained, self.tf)

    def prior_weight(self) -> float:
        return float(np.log2(self.prior / (1 - self.prior)))

    def probability(self, weights: np.ndarray) -> np.ndarray:
        """Match probability from per-comparison weights (pairs x comparisons)."""
        total = self.prior_weight() + weights.sum(axis=1)
        return 1.0 / (1.0 + np.exp2(-np.clip(total, -60, 60)))

    def to_dict(self, with_tf: bool = True) -> dict[str, Any]:
        """Everything needed to score with this model again (exact floats, so a reloaded model scores
        identically); ``with_tf=False`` leaves out the term-frequency tables, for display."""
        out: dict[str, Any] = {
            "prior": self.prior,
            "trained": self.trained,
            "comparisons": [
                {
                    "name": name,
                    "levels": [
                        {"label": label, "m": float(m), "u": float(u)}
                        for label, m, u in zip(labels[1:], self.m[c][1:], self.u[c][1:], strict=True)
                    ],
                }
                for c, (name, labels) in enumerate(zip(self.names, self.labels, strict=True))
            ],
        }
        if with_tf:
            out["tf"] = self.tf
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatchModel:
        comparisons = data["comparisons"]
        return cls(
            names=[c["name"] for c in comparisons],
            labels=[["missing", *[level["label"] for level in c["levels"]]] for c in comparisons],
            m=[np.array([1.0, *[level["m"] for level in c["levels"]]]) for c in comparisons],
            u=[np.array([1.0, *[level["u"] for level in c["levels"]]]) for c in comparisons],
            prior=float(data["prior"]),
            trained=dict(data.get("trained") or {}),
            tf={k: dict(v) for k, v in (data.get("tf") or {}).items()},
        )


def default_model(names: list[str], labels: list[list[str]]) -> MatchModel:
    """Starting values before any estimate: agreement is likelier for matches, disagreement for
    non-matches, each closer level a little more so."""
    m, u = [], []
    for level_names in labels:
        k = len(level_names) - 1  # levels 1..k
        closeness = np.arange(k, dtype=np.float64)  # 0 = different .. k-1 = exact
        m.append(_normalise(np.concatenate([[1.0], np.exp2(2 * closeness)])))
        u.append(_normalise(np.concatenate([[1.0], np.exp2(-3 * closeness) * 16])))
    return MatchModel(names, labels, m, u)


def estimate_u(levels: np.ndarray, n_levels: list[int], exact: list[float] | None = None) -> list[np.ndarray]:
    """``u`` of every comparison from the levels of random (overwhelmingly non-matching) pairs.

    ``exact`` gives, per comparison, the chance two random records agree exactly, computed from the
    value frequencies (the sum of their squares) rather than sampled, so a rare agreement is not
    estimated from a handful of sampled pairs; the sample then shares out the rest among the other levels.
    """
    u = [_frequencies(levels[:, c], k) for c, k in enumerate(n_levels)]
    for c, agreement in enumerate(exact or []):
        rest = u[c][1:-1]
        u[c][1:-1] = rest / max(rest.sum(), 1e-12) * (1 - agreement)
        u[c][-1] = max(agreement, 1e-9)
        # a field holding one value everywhere has no disagreeing random pair: a disagreement is then rare,
        # not impossible (a u of 0 would make it infinitely strong evidence *for* a match)
        u[c][1:-1] = np.maximum(u[c][1:-1], _MIN_U)
    return u


def estimate_m(
    levels: np.ndarray,
    model: MatchModel,
    skip: set[int],
    iterations: int = 25,
    tf_u: dict[int, np.ndarray] | None = None,
    adjust: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[list[np.ndarray], float]:
    """Expectation maximisation of ``m`` (and the prior) on one blocking rule's pairs, ``u`` fixed.
    Comparisons in ``skip`` keep their ``m``. Starts from half the pairs matching: a blocking rule's
    pairs match far more often than random ones. ``adjust`` rewrites the pairs' level weights before they are
    summed, as scoring does (see :func:`resolve.matching.implied_removed`). Cost: O(iterations x pairs x
    comparisons)."""
    m = [x.copy() for x in model.m]
    prior = 0.5
    used = np.array([c not in skip for c in range(len(m))])  # a blocked-on comparison agrees on every pair
    for _ in range(iterations):
        current = model.with_parts(m, model.u, prior)
        weights = current.level_weights(levels, tf_u)
        p = current.probability((adjust(weights) if adjust else weights)[:, used])
        prior = float(np.clip(p.mean(), 1e-6, 1 - 1e-6))
        for c in range(len(m)):
            if c not in skip:
                m[c] = _frequencies(levels[:, c], len(m[c]), weights=p)
    return m, prior


def estimate_prior(
    levels: np.ndarray,
    model: MatchModel,
    tf_u: dict[int, np.ndarray] | None,
    iterations: int,
    adjust: Callable[[np.ndarray], np.ndarray] | None = None,
) -> float:
    """The share of candidate pairs that match, ``m`` and ``u`` fixed (``adjust``: as in :func:`estimate_m`)."""
    weights = model.level_weights(levels, tf_u)
    weights = (adjust(weights) if adjust else weights).sum(axis=1)
    prior = model.prior
    for _ in range(iterations):
        odds = prior / (1 - prior) * np.exp2(np.clip(weights, -60, 60))
        prior = float(np.clip((odds / (1 + odds)).mean(), 1e-6, 1 - 1e-6))
    return prior


def refine_with_labels(
    model: MatchModel, levels: np.ndarray, is_match: np.ndarray, strength: float = LABEL_STRENGTH
) -> MatchModel:
    """The model with ``m`` refined by labelled matches and ``u`` by labelled non-matches (``levels``:
    labelled pairs x comparisons; ``is_match``: a boolean per pair), the estimates counting as pseudo-pairs.

    Per comparison, over the pairs of a class with both values present (``n`` of them, ``count_l`` at level l
    of the ``k`` levels), with ``s`` = 0.01 so that no level gets 0::

        m_l = (count_l + strength * m_em_l + s) / (n + strength + k * s)
        u_l = (count_l + pairs_u  * u_em_l + s) / (n + pairs_u  + k * s)

    ``strength`` is how many labelled matches EM's ``m`` is worth. ``pairs_u`` is the number of random pairs
    ``u`` came from (``trained["random_pairs"]``; ``strength`` for a model not estimated from data): pairs
    picked for labelling look alike, no random sample of non-matches, so they move ``u`` only by their share
    (weighed like ``m``, a few namesakes born the same day would make agreeing on a birth date look
    common). The prior is kept: labelled pairs are chosen, not sampled, so their share of matches says
    nothing about the population. At a term-frequency comparison's exact level a pair scores with its
    value's frequency, so there only ``m`` changes. Cost: O(pairs x comparisons).

    >>> model = MatchModel(["dob"], [["missing", "different", "exact"]], [np.array([1, 0.5, 0.5])],
    ...                    [np.array([1, 0.99, 0.01])])
    >>> levels, is_match = np.array([[2], [2], [2], [1]]), np.array([True, True, True, False])
    >>> refine_with_labels(model, levels, is_match, strength=1).m[0].round(3).tolist()
    [1.0, 0.127, 0.873]
    """
    pairs_u = float(model.trained.get("random_pairs", strength))
    m = [_pooled(levels[is_match, c], model.m[c], strength) for c in range(len(model.names))]
    u = [_pooled(levels[~is_match, c], model.u[c], pairs_u) for c in range(len(model.names))]
    matches, total = int(is_match.sum()), len(is_match)
    trained = {**model.trained, "labelled_matches": matches, "labelled_non_matches": total - matches}
    refined = model.with_parts(m, u, model.prior)
    refined.trained = trained
    return refined


def _pooled(column: np.ndarray, estimate: np.ndarray, weight: float) -> np.ndarray:
    """Level shares of ``column`` pooled with ``estimate`` worth ``weight`` pairs (index 0, missing, is 1)."""
    counts = np.bincount(column, minlength=len(estimate)).astype(np.float64)[: len(estimate)]
    pooled = counts + weight * estimate + _SMOOTH
    pooled[1:] /= counts[1:].sum() + weight + _SMOOTH * (len(estimate) - 1)
    pooled[0] = 1.0
    return pooled


def _frequencies(column: np.ndarray, k: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Share of each level 1..k-1 among pairs with both values present (index 0 is set to 1)."""
    counts = np.bincount(column, weights=weights, minlength=k).astype(np.float64)[:k]
    counts[0] = 0.0
    shares = (counts + _SMOOTH) / (counts[1:].sum() + _SMOOTH * (k - 1))
    shares[0] = 1.0
    return shares


def _normalise(values: np.ndarray) -> np.ndarray:
    out = values.copy()
    out[1:] = out[1:] / out[1:].sum()
    out[0] = 1.0
    return out
