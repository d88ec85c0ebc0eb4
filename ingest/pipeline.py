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
from ingest.column_profile import ProfileTally, SourceProfile, store_profiles
from ingest.config import SourcesConfig, SourceSpec
from ingest.normalise import NormaliseOptions
from ingest.phone_regions import PhoneTally, region_hint
from ingest.readers import RawRow, count_rows, file_columns, read_rows
from ingest.records import Dropped
from ingest.suppression import Suppressions
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
    suppressed: int = 0  # rows of erased customers, skipped (ingest.suppression)
    invalid_values: dict[str, int] = field(default_factory=dict)  # values dropped from matching, per column
    events_dropped: dict[str, int] = field(default_factory=dict)  # events not recorded, per timestamp column
    writes: UpsertCounts = field(default_factory=UpsertCounts)
    rejects_file: Path | None = None  # set when it lists anything: rejected rows, dropped values or events
    warnings: list[str] = field(default_factory=list)  # e.g. "<path>: no data rows"
    #: most phones are not valid numbers in the default region, and most are in this other one: the message
    region_hint: str | None = None


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
        present = file_columns(path, spec.file_format(), spec.encoding)
        if present is None:  # JSON Lines without one readable row: nothing to check, ingest will say why
            continue
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
    trackers = {name: _SourceTracker(name, config.sources[name], *_file(config, name), rejects_dir, options)
                for name in names}  # fmt: skip
    parallel = sum(t.total for t in trackers.values()) >= PARALLEL_FROM_ROWS
    pending: list[RecordBatch] = []
    suppressions = Suppressions(store)
    with ChunkBuilder(default_workers() if workers is None else workers) as builder:
        for job, chunk in builder.built(
            _job_chunks(config, jobs), parallel, depth=store.transaction_rows // BATCH_ROWS
        ):
            # erased customers' rows leave before anything is written of them: the store, the rejects file
            batch, suppressed, rows = suppressions.apply(chunk.batch)
            trackers[job.source].take(chunk, {chunk.lines[r] for r in rows})
            trackers[job.source].summary.suppressed += sum(suppressed.values())
            pending.append(batch)
            if sum(map(len, pending)) >= store.transaction_rows:
                _write(store, pending, trackers)
                pending = []
            if on_progress:
                on_progress(job.source, trackers[job.source].summary.rows_read, trackers[job.source].total)
        _write(store, pending, trackers)
    summaries = [trackers[name].close() for name in names]
    store_profiles(store, [trackers[name].column_profile(ingested_at) for name in names])
    return IngestSummary(summaries, (datetime.now(UTC) - started).total_seconds())


def _file(config: SourcesConfig, name: str) -> tuple[Path, str]:
    return config.path_of(name), config.sources[name].file_format()


def _job_chunks(config: SourcesConfig, jobs: list[ChunkJob]) -> Iterator[tuple[ChunkJob, list[RawRow]]]:
    for job in jobs:
        for rows in _chunks(read_rows(*_file(config, job.source), job.spec.encoding)):
            yield job, rows


def _write(store: GraphStore, pending: list[RecordBatch], trackers: dict[str, _SourceTracker]) -> None:
    if pending:
        for source, counts in store.upsert_batch(RecordBatch.concat(pending)).items():
            trackers[source].summary.writes.add(counts)


class _SourceTracker:
    """What ingest learns about one source as its chunks arrive: rejects, dropped values, repeated ids, and
    whether its phones look written in another region than the default one, and its column profile."""

    def __init__(
        self, name: str, spec: SourceSpec, path: Path, fmt: str, rejects_dir: Path, options: NormaliseOptions
    ) -> None:
        self.summary, self.path, self.total = SourceSummary(name), path, count_rows(path, fmt)
        self.profile = ProfileTally(name, spec)
        self.rejects = RejectsFile(rejects_dir / f"{name}.csv", name)
        self.invalid: Counter[str] = Counter()
        self.events: Counter[str] = Counter()
        self.seen: set[str] = set()
        self.phones, self.region = PhoneTally(), options.default_region

    def take(self, chunk: BuiltChunk, suppressed: set[int] | frozenset[int] = frozenset()) -> None:
        """Learn from a chunk; what ingest dropped from the ``suppressed`` lines (erased customers) is not kept."""
        self.summary.rows_read += chunk.rows
        dropped = [d for d in chunk.dropped if d[0] not in suppressed] if suppressed else chunk.dropped
        self.rejects.add_chunk(chunk.rejects, dropped)
        lines = None
        if dropped:  # an example names its record, so an erase can take it out
            records = chunk.batch.records
            lines = {chunk.lines[r]: key for r, key in zip(records["row"], records["key"], strict=True)}
        self.profile.take(chunk.rows, chunk.filled, chunk.rejects, dropped, lines)
        self.invalid.update(chunk.invalid)
        self.events.update(chunk.events_dropped)
        self.phones.merge(chunk.phones)
        for record_id in chunk.batch.records["record_id"]:
            self.summary.duplicate_ids += record_id in self.seen
            self.seen.add(record_id)

    def close(self) -> SourceSummary:
        self.summary.rejects, self.summary.rejects_file = self.rejects.close()
        self.summary.invalid_values, self.summary.events_dropped = dict(self.invalid), dict(self.events)
        if not self.summary.rows_read:
            self.summary.warnings.append(f"{self.path}: no data rows")
        self.summary.region_hint = region_hint(self.phones, self.region)
        logger.info("source %s: %s", self.summary.source, self.summary)
        return self.summary

    def column_profile(self, profiled_at: str) -> SourceProfile:
        return self.profile.profile(profiled_at)


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
    """``rejects/<source>.csv``, rewritten on every ingest of the source: one line per thing ingest did not
    take, in file order, with columns ``source,line,kind,column,value,reason,raw``. ``kind`` is ``row`` (the
    row was not ingested; ``raw`` holds it), ``value`` (the column's value was dropped, the row kept) or
    ``event`` (the row's event was not recorded: its timestamp column did not parse; the row kept).
    Text that cannot be written as UTF-8 is written as ``\\uXXXX`` escapes."""

    COLUMNS = ("source", "line", "kind", "column", "value", "reason", "raw")

    def __init__(self, path: Path, source: str) -> None:
        self.path, self.source = path, source
        self._handle: TextIO | None = None
        self._writer: Any = None
        self.count = 0  # rows rejected
        self.lines = 0  # lines written: rows, values and events
        path.unlink(missing_ok=True)

    def add(self, line: int, reason: str, raw: str) -> None:
        """A row that was not ingested."""
        self._write([self.source, line, "row", "", "", reason, raw[:2000]])
        self.count += 1

    def add_dropped(self, line: int, kind: str, column: str, value: str, reason: str) -> None:
        """A value dropped from a row that was kept, or the row's event not recorded."""
        self._write([self.source, line, kind, column, value, reason, ""])

    def add_chunk(self, rejects: list[tuple[int, str, str]], dropped: list[Dropped]) -> None:
        """A chunk's rejected rows and dropped values, each list in line order, merged by line."""
        done = 0
        for line, reason, raw in rejects:
            while done < len(dropped) and dropped[done][0] < line:
                self.add_dropped(*dropped[done])
                done += 1
            self.add(line, reason, raw)
        for entry in dropped[done:]:
            self.add_dropped(*entry)

    def _write(self, fields: list[Any]) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("w", newline="", encoding="utf-8", errors="backslashreplace")
            self._writer = csv.writer(self._handle)
            self._writer.writerow(self.COLUMNS)
        self._writer.writerow(fields)
        self.lines += 1

    def close(self) -> tuple[int, Path | None]:
        if self._handle is not None:
            self._handle.close()
        return self.count, (self.path if self.lines else None)
