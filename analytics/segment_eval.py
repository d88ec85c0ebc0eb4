"""Which profiles a segment rule holds: a parsed rule (:mod:`analytics.segment_rules`) evaluated over the
columns of a :class:`analytics.profile_table.ProfileTable`, vectorised. O(profiles x conditions), plus the
events for ``events()`` and ``purchased()``.

Semantics, profile by profile:

- a field the profile lacks is null; ``= null`` and ``!= null`` test for it;
- a comparison with a null is false, and ``a != b`` is ``not (a = b)``: a customer without a city is not
  in London, so ``attributes.city != "London"`` holds for them;
- text compares as text; a number with text (attributes are text) compares the text read as a number, and is
  false where it is not one;
- a value on its own is true when set and not false, zero or empty.
"""

from __future__ import annotations

import operator
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from analytics.profile_table import ProfileTable
from analytics.segment_rules import Node, window_hours
from graph.errors import InvalidRequest

__all__ = ["evaluate"]

_OPS = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def evaluate(rule: Node, table: ProfileTable) -> pd.Series:
    """A boolean per profile of ``table`` (indexed by profile id): whether the rule holds."""
    return pd.Series(_truth(rule, table), index=table.profiles.index, name="member")


def _truth(node: Node, table: ProfileTable) -> np.ndarray:
    if node.kind == "or":
        return np.logical_or.reduce([_truth(p, table) for p in node.parts])
    if node.kind == "and":
        return np.logical_and.reduce([_truth(p, table) for p in node.parts])
    if node.kind == "not":
        return ~_truth(node.parts[0], table)
    if node.kind == "compare":
        if node.op == "!=":
            return ~_compare("=", node.parts[0], node.parts[1], table)
        return _compare(node.op, node.parts[0], node.parts[1], table)
    if node.kind == "member":
        values = _value(node.parts[0], table)
        found = np.zeros(len(table.profiles), dtype=bool)
        for literal in node.value:
            found |= _equal(values, literal)
        return found
    return _truthy(_value(node, table), len(table.profiles))


def _compare(op: str, left: Node, right: Node, table: ProfileTable) -> np.ndarray:
    a, b = _value(left, table), _value(right, table)
    if isinstance(a, pd.Series) and not isinstance(b, pd.Series) and op == "=":
        return _equal(a, b)
    if isinstance(b, pd.Series) and not isinstance(a, pd.Series) and op == "=":
        return _equal(b, a)
    if isinstance(a, pd.Series) and not isinstance(b, pd.Series):
        return _ordered(a, b, _OPS[op])
    if isinstance(b, pd.Series) and not isinstance(a, pd.Series):
        flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
        return _ordered(b, a, _OPS[flipped])
    n = len(table.profiles)
    if not isinstance(a, pd.Series):  # two literals
        return np.full(n, bool(a is not None and b is not None and _OPS[op](a, b)) if op != "=" else a == b)
    both = a.notna() & b.notna()
    left, right = _aligned(a, b)
    with np.errstate(invalid="ignore"):
        result = _OPS[op](left, right)
    return (both & result.fillna(False).astype(bool)).to_numpy()


def _aligned(a: pd.Series, b: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Two columns made comparable: as numbers when either is, else as text."""
    if pd.api.types.is_numeric_dtype(a) or pd.api.types.is_numeric_dtype(b):
        return pd.to_numeric(a, errors="coerce"), pd.to_numeric(b, errors="coerce")
    return a.astype(object), b.astype(object)


def _equal(column: Any, literal: Any) -> np.ndarray:
    if literal is None:
        return column.isna().to_numpy()
    if isinstance(literal, bool):
        return (column.astype(object) == literal).to_numpy() & column.notna().to_numpy()
    if isinstance(literal, int | float):
        return (pd.to_numeric(column, errors="coerce") == literal).fillna(False).to_numpy(dtype=bool)
    return (column.astype(object) == literal).to_numpy(dtype=bool)


def _ordered(column: pd.Series, literal: Any, op: Any) -> np.ndarray:
    if literal is None or isinstance(literal, bool):
        return np.zeros(len(column), dtype=bool)
    if isinstance(literal, int | float):
        numbers = pd.to_numeric(column, errors="coerce")
        with np.errstate(invalid="ignore"):
            return op(numbers, literal).fillna(False).to_numpy(dtype=bool)
    text = column.astype(object)
    present = text.notna() & text.map(lambda v: isinstance(v, str))
    out = np.zeros(len(column), dtype=bool)
    out[present.to_numpy()] = [bool(op(v, literal)) for v in text[present]]
    return out


def _truthy(value: Any, n: int) -> np.ndarray:
    if not isinstance(value, pd.Series):
        return np.full(n, bool(value))
    if pd.api.types.is_bool_dtype(value):
        return value.to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(value):
        return (value.fillna(0) != 0).to_numpy(dtype=bool)
    text = value.astype(object)
    return (text.notna() & (text != "") & (text != False)).to_numpy(dtype=bool)  # noqa: E712


def _value(node: Node, table: ProfileTable) -> Any:
    if node.kind == "literal":
        return node.value
    if node.kind == "path":
        profiles = table.profiles
        if node.op in profiles:
            return profiles[node.op]
        if node.op.startswith("identifiers."):
            return pd.Series(0, index=profiles.index, dtype="int64")
        if node.op.startswith("consent."):
            return pd.Series(False, index=profiles.index, dtype=bool)
        return pd.Series(None, index=profiles.index, dtype=object)
    if node.kind == "call":
        return _call(node, table)
    return pd.Series(_truth(node, table), index=table.profiles.index)


def _call(node: Node, table: ProfileTable) -> pd.Series:
    if node.op == "lookalike":
        if table.lookalike is None:
            raise InvalidRequest("lookalike() needs the segments and the embeddings: evaluate it through a segment")
        held = table.lookalike(node.value["segment"], int(node.value["size"]))
        return pd.Series(table.profiles.index.isin(list(held)), index=table.profiles.index)
    events = table.events
    kept = np.ones(len(events), dtype=bool)
    within = node.value.get("within")
    if within is not None:
        since = pd.Timestamp(table.as_of) - timedelta(hours=window_hours(within) or 0)
        stamps = events["ts"]
        kept &= ((stamps >= since) & (stamps <= pd.Timestamp(table.as_of))).fillna(False).to_numpy(dtype=bool)
    rows = table.event_rows()
    kept &= rows >= 0
    if node.op == "purchased":
        kept &= (events["type"] == "purchase").to_numpy()
        if "sku" in node.value:
            kept &= (events["sku"] == node.value["sku"]).fillna(False).to_numpy(dtype=bool)
        held = np.zeros(len(table.profiles), dtype=bool)
        held[rows[kept]] = True
        return pd.Series(held, index=table.profiles.index)
    if "type" in node.value:
        kept &= (events["type"] == node.value["type"]).to_numpy()
    counts = np.bincount(rows[kept], minlength=len(table.profiles))
    return pd.Series(counts.astype("int64"), index=table.profiles.index)
