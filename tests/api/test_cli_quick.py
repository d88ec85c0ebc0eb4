"""The command line itself: quick to start, -v anywhere, flags shown as flags, first-run dry runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.api.conftest import CRM, POS, SOURCES

ROOT = Path(__file__).parents[2]
HEAVY = (
    "pandas",
    "numpy",
    "ladybug",
    "neo4j",
    "strawberry",
    "fastapi",
    "pydantic_settings",
    "networkx",
)  # rich: typer draws the help with it


def _cdp(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    run_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=run_env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip


def test_help_and_version_import_nothing_heavy() -> None:
    """What made every command take seconds: pandas, the drivers and the web stack imported at start-up.
    (The time itself is measured in BENCHMARKS.md, not here.)"""
    code = (
        "import sys; sys.argv = ['cdp', '--help']\n"
        "from api.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print('LOADED', sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ,
                         "PYTHONPATH": str(ROOT)}, timeout=60)  # fmt: skip
    assert "LOADED []" in out.stdout, out.stdout[-500:]
    version = _cdp("--version")
    assert version.returncode == 0 and version.stdout.startswith("cdp-graph ")


def test_flags_render_as_flags() -> None:
    shown = _cdp("resolve", "--help", env={"COLUMNS": "150"}).stdout
    assert "--dry-run" in shown and "<bool>" not in shown


def test_verbose_anywhere_and_a_first_dry_run(tmp_path: Path) -> None:
    (tmp_path / "sources.yaml").write_text(SOURCES)
    (tmp_path / "crm.csv").write_text(CRM)
    (tmp_path / "pos.csv").write_text(POS)
    env = {"CDP_DATA_DIR": str(tmp_path / "cdp"), "CDP_STORE": "embedded", "COLUMNS": "200"}
    assert _cdp("ingest", str(tmp_path / "sources.yaml"), env=env).returncode == 0
    preview = _cdp("resolve", "--dry-run", "-v", env=env)  # -v after the command
    assert preview.returncode == 0, preview.stderr
    assert "DEBUG graph.runner: query all_links took" in preview.stderr
    text = preview.stdout + preview.stderr
    assert "nan" not in text and "assign" in text and "crm:C1 (had no profile)" in text
    quiet = _cdp("stats", env=env)
    assert "DEBUG" not in quiet.stderr


def test_show_settings_prints_what_a_run_would_choose_as_a_settings_file(tmp_path: Path) -> None:
    (tmp_path / "sources.yaml").write_text(SOURCES)
    (tmp_path / "crm.csv").write_text(CRM)
    (tmp_path / "pos.csv").write_text(POS)
    env = {"CDP_DATA_DIR": str(tmp_path / "cdp"), "CDP_STORE": "embedded", "COLUMNS": "200"}
    assert _cdp("ingest", str(tmp_path / "sources.yaml"), env=env).returncode == 0
    shown = _cdp("resolve", "--show-settings", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "comparisons:" in shown.stdout and "blocking:" in shown.stdout and "# mapped, on " in shown.stdout
    (tmp_path / "chosen.yaml").write_text(shown.stdout)  # it is a settings file: it runs as one
    again = _cdp("resolve", "--settings", str(tmp_path / "chosen.yaml"), env=env)
    assert again.returncode == 0, again.stderr
    assert _cdp("stats", env=env).returncode == 0


def test_every_command_shows_its_help() -> None:
    """Each command and sub-command builds (typer reads every signature only when asked: a wrong annotation
    in one sub-command breaks the whole CLI)."""
    groups = ["segment", "destination", "journeys", "review", "audience", "keys", "export"]
    commands = [["--help"], *[[g, "--help"] for g in groups],
                ["segment", "preview", "--help"], ["destination", "add", "--help"], ["journeys", "run", "--help"],
                ["audience", "push", "--help"], ["review", "label", "--help"], ["report", "--help"],
                ["serve", "--help"]]  # fmt: skip
    for args in commands:
        shown = _cdp(*args, env={"COLUMNS": "150"})
        assert shown.returncode == 0 and "Usage:" in shown.stdout, (args, shown.stderr[-500:])
