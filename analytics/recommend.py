"""Product recommendations: for each customer, the products its walks would most likely reach that it
has not bought; and the two baselines a recommender must beat (most popular, item-kNN on co-purchases).

Skip-gram with negative sampling learns ``input(customer) . output(product) = log P(product | customer)
- log(k P_noise(product))``, the noise being the walk visit counts to the 0.75 (Levy and Goldberg, 2014).
So ``input . output + 0.75 log visits(product)`` is, up to a constant, the model's own log-probability
that the customer's walks reach the product: its tastes (the categories it walks in) times how popular
each product is there. No weight is tuned.

>>> from analytics.embedding_store import Embeddings
>>> keys = np.array(["profile:a", "product:S1", "product:S2", "product:S3"], dtype=object)
>>> inputs = np.array([[1, 0], [0, 0], [0, 0], [0, 0]], dtype=np.float32)
>>> outputs = np.array([[0, 0], [2, 0], [1, 0], [0, 1]], dtype=np.float32)
>>> counts = np.array([1, 1, 1, 1], dtype=np.float32)
>>> bought = pd.DataFrame({"profile_id": ["a"], "sku": ["S1"]})
>>> recommend(Embeddings(keys, inputs, outputs, counts), ["a"], bought, k=2).round(3).to_dict("list")
{'profile_id': ['a', 'a'], 'product': ['S2', 'S3'], 'score': [1.0, 0.0]}
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from analytics.embedding_store import Embeddings
from analytics.similarity import normalised

COLUMNS = ["profile_id", "product", "score"]
NOISE_EXPONENT = 0.75  # word2vec's, which the training uses for negatives


def recommend(embeddings: Embeddings, profiles: list[str], bought: pd.DataFrame, k: int) -> pd.DataFrame:
    """``k`` products per profile (``profile_id, product, score``, best first); products in ``bought``
    (``profile_id, sku``) are left out, and so are profiles without a vector. O(profiles x products x
    dimensions), in blocks of 4,096 profiles."""
    product_rows = embeddings.of_kind("product")
    products = np.array([key.split(":", 1)[1] for key in embeddings.keys[product_rows]], dtype=object)
    wanted = embeddings.index.get_indexer([f"profile:{p}" for p in profiles])
    known, rows = np.asarray(profiles, dtype=object)[wanted >= 0], wanted[wanted >= 0]
    outputs = embeddings.outputs[product_rows].astype(np.float64)
    prior = NOISE_EXPONENT * np.log(np.maximum(np.asarray(embeddings.counts)[product_rows], 1.0))
    parts = []
    for start in range(0, len(known), 4096):
        scores = embeddings.inputs[rows[start : start + 4096]].astype(np.float64) @ outputs.T + prior
        parts.append(top_k(known[start : start + 4096], products, scores, bought, k))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)


def top_k(profiles: np.ndarray, products: np.ndarray, scores: np.ndarray, bought: pd.DataFrame, k: int) -> pd.DataFrame:
    """The best ``k`` of each row of ``scores`` (profiles x products) not in ``bought``; ties by product."""
    rows = pd.Index(profiles).get_indexer(bought["profile_id"])
    cols = pd.Index(products).get_indexer(bought["sku"])
    hit = (rows >= 0) & (cols >= 0)
    scores[rows[hit], cols[hit]] = -np.inf
    k = min(k, len(products))
    order = np.lexsort((np.broadcast_to(products.astype(str), scores.shape), -scores), axis=1)[:, :k]
    picked = np.take_along_axis(scores, order, axis=1)
    frame = pd.DataFrame({"profile_id": np.repeat(profiles, k), "product": products[order].ravel(),
                          "score": picked.ravel()})  # fmt: skip
    return frame[np.isfinite(frame["score"].to_numpy())].reset_index(drop=True)


def most_popular(train: pd.DataFrame, profiles: np.ndarray, k: int) -> pd.DataFrame:
    """Baseline: the products bought most in ``train`` (``profile_id, sku``), each profile's own left out."""
    counts = train["sku"].value_counts()
    products = counts.index.to_numpy(dtype=object)
    scores = np.tile(counts.to_numpy(dtype=np.float64), (len(profiles), 1))
    return top_k(profiles, products, scores, train, k)


def item_knn(train: pd.DataFrame, profiles: np.ndarray, k: int, neighbours: int = 20) -> pd.DataFrame:
    """Baseline: item-kNN on co-purchases. Items are similar by the cosine of their buyer vectors (each
    keeping its ``neighbours`` nearest); a profile's score for an item sums its similarity to the items the
    profile bought; profiles with no purchase get the most popular items (the usual fallback)."""
    buyers = pd.Index(pd.unique(np.concatenate([train["profile_id"].to_numpy(), profiles])))
    products = pd.Index(pd.unique(train["sku"]))
    matrix = sp.csr_matrix(
        (np.ones(len(train)), (buyers.get_indexer(train["profile_id"]), products.get_indexer(train["sku"]))),
        shape=(len(buyers), len(products)),
    )
    matrix.data[:] = 1.0  # bought or not
    columns = normalised(matrix.T.toarray()).astype(np.float64)  # products x buyers, unit rows
    similar = columns @ columns.T
    np.fill_diagonal(similar, 0.0)
    weakest = np.argsort(-similar, axis=1)[:, neighbours:]
    np.put_along_axis(similar, weakest, 0.0, axis=1)
    scores = matrix[buyers.get_indexer(profiles)] @ similar.T
    popular = train["sku"].value_counts().reindex(products).to_numpy(dtype=np.float64)
    scores = scores + 1e-9 * popular / max(popular.max(), 1.0)  # ties, and profiles with no purchase
    return top_k(profiles, products.to_numpy(dtype=object), np.asarray(scores), train, k)
