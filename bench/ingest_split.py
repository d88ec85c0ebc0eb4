"""Benchmark: where ingest time goes, normalising and writing measured apart.

    python -m bench.ingest_split --sizes 100000,1000000 --stores embedded,neo4j

For each size, every source of the synthetic data set is normalised into record batches in this one
process (the CPU one core spends, with no store attached), then, for each store, the same batches are
written to an empty graph in the store's own transaction size (the time the store alone needs). Together
they bound what a pipelined ingest can reach on this machine: with ``c`` cores shared by the workers,
the writer and (for Neo4j) the server, no ingest beats ``rows / max(write, (normalise + write_cpu) / c)``.
Results are appended as a section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import common
from bench.common import ROOT


def _normalised(size: int) -> tuple[list[object], float]:
    from graph.batch import RecordBatch
    from ingest.config import load_config
    from ingest.normalise import NormaliseOptions
    from ingest.pipeline import _chunks, _file
    from ingest.readers import read_rows
    from ingest.workers import ChunkJob, build_chunk

    directory = common.demo_data(size)
    config = load_config(directory / "sources.yaml")
    options = NormaliseOptions(config.options.default_region, config.options.date_order)
    started = time.process_time()
    batches: list[RecordBatch] = []
    for name, spec in config.sources.items():
        job = ChunkJob(name, spec, options, "2026-01-01T00:00:00Z")
        batches += [build_chunk(job, rows).batch for rows in _chunks(read_rows(*_file(config, name)))]
    return batches, time.process_time() - started


def _write(batches: list[object], store_kind: str) -> tuple[float, float]:
    from graph.batch import RecordBatch
    from graph.settings import StoreSettings, open_store

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(StoreSettings(store=store_kind, data_dir=Path(tmp)))  # type: ignore[arg-type]
        if store_kind == "neo4j":
            store.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        group: list[RecordBatch] = []
        for batch in batches:
            group.append(batch)  # type: ignore[arg-type]
            if sum(map(len, group)) >= store.transaction_rows:
                store.upsert_batch(RecordBatch.concat(group))
                group = []
        if group:
            store.upsert_batch(RecordBatch.concat(group))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if store_kind == "neo4j":
            store.clear()
        store.close()
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--stores", default="embedded,neo4j")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    lines = [
        "| rows | normalise CPU s (1 core) | store | write s | writer CPU s | write-only rows/s |",
        "|---|---|---|---|---|---|",
    ]
    for size in [int(s) for s in args.sizes.split(",")]:
        batches, normalise_s = _normalised(size)
        for kind in args.stores.split(","):
            wall, cpu = _write(batches, kind)
            lines.append(f"| {size:,} | {normalise_s:.1f} | {kind} | {wall:.1f} | {cpu:.1f} | {size / wall:,.0f} |")
            print(lines[-1], flush=True)
    section = (
        f"\n### Ingest split into normalising and writing ({datetime.now(UTC):%Y-%m-%d})\n\n"
        f"Machine: {common.machine()}\n\nCommand: `python -m bench.ingest_split --sizes {args.sizes} --stores {args.stores}`\n\n"
        + "\n".join(lines)
        + "\n"
    )
    common.publish(section, args.out, no_write=False)


if __name__ == "__main__":
    main()
