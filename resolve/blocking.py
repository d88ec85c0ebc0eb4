"""Blocking: which pairs of records are worth comparing.

Each blocking rule is a list of fields; two records are a candidate pair when they agree exactly on
every field of at least one rule. A block (records sharing one key) larger than ``max_block_size`` is
skipped and counted, since comparing every pair inside it would cost its size squared.

>>> import pandas as pd
>>> fields = pd.DataFrame({"last_name": ["smith", "smith", "jones", "smith"],
...                        "birth_date": ["1985-03-12", "1985-03-12", "1985-03-12", None]})
>>> pairs, report = candidate_pairs(fields, [["last_name", "birth_date"]], max_block_size=50)
>>> pairs.tolist(), report.pairs_per_rule
([[0, 1]], {'last_name & birth_date': 1})
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class BlockingReport:
    pairs: int = 0
    pairs_per_rule: dict[str, int] = field(default_factory=dict)
    skipped_blocks: int = 0  # blocks over the size limit
    skipped_records: int = 0  # records in those blocks (they may still meet through another rule)


def rule_name(rule: list[str]) -> str:
    return " & ".join(rule)


def candidate_pairs(
    fields: pd.DataFrame, rules: list[list[str]], max_block_size: int
) -> tuple[np.ndarray, BlockingReport]:
    """Distinct candidate pairs as an ``(n, 2)`` array of row positions, ``left < right``.

    Cost: O(n) per rule to key the records plus the pairs it yields (at most ``max_block_size`` squared
    per block).
    """
    report = BlockingReport()
    codes: list[np.ndarray] = []
    n = len(fields)
    for rule in rules:
        pairs, skipped_blocks, skipped_records = _rule_pairs(fields, rule, max_block_size)
        report.pairs_per_rule[rule_name(rule)] = len(pairs)
        report.skipped_blocks += skipped_blocks
        report.skipped_records += skipped_records
        codes.append(pairs[:, 0].astype(np.int64) * n + pairs[:, 1])
    unique = np.unique(np.concatenate(codes)) if codes else np.empty(0, dtype=np.int64)
    report.pairs = len(unique)
    return np.column_stack([unique // max(n, 1), unique % max(n, 1)]), report


def rule_pairs(fields: pd.DataFrame, rule: list[str], max_block_size: int) -> np.ndarray:
    """The pairs one rule yields (``left < right``)."""
    return _rule_pairs(fields, rule, max_block_size)[0]


def _rule_pairs(fields: pd.DataFrame, rule: list[str], max_block_size: int) -> tuple[np.ndarray, int, int]:
    key = block_key(fields, rule)
    keyed = np.flatnonzero(key >= 0)
    sizes = np.bincount(key[keyed]) if len(keyed) else np.zeros(0, dtype=np.int64)
    too_big = sizes > max_block_size
    usable = keyed[(sizes[key[keyed]] >= 2) & ~too_big[key[keyed]]]
    if len(usable) == 0:
        return np.empty((0, 2), dtype=np.int64), int(too_big.sum()), int(sizes[too_big].sum())
    frame = pd.DataFrame({"block": key[usable], "row": usable})
    joined = frame.merge(frame, on="block", suffixes=("_l", "_r"))
    joined = joined[joined["row_l"] < joined["row_r"]]
    pairs = joined[["row_l", "row_r"]].to_numpy(dtype=np.int64)
    return pairs, int(too_big.sum()), int(sizes[too_big].sum())


def block_key(fields: pd.DataFrame, rule: list[str]) -> np.ndarray:
    """A dense code per record for its values of ``rule``'s fields; -1 when any is missing. ``fields``
    holds text (None or "" missing) or integer codes of the values (negative missing)."""
    codes, missing = [], np.zeros(len(fields), dtype=bool)
    for name in rule:
        column = fields[name]
        if pd.api.types.is_integer_dtype(column.dtype):
            code = column.to_numpy()
            missing |= code < 0
        else:
            code = pd.factorize(column)[0]
            missing |= (code < 0) | (column == "").fillna(False).to_numpy(dtype=bool)
        codes.append(code)
    if len(codes) == 1:
        key = pd.factorize(codes[0])[0]
    else:
        key = pd.factorize(np.ravel_multi_index(codes, [int(c.max()) + 2 for c in codes], mode="clip")
                           if _fits(codes) else pd.MultiIndex.from_arrays(codes))[0]  # fmt: skip
    return np.where(missing, -1, key)


def _fits(codes: list[np.ndarray]) -> bool:
    """Whether the combined codes fit one int64 (then one integer factorize beats a MultiIndex)."""
    return float(np.prod([float(c.max()) + 2 for c in codes])) < 2**62


def blocking_completeness(pairs: np.ndarray, truth: np.ndarray, linked: np.ndarray | None = None) -> float:
    """Share of true pairs (records with the same ``truth`` label) that reach scoring: candidate pairs,
    or pairs already joined by shared identifiers when ``linked`` (a component label per record) is given.
    Records whose truth label is missing (NaN or None) are left out.

    >>> blocking_completeness(np.array([[0, 1]]), np.array(["p1", "p1", "p1"]))
    0.3333333333333333
    """
    labels = pd.Series(truth)
    known = labels.notna().to_numpy()
    truth_codes = pd.factorize(labels)[0]
    total = _pairs_within(truth_codes[known])
    if total == 0:
        return 1.0
    left, right = pairs[:, 0], pairs[:, 1]
    true_pair = known[left] & (truth_codes[left] == truth_codes[right])
    if linked is None:
        return float(true_pair.sum()) / total
    joined = _pairs_within(pd.MultiIndex.from_arrays([truth_codes[known], linked[known]]).factorize()[0])
    outside = true_pair & (linked[left] != linked[right])
    return float(outside.sum() + joined) / total


def _pairs_within(codes: np.ndarray) -> int:
    counts = np.bincount(codes) if len(codes) else np.zeros(0, dtype=np.int64)
    return int((counts * (counts - 1) // 2).sum())


def crossed_blocks(fields: pd.DataFrame, rules: list[list[str]], max_block_size: int, new: np.ndarray) -> pd.DataFrame:
    """Members of the blocks that the ``new`` rows (a boolean per row) pushed over ``max_block_size``:
    their pairs were compared before and are skipped now. Columns ``row, block``. O(n) per rule."""
    parts = []
    for number, rule in enumerate(rules):
        key = block_key(fields, rule)
        keyed = key >= 0
        if not keyed.any():
            continue
        sizes = np.bincount(key[keyed])
        added = np.bincount(key[keyed & new], minlength=len(sizes))
        crossed = (sizes > max_block_size) & (sizes - added <= max_block_size)
        rows = np.flatnonzero(keyed & crossed[np.where(keyed, key, 0)])
        parts.append(pd.DataFrame({"row": rows, "block": [f"{number}:{k}" for k in key[rows]]}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({"row": [], "block": []})
