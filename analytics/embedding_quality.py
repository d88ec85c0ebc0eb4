"""How good the embeddings are, each against a simple baseline.

- **Link prediction**: hide 10% of the customer-product links, embed the rest, and ask whether a hidden
  link scores higher (cosine) than a random customer-product pair that is not linked: the AUC (0.5 is
  chance).
- **Recommendations on a temporal holdout**: embed the events before a cut-off; for each customer who
  buys something new after it, is one of those products in the top 10 (hit rate), and how high (NDCG)?
  Beside the two baselines of :mod:`analytics.recommend`: most popular, and item-kNN on co-purchases.
- **Lookalike lift**: of an audience built from part of a known cohort, the share in the cohort over the
  share of the cohort among all candidates (1.0 is random).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from analytics.customer_graph import CustomerGraph, build_customer_graph, parse_properties
from analytics.embeddings import EmbeddingSettings, embed
from analytics.recommend import item_knn, most_popular, recommend
from analytics.similarity import normalised


@dataclass
class Holdout:
    """The training graph and the scored pairs: held-out customer-product links, then as many unlinked ones."""

    train: CustomerGraph
    pairs: np.ndarray
    labels: np.ndarray


def holdout(graph: CustomerGraph, seed: int, fraction: float = 0.1) -> Holdout:
    """Hide ``fraction`` of the customer-product links (a customer keeps at least one, so it still has a
    vector) and draw as many random unlinked customer-product pairs, seeded."""
    rng = np.random.default_rng(seed)
    kinds = graph.kinds
    bought = np.flatnonzero((kinds[graph.edges[:, 0]] == "profile") & (kinds[graph.edges[:, 1]] == "product"))
    shuffled = rng.permutation(bought)
    first_of_profile = np.unique(graph.edges[shuffled, 0], return_index=True)[1]
    candidates = np.setdiff1d(shuffled, shuffled[first_of_profile])  # each profile keeps one link
    held = rng.choice(candidates, size=min(len(candidates), int(len(bought) * fraction)), replace=False)
    keep = np.ones(graph.n_edges, dtype=bool)
    keep[held] = False
    train = CustomerGraph(graph.keys, graph.kinds, graph.edges[keep], graph.weights[keep], graph.version)
    profiles, products = graph.of_kind("profile"), graph.of_kind("product")
    linked = set(map(tuple, graph.edges[bought].tolist()))
    negatives: list[tuple[int, int]] = []
    while len(negatives) < len(held):
        pair = (int(rng.choice(profiles)), int(rng.choice(products)))
        if pair not in linked:
            negatives.append(pair)
    pairs = np.vstack([graph.edges[held], np.array(negatives, dtype=np.int64).reshape(-1, 2)])
    return Holdout(train, pairs, np.r_[np.ones(len(held)), np.zeros(len(negatives))])


def link_prediction_auc(graph: CustomerGraph, settings: EmbeddingSettings, fraction: float = 0.1) -> dict[str, float]:
    """AUC of held-out customer-product links against as many random unlinked pairs (:func:`holdout`,
    seeded by ``settings.seed``), scored by the cosine of the vectors embedded without them."""
    split = holdout(graph, settings.seed, fraction)
    vectors = normalised(embed(split.train, settings).vectors)
    scores = (vectors[split.pairs[:, 0]] * vectors[split.pairs[:, 1]]).sum(axis=1)
    return {"auc": float(roc_auc_score(split.labels, scores)), "held_out": int(split.labels.sum())}


def recommendation_quality(
    events: pd.DataFrame, settings: EmbeddingSettings, k: int = 10, cutoff_quantile: float = 0.8
) -> dict[str, dict[str, float]]:
    """Hit rate and NDCG at ``k`` on a temporal holdout, for the embeddings and both baselines."""
    events = events.assign(sku=parse_properties(events["properties"], ["sku"])["sku"].to_numpy())
    stamps = np.sort(events["ts"].astype(str).to_numpy())
    cutoff = stamps[int(cutoff_quantile * (len(stamps) - 1))] if len(stamps) else ""  # ISO text sorts as time
    train, test = events[events["ts"] < cutoff], events[events["ts"] >= cutoff]
    bought = train.loc[(train["type"] == "purchase") & train["sku"].notna(), ["profile_id", "sku"]].drop_duplicates()
    later = test.loc[(test["type"] == "purchase") & test["sku"].notna(), ["profile_id", "sku"]].drop_duplicates()
    later = later.merge(bought, how="left", indicator=True).query("_merge == 'left_only'").drop(columns="_merge")
    graph = build_customer_graph(train)
    embeddings = embed(graph, settings)
    known = set(graph.keys[graph.of_kind("profile")])
    later = later[("profile:" + later["profile_id"]).isin(known)]
    profiles = np.array(sorted(later["profile_id"].unique()), dtype=object)
    truth = later.groupby("profile_id")["sku"].apply(set).to_dict()
    found = {
        "node2vec": recommend(embeddings, profiles.tolist(), bought, k),
        "most_popular": most_popular(bought, profiles, k),
        "item_knn": item_knn(bought, profiles, k),
    }
    scores = {name: _ranking_scores(recs, truth, k) for name, recs in found.items()}
    return scores | {"holdout": {"profiles": float(len(profiles)), "cutoff": str(cutoff)}}  # type: ignore[dict-item]


def _ranking_scores(recs: pd.DataFrame, truth: dict[str, set[str]], k: int) -> dict[str, float]:
    """Hit rate (a later purchase in the top ``k``) and NDCG at ``k`` (binary relevance), over ``truth``'s
    profiles; a profile with no recommendation scores 0."""
    discount = 1 / np.log2(np.arange(2, k + 2))
    hits, ndcg = [], []
    by_profile = recs.groupby("profile_id")["product"].apply(list).to_dict()
    for profile, relevant in truth.items():
        ranked = by_profile.get(profile, [])[:k]
        gains = np.array([product in relevant for product in ranked], dtype=np.float64)
        ideal = discount[: min(len(relevant), k)].sum()
        hits.append(float(gains.any()))
        ndcg.append(float((gains * discount[: len(gains)]).sum() / ideal))
    return {f"hit_rate@{k}": float(np.mean(hits)) if hits else 0.0, f"ndcg@{k}": float(np.mean(ndcg)) if ndcg else 0.0}


def lookalike_lift(audience: list[str], cohort: set[str], candidates: set[str]) -> float:
    """The audience's share in ``cohort`` over the cohort's share of ``candidates`` (1.0: no better than
    random)."""
    if not audience or not candidates:
        return 0.0
    base = len(cohort & candidates) / len(candidates)
    return (sum(p in cohort for p in audience) / len(audience)) / base if base else 0.0
