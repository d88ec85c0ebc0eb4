"""``cdp demo`` end to end on the embedded store, as a new user runs it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd


def _demo(cwd: Path, *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "api.cli", "demo", "--records", "3000", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300,
        env={"PATH": "", "PYTHONPATH": str(Path(__file__).parents[2]), "COLUMNS": "200"},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return " ".join(out.stderr.split())


def test_demo_generates_ingests_resolves_and_scores(tmp_path: Path) -> None:
    text = _demo(tmp_path)
    scores = re.search(r"precision ([\d.]+), recall ([\d.]+), F1 ([\d.]+)", text)
    assert scores, text
    precision, recall, f1 = (float(x) for x in scores.groups())
    assert precision > 0.9 and 0.3 < recall <= 1 and 0 < f1 < 1
    assert "3,000 rows" in text and "cdp serve" in text and "profileByIdentifier" in text
    assert (tmp_path / ".cdp" / "demo" / "truth.csv").exists()


def test_demo_twice_keeps_data_and_profile_ids(tmp_path: Path) -> None:
    _demo(tmp_path)
    subprocess.run([sys.executable, "-m", "api.cli", "export", "profiles", "--out", "a.csv"], cwd=tmp_path,
                   check=True, capture_output=True, env={"PYTHONPATH": str(Path(__file__).parents[2])})  # fmt: skip
    text = _demo(tmp_path)
    assert "0 new profiles, 0 removed, 0 records assigned or moved" in text
    subprocess.run([sys.executable, "-m", "api.cli", "export", "profiles", "--out", "b.csv"], cwd=tmp_path,
                   check=True, capture_output=True, env={"PYTHONPATH": str(Path(__file__).parents[2])})  # fmt: skip
    assert pd.read_csv(tmp_path / "a.csv").equals(pd.read_csv(tmp_path / "b.csv"))


def test_demo_refuses_a_store_holding_other_data(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("sources:\n  erp: {path: e.csv, record_id: id, identifiers: {email: email}}\n")
    (tmp_path / "e.csv").write_text("id,email\n1,a@mail.co.uk\n")
    env = {"PYTHONPATH": str(Path(__file__).parents[2])}
    subprocess.run(
        [sys.executable, "-m", "api.cli", "ingest", "s.yaml"], cwd=tmp_path, check=True, capture_output=True, env=env
    )
    out = subprocess.run(
        [sys.executable, "-m", "api.cli", "demo"], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert out.returncode == 1 and "already holds other data (sources erp)" in out.stderr
