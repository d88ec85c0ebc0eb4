"""The oracle ceiling of a resolution: pairwise F1 when records are linked only on evidence that exists.

    python -m bench.oracle --truth truth.csv [--data-dir DIR] [--json] [--clusters OUT.parquet]   # after `cdp ingest`

It reads the normalised records a ``cdp ingest`` stored and, knowing the truth, links two records of the
same true person when they share real evidence:

(a) an identifier that is not a placeholder (``ingest.normalise.is_placeholder``) and that no record of
    another person holds (a family email is no evidence for one person);
(b) compatible names (below) and at least one other attribute equal: ``birth_date`` (not the placeholder
    1900-01-01), ``postcode`` or ``street``, as normalised by ingest (case and spaces aside);
(c) compatible names, one of the two records holds nothing but a name (and where it is: postcode, city,
    region, country; or gender, opt-in), and no other true person has a name compatible with it.

Names are compatible when the last names are equal after :func:`ingest.normalise.name_key` or one edit
apart (an adjacent swap counts as one edit), and the first names are equal, one edit apart, one an initial
of the other, or nicknames by the ``nicknames`` package (one a nickname of the other, or both of one name:
Bob and Rob). A card's
``full_name`` stands in for first and last name (its first and last word), as resolution reads it.

Profiles are the connected components of those links, within each person by construction, so precision
is 1 and the F1 is a ceiling: what a resolver that never merges strangers could reach from the evidence
alone. Records the truth does not name are left out. The core (:func:`oracle`) takes plain frames;
:func:`read_store` reads them from a store.

>>> first_names_compatible("g", "gemma"), first_names_compatible("g", "james"), last_names_compatible("smith", "simth")
(True, False, True)
"""

from __future__ import annotations

import argparse
import json
import os
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz.distance import OSA
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from analytics.quality import Evaluation, evaluate, load_truth
from ingest.normalise import is_placeholder, name_key

__all__ = [
    "Oracle",
    "evidence_table",
    "first_names_compatible",
    "identifiable",
    "last_names_compatible",
    "oracle",
    "read_store",
]

NAME_FIELDS = frozenset({"first_name", "middle_name", "last_name", "full_name"})
#: attributes that, beside a name, leave a record "a name" (where it is, what it consented to)
NOT_EVIDENCE = frozenset({"postcode", "city", "region", "country", "gender", "email_opt_in"})
#: attributes of which one equal value, with compatible names, links two records (rule b)
SUPPORTING = ("birth_date", "postcode", "street")
#: values a form fills in when the customer gave none: equal, they are no evidence
PLACEHOLDER_VALUES = {"birth_date": frozenset({"1900-01-01"})}
RULES = ("identifier", "name_and_attribute", "identifiable_name")


@dataclass(frozen=True)
class Oracle:
    """The ceiling's profiles, their scores, and how many record pairs each rule linked."""

    clusters: pd.Series  # record key -> cluster id
    evaluation: Evaluation
    linked_by: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"evaluation": self.evaluation.to_dict(), "linked_by": self.linked_by}


# ---- names ---------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _nicknamer() -> Any:
    try:
        from nicknames import NickNamer
    except ImportError:
        raise ImportError("the oracle reads nickname pairs from the nicknames package: pip install nicknames") from None
    return NickNamer()


@lru_cache(maxsize=200_000)
def _one_edit(a: str, b: str) -> bool:
    return OSA.distance(a, b, score_cutoff=1) <= 1


@lru_cache(maxsize=200_000)
def _nickname_pair(a: str, b: str) -> bool:
    namer = _nicknamer()  # one a nickname of the other, or both nicknames of one name (Bob and Rob, Robert)
    return (
        b in namer.nicknames_of(a)
        or a in namer.nicknames_of(b)
        or bool(namer.canonicals_of(a) & namer.canonicals_of(b))
    )


def last_names_compatible(a: str, b: str) -> bool:
    """Equal or one edit apart (both already :func:`name_key` keys)."""
    return a == b or _one_edit(a, b)


def first_names_compatible(a: str, b: str) -> bool:
    """Equal, one an initial of the other, one edit apart, or a nickname pair (``bill``, ``william``)."""
    if a == b:
        return True
    if len(a) == 1 or len(b) == 1:  # an initial matches its own letter only ("g" is one edit from "j" too)
        return a[0] == b[0]
    return _one_edit(a, b) or _nickname_pair(a, b)


def names_compatible(first_a: str, last_a: str, first_b: str, last_b: str) -> bool:
    return last_names_compatible(last_a, last_b) and first_names_compatible(first_a, first_b)


# ---- the records' evidence -----------------------------------------------------------------------


def _names(values: dict[str, Any]) -> tuple[str | None, str | None]:
    first, last = (name_key(str(values.get(k) or "")) or None for k in ("first_name", "last_name"))
    words = name_key(str(values.get("full_name") or "")).split()
    if words:  # a card name stands in for what the record lacks
        first = first or words[0]
        last = last or (words[-1] if len(words) > 1 else None)
    return first, last


def _evidence_row(text: object) -> dict[str, Any]:
    values = (
        {k: v for k, v in json.loads(text).items() if v not in (None, "")} if isinstance(text, str) and text else {}
    )
    first, last = _names(values)
    row: dict[str, Any] = {"first": first, "last": last}
    for name in SUPPORTING:
        value = values.get(name)
        text = " ".join(str(value).casefold().split()) if value is not None else None
        row[name] = None if text in PLACEHOLDER_VALUES.get(name, ()) else text
    row["name_only"] = first is not None and last is not None and not set(values) - NAME_FIELDS - NOT_EVIDENCE
    return row


def evidence_table(attributes: pd.DataFrame, truth: pd.Series) -> pd.DataFrame:
    """One row per record the truth names (index: record key): ``person``, name keys ``first`` and
    ``last``, the ``SUPPORTING`` attributes (case-folded) and ``name_only``. ``attributes`` has columns
    ``record, attributes`` (a JSON object per record, as the store keeps them). O(records)."""
    known = attributes[attributes["record"].isin(truth.index)]
    rows = pd.DataFrame([_evidence_row(text) for text in known["attributes"]], index=known["record"].to_numpy())
    columns = ["first", "last", *SUPPORTING, "name_only"]
    rows = rows.reindex(columns=columns).astype(object).where(rows.notna(), None)
    rows["name_only"] = rows["name_only"].fillna(False).astype(bool)
    rows.insert(0, "person", truth.reindex(rows.index).to_numpy())
    return rows


# ---- the rules -------------------------------------------------------------------------------------


def identifier_links(links: pd.DataFrame, truth: pd.Series) -> pd.DataFrame:
    """Rule (a): pairs ``a, b`` joined by a non-placeholder identifier no other person holds (each holder
    joined to the first one: a star has the same components as every pair). O(links)."""
    frame = links[links["record"].isin(truth.index)].drop_duplicates(["record", "identifier"])
    kind, _, value = (frame["identifier"].str.partition(":")[c] for c in (0, 1, 2))
    placeholder = [is_placeholder(k, v) for k, v in zip(kind, value, strict=True)]
    frame = frame[~np.asarray(placeholder, dtype=bool)].assign(person=lambda f: truth.reindex(f["record"]).to_numpy())
    held = frame.groupby("identifier")["person"].agg(["nunique", "size"])
    own = held.index[(held["nunique"] == 1) & (held["size"] > 1)]
    frame = frame[frame["identifier"].isin(own)].sort_values(["identifier", "record"])
    frame["hub"] = frame.groupby("identifier")["record"].transform("first")
    return pd.DataFrame({"a": frame["hub"], "b": frame["record"]})[lambda f: f["a"] != f["b"]].reset_index(drop=True)


def _within_one_edit(values: list[str]) -> dict[str, list[str]]:
    """Each value -> the values equal or one edit from it, found through shared one-deletion keys."""
    by_key: dict[str, set[str]] = defaultdict(set)
    for value in values:
        for key in {value, *(value[:i] + value[i + 1 :] for i in range(len(value)))}:
            by_key[key].add(value)
    near: dict[str, set[str]] = defaultdict(set)
    for group in by_key.values():
        for value in group:
            near[value].update(other for other in group if last_names_compatible(value, other))
    return {value: sorted(near[value]) for value in values}


def identifiable(table: pd.DataFrame) -> pd.Series:
    """Per named record of ``table`` (``evidence_table``): no record of another person has a compatible
    name. O(records x namesakes within one edit of the last name)."""
    named = table.dropna(subset=["first", "last"])
    people: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for first, last, person in zip(named["first"], named["last"], named["person"], strict=True):
        people[last].add((first, person))
    near = _within_one_edit(sorted(people))

    def alone(first: str, last: str, person: str) -> bool:
        return not any(
            p != person and first_names_compatible(first, f) for other in near[last] for f, p in people[other]
        )

    flags = [alone(f, la, p) for f, la, p in zip(named["first"], named["last"], named["person"], strict=True)]
    return pd.Series(flags, index=named.index, dtype=bool)


def _pairs_within_people(table: pd.DataFrame) -> pd.DataFrame:
    named = table.dropna(subset=["first", "last"]).rename_axis("record").reset_index()
    pairs = named.merge(named, on="person", suffixes=("_a", "_b"))
    return pairs[pairs["record_a"] < pairs["record_b"]].reset_index(drop=True)


def name_links(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Rules (b) and (c): pairs ``a, b`` of one person's records with compatible names and an equal
    supporting attribute, or with a record that is a name alone and no one else's. O(sum of people^2)."""
    pairs = _pairs_within_people(table.assign(identifiable=identifiable(table)))
    names = zip(pairs["first_a"], pairs["last_a"], pairs["first_b"], pairs["last_b"], strict=True)
    compatible = np.fromiter((names_compatible(*four) for four in names), dtype=bool, count=len(pairs))
    agree = np.zeros(len(pairs), dtype=bool)
    for name in SUPPORTING:
        agree |= (pairs[f"{name}_a"].notna() & (pairs[f"{name}_a"] == pairs[f"{name}_b"])).to_numpy()
    alone = (
        (pairs["name_only_a"] & pairs["identifiable_a"]) | (pairs["name_only_b"] & pairs["identifiable_b"])
    ).to_numpy()
    ends = pairs[["record_a", "record_b"]].set_axis(["a", "b"], axis=1)
    return {
        "name_and_attribute": ends[compatible & agree].reset_index(drop=True),
        "identifiable_name": ends[compatible & ~agree & alone.astype(bool)].reset_index(drop=True),
    }


# ---- profiles and scores ----------------------------------------------------------------------------


def components(records: pd.Index, edges: pd.DataFrame) -> pd.Series:
    """Record -> component number of the graph ``edges`` (``a, b``) over ``records``. O(n + m)."""
    position = pd.Series(np.arange(len(records)), index=records)
    a, b = position.reindex(edges["a"]).to_numpy(), position.reindex(edges["b"]).to_numpy()
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(len(records), len(records)))
    _, labels = connected_components(graph, directed=False)
    return pd.Series(labels, index=records, name="cluster")


def oracle(records: pd.Series, links: pd.DataFrame, attributes: pd.DataFrame, truth: pd.Series) -> Oracle:
    """The ceiling over the ``records`` (keys) the truth names. ``links``: ``record, identifier`` (key
    ``type:value``); ``attributes``: ``record, attributes`` (JSON objects); ``truth``: person per record."""
    keys = pd.Index(pd.unique(records.astype(str)))
    keys = keys[keys.isin(truth.index)]
    table = evidence_table(attributes, truth).reindex(keys)
    table["person"] = truth.reindex(keys).to_numpy()
    table["name_only"] = table["name_only"].fillna(False).astype(bool)
    found = {"identifier": identifier_links(links, truth), **name_links(table)}
    clusters = components(keys, pd.concat(list(found.values()), ignore_index=True))
    return Oracle(clusters, evaluate(clusters, truth), {rule: len(found[rule]) for rule in RULES})


def read_store(data_dir: Path) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
    """Record keys, ``record_links()`` and ``record_attributes()`` of the store in ``data_dir`` (the
    store kind from ``CDP_STORE``, as the CLI reads it)."""
    from graph.settings import Settings, open_store

    store = open_store(Settings(data_dir=data_dir))
    try:
        return store.record_keys()["record"], store.record_links(), store.record_attributes()
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="The oracle ceiling of a data set ingested by cdp.")
    parser.add_argument("--truth", required=True, help="source,record_id,person_id CSV")
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("CDP_DATA_DIR", ".cdp")))
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    parser.add_argument("--clusters", type=Path, metavar="OUT", help="write record,cluster (Parquet)")
    args = parser.parse_args()
    result = oracle(*read_store(args.data_dir), load_truth(args.truth))
    if args.clusters:
        result.clusters.rename_axis("record").reset_index().to_parquet(args.clusters, index=False)
    if args.json:
        print(json.dumps(result.to_dict()))
        return
    pairwise = result.evaluation.pairwise
    print(f"oracle: F1 {pairwise.f1:.4f} (recall {pairwise.recall:.4f}), linked by {result.linked_by}")


if __name__ == "__main__":
    main()
