"""Ingest: read every configured source, normalise, write to the graph in batches, reject what is unreadable."""

from __future__ import annotations

import csv
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from graph.batch import RecordBatch
from graph.errors import ConfigError
from graph.store import GraphStore
from graph.writes import UpsertCounts
from ingest.config import SourcesConfig
from ingest.normalise import NormaliseOptions
from ingest.readers import RawRow, count_rows, file_columns, read_rows
from ingest.workers import BuiltChunk, ChunkBuilder, ChunkJob, default_workers

logger = logging.getLogger(__name__)

#: (source, rows done, rows in the source)
ProgressFn = Callable[[str, int, int], None]
BATCH_ROWS = 10_000
PARALLEL_FROM_ROWS = 20_000


@dataclass
class SourceSummary:
    source: str
    rows_read: int = 0
    rejects: int = 0
    duplicate_ids: int = 0
    invalid_values: dict[str, int] = field(default_factory=dict)
    writes: UpsertCounts = field(default_factory=UpsertCounts)
    rejects_file: Path | None = None


@dataclass
class IngestSummary:
    sources: list[SourceSummary]
    seconds: float

    @property
    def rows_read(self) -> int:
        return sum(s.rows_read for s in self.sources)


def check_sources(config: SourcesConfig, only: str | None = None) -> list[str]:
    """Fail before anything is written: every file readable, every configured column present."""
    names = list(config.sources) if only is None else [only]
    if only is not None and only not in config.sources:
        raise ConfigError(f"no source named '{only}' (configured: {', '.join(config.sources)})")
    for name in names:
        spec = config.sources[name]
        path = config.path_of(name)
        present = file_columns(path, spec.file_format())
        for column, key in spec.columns().items():
            if column not in present:
                raise ConfigError(f"source '{name}': {key} column '{column}' is not in {path}")
    return names


def ingest(
    config: SourcesConfig,
    store: GraphStore,
    rejects_dir: Path,
    only: str | None = None,
    on_progress: ProgressFn | None = None,
    workers: int | None = None,
) -> IngestSummary:
    """Ingest the configured sources (or only one). ``workers``: normalisation processes; by default
    one per core when there are more than :data:`PARALLEL_FROM_ROWS` rows, none for fewer.

    Rows stream through the workers source after source while this process writes: a write
    transaction holds :attr:`GraphStore.transaction_rows` records and may span sources."""
    started = datetime.now(UTC)
    names = check_sources(config, only)
    options = NormaliseOptions(config.options.default_region, config.options.date_order)
    ingested_at = started.strftime("%Y-%m-%dT%H:%M:%SZ")
    jobs = [ChunkJob(name, config.sources[name], options, ingested_at) for name in names]
    trackers = {name: _SourceTracker(name, count_rows(*_file(config, name)), rejects_dir) for name in names}
    parallel = sum(t.total for t in trackers.values()) >= PARALLEL_FROM_ROWS
    pending: list[RecordBatch] = []
    with ChunkBuilder(default_workers() if workers is None else workers) as builder:
        for job, chunk in builder.built(
            _job_chunks(config, jobs), parallel, depth=store.transaction_rows // BATCH_ROWS
        ):
            trackers[job.source].take(chunk)
            pending.append(chunk.batch)
            if sum(map(len, pending)) >= store.transaction_rows:
                _write(store, pending, trackers)
                pending = []
            if on_progress:
                on_progress(job.source, trackers[job.source].summary.rows_read, trackers[job.source].total)
        _write(store, pending, trackers)
    summaries = [trackers[name].close() for name in names]
    return IngestSummary(summaries, (datetime.now(UTC) - started).total_seconds())


def _file(config: SourcesConfig, name: str) -> tuple[Path, str]:
    return config.path_of(name), config.sources[name].file_format()


def _job_chunks(config: SourcesConfig, jobs: list[ChunkJob]) -> Iterator[tuple[ChunkJob, list[RawRow]]]:
    for job in jobs:
        for rows in _chunks(read_rows(*_file(config, job.source))):
            yield job, rows


def _write(store: GraphStore, pending: list[RecordBatch], trackers: dict[str, _SourceTracker]) -> None:
    if pending:
        for source, counts in store.upsert_batch(RecordBatch.concat(pending)).items():
            trackers[source].summary.writes.add(counts)


class _SourceTracker:
    """What ingest learns about one source as its chunks arrive: rejects, dropped values, repeated ids."""

    def __init__(self, name: str, total: int, rejects_dir: Path) -> None:
        self.summary, self.total = SourceSummary(name), total
        self.rejects = RejectsFile(rejects_dir / f"{name}.csv", name)
        self.invalid: Counter[str] = Counter()
        self.seen: set[str] = set()

    def take(self, chunk: BuiltChunk) -> None:
        self.summary.rows_read += chunk.rows
        for line, reason, raw in chunk.rejects:
            self.rejects.add(line, reason, raw)
        self.invalid.update(chunk.invalid)
        for record_id in chunk.batch.records["record_id"]:
            self.summary.duplicate_ids += record_id in self.seen
            self.seen.add(record_id)

    def close(self) -> SourceSummary:
        self.summary.rejects, self.summary.rejects_file = self.rejects.close()
        self.summary.invalid_values = dict(self.invalid)
        logger.info("source %s: %s", self.summary.source, self.summary)
        return self.summary


def _chunks(rows: Iterator[RawRow]) -> Iterator[list[RawRow]]:
    chunk: list[RawRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= BATCH_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class RejectsFile:
    """``rejects/<source>.csv`` with columns ``source,line,reason,raw``; rewritten on every ingest of the source."""

    def __init__(self, path: Path, source: str) -> None:
        self.path, self.source = path, source
        self._handle: TextIO | None = None
        self._writer: Any = None
        self.count = 0
        path.unlink(missing_ok=True)

    def add(self, line: int, reason: str, raw: str) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("w", newline="")
            self._writer = csv.writer(self._handle)
            self._writer.writerow(["source", "line", "reason", "raw"])
        self._writer.writerow([self.source, line, reason, raw[:2000]])
        self.count += 1

    def close(self) -> tuple[int, Path | None]:
        if self._handle is not None:
            self._handle.close()
        return self.count, (self.path if self.count else None)
