"""Ingest against each real store: formats, rejects, invalid values, idempotence, updates."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from graph.store import GraphStore
from ingest.config import load_config
from ingest.pipeline import ingest


def _run(sources_dir: Path, store: GraphStore, only: str | None = None):
    return ingest(load_config(sources_dir / "sources.yaml"), store, sources_dir / "rejects", only)


def _record(store: GraphStore, key: str) -> dict:
    rows = store.cypher("r", "MATCH (r:Record {key: $k}) RETURN r.attributes AS a, r.seen_at AS s", {"k": key})
    return {"attributes": json.loads(rows[0]["a"]), "seen_at": rows[0]["s"]} if rows else {}


def _identifiers(store: GraphStore, key: str) -> set[str]:
    frame = store.record_links()
    return set(frame[frame["record"] == key]["identifier"])


def test_ingest_reads_every_format_and_normalises(sources_dir: Path, store: GraphStore) -> None:
    summary = _run(sources_dir, store)
    by_source = {s.source: s for s in summary.sources}
    assert by_source["crm"].writes.created == 4
    assert by_source["web"].writes.created == 2
    assert by_source["pos"].writes.created == 2
    assert _identifiers(store, "crm:C1") == {"crm_id:C1", "email:ann.smith@example.com", "phone:+447911123456"}
    assert _record(store, "crm:C1")["attributes"] == {
        "first_name": "Ann",
        "last_name": "Smith",
        "birth_date": "1985-03-12",
    }
    # the web login and the POS phone point at the same identifiers as the CRM row
    assert "email:ann.smith@example.com" in _identifiers(store, "web:S1")
    assert "phone:+447911123456" in _identifiers(store, "pos:T1")


def test_unreadable_rows_go_to_the_rejects_file_with_line_and_reason(sources_dir: Path, store: GraphStore) -> None:
    summary = _run(sources_dir, store)
    by_source = {s.source: s for s in summary.sources}
    assert by_source["crm"].rejects == 2 and by_source["web"].rejects == 1
    with open(sources_dir / "rejects" / "crm.csv") as handle:
        rejects = list(csv.DictReader(handle))
    reasons = {(r["line"], r["reason"]) for r in rejects}
    assert ("6", "record_id column 'crm_id' is empty") in reasons
    assert ("7", "expected 6 fields, found 7") in reasons
    with open(sources_dir / "rejects" / "web.csv") as handle:
        (web_reject,) = [r for r in csv.DictReader(handle) if r["kind"] == "row"]
    assert web_reject["line"] == "2" and web_reject["reason"].startswith("invalid JSON")


def test_invalid_values_are_dropped_but_the_row_kept(sources_dir: Path, store: GraphStore) -> None:
    summary = _run(sources_dir, store)
    crm = next(s for s in summary.sources if s.source == "crm")
    assert crm.invalid_values == {"email": 1, "phone": 1}
    assert _identifiers(store, "crm:C3") == {"crm_id:C3"}
    assert _record(store, "crm:C3")["attributes"]["last_name"] == "Díaz"
    web = next(s for s in summary.sources if s.source == "web")
    assert web.invalid_values == {} and web.events_dropped == {"ts": 1}  # S2 kept, without its event
    assert store.cypher("e", "MATCH (:Record {key: 'web:S2'})-[:HAS_EVENT]->(e) RETURN count(e) AS n")[0]["n"] == 0


def test_events_keep_typed_properties(sources_dir: Path, store: GraphStore) -> None:
    _run(sources_dir, store)
    rows = store.cypher(
        "e", "MATCH (:Record {key: 'pos:T1'})-[:HAS_EVENT]->(e:Event) RETURN e.type AS t, e.ts AS ts, e.properties AS p"
    )
    assert rows[0]["t"] == "purchase" and rows[0]["ts"] == "2025-03-01T09:00:00Z"
    assert json.loads(rows[0]["p"]) == {"sku": "00123", "amount": 19.99}


def test_reingesting_changes_nothing_and_a_changed_row_updates(sources_dir: Path, store: GraphStore) -> None:
    _run(sources_dir, store)
    links_before = store.record_links().sort_values(["record", "identifier"]).reset_index(drop=True)
    again = _run(sources_dir, store)
    assert sum(s.writes.created + s.writes.updated for s in again.sources) == 0
    assert store.record_links().sort_values(["record", "identifier"]).reset_index(drop=True).equals(links_before)
    text = (sources_dir / "crm.csv").read_text().replace("bob@example.com", "robert@example.com")
    (sources_dir / "crm.csv").write_text(text)
    changed = _run(sources_dir, store, only="crm")
    assert (changed.sources[0].writes.updated, changed.sources[0].writes.created) == (1, 0)
    assert "email:robert@example.com" in _identifiers(store, "crm:C2")
    assert "email:bob@example.com" not in _identifiers(store, "crm:C2")
    assert len(store.record_keys()) == 8


def test_a_repeated_record_id_keeps_its_last_row(sources_dir: Path, store: GraphStore) -> None:
    text = (sources_dir / "crm.csv").read_text() + "C1,ann.new@mail.co.uk,,Ann,Smith,12/03/1985\n"
    (sources_dir / "crm.csv").write_text(text)
    summary = _run(sources_dir, store, only="crm")
    assert summary.sources[0].duplicate_ids == 1
    assert "email:ann.new@mail.co.uk" in _identifiers(store, "crm:C1")
    assert "phone:+447911123456" not in _identifiers(store, "crm:C1")
