"""Reads of profiles by id: the per-id form the embedded store runs gives the rows of the one-query form."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from graph.model import Event, IdentifierLink, SourceRecord
from graph.store import GraphStore
from resolve.runner import resolve
from resolve.settings import ResolveSettings


def _rec(rid: str, *links: tuple[str, str], events: int = 0) -> SourceRecord:
    evs = [Event("purchase", f"2025-0{n + 1}-01T00:00:00Z", {"sku": f"S{n}"}) for n in range(events)]
    return SourceRecord("crm", rid, [IdentifierLink(t, v) for t, v in links], {"first_name": f"N{rid}"},
                        "2025-01-01T00:00:00Z", evs)  # fmt: skip


READS: dict[str, Callable[[GraphStore, list[str]], Any]] = {
    "records": lambda s, ids: s.profile_records(ids),
    "members": lambda s, ids: s.profile_members(ids),
    "record keys": lambda s, ids: [{"key": k} for k in s.profile_record_keys(ids)],
    "identifiers": lambda s, ids: s.profile_identifiers(ids),
    "links": lambda s, ids: s.profile_links(ids).to_dict("records"),
    "events": lambda s, ids: s.events_of(ids),
    "history": lambda s, ids: s.profile_history(ids),
    "household": lambda s, ids: s.household_of(ids),
}


@pytest.mark.parametrize("read", sorted(READS))
def test_each_profile_read_gives_the_same_rows_per_id_as_in_one_query(store: GraphStore, read: str) -> None:
    store.upsert_records([
        _rec("1", ("email", "a@x.com"), ("phone", "+447911000001"), events=2),
        _rec("2", ("email", "a@x.com"), events=1),
        _rec("3", ("email", "home@x.com"), ("national_id", "AB123456C")),
        _rec("4", ("email", "home@x.com"), ("national_id", "CD654321A"), events=3),
        _rec("5", ("phone", "+447911000009")),
    ])  # fmt: skip
    resolve(store, ResolveSettings())
    ids = sorted(set(store.assignments()["profile_id"]))
    asked = [*ids, ids[0], "no-such-profile"]  # a repeated id and an unknown one

    def rows(per_profile: bool) -> list[str]:
        store.per_profile_reads = per_profile  # an instance attribute, gone with the store
        return sorted(json.dumps(row, sort_keys=True, default=str) for row in READS[read](store, asked))

    batched, one_by_one = rows(False), rows(True)
    assert one_by_one == batched
    assert batched or read == "history"  # every read but the history of a fresh resolve has rows here
