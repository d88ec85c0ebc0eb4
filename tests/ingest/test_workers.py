"""Normalising in worker processes gives exactly the graph that normalising inline gives."""

from __future__ import annotations

from pathlib import Path

import pytest

import ingest.pipeline
from graph.settings import StoreSettings, open_store
from ingest.config import load_config
from ingest.pipeline import ingest as run_ingest
from ingest.synthetic import generate_dataset


def _snapshot(data_dir: Path, config: Path, workers: int) -> tuple[list, list, dict]:
    store = open_store(StoreSettings(store="embedded", data_dir=data_dir))
    try:
        summary = run_ingest(load_config(config), store, data_dir / "rejects", workers=workers)
        links = sorted(map(tuple, store.record_links().values.tolist()))
        records = store.cypher("r", "MATCH (r:Record) RETURN r.key AS k, r.attributes AS a, r.hash AS h ORDER BY k")
        counts = {s.source: (s.rows_read, s.writes.created, s.rejects, s.invalid_values) for s in summary.sources}
    finally:
        store.close()
    return links, records, counts


def test_worker_processes_build_the_same_graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dataset = generate_dataset(tmp_path / "data", n_records=3_000, seed=5)
    monkeypatch.setattr(ingest.pipeline, "PARALLEL_FROM_ROWS", 0)
    monkeypatch.setattr(ingest.pipeline, "BATCH_ROWS", 250)  # many chunks in flight, so order matters
    inline = _snapshot(tmp_path / "inline", dataset.config_path, workers=0)
    parallel = _snapshot(tmp_path / "parallel", dataset.config_path, workers=2)
    assert parallel == inline
    assert sum(c[1] for c in inline[2].values()) == 3_000
