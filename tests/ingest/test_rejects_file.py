"""The rejects file lists every unreadable row, dropped value and unrecorded event, and the summary points at it."""

from __future__ import annotations

import csv
from pathlib import Path

from api.progress import console
from api.reports import print_ingest
from graph.store import GraphStore
from ingest.config import load_config
from ingest.pipeline import IngestSummary, ingest

LAYOUT = ["source", "line", "kind", "column", "value", "reason", "raw"]


def _run(sources_dir: Path, store: GraphStore) -> IngestSummary:
    return ingest(load_config(sources_dir / "sources.yaml"), store, sources_dir / "rejects")


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def test_dropped_values_are_listed_with_line_column_value_and_reason(sources_dir: Path, store: GraphStore) -> None:
    _run(sources_dir, store)
    layout, rows = _read(sources_dir / "rejects" / "crm.csv")
    assert layout == LAYOUT
    values = [(r["line"], r["column"], r["value"]) for r in rows if r["kind"] == "value"]
    assert values == [("4", "email", "not-an-email"), ("4", "phone", "12")]
    assert all(r["reason"] and r["source"] == "crm" for r in rows)
    assert [(r["line"], r["kind"]) for r in rows if r["kind"] == "row"] == [("6", "row"), ("7", "row")]


def test_an_unreadable_event_timestamp_is_counted_and_listed(sources_dir: Path, store: GraphStore) -> None:
    summary = _run(sources_dir, store)
    web = next(s for s in summary.sources if s.source == "web")
    assert web.events_dropped == {"ts": 1} and web.invalid_values == {}
    _, rows = _read(sources_dir / "rejects" / "web.csv")
    (event,) = [r for r in rows if r["kind"] == "event"]
    assert (event["line"], event["column"], event["value"]) == ("3", "ts", "yesterday")
    assert "timestamp" in event["reason"]
    assert "web:S2" in set(store.record_keys()["record"])  # the record kept, without its event


def test_a_source_with_only_dropped_values_still_gets_a_rejects_file(sources_dir: Path, store: GraphStore) -> None:
    (sources_dir / "crm.csv").write_text("crm_id,email,phone,first_name,surname,dob\nC1,nope,,Ann,Smith,\n")
    summary = _run(sources_dir, store)
    crm = next(s for s in summary.sources if s.source == "crm")
    assert crm.rejects == 0 and crm.rejects_file == sources_dir / "rejects" / "crm.csv"
    assert [r["kind"] for r in _read(crm.rejects_file)[1]] == ["value"]


def test_the_summary_names_counts_per_column_and_the_rejects_file(sources_dir: Path, store: GraphStore) -> None:
    (sources_dir / "empty.csv").write_text("id,email\n")
    yaml = (sources_dir / "sources.yaml").read_text()
    (sources_dir / "sources.yaml").write_text(yaml + "  empty:\n    path: empty.csv\n    record_id: id\n")
    summary = _run(sources_dir, store)
    with console.capture() as captured:
        print_ingest(summary)
    text = " ".join(captured.get().split())
    crm_rejects, web_rejects = sources_dir / "rejects" / "crm.csv", sources_dir / "rejects" / "web.csv"
    assert f"crm: 2 values dropped from matching (email: 1, phone: 1), listed in {crm_rejects}" in text
    assert f"2 rejected rows of crm written to {crm_rejects}" in text
    assert f"web: 1 events not recorded (unreadable ts: 1), listed in {web_rejects}" in text
    assert f"empty: {sources_dir / 'empty.csv'}: no data rows" in text
