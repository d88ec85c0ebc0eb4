"""Comparisons declared as data: how two records' values of one field agree, as a small ordered level.

Each comparison turns a pair of values into a level. Level 0 means a value is missing (no evidence
either way, weight 0), level 1 means they disagree, and higher levels mean closer agreement, the
highest being an exact match. Levels are computed for many pairs at once with rapidfuzz.

>>> c = Comparison(name="first_name", kind="jaro_winkler", thresholds=[0.92, 0.8])
>>> c.labels()
['missing', 'different', 'jaro_winkler >= 0.8', 'jaro_winkler >= 0.92', 'exact']
>>> c.levels(np.array(["john", "jon", "john", None], dtype=object),
...          np.array(["john", "john", "mary", "john"], dtype=object)).tolist()
[4, 3, 1, 0]
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator
from rapidfuzz import process
from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein

Kind = Literal["exact", "jaro_winkler", "levenshtein", "date", "postcode"]

#: default thresholds per kind (similarities for Jaro-Winkler, edit distances for Levenshtein)
_DEFAULT_THRESHOLDS: dict[str, list[float]] = {"jaro_winkler": [0.92, 0.8], "levenshtein": [1, 2]}


class Comparison(BaseModel):
    """One field compared one way. ``field`` defaults to ``name``."""

    model_config = ConfigDict(extra="forbid")

    name: str
    kind: Kind
    field: str = ""
    thresholds: list[float] = Field(default_factory=list)
    #: at the exact level, weigh a common value (Smith) less than a rare one (Featherstonehaugh)
    term_frequency: bool = False
    #: leading characters two postcodes share at the "same area" level
    area_chars: int = Field(default=3, ge=1)

    @model_validator(mode="after")
    def _defaults(self) -> Comparison:
        self.field = self.field or self.name
        if not self.thresholds:
            self.thresholds = list(_DEFAULT_THRESHOLDS.get(self.kind, []))
        if self.kind == "jaro_winkler":
            self.thresholds = sorted(self.thresholds)  # lowest first: level 2 is the loosest
        if self.kind == "levenshtein":
            self.thresholds = sorted(self.thresholds, reverse=True)
        return self

    def labels(self) -> list[str]:
        """Name of each level, from 0 (missing) to the exact match."""
        middle: list[str]
        if self.kind == "jaro_winkler":
            middle = [f"jaro_winkler >= {t:g}" for t in self.thresholds]
        elif self.kind == "levenshtein":
            middle = [f"levenshtein <= {t:g}" for t in self.thresholds]
        elif self.kind == "date":
            middle = ["within a year", "one typo or day and month swapped"]
        elif self.kind == "postcode":
            middle = [f"same area ({self.area_chars} characters)", "one typo"]
        else:
            middle = []
        return ["missing", "different", *middle, "exact"]

    @property
    def n_levels(self) -> int:
        return len(self.labels())

    def levels(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Level of each pair ``(left[i], right[i])``; values are strings or None. O(pairs)."""
        n = len(left)
        out = np.ones(n, dtype=np.int8)
        present = _present(left) & _present(right)
        out[~present] = 0
        if not present.any():
            return out
        a, b = left[present].astype(str), right[present].astype(str)
        level = np.ones(len(a), dtype=np.int8)
        for rank, hit in enumerate(self._middle_hits(a, b), start=2):
            level[hit] = rank
        level[a == b] = self.n_levels - 1
        out[present] = level
        return out

    def _middle_hits(self, a: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
        """Boolean masks of the in-between levels, loosest first (a later mask overrides an earlier one)."""
        if self.kind == "jaro_winkler":
            sim = process.cpdist(a, b, scorer=JaroWinkler.normalized_similarity, workers=-1)
            return [sim >= t for t in self.thresholds]
        if self.kind == "levenshtein":
            dist = process.cpdist(a, b, scorer=Levenshtein.distance, workers=-1)
            return [dist <= t for t in self.thresholds]
        if self.kind == "date":
            return _date_hits(a, b)
        if self.kind == "postcode":
            area = np.char.replace(a.astype("U"), " ", "")
            other = np.char.replace(b.astype("U"), " ", "")
            same_area = (np.char.str_len(area) >= self.area_chars) & (
                _prefix(area, self.area_chars) == _prefix(other, self.area_chars)
            )
            typo = process.cpdist(area.tolist(), other.tolist(), scorer=Levenshtein.distance, workers=-1) <= 1
            return [same_area, typo]
        return []


def _present(values: np.ndarray) -> np.ndarray:
    return pd.notna(values) & (values != "")


def _prefix(values: np.ndarray, n: int) -> np.ndarray:
    return values.astype(f"U{n}")


def _date_hits(a: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
    """ISO dates: within a year; one character typo (optimal string alignment: a transposition counts once) or
    day and month swapped."""
    ua, ub = a.astype("U10"), b.astype("U10")
    year_a = np.array([_year(x) for x in ua])
    year_b = np.array([_year(x) for x in ub])
    close = (year_a >= 0) & (year_b >= 0) & (np.abs(year_a - year_b) <= 1)
    typo = process.cpdist(ua.tolist(), ub.tolist(), scorer=OSA.distance, workers=-1) <= 1
    swapped = np.array([_swap(x) == y for x, y in zip(ua.tolist(), ub.tolist(), strict=True)], dtype=bool)
    return [close, typo | swapped]


def _year(text: str) -> int:
    head = text[:4]
    return int(head) if head.isdigit() else -1


def _swap(iso: str) -> str:
    """'1985-03-12' -> '1985-12-03'."""
    return f"{iso[:4]}-{iso[8:10]}-{iso[5:7]}" if len(iso) == 10 else iso
