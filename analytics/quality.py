"""Resolution quality against ground truth: pairwise and B-cubed precision, recall and F1 over profiles."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from graph.errors import ConfigError


@dataclass(frozen=True)
class PairwiseScores:
    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    records: int
    largest_profile: int
    largest_entity: int


def _pairs(sizes: pd.Series) -> int:
    sizes = sizes.astype("int64")
    return int((sizes * (sizes - 1) // 2).sum())


def pairwise_scores(predicted: pd.Series, truth: pd.Series) -> PairwiseScores:
    """Compare two clusterings of the same records, both Series indexed by record key.

    A pair of records counts as predicted when they share a profile and as true when they share an
    entity; only records present in both are scored. O(n) with a group-by, never O(n^2).

    >>> pred = pd.Series({"a": 1, "b": 1, "c": 2})
    >>> truth = pd.Series({"a": "x", "b": "x", "c": "x"})
    >>> s = pairwise_scores(pred, truth); (s.precision, round(s.recall, 3))
    (1.0, 0.333)
    """
    frame = pd.DataFrame({"pred": predicted, "truth": truth}).dropna()
    correct = _pairs(frame.groupby(["pred", "truth"]).size())
    predicted_pairs = _pairs(frame.groupby("pred").size())
    true_pairs = _pairs(frame.groupby("truth").size())
    precision = correct / predicted_pairs if predicted_pairs else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairwiseScores(
        precision=precision,
        recall=recall,
        f1=f1,
        true_pairs=true_pairs,
        predicted_pairs=predicted_pairs,
        correct_pairs=correct,
        records=len(frame),
        largest_profile=int(frame.groupby("pred").size().max()) if len(frame) else 0,
        largest_entity=int(frame.groupby("truth").size().max()) if len(frame) else 0,
    )


@dataclass(frozen=True)
class BCubedScores:
    precision: float
    recall: float
    f1: float


def bcubed_scores(predicted: pd.Series, truth: pd.Series) -> BCubedScores:
    """B-cubed (Bagga and Baldwin): per record, the share of its profile that is its entity (precision)
    and the share of its entity that is in its profile (recall), averaged over records. Unlike pair
    counts, one giant wrong profile cannot hide behind many small right ones. O(n).

    >>> s = bcubed_scores(pd.Series({"a": 1, "b": 1, "c": 2}), pd.Series({"a": "x", "b": "x", "c": "x"}))
    >>> (s.precision, round(s.recall, 3))
    (1.0, 0.556)
    """
    frame = pd.DataFrame({"pred": predicted, "truth": truth}).dropna()
    if frame.empty:
        return BCubedScores(1.0, 1.0, 1.0)
    both = frame.groupby(["pred", "truth"]).size().rename("both").reset_index()
    both["in_profile"] = both["pred"].map(frame.groupby("pred").size())
    both["in_entity"] = both["truth"].map(frame.groupby("truth").size())
    # every record of a (profile, entity) group has the same per-record scores: weight them by the group size
    precision = float((both["both"] ** 2 / both["in_profile"]).sum() / len(frame))
    recall = float((both["both"] ** 2 / both["in_entity"]).sum() / len(frame))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return BCubedScores(precision, recall, f1)


TRUTH_COLUMNS = ("source", "record_id", "person_id")


def load_truth(path: str) -> pd.Series:
    """``source,record_id,person_id`` CSV -> person id per record key."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the truth file {path}: {exc}") from None
    missing = [c for c in TRUTH_COLUMNS if c not in frame.columns]
    if missing:
        raise ConfigError(f"truth file {path} lacks column(s) {', '.join(missing)} (needs {','.join(TRUTH_COLUMNS)})")
    blank = frame[(frame[list(TRUTH_COLUMNS)] == "").any(axis=1)]
    if len(blank):
        raise ConfigError(f"truth file {path}, line {int(blank.index[0]) + 2}: empty source, record_id or person_id")
    keys = frame["source"] + ":" + frame["record_id"]
    repeated = keys[keys.duplicated()]
    if len(repeated):
        raise ConfigError(
            f"truth file {path}, line {int(repeated.index[0]) + 2}: record {repeated.iloc[0]} is listed twice"
        )
    return pd.Series(frame["person_id"].values, index=keys)


@dataclass(frozen=True)
class Evaluation:
    """``cdp evaluate``: a resolution scored against ground truth."""

    pairwise: PairwiseScores
    bcubed: BCubedScores
    scored: int  # records both resolved and labelled
    unlabelled: int  # resolved records the truth file does not mention
    unresolved: int  # labelled records not in the graph (or in no profile)
    largest_profile: tuple[str, int]  # (profile id, records)
    largest_entity: tuple[str, int]  # (person id, records)
    #: share of true pairs a resolve can link at all (candidate pair or shared identifier); None if unknown
    blocking_reach: float | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def evaluate(assigned: pd.Series, truth: pd.Series) -> Evaluation:
    """Score ``record -> profile`` against ``record -> person`` over the records both know."""
    common = assigned.index.intersection(truth.index)
    predicted, actual = assigned.loc[common], truth.loc[common]
    return Evaluation(
        pairwise=pairwise_scores(predicted, actual),
        bcubed=bcubed_scores(predicted, actual),
        scored=len(common),
        unlabelled=len(assigned) - len(common),
        unresolved=len(truth) - len(common),
        largest_profile=_largest(predicted),
        largest_entity=_largest(actual),
    )


def _largest(clusters: pd.Series) -> tuple[str, int]:
    if clusters.empty:
        return ("", 0)
    sizes = clusters.value_counts()
    return (str(sizes.index[0]), int(sizes.iloc[0]))
