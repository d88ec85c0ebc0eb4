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
>>> nick = Comparison(name="first_name", kind="jaro_winkler", nicknames=True)
>>> [nick.labels()[k] for k in nick.levels(np.array(["bob"], dtype=object), np.array(["robert"], dtype=object))]
['nickname']
>>> named = Comparison(name="first_name", kind="jaro_winkler", initials=True)
>>> [named.labels()[k] for k in named.levels(np.array(["g", "g", "k"], dtype=object),
...                                          np.array(["gemma", "sarah", "karen"], dtype=object))]
['missing or initial', 'different', 'missing or initial']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator
from rapidfuzz import process
from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein

from resolve.names import name_variants

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
    #: names: an initial and a name it starts ("G" and "Gemma", as a till prints a card) are no evidence
    #: either way (level 0, "missing or initial"), not a disagreement
    initials: bool = False
    #: names: a nickname and the name it stands for (Bob and Robert, see :mod:`resolve.names`) are a level
    #: of their own, the loosest above "different", and never a disagreement (its weight is at least 0)
    nicknames: bool = False
    #: comparisons whose exact agreement implies this one's (an email's local part is often the name): where
    #: they all agree exactly, agreeing here adds no weight (a disagreement still counts)
    implied_by: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _defaults(self) -> Comparison:
        self.field = self.field or self.name
        if not self.thresholds:
            self.thresholds = list(_DEFAULT_THRESHOLDS.get(self.kind, []))
        if self.initials and self.kind not in ("jaro_winkler", "levenshtein"):
            raise ValueError(f"comparison '{self.name}': initials apply to jaro_winkler or levenshtein names")
        if self.nicknames and self.kind not in ("jaro_winkler", "levenshtein", "exact"):
            raise ValueError(f"comparison '{self.name}': nicknames apply to names (exact, jaro_winkler, levenshtein)")
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
        if self.nicknames:
            middle = ["nickname", *middle]  # the loosest: Jack may be John, or his brother
        return ["missing or initial" if self.initials else "missing", "different", *middle, "exact"]

    @property
    def n_levels(self) -> int:
        return len(self.labels())

    def levels(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Level of each pair ``(left[i], right[i])``; values are strings or None. O(pairs)."""
        column = FieldColumn.of(np.concatenate([left, right]))
        n = len(left)
        return self.pair_levels(column, np.column_stack([np.arange(n), np.arange(n, 2 * n)]))

    def pair_levels(self, column: FieldColumn, pairs: np.ndarray) -> np.ndarray:
        """Level of each pair of rows of ``column`` (``pairs`` is an ``(n, 2)`` array of row numbers).
        Each distinct pair of values is compared once. O(pairs + distinct value pairs)."""
        left, right = column.codes[pairs[:, 0]], column.codes[pairs[:, 1]]
        out = np.ones(len(pairs), dtype=np.int8)
        present = (left >= 0) & (right >= 0)
        out[~present] = 0
        exact = present & (left == right)
        out[exact] = self.n_levels - 1
        rest = np.flatnonzero(present & ~exact)
        if len(rest) == 0 or (self.n_levels <= 3 and not self.initials and not self.nicknames):
            return out
        width = np.int64(len(column.values))
        distinct, inverse = np.unique(left[rest].astype(np.int64) * width + right[rest], return_inverse=True)
        a, b = column.values[distinct // width], column.values[distinct % width]
        level = np.ones(len(distinct), dtype=np.int8)
        for rank, hit in enumerate(self._middle_hits(a, b), start=2):
            level[hit] = rank
        if self.initials:
            level[(level == 1) & _initial_hits(a, b)] = 0
        out[rest] = level[inverse]
        return out

    def _middle_hits(self, a: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
        """Boolean masks of the in-between levels, loosest first (a later mask overrides an earlier one)."""
        if self.nicknames:
            return [name_variants(a, b), *self._distance_hits(a, b)]
        return self._distance_hits(a, b)

    def _distance_hits(self, a: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
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
                area.astype(f"U{self.area_chars}") == other.astype(f"U{self.area_chars}")
            )
            typo = process.cpdist(area, other, scorer=Levenshtein.distance, workers=-1) <= 1
            return [same_area, typo]
        return []


@dataclass(frozen=True)
class FieldColumn:
    """One field of every record, factorised: ``values`` holds each distinct value once and ``codes``
    each record's index into it (-1: missing), so equality is an integer comparison."""

    values: np.ndarray  # distinct values, Python strings
    codes: np.ndarray

    @classmethod
    def of(cls, column: np.ndarray) -> FieldColumn:
        codes, values = pd.factorize(pd.Series(column, dtype=object).replace("", None), use_na_sentinel=True)
        return cls(np.asarray(values, dtype=object), codes.astype(np.int64))

    def agreement(self) -> float:
        """The chance two records drawn at random (both with a value) hold the same value: sum of squared
        value shares. O(records)."""
        counts = np.bincount(self.codes[self.codes >= 0], minlength=len(self.values)).astype(np.float64)
        total = counts.sum()
        return float(((counts / total) ** 2).sum()) if total else 0.0


def _initial_hits(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One value is a single letter (a dot allowed) that the other starts with."""
    ua, ub = np.char.rstrip(a.astype("U"), "."), np.char.rstrip(b.astype("U"), ".")
    one_letter = (np.char.str_len(ua) == 1) | (np.char.str_len(ub) == 1)
    return one_letter & (ua.astype("U1") == ub.astype("U1"))


def _date_hits(a: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
    """ISO dates: within a year; one character typo (optimal string alignment: a transposition counts once) or
    day and month swapped."""
    ua, ub = a.astype("U10"), b.astype("U10")
    year_a, year_b = _years(ua), _years(ub)
    close = (year_a >= 0) & (year_b >= 0) & (np.abs(year_a - year_b) <= 1)
    typo = process.cpdist(a, b, scorer=OSA.distance, workers=-1) <= 1
    return [close, typo | (_swapped(ua) == ub)]


def _years(dates: np.ndarray) -> np.ndarray:
    head = dates.astype("U4")
    valid = np.char.isdigit(head) & (np.char.str_len(head) == 4)
    return np.where(valid, np.where(valid, head, "0").astype(np.int64), -1)


def _swapped(dates: np.ndarray) -> np.ndarray:
    """'1985-03-12' -> '1985-12-03' (characters reordered in place; shorter strings come out unequal)."""
    chars = dates.astype("U10").view("U1").reshape(len(dates), 10)
    return np.ascontiguousarray(chars[:, [0, 1, 2, 3, 4, 8, 9, 7, 5, 6]]).view("U10").ravel()
