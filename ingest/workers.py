"""Normalisation in worker processes: rows are cleaned on one core while the graph is written on another.

Chunks come back in the order they were read, so "the last row with a record id wins" still holds. A worker
ends when the process that started it does, even one killed with SIGKILL (no worker outlives its ingest).
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field

from graph.batch import RecordBatch
from ingest.config import SourceSpec
from ingest.normalise import NormaliseOptions
from ingest.phone_regions import PhoneTally
from ingest.readers import RawRow
from ingest.records import Dropped, RecordBuilder, shown

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
PARENT_POLL_SECONDS = 0.5


@dataclass
class BuiltChunk:
    rows: int
    batch: RecordBatch
    rejects: list[tuple[int, str, str]] = field(default_factory=list)  # line, reason, raw
    invalid: dict[str, int] = field(default_factory=dict)  # values dropped per column
    dropped: list[Dropped] = field(default_factory=list)  # each value dropped and event not recorded, by line
    events_dropped: dict[str, int] = field(default_factory=dict)  # per timestamp column
    phones: PhoneTally = field(default_factory=PhoneTally)  # phones not valid in the default region
    filled: dict[str, int] = field(default_factory=dict)  # rows built holding a value, per column read
    lines: list[int] = field(default_factory=list)  # the file line of each row of ``batch`` (its ``row``)


@dataclass(frozen=True)
class ChunkJob:
    source: str
    spec: SourceSpec
    options: NormaliseOptions
    ingested_at: str


def build_chunk(job: ChunkJob, rows: list[RawRow]) -> BuiltChunk:
    builder = RecordBuilder(job.source, job.spec, job.options, job.ingested_at)
    readable, rejects = [], []
    for row in rows:
        if row.values is None:
            rejects.append((row.line, row.error, row.raw))
        elif row.dropped and (reason := builder.take_dropped(row.line, row.dropped)):
            rejects.append((row.line, reason, shown(row.values)))
        else:
            readable.append((row.line, row.values))
    batch, unbuilt = builder.build(readable)
    not_built = {reject[0] for reject in unbuilt}
    lines = [line for line, _ in readable if line not in not_built]
    rejects = sorted(rejects + unbuilt, key=lambda reject: reject[0])
    invalid = builder.invalid
    dropped = sorted(invalid.listed, key=lambda entry: entry[0])
    return BuiltChunk(len(rows), batch, rejects, dict(invalid.counts), dropped, dict(invalid.events), builder.phones,
                      builder.filled, lines)  # fmt: skip


def default_workers() -> int:
    """One worker per core (``Settings.ingest_workers``, ``CDP_INGEST_WORKERS``, overrides it at the edge):
    the writing process spends most of its time waiting on the store (on 2 cores, 2 workers ingested 100k
    rows 20% faster than 1, measured)."""
    return max(os.cpu_count() or 1, 1)


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
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=context, initializer=die_with_parent, initargs=(os.getpid(),)
            )
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


def die_with_parent(parent: int) -> None:
    """Pool initializer: end this worker when ``parent`` ends, however it ends.

    On Linux the kernel sends SIGKILL when the parent dies (``PR_SET_PDEATHSIG``; strictly, when the parent's
    thread that started this worker ends, and ingest starts and stops its pool within one call). Elsewhere,
    and as a fallback, a daemon thread notices this process being handed to another parent and exits.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # no libc to ask: the thread below still works
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
    threading.Thread(target=exit_when_orphaned, args=(parent,), name="exit-with-parent", daemon=True).start()


def exit_when_orphaned(parent: int) -> None:
    """Exit this process once it no longer has ``parent`` as its parent (polls every half second)."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)
