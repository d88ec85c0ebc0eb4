"""Benchmark: incremental resolve of one new record against a full resolve, on the embedded store.

    python -m bench.incremental                    # 10k and 100k rows of demo data
    python -m bench.incremental --sizes 10000 --repeats 10 --no-write

The demo data is ingested and resolved in full once; then, ``repeats`` times, one new record (a web
session logging in with a known customer's email) is ingested and ``resolve(incremental=True)`` times
the run. The full resolve of the same store is timed beside it. Results go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import common
from bench.common import ROOT


def _one(size: int, repeats: int) -> dict[str, object]:
    from graph.model import IdentifierLink, SourceRecord
    from graph.settings import StoreSettings, open_store
    from ingest.config import load_config
    from ingest.pipeline import ingest
    from resolve.runner import resolve
    from resolve.settings import ResolveSettings

    directory = common.demo_data(size)
    settings = ResolveSettings()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(StoreSettings(store="embedded", data_dir=Path(tmp)))
        ingest(load_config(directory / "sources.yaml"), store, Path(tmp) / "rejects")
        started = time.perf_counter()
        full = resolve(store, settings)
        full_s = time.perf_counter() - started
        emails = store.frame("emails", "MATCH (i:Identifier) WHERE i.type = 'email' RETURN i.value AS v LIMIT 500")
        timings, resolved = [], []
        for n in range(repeats):
            email = str(emails["v"].iloc[n % len(emails)])
            record = SourceRecord("web", f"bench-{n}", [IdentifierLink("email", email)], {}, "2026-11-01T00:00:00Z")
            store.upsert_records([record])
            started = time.perf_counter()
            step = resolve(store, settings, incremental=True)
            timings.append(time.perf_counter() - started)
            resolved.append(step.resolved_records)
            assert step.incremental, "the incremental run fell back to a full one"
        store.close()
    return {
        "records": full.records,
        "full_s": round(full_s, 2),
        "median_ms": round(statistics.median(timings) * 1000, 1),
        "p90_ms": round(sorted(timings)[int(0.9 * (len(timings) - 1))] * 1000, 1),
        "resolved_median": int(statistics.median(resolved)),
        "speedup": round(full_s / statistics.median(timings), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        print(f"{size:,} rows ...", file=sys.stderr, flush=True)
        result = _one(size, args.repeats)
        print(result, file=sys.stderr, flush=True)
        rows.append(
            f"| {result['records']:,} | {result['full_s']} | {result['median_ms']} | {result['p90_ms']} | "
            f"{result['resolved_median']:,} | {result['speedup']}x |"
        )
    section = (
        f"\n## Incremental resolve of one new record ({datetime.now(UTC):%Y-%m-%d})\n\n"
        f"Machine: {common.machine()}\n\nCommand: `python -m bench.incremental --sizes {args.sizes} "
        f"--repeats {args.repeats}`\n\nEmbedded store, demo data; each repeat ingests one web session that logs "
        "in with a known customer's email, then `resolve(incremental=True)` (what `cdp resolve` runs).\n\n"
        "| records | full resolve s | incremental median ms | p90 ms | records resolved again (median) | "
        "full / incremental |\n|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )
    common.publish(section, args.out, args.no_write)


if __name__ == "__main__":
    main()
