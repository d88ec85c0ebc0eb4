"""Blocking reach: the share of true pairs a resolve can link at all, read from each store."""

from __future__ import annotations

import pandas as pd

from analytics.blocking_reach import blocking_reach
from graph.model import IdentifierLink, SourceRecord
from graph.store import GraphStore
from resolve.match_settings import MatchSettings
from resolve.settings import ResolveSettings


def _rec(rid: str, attributes: dict[str, str], *emails: str) -> SourceRecord:
    return SourceRecord("s", rid, [IdentifierLink("email", e) for e in emails], attributes, "2025-01-01T00:00:00Z")


def test_reach_counts_candidate_pairs_and_identifier_links(store: GraphStore) -> None:
    ann = {"first_name": "Ann", "last_name": "Lee", "birth_date": "1980-01-02"}
    store.upsert_records([
        _rec("1", ann), _rec("2", ann),                      # a candidate pair (same name and birth date)
        _rec("3", {"first_name": "Bob"}, "b@x.com"), _rec("4", {}, "b@x.com"),   # one email
        _rec("5", {"first_name": "Cy"}), _rec("6", {"first_name": "Cyrus"}),     # nothing links them
    ])  # fmt: skip
    truth = pd.Series({"s:1": "A", "s:2": "A", "s:3": "B", "s:4": "B", "s:5": "C", "s:6": "C"})
    assert blocking_reach(store, truth, ResolveSettings()) == 2 / 3
    off = ResolveSettings(matching=MatchSettings(enabled=False))
    assert blocking_reach(store, truth, off) is None
