"""Benchmark: ingest + resolve of synthetic multi-source data on each store, beside Splink 5 on the same records.

    python -m bench.ingest_resolve                      # 100k and 1M rows, embedded and Neo4j, and Splink
    python -m bench.ingest_resolve --sizes 100000 --stores embedded --no-splink
    python -m bench.ingest_resolve --sizes 10000 --stores embedded --out /tmp/bench.md

The data is the demo data (``bench.common.demo_data(size)``: ``generate_dataset(..., seed=7)``, cached in
``bench/out/data-N``). Each (size, store) runs in its own process (``--one SIZE STORE``) so peak memory is its
own: it ingests the data into an empty store, resolves it with default settings, then ingests it again (which
must write nothing). Neo4j runs need CDP_NEO4J_* in the environment (scripts/neo4j-local start prints them);
the Neo4j database is cleared before and after. cdp's peak RSS is the largest of that process and its ingest
workers, over ingest + resolve (the Neo4j server's memory is not counted).

Then, unless ``--no-splink``, Splink 5 (DuckDB) runs once per size on the same data, as ``bench.demo_peer``
runs it (``run_splink``: ``bench/demo_splink.py`` in its own process, stopped after
``demo_peer.SPLINK_LIMIT_S``); a failure or timeout is recorded in the table instead of ending the run. cdp's
ingest + resolve seconds are set against Splink's train + predict + cluster seconds, with peak RSS and
pairwise F1, both tools scored by ``analytics.quality.evaluate`` against the same ``truth.csv``.

The results are appended as a section of ``--out`` (default BENCHMARKS.md) and printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import common
from bench.common import ROOT

SIZES = "100000,1000000"
STORES = "embedded,neo4j"
SPLINK = "splink (DuckDB)"
TABLE_HEAD = (
    "| store | rows | ingest s | ingest rows/s | re-ingest s (rows written) | resolve s | ingest + resolve s | "
    "profiles | F1 | peak RSS MB | detail |"
)


def _peak_rss_mb() -> int:
    """The largest resident memory of this process and of the children it has reaped (ingest's workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024)


def _one(size: int, store_kind: str) -> dict[str, Any]:
    """Ingest, resolve and re-ingest ``size`` demo records on an empty ``store_kind`` store, in this process."""
    from analytics.quality import evaluate, load_truth
    from graph.settings import StoreSettings, open_store
    from ingest.config import load_config
    from ingest.pipeline import ingest
    from resolve.runner import resolve
    from resolve.settings import ResolveSettings

    directory = common.demo_data(size)
    with tempfile.TemporaryDirectory() as tmp:
        settings = StoreSettings(store=store_kind, data_dir=Path(tmp))  # type: ignore[arg-type]
        store = open_store(settings)
        if store_kind == "neo4j":
            store.clear()
        started = time.perf_counter()
        summary = ingest(load_config(directory / "sources.yaml"), store, Path(tmp) / "rejects")
        ingest_s = time.perf_counter() - started
        started = time.perf_counter()
        resolved = resolve(store, ResolveSettings())
        resolve_s = time.perf_counter() - started
        peak_rss_mb = _peak_rss_mb()  # over ingest + resolve, the scope set against Splink
        started = time.perf_counter()
        again = ingest(load_config(directory / "sources.yaml"), store, Path(tmp) / "rejects")
        reingest_s = time.perf_counter() - started
        assigned = store.assignments().set_index("record")["profile_id"]
        if store_kind == "neo4j":
            store.clear()  # leave the shared server as we found it (tests clear it too, slowly at 1M rows)
        store.close()
    scored = evaluate(assigned, load_truth(str(directory / "truth.csv")))  # as bench.demo_peer scores Splink
    return {
        "store": store_kind,
        "rows": summary.rows_read,
        "ingest_s": round(ingest_s, 2),
        "ingest_rows_per_s": round(summary.rows_read / ingest_s),
        "reingest_s": round(reingest_s, 2),
        "reingest_written": sum(s.writes.created + s.writes.updated for s in again.sources),
        "resolve_s": round(resolve_s, 2),
        "ingest_resolve_s": round(ingest_s + resolve_s, 2),
        "profiles": resolved.profiles,
        "f1": round(scored.pairwise.f1, 4),
        "peak_rss_mb": peak_rss_mb,
    }


def _run_cdp(size: int, store_kind: str) -> dict[str, Any]:
    """``_one`` in a fresh process; its result."""
    print(f"running {size:,} rows on {store_kind} ...", file=sys.stderr, flush=True)
    out = subprocess.run(
        [sys.executable, "-m", "bench.ingest_resolve", "--one", str(size), store_kind],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    print(result, file=sys.stderr, flush=True)
    return result


def _run_splink(size: int) -> dict[str, Any]:
    """``bench.demo_peer.run_splink`` on the same demo data; ``{"records", "error"}`` if it failed or timed out."""
    from analytics.quality import load_truth
    from bench.demo_peer import _failure, run_splink

    directory = common.demo_data(size)
    records = len(load_truth(str(directory / "truth.csv")))
    print(f"running Splink on {records:,} records ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        result, _ = run_splink(directory, records)
    except (RuntimeError, ValueError, KeyError, OSError) as exc:  # as demo_peer: the cdp rows still report
        failure = {"records": records, "error": _failure(exc)}
        print(failure, file=sys.stderr, flush=True)
        return failure
    result["call_s"] = time.perf_counter() - started  # with flattening the sources and starting the process
    print({k: v for k, v in result.items() if not isinstance(v, list)}, file=sys.stderr, flush=True)
    return result


def _cdp_row(r: dict[str, Any]) -> str:
    return (
        f"| {r['store']} | {r['rows']:,} | {r['ingest_s']:.1f} | {r['ingest_rows_per_s']:,} | "
        f"{r['reingest_s']:.1f} ({r['reingest_written']}) | {r['resolve_s']:.1f} | {r['ingest_resolve_s']:.1f} | "
        f"{r['profiles']:,} | {r['f1']:.4f} | {r['peak_rss_mb']:,} | |"
    )


def _splink_detail(r: dict[str, Any]) -> str:
    skipped = f"; EM skipped {', '.join(r['em_failed'])}" if r["em_failed"] else ""
    return (
        f"train {r['train_s']:.1f} + predict {r['predict_s']:.1f} + cluster {r['cluster_s']:.1f} s "
        f"(process {r['process_s']:.1f} s, with flattening the sources {r['call_s']:.1f} s){skipped}"
    )


def _splink_row(r: dict[str, Any]) -> str:
    if "error" in r:
        return f"| {SPLINK} | {r['records']:,} | - | - | - | - | - | - | - | - | {r['error']} |"
    return (
        f"| {SPLINK} | {r['records']:,} | - | - | - | - | {r['seconds']:.1f} | {r['profiles']:,} | "
        f"{r['f1']:.4f} | {r['peak_rss_mb']:,.0f} | {_splink_detail(r)} |"
    )


def _table(cdp: dict[int, list[dict[str, Any]]], splink: dict[int, dict[str, Any]]) -> str:
    lines = [TABLE_HEAD, "|" + "---|" * 11]
    for size, runs in cdp.items():
        lines += [_cdp_row(r) for r in runs]
        if size in splink:
            lines.append(_splink_row(splink[size]))
    return "\n".join(lines)


def _speed(cdp_s: float, splink_s: float) -> str:
    """``cdp N.NNx faster`` or ``slower``, the larger time over the smaller."""
    if cdp_s <= splink_s:
        return f"cdp {splink_s / cdp_s:.2f}x faster"
    return f"cdp {cdp_s / splink_s:.2f}x slower"


def _comparison(size: int, c: dict[str, Any], s: dict[str, Any]) -> str:
    """One line setting cdp's run on one store against Splink's on the same records."""
    head = f"- {size:,} rows, {c['store']}: cdp ingest + resolve {c['ingest_resolve_s']:.1f} s vs Splink"
    if "error" in s:
        return f"{head}: {s['error']}"
    return (
        f"{head} train + predict + cluster {s['seconds']:.1f} s: {_speed(c['ingest_resolve_s'], s['seconds'])}; "
        f"peak RSS {c['peak_rss_mb']:,} MB vs {s['peak_rss_mb']:,.0f} MB; F1 {c['f1']:.4f} vs {s['f1']:.4f}"
    )


def _comparisons(cdp: dict[int, list[dict[str, Any]]], splink: dict[int, dict[str, Any]]) -> list[str]:
    return [_comparison(size, c, splink[size]) for size, runs in cdp.items() if size in splink for c in runs]


def _section(
    cdp: dict[int, list[dict[str, Any]]], splink: dict[int, dict[str, Any]], command: str, commit: str, load: float
) -> str:
    """The BENCHMARKS.md section for one run; ``commit`` and ``load`` as they were when it started."""
    from bench.demo_peer import SPLINK_LIMIT_S

    lines = [
        f"\n## Ingest + resolve ({datetime.now(UTC):%Y-%m-%d}, commit {commit})\n",
        f"Machine: {common.machine()}; 1-minute load average {load:.1f} before the run (a shared machine)\n",
        f"Command: `{command}`\n",
        "cdp: each (size, store) in a fresh process on an empty store: ingest, resolve (default settings), "
        "re-ingest; peak RSS: the largest of that process and its ingest workers, over ingest + resolve. "
        + (
            "Splink 5 (DuckDB) as `bench/demo_peer.py` runs it, on the same records: its `ingest + resolve s` "
            "cell is training + prediction + clustering, peak RSS of its process, stopped after "
            f"{SPLINK_LIMIT_S // 60} min. "
            if splink
            else ""
        )
        + "Pairwise F1 against `truth.csv` by `analytics.quality.evaluate`.\n",
        _table(cdp, splink),
        "",
    ]
    if comparisons := _comparisons(cdp, splink):
        lines += [*comparisons, ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="cdp ingest + resolve per store, beside Splink 5.")
    parser.add_argument("--sizes", default=SIZES, help=f"comma-separated record counts (default {SIZES})")
    parser.add_argument("--stores", default=STORES, help=f"comma-separated stores (default {STORES})")
    parser.add_argument("--no-splink", action="store_true", help="do not run Splink beside cdp")
    parser.add_argument("--one", nargs=2, metavar=("SIZE", "STORE"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md", help="appended to (default BENCHMARKS.md)")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(int(args.one[0]), args.one[1])))
        return
    commit, load = common.commit(), os.getloadavg()[0]  # the code under test and the other jobs, before ours start
    cdp: dict[int, list[dict[str, Any]]] = {}
    splink: dict[int, dict[str, Any]] = {}
    for size in [int(s) for s in args.sizes.split(",")]:
        common.demo_data(size)  # generated here on first use, not in the measured processes
        cdp[size] = [_run_cdp(size, kind) for kind in args.stores.split(",")]
        if not args.no_splink:
            splink[size] = _run_splink(size)
    command = f"python -m bench.ingest_resolve --sizes {args.sizes} --stores {args.stores}"
    command += " --no-splink" if args.no_splink else ""
    common.publish(_section(cdp, splink, command, commit, load), args.out, no_write=False)


if __name__ == "__main__":
    main()
