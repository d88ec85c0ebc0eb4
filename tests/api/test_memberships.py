"""Segment membership kept current (issue 15, item 2): entries and exits stored with their time after
segments are created, after an ingest that changes a customer and after a resolve; a merge moves the merged-away
profile's memberships to the survivor (the earlier "since" kept, no exit recorded), an erase deletes them; at
every step the stored members equal the rule evaluated afresh."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from analytics.profile_table import build_profile_table
from analytics.segment_eval import evaluate
from analytics.segment_rules import parse_rule
from api.access import Principal
from api.erasure import erase_customer
from api.memberships import refresh_memberships, segment_history
from api.segments import create_segment, segments
from api.service import CustomerService
from graph.store import GraphStore
from ingest.config import load_config
from ingest.pipeline import ingest
from tests.api.conftest import load_example


def _stored(store: GraphStore) -> dict[str, set[str]]:
    members: dict[str, set[str]] = {}
    for pid in store.assignments()["profile_id"].unique():
        for name in segment_history(store, pid)[0]:
            members.setdefault(name, set()).add(pid)
    return members


def _fresh(store: GraphStore) -> dict[str, set[str]]:
    table = build_profile_table(store, datetime.now(UTC))
    out = {}
    for segment in segments(store):
        held = evaluate(parse_rule(segment.rule), table)
        if held.any():
            out[segment.name] = set(table.profiles.index[held.to_numpy()])
    return out


def test_entries_exits_merges_and_erases(store: GraphStore, tmp_path: Path) -> None:
    load_example(store, tmp_path)
    of = lambda record: store.profile_of_record(record)  # noqa: E731
    ann, bob = of("crm:C1"), of("crm:C4")
    create_segment(store, "leeds", 'attributes.city = "Leeds"', "tests")
    create_segment(store, "everyone", "profile.size >= 1", "tests")
    assert _stored(store) == _fresh(store) and ann in _stored(store)["leeds"]
    segments_now, history = segment_history(store, ann)
    assert set(segments_now) == {"leeds", "everyone"}
    assert [(e["segment"], e["change"]) for e in history] == [("leeds", "entered"), ("everyone", "entered")]

    # Ann's Leeds records now say York: an ingest moves her golden city, and she leaves the segment
    crm = tmp_path / "crm.csv"
    crm.write_text(crm.read_text().replace("Ann,Smith,Leeds", "Ann,Smith,York"))
    ingest(load_config(tmp_path / "sources.yaml"), store, tmp_path / "rejects")
    changes = refresh_memberships(store)  # what the ingest job does after ingesting
    assert changes.exited == {"leeds": 1} and changes.entered == {}
    assert [(e["segment"], e["change"]) for e in segment_history(store, ann)[1]][-1] == ("leeds", "exited")
    assert _stored(store) == _fresh(store)

    since = {pid: segment_history(store, pid)[0]["everyone"] for pid in (ann, bob)}
    service = CustomerService(store, principal=Principal("tests"))
    merged = service.merge_profiles([ann, bob], "one customer")  # refreshes memberships after resolving
    gone = bob if merged == ann else ann
    assert segment_history(store, gone) == ({}, [])  # the merged-away id keeps no state
    survivor_now, survivor_history = segment_history(store, merged)
    assert survivor_now["everyone"] == min(since.values())  # the earlier since wins
    assert [e for e in survivor_history if e["segment"] == "everyone" and e["change"] == "exited"] == []
    assert _stored(store) == _fresh(store)

    cat = of("crm:C5")
    assert "everyone" in segment_history(store, cat)[0]
    erase_customer(store, [cat], "tests")
    assert segment_history(store, cat) == ({}, []) and cat not in set().union(*_stored(store).values())
    assert _stored(store) == _fresh(store)
