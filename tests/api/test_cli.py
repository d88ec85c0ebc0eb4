"""The ``cdp`` command line on each store: ingest, resolve, export, stats, and its errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app
from api.service import CustomerService
from graph.settings import StoreSettings, open_store
from tests.api.conftest import CRM, POS, SOURCES

runner = CliRunner()


@pytest.fixture
def project(tmp_path: Path, store_settings: StoreSettings, store: object, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Source files in tmp_path; CDP_* env pointing at the (empty) store under test."""
    (tmp_path / "sources.yaml").write_text(SOURCES)
    (tmp_path / "crm.csv").write_text(CRM)
    (tmp_path / "pos.csv").write_text(POS)
    monkeypatch.setenv("CDP_STORE", store_settings.store)
    if store_settings.store == "neo4j":
        store.close()  # type: ignore[attr-defined]  # the CLI opens its own connection
    else:
        store.close()  # type: ignore[attr-defined]  # embedded: one writer per directory
    return tmp_path


def _cdp(project: Path, *args: str) -> object:
    result = runner.invoke(app, [*args, "--data-dir", str(project / "cdp")])
    return result


def test_ingest_resolve_export_stats(project: Path) -> None:
    first = _cdp(project, "ingest", str(project / "sources.yaml"))
    assert first.exit_code == 0, first.output
    assert "9 rows" in first.output
    preview = _cdp(project, "resolve", "--dry-run")
    assert preview.exit_code == 0, preview.output
    assert "would resolve 9 records into 4 profiles" in preview.output and "nothing was written" in preview.output
    assert "assign" in preview.output and "crm:C1 (had no profile)" in preview.output  # records to be assigned
    resolved = _cdp(project, "resolve")
    assert resolved.exit_code == 0, resolved.output
    assert "into 4 profiles" in resolved.output  # the family email alone does not join Cat and Dan (C5, C6)
    for name in ("out.csv", "out.parquet"):
        exported = _cdp(project, "export", "profiles", "--out", str(project / name))
        assert exported.exit_code == 0, exported.output
        frame = pd.read_csv(project / name, dtype=str) if name.endswith("csv") else pd.read_parquet(project / name)
        assert list(frame.columns) == ["source", "record_id", "profile_id"] and len(frame) == 9
        assert frame.groupby("profile_id").size().max() == 5
    stats = _cdp(project, "stats", "--json")
    assert stats.exit_code == 0, stats.output
    assert '"crm": 6' in stats.output and '"pos": 3' in stats.output
    assert json.loads(stats.output)["conflicting_profiles"] == {}  # no national ids or birth dates here


def test_explain_prints_the_chain_of_evidence(project: Path) -> None:
    _cdp(project, "ingest", str(project / "sources.yaml"))
    _cdp(project, "resolve")
    result = _cdp(project, "explain", "crm:C2", "pos:T1")
    assert result.exit_code == 0, result.output
    assert "crm:C2 -> crm:C1: both hold email ann@mailbox.co.uk" in result.output
    found = json.loads(_cdp(project, "explain", "crm:C1", "crm:C4", "--json").output)
    assert found["summary"].startswith(
        "different profiles: no identifier links them; not scored: the records share no blocking key"
    )
    assert found["pair_score"]["blocking_rules"] == []
    compared = [c["comparison"] for c in found["pair_score"]["comparisons"]]
    assert compared[:2] == ["first_name", "last_name"] and compared[-1] == "email_local"  # chosen from the data
    apart = _cdp(project, "explain", "crm:C1", "crm:C4")  # Ann Smith of Leeds, Bob Jones of Hull
    text = " ".join(apart.output.split())  # the console wraps long lines
    assert "fuzzy-match score: probability" in text and "blocking keys shared: none (never compared)" in text
    assert [line.split()[:2] for line in apart.output.splitlines() if line.strip().startswith("first_name")] == [
        ["first_name", "different"]
    ]
    unknown = _cdp(project, "explain", "crm:C1", "nope:1")
    assert unknown.exit_code == 1 and "no record 'nope:1'" in unknown.output


def test_evaluate_scores_the_profiles_against_a_truth_file(project: Path) -> None:
    (project / "truth.csv").write_text("source,record_id,person_id\n" + "".join(
        f"crm,C{n},{'ann' if n < 3 else 'other'}\n" for n in range(1, 7)
    ))  # fmt: skip
    assert _cdp(project, "evaluate", "--truth", str(project / "truth.csv")).exit_code == 1  # nothing resolved yet
    _cdp(project, "ingest", str(project / "sources.yaml"))
    _cdp(project, "resolve")
    result = _cdp(project, "evaluate", "--truth", str(project / "truth.csv"), "--json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert (figures["scored"], figures["unlabelled"], figures["unresolved"]) == (6, 3, 0)
    table = _cdp(project, "evaluate", "--truth", str(project / "truth.csv"))
    assert "B-cubed" in table.output and "largest profile" in table.output


def test_reingest_reports_nothing_new(project: Path) -> None:
    _cdp(project, "ingest", str(project / "sources.yaml"))
    again = _cdp(project, "ingest", str(project / "sources.yaml"), "--source", "crm")
    assert again.exit_code == 0
    assert "crm" in again.output and "pos" not in again.output.split("rows in")[0].split("Source")[-1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ingest", "missing.yaml"], "missing.yaml: file not found"),
        (["ingest", "sources.yaml", "--source", "erp"], "no source named 'erp'"),
        (["export", "profiles", "--out", "x.xlsx"], "no resolved profiles yet"),
    ],
)
def test_errors_are_one_line_and_exit_non_zero(project: Path, args: list[str], message: str) -> None:
    args = [str(project / a) if a.endswith(".yaml") else a for a in args]
    result = _cdp(project, *args)
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())


def test_export_needs_a_known_extension(project: Path) -> None:
    _cdp(project, "ingest", str(project / "sources.yaml"))
    _cdp(project, "resolve")
    result = _cdp(project, "export", "profiles", "--out", str(project / "x.xlsx"))
    assert result.exit_code == 1 and "choose a .csv or .parquet" in result.output


def test_unreachable_or_refused_neo4j_names_the_uri(tmp_path: Path) -> None:
    env = {**os.environ, "CDP_STORE": "neo4j", "CDP_NEO4J_URI": "bolt://127.0.0.1:1", "CDP_NEO4J_PASSWORD": "x-pw-1"}
    out = subprocess.run([sys.executable, "-m", "api.cli", "stats"], env=env, capture_output=True, text=True)
    assert out.returncode == 1 and "cannot reach Neo4j at bolt://127.0.0.1:1" in out.stderr
    if os.environ.get("CDP_NEO4J_PASSWORD"):
        env.update(CDP_NEO4J_URI=os.environ["CDP_NEO4J_URI"], CDP_NEO4J_PASSWORD="wrong-password")
        out = subprocess.run([sys.executable, "-m", "api.cli", "stats"], env=env, capture_output=True, text=True)
        assert out.returncode == 1 and f"Neo4j at {os.environ['CDP_NEO4J_URI']} refused the credentials" in out.stderr


def test_serve_refuses_a_default_neo4j_password(tmp_path: Path) -> None:
    env = {**os.environ, "CDP_STORE": "neo4j", "CDP_NEO4J_PASSWORD": "neo4j"}
    out = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 1 and "refusing to serve" in out.stderr


def _profiles(project: Path) -> dict[str, str]:
    assert _cdp(project, "export", "profiles", "--out", str(project / "profiles.csv")).exit_code == 0
    frame = pd.read_csv(project / "profiles.csv", dtype=str)
    return dict(zip(frame["record_id"], frame["profile_id"], strict=True))


def test_merge_and_split_are_kept_by_later_resolves(project: Path, store_settings: StoreSettings) -> None:
    _cdp(project, "ingest", str(project / "sources.yaml"))
    _cdp(project, "resolve")
    ids = _profiles(project)
    merged = _cdp(project, "merge", ids["C4"], ids["C1"], "--reason", "one customer, two cards")
    assert merged.exit_code == 0, merged.output
    assert f"into {ids['C1']}" in merged.output and len(set(_profiles(project).values())) == 3  # Cat, Dan apart
    split = _cdp(project, "split", ids["C1"], "--records", "crm:C4,pos:T3", "--reason", "two people after all")
    assert split.exit_code == 0, split.output
    again = _cdp(project, "resolve")
    assert again.exit_code == 0 and "into 4 profiles" in again.output
    assert "superseded" in again.output and "crm:C1 crm:C4" in again.output  # the merge the split overruled
    after = _profiles(project)
    assert after["C4"] == after["T3"] != after["C1"] == ids["C1"]
    store = open_store(store_settings)
    try:
        history = CustomerService(store).history_of([ids["C1"]])[ids["C1"]]
    finally:
        store.close()
    assert [(h.kind, h.reason) for h in history][-2:] == [
        ("merged", "one customer, two cards"), ("split", "two people after all"),
    ]  # fmt: skip
    assert history[-1].actor not in ("resolver", "")  # the user who ran the command


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["merge", "p_nope", "p_other", "--reason", "x"], "no profile 'p_nope', 'p_other'"),
        (["split", "p_nope", "--records", "crm:C1", "--reason", "x"], "no profile 'p_nope'"),
    ],
)
def test_override_errors_name_the_ids(project: Path, args: list[str], message: str) -> None:
    _cdp(project, "ingest", str(project / "sources.yaml"))
    _cdp(project, "resolve")
    result = _cdp(project, *args)
    assert result.exit_code == 1 and message in " ".join(result.output.split())
