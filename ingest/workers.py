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

from graph.batch import RecordBatch
from ingest.config import SourceSpec
from ingest.normalise import NormaliseOptions
from ingest.readers import RawRow
from ingest.records import RecordBuilder


@dataclass
class BuiltChunk:
    rows: int
    batch: RecordBatch
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
    readable = [(row.line, row.values) for row in rows if row.values is not None]
    batch, rejects = builder.build(readable)
    rejects += [(row.line, row.error, row.raw) for row in rows if row.values is None]
    rejects.sort(key=lambda reject: reject[0])
    return BuiltChunk(len(rows), batch, rejects, dict(builder.invalid.counts))


def default_workers() -> int:
    """``CDP_INGEST_WORKERS``, else one worker per core: the writing process spends most of its time
    waiting on the store (on 2 cores, 2 workers ingested 100k rows 20% faster than 1, measured)."""
    configured = os.environ.get("CDP_INGEST_WORKERS")
    return int(configured) if configured else max(os.cpu_count() or 1, 1)


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

    def built(
        self, chunks: Iterable[tuple[ChunkJob, list[RawRow]]], parallel: bool, depth: int = 0
    ) -> Iterator[tuple[ChunkJob, BuiltChunk]]:
        """Each chunk built, in order. ``depth``: chunks kept in flight beyond one per worker, so the
        workers keep normalising while the caller spends seconds on one write."""
        if not parallel or self.workers <= 0:
            for job, rows in chunks:
                yield job, build_chunk(job, rows)
            return
        if self._pool is None:
            context = multiprocessing.get_context("spawn")  # never fork a process holding a database
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        yield from _pipelined(self._pool, chunks, depth=self.workers + max(depth, 1))


def _pipelined(
    pool: Executor, chunks: Iterable[tuple[ChunkJob, list[RawRow]]], depth: int
) -> Iterator[tuple[ChunkJob, BuiltChunk]]:
    pending: deque[tuple[ChunkJob, Future[BuiltChunk]]] = deque()
    for job, rows in chunks:
        pending.append((job, pool.submit(build_chunk, job, rows)))
        if len(pending) > depth:
            done_job, future = pending.popleft()
            yield done_job, future.result()
    while pending:
        done_job, future = pending.popleft()
        yield done_job, future.result()
