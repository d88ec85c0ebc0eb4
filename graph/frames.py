"""Column operations every layer shares that pandas does slowly on its Arrow-backed text.

pandas 3 keeps text as Arrow strings, and its ``isin`` on them turns every wanted value into an Arrow
scalar in Python (~3 us a value: 2 s when a resolve of 100k records asks which links belong to its
records); :func:`among` hands the whole set to Arrow's hash kernel instead.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["among"]


def among(column: pd.Series | pd.Index, values: Iterable[object]) -> np.ndarray:
    """``column.isin(values)`` as a boolean array; a text column's by Arrow's ``is_in``.

    >>> among(pd.Series(["a", "b", None], dtype="str"), pd.Index(["b", "c"]))
    array([False,  True, False])
    """
    if not isinstance(column.dtype, pd.StringDtype):
        return np.asarray(column.isin(values if not isinstance(values, set | frozenset) else list(values)), bool)
    wanted = values if isinstance(values, pd.Series | pd.Index | np.ndarray | list) else list(values)
    try:
        value_set = pa.array(wanted, pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # values that are not text: pandas decides
        return np.asarray(column.isin(wanted), bool)
    found = pc.is_in(pa.array(column, pa.string(), from_pandas=True), value_set=value_set)
    return found.to_numpy(zero_copy_only=False).astype(bool)
