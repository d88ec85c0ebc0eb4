"""Benchmark: cdp-graph and Splink 5 on the synthetic demo data (four sources, ground truth per record).

    python -m bench.demo_peer                                 # 10k, 100k and 1M records, both tools
    python -m bench.demo_peer --sizes 10000 --tools splink --no-write

The data is ``ingest.synthetic.generate_dataset(directory, n_records=N, seed=7)``, cached in
``bench/out/data-N`` as ``bench/ingest_resolve.py`` caches it. cdp runs as ``bench/febrl.py`` runs it,
each step a fresh process on an empty embedded store: ``cdp ingest sources.yaml``, ``cdp resolve``
(default settings), ``cdp evaluate --truth truth.csv --json``, plus ``cdp export profiles`` for the
per-source-pair view; its figures are the resolve step's. Splink runs as ``bench/demo_splink.py``
describes, in its own process under a time limit: seconds are training + predicting + clustering.
Both tools' clusters are scored by ``analytics.quality.evaluate`` against the same truth.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console

from analytics.quality import evaluate, load_truth
from bench import common
from bench.common import ROOT, demo_data
from bench.demo_splink import THRESHOLD, flatten
from bench.febrl import _RESOLVED_IN, _cdp, _profiles
from bench.splink_peer import run_measured

TOOLS = ("cdp", "splink")
SIZES = "10000,100000,1000000"
SPLINK_LIMIT_S = 900  # a Splink run still going after 15 minutes is recorded as not finished
console = Console(stderr=True)


def _scored(evaluation: dict[str, Any]) -> dict[str, Any]:
    """The figures of ``Evaluation.to_dict()`` (also what ``cdp evaluate --json`` prints) for the table."""
    pairwise = evaluation["pairwise"]
    return {
        "f1": pairwise["f1"],
        "precision": pairwise["precision"],
        "recall": pairwise["recall"],
        "bcubed_f1": evaluation["bcubed"]["f1"],
        "largest_profile": evaluation["largest_profile"][1],
        "largest_entity": evaluation["largest_entity"][1],
        "unresolved": evaluation["unresolved"],
    }


def run_cdp(directory: Path, records: int) -> tuple[dict[str, Any], pd.Series]:
    """Ingest, resolve, evaluate and export with the ``cdp`` CLI; the result and ``record -> profile``."""
    env = {**os.environ, "CDP_STORE": "embedded", "COLUMNS": "200"}
    with tempfile.TemporaryDirectory(prefix="cdp-demo-") as tmp:
        store, exported = Path(tmp) / "store", Path(tmp) / "profiles.parquet"
        env["CDP_DATA_DIR"] = str(store)
        console.print("  cdp ingest ...")
        ingested = run_measured(_cdp(["ingest", str(directory / "sources.yaml")], store), env=env)
        console.print("  cdp resolve ...")
        resolved = run_measured(_cdp(["resolve"], store), env=env)
        console.print("  cdp evaluate, export ...")
        truth = str(directory / "truth.csv")
        evaluated = run_measured(_cdp(["evaluate", "--truth", truth, "--json"], store), env=env)
        run_measured(_cdp(["export", "profiles", "--out", str(exported)], store), env=env)
        profiles = pd.read_parquet(exported)
    assigned = pd.Series(profiles["profile_id"].to_numpy(), index=profiles["source"] + ":" + profiles["record_id"])
    printed = resolved.stdout + resolved.stderr
    match = _RESOLVED_IN.search(printed)
    seconds = float(match[1]) if match else resolved.seconds
    result = {
        "tool": "cdp",
        "records": records,
        "seconds": seconds,
        "seconds_from": "reported by cdp resolve" if match else "resolve process wall",
        "process_s": resolved.seconds,
        "ingest_s": ingested.seconds,
        "records_per_s": records / seconds,
        "peak_rss_mb": resolved.peak_rss_mb,
        "profiles": _profiles(printed),
        **_scored(json.loads(evaluated.stdout[evaluated.stdout.index("{") :])),
    }
    return result, assigned


def run_splink(directory: Path, records: int) -> tuple[dict[str, Any], pd.Series]:
    """``bench.demo_splink`` on the flattened sources in its own process, stopped after ``SPLINK_LIMIT_S``."""
    with tempfile.TemporaryDirectory(prefix="splink-demo-") as tmp:
        records_path, clusters_path = Path(tmp) / "records.parquet", Path(tmp) / "clusters.parquet"
        flatten(directory).to_parquet(records_path, index=False)
        child = [sys.executable, "-m", "bench.demo_splink", str(records_path), str(clusters_path)]
        started = time.perf_counter()
        try:  # wait4 on `timeout` reports the largest RSS of the process tree it reaped: Splink's own
            measured = run_measured(["timeout", "--kill-after=30", str(SPLINK_LIMIT_S), *child])
        except RuntimeError as exc:  # timeout's 137 is also a child killed by the kernel: tell them apart
            if time.perf_counter() - started >= SPLINK_LIMIT_S:
                raise RuntimeError(f"did not finish in {SPLINK_LIMIT_S // 60} min") from exc
            raise
        steps = json.loads(measured.stdout.strip().splitlines()[-1])
        clusters = pd.read_parquet(clusters_path)
    assigned = pd.Series(clusters["cluster_id"].to_numpy(), index=clusters["unique_id"].to_numpy())
    seconds = steps["train_s"] + steps["predict_s"] + steps["cluster_s"]
    result = {
        "tool": "splink",
        "records": records,
        "seconds": seconds,
        "process_s": measured.seconds,
        "records_per_s": records / seconds,
        "peak_rss_mb": measured.peak_rss_mb,
        "profiles": int(assigned.nunique()),
        **steps,
        **_scored(evaluate(assigned, load_truth(str(directory / "truth.csv"))).to_dict()),
    }
    return result, assigned


def _failure(exc: Exception) -> str:
    first, _, rest = str(exc).partition("\n")
    if first.startswith("did not finish"):
        return first
    if first.endswith((" exited -9:", " exited 137:")):  # SIGKILL, under `timeout` or not
        return "killed by SIGKILL (out of memory?)"
    tail = rest.strip().splitlines()[-1] if rest.strip() else first
    return f"failed: {tail[:200]}"


def source_pairs(assigned: pd.Series, truth: pd.Series) -> pd.DataFrame:
    """Pairwise recall and precision per pair of sources (``crm-pos``, ``web-web``, ...). O(n)."""
    frame = pd.DataFrame({"pred": assigned, "truth": truth}).dropna()
    frame["source"] = frame.index.str.split(":", n=1).str[0]

    def pairs(keys: list[str]) -> pd.Series:
        counts = frame.groupby([*keys, "source"]).size().unstack(fill_value=0).astype("int64")
        out = {}
        for a, b in itertools.combinations_with_replacement(sorted(counts.columns), 2):
            out[f"{a}-{b}"] = int((counts[a] * (counts[a] - 1) // 2 if a == b else counts[a] * counts[b]).sum())
        return pd.Series(out)

    true, found, predicted = pairs(["truth"]), pairs(["pred", "truth"]), pairs(["pred"])
    table = pd.DataFrame({"true_pairs": true, "found": found, "predicted": predicted}).fillna(0)
    table["recall"] = table["found"] / table["true_pairs"].where(table["true_pairs"] > 0)
    table["precision"] = table["found"] / table["predicted"].where(table["predicted"] > 0)
    return table


def _detail(r: dict[str, Any]) -> str:
    if "error" in r:
        return r["error"]
    if r["tool"] == "cdp":
        return (
            f"resolve {r['seconds']:.2f} s ({r['seconds_from']}; process {r['process_s']:.1f} s), "
            f"ingest {r['ingest_s']:.1f} s, {r['profiles'] or 0:,} profiles, default settings"
        )
    skipped = f"; EM skipped {', '.join(r['em_failed'])}" if r["em_failed"] else ""
    return (
        f"train {r['train_s']:.1f} + predict {r['predict_s']:.1f} + cluster {r['cluster_s']:.1f} s "
        f"(process {r['process_s']:.1f} s), {r['pairs_predicted']:,} pairs >= {THRESHOLD}, "
        f"{r['profiles']:,} clusters{skipped}"
    )


def _row(r: dict[str, Any]) -> str:
    if "error" in r:
        return f"| {r['records']:,} | {r['tool']} | - | - | - | - | - | - | - | - | {_detail(r)} |"
    return (
        f"| {r['records']:,} | {r['tool']} | {r['f1']:.4f} | {r['precision']:.4f} | {r['recall']:.4f} | "
        f"{r['bcubed_f1']:.4f} | {r['largest_profile']:,} / {r['largest_entity']:,} | {r['seconds']:.2f} | "
        f"{r['records_per_s']:,.0f} | {r['peak_rss_mb']:,.0f} | {_detail(r)} |"
    )


def _ratios(results: dict[int, dict[str, dict[str, Any]]]) -> list[str]:
    lines = ["| records | records/s cdp/splink | peak RSS cdp/splink |", "|---|---|---|"]
    for size, by_tool in results.items():
        cdp, splink = by_tool.get("cdp", {}), by_tool.get("splink", {})
        if "f1" in cdp and "f1" in splink:
            speed, memory = cdp["records_per_s"] / splink["records_per_s"], cdp["peak_rss_mb"] / splink["peak_rss_mb"]
            lines.append(f"| {size:,} | {speed:.2f} | {memory:.2f} |")
    return lines if len(lines) > 2 else []


def _share(value: float) -> str:
    return "-" if pd.isna(value) else f"{value:.4f}"


def _pair_lines(pairs: dict[int, dict[str, pd.DataFrame]]) -> list[str]:
    lines = ["| records | sources | true pairs | " + " | ".join(f"{t} recall | {t} precision" for t in TOOLS) + " |"]
    lines.append("|" + "---|" * (3 + 2 * len(TOOLS)))
    for size, by_tool in pairs.items():
        true = next(iter(by_tool.values()))["true_pairs"]
        for pair in true.index:
            cells = [f"{size:,}", pair, f"{int(true[pair]):,}"]
            for tool in TOOLS:
                row = by_tool[tool].loc[pair] if tool in by_tool and pair in by_tool[tool].index else None
                cells += ["-", "-"] if row is None else [_share(row["recall"]), _share(row["precision"])]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def section(
    results: dict[int, dict[str, dict[str, Any]]],
    pairs: dict[int, dict[str, pd.DataFrame]],
    command: str,
    commit: str,
    load: float,
) -> str:
    """The BENCHMARKS.md section for one run; ``commit`` and ``load`` as they were when it started."""
    head = (
        "| records | tool | F1 | precision | recall | B-cubed F1 | largest profile / true entity | seconds | "
        "records/s | peak RSS MB | detail |"
    )
    rows = [_row(r) for by_tool in results.values() for r in by_tool.values()]
    return "\n".join(
        [
            f"\n## Demo data beside Splink 5 ({datetime.now(UTC):%Y-%m-%d}, commit {commit})\n",
            f"Machine: {common.machine()}; 1-minute load average {load:.1f} before the run (a shared machine)\n",
            f"Command: `{command}`\n",
            "The synthetic demo data (`generate_dataset(..., seed=7)`: CRM, web sessions, POS, marketing; "
            "typos, format variants, households, junk identifiers). Pairwise and B-cubed scores against "
            "`truth.csv` by `analytics.quality.evaluate` for both tools. cdp: `cdp resolve` with default "
            "settings on an embedded store after `cdp ingest`, its reported seconds and the peak RSS of the "
            "resolve process. Splink 5 (DuckDB) as `bench/demo_splink.py` sets it up (the four sources "
            "flattened to one schema, values normalised by `ingest/normalise.py`): seconds of training + "
            f"prediction + clustering at {THRESHOLD}, peak RSS of its process, stopped after "
            f"{SPLINK_LIMIT_S // 60} min.\n",
            head,
            "|" + "---|" * 11,
            *rows,
            "",
            *_ratios(results),
            "",
            "Pairwise recall and precision by the sources of the two records:\n",
            *_pair_lines(pairs),
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="cdp-graph and Splink 5 on the synthetic demo data.")
    parser.add_argument("--sizes", default=SIZES, help=f"comma-separated record counts (default {SIZES})")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated: cdp,splink")
    parser.add_argument("--no-write", action="store_true", help="print the section; do not append it")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    sizes, tools = [int(s) for s in args.sizes.split(",")], args.tools.split(",")
    if unknown := sorted(set(tools) - set(TOOLS)):
        parser.error(f"unknown tool: {', '.join(unknown)}")
    results: dict[int, dict[str, dict[str, Any]]] = {}
    pairs: dict[int, dict[str, pd.DataFrame]] = {}
    commit, load = common.commit(), os.getloadavg()[0]  # the code under test and the other jobs, before ours start
    for size in sizes:
        directory = demo_data(size)
        truth = load_truth(str(directory / "truth.csv"))
        console.print(f"[bold]{len(truth):,} records[/bold] ({directory.name}), {truth.nunique():,} people")
        for tool in tools:
            console.print(f" {tool} ...")
            try:
                result, assigned = (run_cdp if tool == "cdp" else run_splink)(directory, len(truth))
            except (RuntimeError, ValueError, KeyError, OSError) as exc:  # one tool failing still reports the other
                results.setdefault(size, {})[tool] = {"tool": tool, "records": len(truth), "error": _failure(exc)}
                console.print(f"  [red]{tool}: {_failure(exc)}[/red]", highlight=False)
                continue
            results.setdefault(size, {})[tool] = result
            pairs.setdefault(size, {})[tool] = source_pairs(assigned, truth)
            console.print(f"  {_row(result)}", highlight=False)
            console.print(pairs[size][tool].to_string(), highlight=False)
    text = section(results, pairs, f"python -m bench.demo_peer --sizes {args.sizes} --tools {args.tools}", commit, load)
    common.publish(text, args.out, args.no_write)


if __name__ == "__main__":
    main()
