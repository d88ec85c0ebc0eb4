from __future__ import annotations

import itertools
import random
from pathlib import Path

import pandas as pd
import pytest

from analytics.plots import plot_profile_sizes
from analytics.quality import bcubed_scores, evaluate, load_truth, pairwise_scores
from graph.errors import ConfigError


def _brute_force(pred: dict[str, int], truth: dict[str, int]) -> tuple[float, float]:
    pairs = list(itertools.combinations(sorted(pred), 2))
    predicted = {p for p in pairs if pred[p[0]] == pred[p[1]]}
    true = {p for p in pairs if truth[p[0]] == truth[p[1]]}
    precision = len(predicted & true) / len(predicted) if predicted else 1.0
    recall = len(predicted & true) / len(true) if true else 1.0
    return precision, recall


def _random_clusterings(seed: int, min_records: int) -> tuple[dict[str, int], dict[str, int]]:
    """A predicted and a true clustering of the same random records."""
    rng = random.Random(seed)
    keys = [f"r{i}" for i in range(rng.randrange(min_records, 60))]
    return {k: rng.randrange(10) for k in keys}, {k: rng.randrange(8) for k in keys}


@pytest.mark.parametrize("seed", range(8))
def test_pairwise_scores_equal_brute_force_pair_counting(seed: int) -> None:
    pred, truth = _random_clusterings(seed, min_records=2)
    scores = pairwise_scores(pd.Series(pred), pd.Series(truth))
    assert (scores.precision, scores.recall) == pytest.approx(_brute_force(pred, truth))


def _bcubed_brute_force(pred: dict[str, int], truth: dict[str, int]) -> tuple[float, float]:
    precision = recall = 0.0
    for key in pred:
        profile = {k for k in pred if pred[k] == pred[key]}
        entity = {k for k in truth if truth[k] == truth[key]}
        precision += len(profile & entity) / len(profile)
        recall += len(profile & entity) / len(entity)
    return precision / len(pred), recall / len(pred)


@pytest.mark.parametrize("seed", range(8))
def test_bcubed_scores_equal_the_per_record_definition(seed: int) -> None:
    pred, truth = _random_clusterings(seed, min_records=1)
    scores = bcubed_scores(pd.Series(pred), pd.Series(truth))
    assert (scores.precision, scores.recall) == pytest.approx(_bcubed_brute_force(pred, truth))


def test_one_giant_profile_has_perfect_recall_and_poor_bcubed_precision() -> None:
    keys = [f"r{i}" for i in range(100)]
    scores = bcubed_scores(pd.Series(dict.fromkeys(keys, "p")), pd.Series({k: k[-1] for k in keys}))
    assert scores.recall == 1.0 and scores.precision == pytest.approx(0.1)


def test_evaluate_scores_only_records_both_sides_know() -> None:
    assigned = pd.Series({"crm:1": "p1", "crm:2": "p1", "crm:3": "p2", "web:9": "p3"})
    truth = pd.Series({"crm:1": "a", "crm:2": "a", "crm:3": "b", "pos:4": "b"})
    result = evaluate(assigned, truth)
    assert (result.scored, result.unlabelled, result.unresolved) == (3, 1, 1)
    assert result.pairwise.f1 == 1.0 and result.bcubed.f1 == 1.0
    assert result.largest_profile == ("p1", 2) and result.largest_entity == ("a", 2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("source,record_id\ncrm,1\n", "lacks column.*person_id"),
        ("source,record_id,person_id\ncrm,1,a\ncrm,,b\n", "line 3: empty"),
        ("source,record_id,person_id\ncrm,1,a\ncrm,1,b\n", "line 3: record crm:1 is listed twice"),
    ],
)
def test_a_bad_truth_file_is_an_error_naming_the_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "truth.csv"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_truth(str(path))


def test_profile_size_plot_is_a_png(tmp_path: Path) -> None:
    out = plot_profile_sizes({1: 500, 2: 120, 3: 7, 40: 1}, tmp_path / "sizes.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000


def test_plotting_nothing_is_an_explained_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no profiles to plot"):
        plot_profile_sizes({}, tmp_path / "sizes.png")
