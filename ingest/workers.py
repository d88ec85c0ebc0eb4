"""Normalisation in worker processes: rows are cleaned on one core while the graph is written on another.

Chunks come back in the order they were read, so "the last row with a record id wins" still holds.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field

from graph.model import SourceRecord
from ingest.config import SourceSpec
from ingest.normalise import NormaliseOptions
from ingest.readers import RawRow
from ingest.records import RecordBuilder, RejectedRow


@dataclass
class BuiltChunk:
    rows: int
    records: list[SourceRecord]
    rejects: list[tuple[int, str, str]] = field(default_factory=list)  # line, reason, raw
    invalid: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ChunkJob:
    source: str
    spec: SourceSpec
    options: NormaliseOptions
    ingested_at: str


def build_chunk(job: ChunkJob, rows: list[RawRow]) -> BuiltChunk:
    builder = RecordBuilder(job.source, job.spec, job.options, job.ingested_at)
    chunk = BuiltChunk(rows=len(rows), records=[])
    for row in rows:
        if row.values is None:
            chunk.rejects.append((row.line, row.error, row.raw))
            continue
        try:
            record = builder.build(row.line, row.values)
            _ = record.content_hash  # computed here, off the writing process
            chunk.records.append(record)
        except RejectedRow as exc:
            chunk.rejects.append((row.line, str(exc), str(row.values)))
    chunk.invalid = dict(builder.invalid.counts)
    return chunk


def default_workers() -> int:
    """``CDP_INGEST_WORKERS``, else one worker per core beyond the one that writes (at least one)."""
    configured = os.environ.get("CDP_INGEST_WORKERS")
    return int(configured) if configured else max((os.cpu_count() or 1) - 1, 1)


class ChunkBuilder:
    """Builds chunks in order, in worker processes (``workers > 0``) or in this one; started lazily and
    shared by every source of one ingest, since starting a process costs about a second."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ChunkBuilder:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def built(self, job: ChunkJob, chunks: Iterable[list[RawRow]], parallel: bool) -> Iterator[BuiltChunk]:
        if not parallel or self.workers <= 0:
            for rows in chunks:
                yield build_chunk(job, rows)
            return
        if self._pool is None:
            context = multiprocessing.get_context("spawn")  # never fork a process holding a database
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        yield from _pipelined(self._pool, job, chunks, depth=self.workers + 1)


def _pipelined(pool: Executor, job: ChunkJob, chunks: Iterable[list[RawRow]], depth: int) -> Iterator[BuiltChunk]:
    pending: deque[Future[BuiltChunk]] = deque()
    for rows in chunks:
        pending.append(pool.submit(build_chunk, job, rows))
        if len(pending) > depth:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
