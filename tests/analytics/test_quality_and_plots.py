from __future__ import annotations

import itertools
import random
from pathlib import Path

import pandas as pd
import pytest

from analytics.plots import plot_profile_sizes
from analytics.quality import pairwise_scores


def _brute_force(pred: dict[str, int], truth: dict[str, int]) -> tuple[float, float]:
    pairs = list(itertools.combinations(sorted(pred), 2))
    predicted = {p for p in pairs if pred[p[0]] == pred[p[1]]}
    true = {p for p in pairs if truth[p[0]] == truth[p[1]]}
    precision = len(predicted & true) / len(predicted) if predicted else 1.0
    recall = len(predicted & true) / len(true) if true else 1.0
    return precision, recall


@pytest.mark.parametrize("seed", range(8))
def test_pairwise_scores_equal_brute_force_pair_counting(seed: int) -> None:
    rng = random.Random(seed)
    keys = [f"r{i}" for i in range(rng.randrange(2, 60))]
    pred = {k: rng.randrange(10) for k in keys}
    truth = {k: rng.randrange(8) for k in keys}
    scores = pairwise_scores(pd.Series(pred), pd.Series(truth))
    assert (scores.precision, scores.recall) == pytest.approx(_brute_force(pred, truth))


def test_profile_size_plot_is_a_png(tmp_path: Path) -> None:
    out = plot_profile_sizes({1: 500, 2: 120, 3: 7, 40: 1}, tmp_path / "sizes.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000


def test_plotting_nothing_is_an_explained_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no profiles to plot"):
        plot_profile_sizes({}, tmp_path / "sizes.png")
