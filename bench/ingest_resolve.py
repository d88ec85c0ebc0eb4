"""Benchmark: ingest + resolve of synthetic multi-source data on each store.

    python -m bench.ingest_resolve                      # 100k and 1M rows, embedded and Neo4j
    python -m bench.ingest_resolve --sizes 100000 --stores embedded

Neo4j runs need CDP_NEO4J_* in the environment (scripts/neo4j-local start prints them); the Neo4j
database is cleared first. Each (size, store) runs in its own process so peak memory is its own.
Results are appended as a section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import common
from bench.common import ROOT


def _one(size: int, store_kind: str) -> dict[str, object]:
    from analytics.quality import load_truth, pairwise_scores
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
        started = time.perf_counter()
        again = ingest(load_config(directory / "sources.yaml"), store, Path(tmp) / "rejects")
        reingest_s = time.perf_counter() - started
        assigned = store.assignments().set_index("record")["profile_id"]
        if store_kind == "neo4j":
            store.clear()  # leave the shared server as we found it (tests clear it too, slowly at 1M rows)
        store.close()
    scores = pairwise_scores(assigned, load_truth(str(directory / "truth.csv")))
    return {
        "store": store_kind,
        "rows": summary.rows_read,
        "ingest_s": round(ingest_s, 1),
        "ingest_rows_per_s": round(summary.rows_read / ingest_s),
        "reingest_s": round(reingest_s, 1),
        "reingest_written": sum(s.writes.created + s.writes.updated for s in again.sources),
        "resolve_s": round(resolve_s, 1),
        "profiles": resolved.profiles,
        "f1": round(scores.f1, 4),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _table(results: list[dict[str, object]]) -> str:
    head = "| store | rows | ingest s | ingest rows/s | re-ingest s (rows written) | resolve s | profiles | F1 | peak RSS MB |"
    lines = [head, "|" + "---|" * 9]
    for r in results:
        lines.append(
            f"| {r['store']} | {r['rows']:,} | {r['ingest_s']} | {r['ingest_rows_per_s']:,} | "
            f"{r['reingest_s']} ({r['reingest_written']}) | {r['resolve_s']} | {r['profiles']:,} | {r['f1']} | "
            f"{r['peak_rss_mb']:,} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--stores", default="embedded,neo4j")
    parser.add_argument("--one", nargs=2, metavar=("SIZE", "STORE"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(int(args.one[0]), args.one[1])))
        return
    results = []
    for size in [int(s) for s in args.sizes.split(",")]:
        for kind in args.stores.split(","):
            print(f"running {size:,} rows on {kind} ...", file=sys.stderr, flush=True)
            out = subprocess.run(
                [sys.executable, "-m", "bench.ingest_resolve", "--one", str(size), kind],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(results[-1], file=sys.stderr, flush=True)
    section = (
        f"\n## Ingest + resolve ({datetime.now(UTC):%Y-%m-%d})\n\n"
        f"Machine: {common.machine()}\n\nCommand: `python -m bench.ingest_resolve --sizes {args.sizes} --stores {args.stores}`\n\n"
        f"{_table(results)}\n"
    )
    common.publish(section, args.out, no_write=False)


if __name__ == "__main__":
    main()
