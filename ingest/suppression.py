"""Suppression of erased customers: ingest skips a row whose record or identifiers were erased.

An erase (:mod:`api.erasure`) stores, for each erased record key and identifier, a salted SHA-256 of it
(:class:`graph.model.Label.SUPPRESSION`), never the value. The salt is random, made at the first erase
and kept with the graph: the hashes cannot be matched against another data set's, nor read back without
hashing a guess with the salt. Ingest hashes each row's record key and identifier keys the same way
and drops the row when any matches: re-ingesting a source file does not bring the customer back. The
row is counted in the summary (``suppressed``) and written nowhere, the rejects file included.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable

import pandas as pd

from graph.batch import RecordBatch
from graph.store import GraphStore

__all__ = ["SALT_SETTING", "Suppressions", "salt_of", "suppression_hash"]

SALT_SETTING = "suppression_salt"


def suppression_hash(salt: str, key: str) -> str:
    """The stored form of an erased key (``email:a@b.co``, ``crm:C1``).

    >>> suppression_hash("s", "email:a@b.co") == suppression_hash("s", "email:a@b.co") != suppression_hash("t", "email:a@b.co")
    True
    """
    return hashlib.sha256(f"{salt}\x1f{key}".encode()).hexdigest()


def salt_of(store: GraphStore, create: bool = False) -> str | None:
    """The graph's suppression salt; made and stored (inside the caller's write) when ``create``."""
    salt = store.graph_settings().get(SALT_SETTING)
    if salt is None and create:
        salt = secrets.token_hex(32)
        store.write(lambda tx: tx.set_graph_setting(SALT_SETTING, json.dumps(salt)), "store the suppression salt")
    return salt


class Suppressions:
    """The suppressed hashes of a store, read once per ingest; filters batches."""

    def __init__(self, store: GraphStore) -> None:
        self.salt = salt_of(store)
        self.hashes = store.suppressions() if self.salt else set()

    def hash_all(self, keys: Iterable[str]) -> list[str]:
        return [suppression_hash(self.salt or "", key) for key in keys]

    def apply(self, batch: RecordBatch) -> tuple[RecordBatch, dict[str, int], set[int]]:
        """``batch`` without suppressed records (and their links and events), how many per source, and their
        ``row`` numbers."""
        if not self.hashes or not len(batch):
            return batch, {}, set()
        hit_records = pd.Series(self.hash_all(batch.records["key"]), index=batch.records.index).isin(self.hashes)
        hit_links = pd.Series(self.hash_all(batch.links["identifier"]), index=batch.links.index).isin(self.hashes)
        rows = set(batch.records.loc[hit_records, "row"]) | set(batch.links.loc[hit_links, "row"])
        if not rows:
            return batch, {}, set()
        dropped = batch.records["row"].isin(rows)
        counts = batch.records.loc[dropped, "source"].value_counts().to_dict()
        kept = RecordBatch(batch.records[~dropped], batch.links[~batch.links["row"].isin(rows)],
                           batch.events[~batch.events["row"].isin(rows)])  # fmt: skip
        return kept, {str(k): int(v) for k, v in counts.items()}, {int(r) for r in rows}
