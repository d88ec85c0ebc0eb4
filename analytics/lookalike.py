"""Lookalike audiences: the customers most like a seed list, by their node2vec vectors.

A seed file names customers by ``profile_id`` or by ``identifier_type,identifier_value`` (normalised as
at ingest, so ``Ann@Example.com`` finds ``ann@example.com``). Each candidate is scored by the cosine of
its vector to the seeds' centroid (the mean of their unit vectors): customers who browse and buy like the
seeds come first. Seeds are never in their own audience.

>>> from analytics.embedding_store import Embeddings
>>> from analytics.similarity import SimilarityIndex
>>> keys = np.array(["profile:a", "profile:b", "profile:c", "profile:d"], dtype=object)
>>> vectors = np.array([[1, 0], [0.9, 0.2], [0, 1], [0.7, 0.7]], dtype=np.float32)
>>> lookalike_scores(SimilarityIndex(Embeddings(keys, vectors), "profile"), ["a"], 2).round(3).to_dict("list")
{'profile_id': ['b', 'd'], 'score': [0.976, 0.707]}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.similarity import SimilarityIndex
from graph.errors import ConfigError

BY_PROFILE = ["profile_id"]
BY_IDENTIFIER = ["identifier_type", "identifier_value"]


@dataclass
class SeedList:
    """Seeds by profile id, or by identifier (type, raw value), each with where it came from ("line 4")."""

    profile_ids: list[tuple[str, str]] = field(default_factory=list)
    identifiers: list[tuple[str, str, str]] = field(default_factory=list)


def read_seed_file(path: Path) -> SeedList:
    """A CSV with a ``profile_id`` column, or ``identifier_type`` and ``identifier_value`` columns (both
    kinds of row may be mixed when all three columns are present). Blank rows are skipped; a file with
    neither kind of column is an error naming the columns it needs."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the seed file {path}: {exc}") from None
    columns = set(frame.columns)
    if "profile_id" not in columns and not set(BY_IDENTIFIER) <= columns:
        raise ConfigError(
            f"seed file {path}: needs a profile_id column or identifier_type,identifier_value columns "
            f"(found: {', '.join(frame.columns) or 'none'})"
        )
    seeds = SeedList()
    for index, row in frame.iterrows():
        line = f"line {int(index) + 2}"  # type: ignore[call-overload]  # the header is line 1
        if row.get("profile_id", "").strip():
            seeds.profile_ids.append((line, row["profile_id"].strip()))
        elif row.get("identifier_type", "").strip() and row.get("identifier_value", "").strip():
            seeds.identifiers.append((line, row["identifier_type"].strip(), row["identifier_value"].strip()))
    return seeds


def lookalike_scores(index: SimilarityIndex, seeds: list[str], size: int) -> pd.DataFrame:
    """The ``size`` profiles closest to the seeds' centroid, best first (``profile_id, score``); seeds and
    profiles without a vector are left out. O(profiles x dimensions)."""
    rows = index.ids.get_indexer(seeds)
    rows = rows[rows >= 0]
    if len(rows) == 0:
        return pd.DataFrame({"profile_id": pd.Series(dtype=str), "score": pd.Series(dtype=float)})
    scores = index.scores(index.matrix[rows].mean(axis=0))
    excluded = np.zeros(len(index), dtype=bool)
    excluded[rows] = True
    best = index.top(scores, size, exclude=excluded)
    return pd.DataFrame(best, columns=["profile_id", "score"])
