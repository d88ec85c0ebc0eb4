"""Labelled pairs: record pairs a person has checked (``record_a,record_b,match``), read and validated.

They refine the match model a run estimates (:func:`resolve.fellegi_sunter.refine_with_labels`, applied in
:func:`resolve.matching.find_matches`). Every error names the file, the line and the field.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from graph.errors import ConfigError
from graph.frames import among
from graph.store import GraphStore

LABEL_COLUMNS = ["record_a", "record_b", "match"]
_MATCH_VALUES = {"1": True, "true": True, "0": False, "false": False}


def load_labels(path: str | Path) -> pd.DataFrame:
    """Labelled pairs from a ``record_a,record_b,match`` CSV file, checked by :func:`check_labels`."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False)
    except (OSError, ValueError) as exc:  # pandas' parse errors and bad encodings are ValueErrors
        raise ConfigError(f"cannot read the labels file {path}: {exc}") from None
    return check_labels(frame, f"labels file {path}")


def check_labels(labels: pd.DataFrame, where: str = "labels") -> pd.DataFrame:
    """``record_a, record_b`` (record keys, ``SOURCE:ID`` as ``cdp explain`` takes them) and ``match`` (1/0 or
    true/false) of labelled pairs, ``match`` made boolean. Errors name the line (the header is line 1, so a
    row at index i is line i + 2) and the field; a pair labelled twice is an error naming it."""
    missing = [c for c in LABEL_COLUMNS if c not in labels.columns]
    if missing:
        raise ConfigError(f"{where} lacks column(s) {', '.join(missing)} (needs {','.join(LABEL_COLUMNS)})")
    if not pd.api.types.is_integer_dtype(labels.index):
        labels = labels.reset_index(drop=True)
    frame = labels[LABEL_COLUMNS].fillna("").astype(str).apply(lambda column: column.str.strip())
    frame = frame[(frame != "").any(axis=1)]  # a blank line
    if frame.empty:
        raise ConfigError(f"{where} has no labelled pairs")
    for name in LABEL_COLUMNS:
        bad = frame[name] == "" if name != "match" else ~frame[name].str.lower().isin(list(_MATCH_VALUES))
        if bad.any():
            line, value = int(frame.index[bad.to_numpy()][0]) + 2, frame.loc[bad, name].iloc[0]
            problem = "is empty" if value == "" else f"is {value!r}, not 1/0 or true/false"
            raise ConfigError(f"{where}, line {line}, field {name}: {problem}")
    same = frame.index[(frame["record_a"] == frame["record_b"]).to_numpy()]
    if len(same):
        raise ConfigError(f"{where}, line {int(same[0]) + 2}: record_a and record_b are the same record")
    frame = frame.assign(match=frame["match"].str.lower().map(_MATCH_VALUES).astype(bool))
    _refuse_repeated_pairs(frame, where)
    return frame


def _refuse_repeated_pairs(frame: pd.DataFrame, where: str) -> None:
    """A pair (either way round) labelled twice is an error naming the first few, and whether they contradict."""
    a, b = frame["record_a"], frame["record_b"]
    key = a.where(a < b, b) + " / " + b.where(a < b, a)
    repeated = frame[key.duplicated(keep=False).to_numpy()].groupby(key, sort=False)
    if repeated.ngroups:
        named = [
            f"{pair} on lines {', '.join(str(i + 2) for i in group.index)}"
            + (" (a match and a non-match)" if group["match"].nunique() > 1 else "")
            for pair, group in list(repeated)[:5]
        ]
        raise ConfigError(f"{where}: {repeated.ngroups} pair(s) labelled more than once: {'; '.join(named)}")


def reviewed_pairs(store: GraphStore, records: pd.Series) -> pd.DataFrame | None:
    """Reviewers' verdicts stored with the graph (``record_a, record_b, match``) on pairs of ``records``
    (records erased since are left out); None when there are none."""
    stored = store.pair_labels()
    stored = stored[among(stored["record_a"], records) & among(stored["record_b"], records)]
    if stored.empty:
        return None
    return stored[LABEL_COLUMNS].assign(match=stored["match"].astype(bool)).reset_index(drop=True)


def with_verdicts(labels: pd.DataFrame | None, verdicts: pd.DataFrame | None) -> pd.DataFrame | None:
    """Labelled pairs of a file and reviewers' verdicts together, to refine a model: the file's label wins
    for a pair in both."""
    if verdicts is None:
        return labels
    if labels is None:
        return verdicts
    checked = check_labels(labels)
    a, b = checked["record_a"], checked["record_b"]
    in_file = set(a.where(a < b, b) + "|" + b.where(a < b, a))
    key = verdicts["record_a"] + "|" + verdicts["record_b"]  # stored in order
    return pd.concat([checked, verdicts[~key.isin(in_file)]], ignore_index=True)


def label_positions(labels: pd.DataFrame, keys: pd.Index) -> np.ndarray:
    """Row positions (into ``keys``) of the labelled pairs; records not in the store are an error naming
    the first few with their line and field."""
    positions = np.stack([keys.get_indexer(labels[name]) for name in LABEL_COLUMNS[:2]], axis=1)
    rows, columns = np.nonzero(positions < 0)  # by line, record_a before record_b
    if len(rows):
        named = ", ".join(f"line {labels.index[r] + 2} {LABEL_COLUMNS[c]} {labels.iat[r, c]!r}"
                          for r, c in zip(rows[:5], columns[:5], strict=True))  # fmt: skip
        raise ConfigError(
            f"labels name {len(rows)} record(s) not in the store: {named}"
            f"{', ...' if len(rows) > 5 else ''} (records are SOURCE:ID, as `cdp explain` takes them)"
        )
    return positions
