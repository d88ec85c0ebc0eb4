"""The writer lease: one multi-transaction writer (an ingest, a resolve, an embed) at a time per store,
across threads, processes and hosts, while any number of readers go on.

The lease is a node in the store, taken in a transaction that write-locks it first, so two writers
cannot both see it free. A holder on this host is alive while its process is (a ``kill -9`` frees the
lease at once for the next writer here); a holder elsewhere renews it every :data:`TTL_S` / 3 seconds
and loses it when it stops renewing for :data:`TTL_S`. Taking the lease again in a thread that holds it
is a no-op, so a merge (which resolves) nests inside nothing special.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from graph.errors import CdpError
from graph.store import GraphStore

logger = logging.getLogger(__name__)

__all__ = ["TTL_S", "WriterBusy", "process_alive", "writer_lease"]

KEY = "writer"
TTL_S = 90.0
_HOST = socket.gethostname()
_held = threading.local()  # id(store) -> (holder, depth) of the leases this thread holds


class WriterBusy(CdpError):
    """Another writer held the store for longer than this one would wait."""


@contextmanager
def writer_lease(
    store: GraphStore, job: str, wait_s: float = 600.0, on_wait: Callable[[str], None] | None = None
) -> Iterator[str]:
    """Hold the store's writer lease for the block (waiting up to ``wait_s`` seconds for another
    writer to finish); yields the holder id."""
    mine = getattr(_held, "leases", {})
    _held.leases = mine
    if id(store) in mine:  # this thread holds it already
        holder, depth = mine[id(store)]
        mine[id(store)] = (holder, depth + 1)
        try:
            yield holder
        finally:
            mine[id(store)] = (holder, depth)
        return
    holder = f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    _acquire(store, holder, job, wait_s, on_wait)
    mine[id(store)] = (holder, 1)
    stop = threading.Event()
    beat = threading.Thread(target=_renew, args=(store, holder, stop), name="writer-lease", daemon=True)
    beat.start()
    try:
        yield holder
    except BaseException:
        stop.set()
        del mine[id(store)]
        _release_once(store, holder)  # the block's error is the story; a lease left behind frees itself
        raise
    stop.set()
    del mine[id(store)]
    store.write(lambda tx: tx.release_lease(KEY, holder), "release the writer lease")


def _release_once(store: GraphStore, holder: str) -> None:
    try:
        with store.transaction() as tx:
            tx.release_lease(KEY, holder)
    except Exception as exc:  # the store went away: its holder's death (or expiry) frees the lease
        logger.debug("releasing the writer lease after an error: %s", exc)


def _acquire(store: GraphStore, holder: str, job: str, wait_s: float, on_wait: Callable[[str], None] | None) -> None:
    deadline, told = time.monotonic() + wait_s, False
    while True:
        current = store.write(lambda tx: _take(tx, holder, job), "take the writer lease")
        if current is None:
            return
        if time.monotonic() >= deadline:
            raise WriterBusy(f"the store is busy: {current['job']} ({current['holder']}) has been writing for "
                             f"longer than {wait_s:.0f} s; try again when it has finished")  # fmt: skip
        if not told and on_wait:
            on_wait(f"waiting for {current['job']} ({current['holder']}) to finish writing")
            told = True
        time.sleep(0.5)


def _take(tx: Any, holder: str, job: str) -> dict[str, Any] | None:
    """Take the lease if it is free; else who holds it."""
    current = tx.lock_lease(KEY)
    if current["holder"] and not _expired(current):
        return current
    tx.set_lease(KEY, holder, job, time.time() + TTL_S)
    return None


def _expired(lease: dict[str, Any]) -> bool:
    host, _, rest = str(lease["holder"]).partition(":")
    pid = rest.partition(":")[0]
    if host == _HOST and pid.isdigit():
        return not process_alive(int(pid))
    return float(lease["expires_at"] or 0.0) < time.time()


def process_alive(pid: int) -> bool:
    """Whether a process of this machine is still running (one of another user's counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _renew(store: GraphStore, holder: str, stop: threading.Event) -> None:
    while not stop.wait(TTL_S / 3):
        try:
            if not store.write(lambda tx: tx.renew_lease(KEY, holder, time.time() + TTL_S), "renew the lease"):
                logger.warning("the writer lease %s was taken over", holder)
                return
        except Exception as exc:  # the writer itself will meet the same error and report it
            logger.debug("renewing the writer lease: %s", exc)
