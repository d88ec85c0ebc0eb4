"""Placeholder identifiers over a whole column: :func:`ingest.normalise.is_placeholder` for a million keys.

One Arrow pass picks the keys that might be placeholders (a superset: a value from a placeholder list, an
email whose local part is a placeholder's or whose domain is reserved, a phone of one repeated digit, a
run of seven sequential digits or a very short one, an id ending in zeros or a long repeated digit, and
anything not plain ASCII or with whitespace to strip); only those few go through ``is_placeholder``, which decides. So the answer is
``is_placeholder``'s, value for value (a test holds them equal), at a fraction of a Python call per key.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.model import split_key
from ingest.normalise import _PLACEHOLDER_LOCAL_PARTS, _RESERVED_EMAIL_DOMAINS, PLACEHOLDER_VALUES, is_placeholder

__all__ = ["placeholder_keys"]

_LISTED = pa.array(sorted({v.lower() for values in PLACEHOLDER_VALUES.values() for v in values}), pa.string())
_LOCALS = "|".join(sorted((part.replace(".", r"\.") for part in _PLACEHOLDER_LOCAL_PARTS), key=len, reverse=True))
_DOMAINS = "|".join(d.replace(".", r"\.") for d in _RESERVED_EMAIL_DOMAINS)
_RUNS = "01234567890123456789"
_WINDOWS = sorted({run[k : k + 7] for run in (_RUNS, _RUNS[::-1]) for k in range(10)})
_SUSPECT = "|".join([
    rf"^email:.*(?:{_LOCALS})@",  # a placeholder local part (before the last @, so before some @)
    rf"^email:.*(?:{_DOMAINS})",  # a reserved domain, or one of its subdomains
    r"^phone:\+?\d{0,3}(?:" + "|".join(f"{d}+" for d in "0123456789") + ")$",  # one digit repeated
    r"^phone:.*(?:" + "|".join(_WINDOWS) + ")",  # seven sequential digits
    r"^phone:.{0,5}$",
    r"^[^:]*:[A-Za-z_\-]*(?:0+|" + "|".join(f"{d}{{6,}}" for d in "123456789") + ")$",  # zeros, long repeats
    r"^[^:]*:\s|\s$|[\x00-\x1f\x7f]",  # what strip() would take off first, and control characters
])  # fmt: skip


def placeholder_keys(keys: Sequence[str] | pa.Array) -> np.ndarray:
    """For identifier keys ``type:value``: whether each is a placeholder, as ``is_placeholder`` decides."""
    text = keys if isinstance(keys, pa.Array) else pa.array(list(keys), pa.string())
    if not len(text):
        return np.zeros(0, dtype=bool)
    value = pc.utf8_lower(pc.utf8_trim_whitespace(pc.replace_substring_regex(text, r"^[^:]*:", "", max_replacements=1)))
    maybe = pc.or_(pc.is_in(value, value_set=_LISTED), pc.match_substring_regex(text, _SUSPECT, ignore_case=True))
    maybe = pc.or_(maybe, pc.invert(pc.string_is_ascii(text)))
    suspects = np.flatnonzero(pc.fill_null(maybe, True).to_numpy(zero_copy_only=False))
    out = np.zeros(len(text), dtype=bool)
    found = text.take(pa.array(suspects, pa.int64())).to_pylist()
    out[suspects] = [key is not None and is_placeholder(*split_key(key)) for key in found]
    return out
