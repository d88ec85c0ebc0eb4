"""Comparable fields of records: their attributes, and values derived from their identifiers.

A field is lower-cased text, None where missing. Attributes come from the records' JSON; a card name
(``full_name``) stands in for a missing first and last name. Two fields come from identifiers, for
comparisons only (equal identifiers already link records): ``national_id`` (so a typo'd id still
counts as near agreement) and ``email_local``, an email's local part (``j.smith`` of ``j.smith@gmail.com``
and ``j.smith@yahoo.com``). Junk values are no evidence and are left out: placeholders such as ``n/a`` or
``unknown`` in attributes, placeholder identifiers such as ``noemail@x.com``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from graph.frames import among
from ingest.normalise import PLACEHOLDER_VALUES
from ingest.placeholders import placeholder_keys

#: field -> identifier type it is read from
IDENTIFIER_FIELDS = {"national_id": "national_id", "email_local": "email"}
_JUNK = pa.array(sorted(PLACEHOLDER_VALUES["*"]), pa.string())


def record_fields(attributes: pd.DataFrame, names: list[str], identifiers: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per record (index: record key), one column per field: lower-cased text or None.

    ``attributes`` has columns ``record, attributes`` (JSON objects, as the store keeps them);
    ``identifiers`` (``record, identifier`` keys ``type:value``) gives the fields of
    :data:`IDENTIFIER_FIELDS` that no attribute of that name provides. O(records + links).
    """
    table = _parse_objects(attributes["attributes"])
    columns: dict[str, pa.ChunkedArray] = {}
    for name in table.column_names:
        text = pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(table[name], pa.string())))
        junk = pc.or_(pc.equal(text, ""), pc.is_in(text, value_set=_JUNK))
        columns[name] = pc.if_else(junk, pa.scalar(None, pa.string()), text)
    if "full_name" in columns:  # a card name stands in for first and last name
        words = pc.split_pattern_regex(columns["full_name"], r"\s+")
        for name, pick in (("first_name", pc.list_element(words, 0)), ("last_name", _last_word(words))):
            columns[name] = pc.coalesce(columns[name], pick) if name in columns else pick
    index = attributes["record"].to_numpy()
    # object columns, None where missing, whatever fields are asked for (pandas would make text columns of NaN)
    frame = pd.DataFrame({name: _objects(columns.get(name), len(index)) for name in names}, index=index, dtype=object)
    derived = [n for n in names if n in IDENTIFIER_FIELDS and n not in columns]
    if derived and identifiers is not None:
        for name in derived:
            frame[name] = identifier_field(identifiers, name).reindex(frame.index).to_numpy(dtype=object)
        frame = frame.replace({np.nan: None})
    return frame


def identifier_field(identifiers: pd.DataFrame, name: str) -> pd.Series:
    """Per record holding one, the value of field ``name`` read from its identifiers (the smallest when it
    holds several); placeholders are left out. O(links of the field's type).

    >>> links = pd.DataFrame({"record": ["a", "b", "b"],
    ...                       "identifier": ["email:J.Smith@gmail.com", "email:noemail@shop.com", "phone:+44"]})
    >>> identifier_field(links, "email_local").to_dict()
    {'a': 'j.smith'}
    """
    id_type = IDENTIFIER_FIELDS[name]
    held = identifiers[identifiers["identifier"].str.startswith(f"{id_type}:")]
    values = held["identifier"].str.slice(len(id_type) + 1)
    distinct = pd.unique(values)
    distinct = [v for v in distinct.tolist() if isinstance(v, str)]
    junk = [v for v, bad in zip(distinct, placeholder_keys([f"{id_type}:{v}" for v in distinct]), strict=True) if bad]
    keep = ~among(values, junk)
    values = values[keep].str.lower()
    if id_type == "email":
        values = values.str.replace(r"@[^@]*$", "", regex=True)
    values = values[values != ""]
    return (
        pd.Series(values.to_numpy(), index=held.loc[keep, "record"].to_numpy())
        .loc[lambda v: v.notna()]
        .groupby(level=0)
        .min()
    )


def _objects(column: pa.ChunkedArray | None, n: int) -> np.ndarray:
    """Python strings, None where missing."""
    if column is None:
        return np.full(n, None, dtype=object)
    values = column.to_numpy(zero_copy_only=False).astype(object)
    values[pd.isna(values)] = None
    return values


def _parse_objects(texts: pd.Series) -> pa.Table:
    """JSON objects (one per record, None or "" for none) as one Arrow table, parsed in C++."""
    if len(texts) == 0:
        return pa.table({})
    lines = texts.fillna("").replace("", "{}").astype(str)
    buffer = ("\n".join(lines.tolist()) + "\n").encode()
    options = pa_json.ReadOptions(block_size=max(1 << 20, len(buffer) + 1))
    return pa_json.read_json(pa.BufferReader(buffer), read_options=options)


def _last_word(words: pa.ChunkedArray) -> pa.ChunkedArray:
    lengths = pc.list_value_length(words)
    flat = pc.list_flatten(words)
    ends = pc.subtract(pc.cumulative_sum(pc.fill_null(lengths, 0)), 1)
    return pc.take(flat, pc.if_else(pc.greater(lengths, 0), ends, pa.scalar(None, pa.int64())))
