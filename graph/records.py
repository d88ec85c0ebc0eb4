"""Source records into the graph: one batch at a time, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from graph import cypher as q
from graph.batch import RecordBatch
from graph.model import Label, Rel

if TYPE_CHECKING:
    from graph.writes import Transaction

__all__ = ["RecordWriter", "UpsertCounts"]


@dataclass
class UpsertCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    identifiers: int = 0
    events: int = 0

    def add(self, other: UpsertCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class RecordWriter:
    """Writes one batch of records through a transaction."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def upsert(self, batch: RecordBatch) -> dict[str, UpsertCounts]:
        """Write the batch; what happened, per source."""
        batch = batch.latest()  # a record id repeated in one batch: the last row wins
        records = batch.records
        old_hash = records["key"].map(self.tx.record_hashes(records["key"].tolist()))
        new, changed = old_hash.isna(), old_hash.notna() & (old_hash != records["hash"])
        first_seen = self._forget_old_content(records.loc[changed, "key"].tolist())
        touched = batch.select(records.loc[new | changed, "key"])
        links = _with_first_seen(touched.links, first_seen)
        if self.tx.nested_writes:
            self._write_nested(touched.records, links)
        else:
            self._write_flat(records[new], records[changed], links)
        events = touched.events
        self.tx.create_nodes(Label.EVENT, events[["key", "type", "ts", "source", "properties"]])
        self.tx.create_edges(Rel.HAS_EVENT, events[["record", "key"]])
        counts = {}
        for source in records["source"].unique():
            mine = records["source"] == source
            counts[source] = UpsertCounts(
                created=int((new & mine).sum()),
                updated=int((changed & mine).sum()),
                unchanged=int((mine & ~new & ~changed).sum()),
                identifiers=int((links["source"] == source).sum()),
                events=int((events["source"] == source).sum()),
            )
        return counts

    def _write_flat(self, new: pd.DataFrame, changed: pd.DataFrame, links: pd.DataFrame) -> None:
        """Records, then identifiers, then links: each a plain bulk load (fast on the embedded store)."""
        self.tx.create_nodes(Label.RECORD, new[_RECORD_PROPERTIES])
        self.tx.write_rows(q.UPDATE_RECORDS, changed[_RECORD_PROPERTIES].to_dict("records"))
        identifiers = links.drop_duplicates("identifier")
        known = self.tx.existing_identifiers(identifiers["identifier"].tolist())
        fresh = identifiers.loc[~identifiers["identifier"].isin(known), ["identifier", "type", "value"]]
        self.tx.create_nodes(Label.IDENTIFIER, fresh.rename(columns={"identifier": "key"}).assign(status="active"))
        self.tx.create_edges(Rel.HAS_IDENTIFIER, links[_LINK_PROPERTIES])

    def _write_nested(self, records: pd.DataFrame, links: pd.DataFrame) -> None:
        """One query per batch: each record with its links nested, so every record is looked up once."""
        by_record: dict[str, list[dict[str, str]]] = {}
        for link in links[["record", "identifier", "type", "value", *_LINK_PROPERTIES[2:]]].to_dict("records"):
            by_record.setdefault(link["record"], []).append(link)
        rows = [{**r, "links": by_record.get(r["key"], [])} for r in records[_RECORD_PROPERTIES].to_dict("records")]
        self.tx.write_rows(q.UPSERT_RECORDS_NESTED, rows)

    def _forget_old_content(self, keys: list[str]) -> dict[tuple[str, str], str]:
        """Drop a changed record's links and events, remembering when each link was first seen."""
        if not keys:
            return {}
        rows = self.tx.run(q.LINK_FIRST_SEEN, keys=keys)
        self.tx.write_rows(q.MARK_CHANGED_RECORDS, keys, param="keys")
        self.tx.write_rows(q.DELETE_RECORD_LINKS, keys, param="keys")
        self.tx.write_rows(q.DELETE_RECORD_EVENTS, keys, param="keys")
        return {(row["record"], row["identifier"]): row["first_seen"] for row in rows}


_RECORD_PROPERTIES = ["key", "source", "record_id", "attributes", "hash", "seen_at"]
_LINK_PROPERTIES = ["record", "identifier", "source", "first_seen", "last_seen"]


def _with_first_seen(links: pd.DataFrame, first_seen: Mapping[tuple[str, str], str]) -> pd.DataFrame:
    """A link keeps the first_seen of the link it replaces; a new one was first seen with its record."""
    links = links.assign(first_seen=links["seen_at"], last_seen=links["seen_at"])
    if first_seen:
        old = pd.Series(first_seen, dtype="str")
        pairs = pd.MultiIndex.from_arrays([links["record"], links["identifier"]])
        links["first_seen"] = old.reindex(pairs).fillna(links["seen_at"].set_axis(pairs)).to_numpy()
    return links
