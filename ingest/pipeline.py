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

from graph.errors import ConfigError
from graph.store import GraphStore
from graph.writes import UpsertCounts
from ingest.config import SourcesConfig
from ingest.normalise import NormaliseOptions
from ingest.readers import RawRow, count_rows, file_columns, read_rows
from ingest.workers import ChunkBuilder, ChunkJob, default_workers

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
    one per spare core for files of more than :data:`PARALLEL_FROM_ROWS` rows, none for small ones."""
    started = datetime.now(UTC)
    names = check_sources(config, only)
    options = NormaliseOptions(config.options.default_region, config.options.date_order)
    summaries = []
    with ChunkBuilder(default_workers() if workers is None else workers) as builder:
        for name in names:
            job = ChunkJob(name, config.sources[name], options, started.strftime("%Y-%m-%dT%H:%M:%SZ"))
            summaries.append(_ingest_source(config, job, store, rejects_dir, on_progress, builder))
    seconds = (datetime.now(UTC) - started).total_seconds()
    return IngestSummary(summaries, seconds)


def _ingest_source(
    config: SourcesConfig,
    job: ChunkJob,
    store: GraphStore,
    rejects_dir: Path,
    on_progress: ProgressFn | None,
    builder: ChunkBuilder,
) -> SourceSummary:
    name = job.source
    path, fmt = config.path_of(name), config.sources[name].file_format()
    total = count_rows(path, fmt)
    summary = SourceSummary(name)
    rejects = RejectsFile(rejects_dir / f"{name}.csv", name)
    invalid: Counter[str] = Counter()
    seen: set[str] = set()
    for chunk in builder.built(job, _chunks(read_rows(path, fmt)), parallel=total >= PARALLEL_FROM_ROWS):
        summary.rows_read += chunk.rows
        for line, reason, raw in chunk.rejects:
            rejects.add(line, reason, raw)
        invalid.update(chunk.invalid)
        for record in chunk.records:
            summary.duplicate_ids += record.record_id in seen
            seen.add(record.record_id)
        summary.writes.add(store.upsert_records(chunk.records))
        if on_progress:
            on_progress(name, summary.rows_read, total)
    summary.rejects, summary.rejects_file = rejects.close()
    summary.invalid_values = dict(invalid)
    logger.info("source %s: %s", name, summary)
    return summary


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
