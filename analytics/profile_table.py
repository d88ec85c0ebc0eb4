"""The profile table: one row per profile with everything a segment rule reads (:mod:`analytics.segment_rules`),
built from the store in bulk, so a rule is evaluated over columns, not profile by profile.

Columns are named as rules name them: ``profile.size``, ``attributes.NAME`` (the golden value, chosen as
:func:`resolve.survivorship.golden_attributes` chooses it), ``traits.NAME`` (:func:`analytics.traits.profile_traits`),
``consent.PURPOSE`` (the latest statement is a grant, as :func:`resolve.consent.consent_of` decides) and
``identifiers.TYPE`` (distinct identifiers resolution uses). Events stay a table of their own
(``profile_id, type, ts, sku``) for the rule functions that count them in a window. Cost: one read of the
records, the links and the events, O(n log n) in them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from analytics.traits import profile_traits
from graph.model import USABLE_STATUSES
from graph.store import GraphStore
from resolve.consent import PURPOSES

__all__ = ["ProfileTable", "build_profile_table", "golden_columns", "consent_columns"]

TRAITS = ("frequency", "monetary", "recency_days", "events", "top_category")
_LEGACY = {"email_opt_in": "email"}
_GRANTED = {"true": True, "false": False}


#: the profiles most like a segment's members: (segment name, how many) -> their ids
LookalikeFn = Callable[[str, int], set[str]]


@dataclass
class ProfileTable:
    profiles: pd.DataFrame  # index: profile_id (sorted); columns as rules name them
    events: pd.DataFrame  # profile_id, type, ts (UTC timestamps, NaT when unreadable), sku
    as_of: datetime  # traits and windows are counted back from here
    lookalike: LookalikeFn | None = None  # set by who knows the segments and the embeddings (api.segments)
    _event_rows: np.ndarray | None = field(default=None, repr=False)

    def event_rows(self) -> np.ndarray:
        """Per event, the row of its profile in ``profiles`` (-1: not there), found once: a rule function then
        marks or counts rows instead of looking a million profile ids up in an index of strings."""
        if self._event_rows is None:
            index = pd.Index(self.profiles.index.to_numpy(dtype=object))
            column = self.events["profile_id"]
            if isinstance(column.dtype, pd.CategoricalDtype):
                found = index.get_indexer(column.cat.categories.to_numpy(dtype=object))
                codes = column.cat.codes.to_numpy()
                self._event_rows = np.where(codes >= 0, found[codes], -1)
            else:
                self._event_rows = index.get_indexer(column.to_numpy(dtype=object))
        return self._event_rows


def build_profile_table(store: GraphStore, as_of: datetime) -> ProfileTable:
    """The table of every resolved profile of ``store``, traits as of ``as_of``."""
    records = store.profile_record_rows()
    sizes = records.groupby("profile_id").size()
    table = pd.DataFrame({"profile.size": sizes.astype("int64")})
    table.index = table.index.astype(str)
    table.index.name = "profile_id"
    values = _attribute_values(records)
    table = table.join(golden_columns(values)).join(consent_columns(values))
    counts = store.profile_identifier_counts(sorted(USABLE_STATUSES))
    if len(counts):
        wide = counts.pivot_table(index="profile_id", columns="type", values="n", aggfunc="sum", fill_value=0)
        wide.columns = [f"identifiers.{c}" for c in wide.columns]
        table = table.join(wide.astype("int64"))
    raw_events = store.profile_events()
    traits = profile_traits(raw_events, as_of) if len(raw_events) else pd.DataFrame()
    for name in TRAITS:
        column = traits[name] if name in traits else pd.Series(dtype=object)
        table[f"traits.{name}"] = column.reindex(table.index)
    for name in ("frequency", "events"):
        table[f"traits.{name}"] = table[f"traits.{name}"].fillna(0).astype("int64")
    table["traits.monetary"] = table["traits.monetary"].astype("float64").fillna(0.0)
    for column in table.columns:
        if column.startswith("identifiers."):
            table[column] = table[column].fillna(0).astype("int64")
        elif column.startswith("consent."):
            table[column] = table[column].fillna(False).astype(bool)
    return ProfileTable(table.sort_index(), _events(raw_events), as_of)


def _attribute_values(records: pd.DataFrame) -> pd.DataFrame:
    """``profile_id, source, seen_at, name, value``: one row per attribute value a record holds (empty values
    left out), in record order. The records' JSON is parsed in one pass by Arrow's reader (16x faster than
    ``json.loads`` per record at 1M records); attributes that are not all text are parsed as before."""
    records = records.reset_index(drop=True)
    parsed = _parse_attributes(records["attributes"])
    if parsed is None:
        return _attribute_values_per_record(records)
    rows, names, values = [], [], []
    for name, column in zip(parsed.column_names, parsed.columns, strict=True):
        column = column.combine_chunks()
        kept = np.flatnonzero(pc.fill_null(pc.not_equal(column, ""), False).to_numpy(zero_copy_only=False))
        rows.append(kept)
        names.append(pa.array(np.full(len(kept), name, dtype=object), pa.string()))
        values.append(column.take(kept))
    row = np.concatenate(rows) if rows else np.array([], dtype=np.int64)
    order = pa.array(np.argsort(row, kind="stable"))  # record order, each record's attributes as parsed
    at = pa.array(row[order.to_numpy()])
    return pd.DataFrame({"profile_id": pd.Series(_column(records, "profile_id").take(at)),
                         "source": pd.Series(_column(records, "source").take(at)),
                         "seen_at": pd.Series(pc.fill_null(_column(records, "seen_at"), "").take(at)),
                         "name": pd.Series(pa.chunked_array(names, pa.string()).take(order)),
                         "value": pd.Series(pa.chunked_array(values, pa.string()).take(order))})  # fmt: skip


def _column(records: pd.DataFrame, name: str) -> pa.Array:
    return pa.array(records[name], pa.string(), from_pandas=True)


def _parse_attributes(texts: pd.Series) -> pa.Table | None:
    """The attribute objects (JSON text, one per record) as one table, a text column per name; None when a
    value is not text (a number, a list, an object), which Arrow would not read as a string."""
    text = pa.array(texts, pa.large_string(), from_pandas=True)
    text = pc.if_else(pc.fill_null(pc.equal(text, ""), True), pa.scalar("{}", pa.large_string()), text)
    newline = pa.scalar("\n", pa.large_string())
    lines = pc.binary_join_element_wise(text, pa.scalar("", pa.large_string()), newline)
    offsets = np.frombuffer(lines.buffers()[1], np.int64)[lines.offset : lines.offset + len(lines) + 1]
    if not len(lines):
        return None
    data = memoryview(lines.buffers()[2])[int(offsets[0]) : int(offsets[-1])]
    block = pa_json.ReadOptions(block_size=max(1 << 24, int(np.diff(offsets).max()) + 1))
    try:
        names = pa_json.read_json(pa.BufferReader(data), read_options=block).column_names
        as_text = pa_json.ParseOptions(explicit_schema=pa.schema([(n, pa.string()) for n in names]))
        table = pa_json.read_json(pa.BufferReader(data), read_options=block, parse_options=as_text)
    except pa.ArrowInvalid:
        return None
    return table if table.num_rows == len(texts) else None


def _attribute_values_per_record(records: pd.DataFrame) -> pd.DataFrame:
    """:func:`_attribute_values` with each record's JSON parsed by ``json`` (values of any type, as text)."""
    parsed = [json.loads(text) if isinstance(text, str) and text else {} for text in records["attributes"]]
    wide = pd.DataFrame.from_records(parsed, index=records.index)
    long = wide.stack(future_stack=True).dropna()
    text = long.astype(str)
    text = text[text != ""]
    rows = text.index.get_level_values(0).to_numpy()
    return pd.DataFrame({"profile_id": records["profile_id"].to_numpy()[rows],
                         "source": records["source"].to_numpy()[rows],
                         "seen_at": records["seen_at"].fillna("").to_numpy()[rows],
                         "name": text.index.get_level_values(1).astype(str),
                         "value": text.to_numpy()})  # fmt: skip


def golden_columns(values: pd.DataFrame) -> pd.DataFrame:
    """Per profile and attribute, the value :func:`resolve.survivorship.golden_attributes` chooses: the most
    frequent, ties to the most recently seen, then the greatest value. Columns ``attributes.NAME``."""
    kept = values[~values["name"].str.startswith("consent_") & ~values["name"].isin(list(_LEGACY))]
    if kept.empty:
        return pd.DataFrame(index=pd.Index([], name="profile_id"))
    tally = kept.groupby(["profile_id", "name", "value"], sort=False).agg(
        n=("seen_at", "size"), seen=("seen_at", "max")
    )
    tally = tally.reset_index().sort_values(["profile_id", "name", "n", "seen", "value"],
                                            ascending=[True, True, False, False, False])  # fmt: skip
    best = tally.drop_duplicates(["profile_id", "name"])
    wide = best.pivot(index="profile_id", columns="name", values="value")
    wide.columns = [f"attributes.{c}" for c in wide.columns]
    return wide


def consent_columns(values: pd.DataFrame) -> pd.DataFrame:
    """Per profile and purpose, whether its latest statement is a grant (as :func:`resolve.consent.consent_of`:
    a statement's time is its ``consent_P_at`` value or its record's ``seen_at``; ties by source, then a
    withdrawal before a grant). Columns ``consent.PURPOSE`` (False when never stated)."""
    names = values["name"]
    purpose = names.map(_LEGACY).fillna(names.str.removeprefix("consent_").where(names.str.startswith("consent_")))
    said = values[purpose.isin(PURPOSES).to_numpy() & values["value"].str.lower().isin(list(_GRANTED)).to_numpy()]
    out = pd.DataFrame(index=pd.Index(sorted(values["profile_id"].unique()), name="profile_id"))
    if said.empty:
        for p in PURPOSES:
            out[f"consent.{p}"] = False
        return out
    said = said.assign(purpose=purpose[said.index], granted=said["value"].str.lower().map(_GRANTED))
    at_values = values[names.str.endswith("_at") & names.str.startswith("consent_")]
    at = at_values.assign(purpose=at_values["name"].str.removeprefix("consent_").str.removesuffix("_at"))
    stamp = at.drop_duplicates(["profile_id", "source", "seen_at", "purpose"], keep="last").set_index(
        ["profile_id", "source", "seen_at", "purpose"])["value"]  # fmt: skip
    key = pd.MultiIndex.from_frame(said[["profile_id", "source", "seen_at", "purpose"]])
    said = said.assign(at=stamp.reindex(key).to_numpy())
    said["at"] = said["at"].where(said["at"].notna(), said["seen_at"])
    latest = said.sort_values(["profile_id", "purpose", "at", "source", "granted"]).drop_duplicates(
        ["profile_id", "purpose"], keep="last")  # fmt: skip
    wide = latest.pivot(index="profile_id", columns="purpose", values="granted")
    for p in PURPOSES:
        out[f"consent.{p}"] = wide[p].reindex(out.index).fillna(False).astype(bool) if p in wide else False
    return out


def _events(raw: pd.DataFrame) -> pd.DataFrame:
    if raw.empty:
        return pd.DataFrame({"profile_id": pd.Series(dtype=str), "type": pd.Series(dtype=str),
                             "ts": pd.Series(dtype="datetime64[ns, UTC]"), "sku": pd.Series(dtype=object)})  # fmt: skip
    texts = raw["properties"].astype(str)
    skus = {text: _sku(text) for text in texts.unique()}  # each distinct properties text parsed once
    properties = texts.map(skus)
    return pd.DataFrame({  # categorical: a rule compares codes, not a million strings
        "profile_id": pd.Categorical(raw["profile_id"].astype(str).to_numpy()),
        "type": pd.Categorical(raw["type"].astype(str).to_numpy()),
        "ts": pd.to_datetime(raw["ts"], format="ISO8601", utc=True, errors="coerce").to_numpy(),
        "sku": pd.Categorical(properties.to_numpy(dtype=object)),
    })  # fmt: skip


def _sku(text: str) -> str | None:
    try:
        value = json.loads(text).get("sku")
    except (ValueError, AttributeError):
        return None
    return None if value is None else str(value)
