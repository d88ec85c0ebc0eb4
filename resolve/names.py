"""Name variants: a nickname and the name it stands for (Bob and Robert) are one name, not two.

The table is the ``nicknames`` package's hand-curated English names and nicknames (Carlton Northern and
Nick Crews, Apache License 2.0; https://github.com/carltonnorthern/nicknames), about 2,700 pairs. Two
first names are variants when one is a nickname of the other, or both are nicknames of one name (Bob and
Rob, both Robert). Two full names that merely share a nickname (Christina and Christian, both "Chris") are
not: they are different names.

>>> name_variants(np.array(["bob", "robert", "bob", "christina", "liz"], dtype=object),
...               np.array(["robert", "bob", "rob", "christian", "mary"], dtype=object)).tolist()
[True, True, True, False, False]
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

SWAP_SIMILARITY = 0.9


@cache
def _canonicals() -> dict[str, frozenset[str]]:
    """Each name -> the names it is a nickname of, plus itself (so a full name meets its nicknames)."""
    from nicknames import name_triplets

    found: dict[str, set[str]] = {}
    for triplet in name_triplets():
        found.setdefault(triplet.name2, {triplet.name2}).add(triplet.name1)
        found.setdefault(triplet.name1, {triplet.name1})
    return {name: frozenset(of) for name, of in found.items()}


def are_variants(a: str, b: str) -> bool:
    """Whether two lower-case first names are one name (``bob``, ``robert``); equal names are too."""
    if a == b:
        return True
    table = _canonicals()
    left, right = table.get(a), table.get(b)
    if left is None or right is None:
        return False
    # a nickname of b, b a nickname of a, or two nicknames of one name; two full names never meet here
    return b in left or a in right or bool(left & right - {a, b})


def name_variants(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``are_variants`` of each pair ``(a[i], b[i])`` (lower-case strings). O(pairs) set look-ups."""
    return np.fromiter((are_variants(x, y) for x, y in zip(a.tolist(), b.tolist(), strict=True)), bool, len(a))


def names_swapped(first: np.ndarray, last: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Per pair, whether one record's first and last names are the other's last and first (a form filled
    in the wrong order; Jaro-Winkler >= :data:`SWAP_SIMILARITY`, so a typo too): then the names agree, they
    do not conflict.

    ``first`` and ``last`` hold each record's names (None: missing); ``pairs`` rows of them.

    >>> first, last = np.array(["luke", "gazzola", "ann"], dtype=object), np.array(["gazzola", "luke", "lee"], dtype=object)
    >>> names_swapped(first, last, np.array([[0, 1], [0, 2]])).tolist()
    [True, False]
    """
    a, b = pairs[:, 0], pairs[:, 1]
    known = pd.notna(first[a]) & pd.notna(last[a]) & pd.notna(first[b]) & pd.notna(last[b])
    known = np.flatnonzero(known & (first[a] != last[a]))
    out = np.zeros(len(pairs), dtype=bool)
    if len(known):
        similar = [
            process.cpdist(x[known], y[known], scorer=JaroWinkler.normalized_similarity, workers=-1) >= SWAP_SIMILARITY
            for x, y in ((first[a], last[b]), (last[a], first[b]))
        ]
        out[known] = similar[0] & similar[1]
    return out
