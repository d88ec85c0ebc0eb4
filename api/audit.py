"""The audit log: who did what to which customers, when, and how it ended, appended to the store.

Every mutation (merge, split, erase), every export (audiences, files), every key change and every read
that showed personal data (a caller with ``read:pii``) is one entry: the key's name (``local`` for the
CLI), the action, the profile ids it touched, the time and the outcome (``ok``, ``denied`` or ``error:
KIND``). Never the personal data itself: no values, no free text a user typed, no error message.

Mutations and exports write their entry in the caller's thread, after the work. Reads are queued and
written by one background thread (:class:`AuditQueue`), so answering never waits for a write (a resolve
may hold the store's writer); :meth:`AuditQueue.flush` waits for what is queued.
"""

from __future__ import annotations

import json
import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from strawberry.extensions import SchemaExtension

from api.access import AccessDenied
from graph.errors import CdpError
from graph.store import GraphStore

__all__ = ["AuditEntry", "AuditQueue", "PiiReadAudit", "audited", "entry", "read_audit", "write_audit"]

logger = logging.getLogger(__name__)
BATCH_SECONDS = 1.0  # reads' entries are written at most this long after the read
COLUMNS = ["key", "at", "actor", "action", "targets", "outcome", "detail"]


@dataclass(frozen=True)
class AuditEntry:
    at: str
    actor: str
    action: str
    targets: tuple[str, ...]
    outcome: str
    detail: str = ""
    key: str = ""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry(actor: str, action: str, targets: Iterable[str] = (), outcome: str = "ok", detail: str = "") -> AuditEntry:
    """An entry stamped now, with a key that sorts by time (then at random among equal times)."""
    at = _now()
    return AuditEntry(at, actor, action, tuple(sorted(set(targets))), outcome, detail, f"{at}-{secrets.token_hex(4)}")


def write_audit(store: GraphStore, entries: Sequence[AuditEntry]) -> None:
    if not entries:
        return
    frame = pd.DataFrame([{**vars(e), "targets": json.dumps(list(e.targets))} for e in entries])[COLUMNS]
    store.write(lambda tx: tx.append_audit(frame), "append to the audit log")


def read_audit(store: GraphStore, since: str, limit: int = 1_000) -> list[AuditEntry]:
    """Entries at or after ``since`` (an ISO date or time, UTC), oldest first, at most ``limit``."""
    rows = store.audit_entries(since, limit)
    return [
        AuditEntry(
            r["at"],
            r["actor"],
            r["action"],
            tuple(json.loads(r["targets"] or "[]")),
            r["outcome"],
            r["detail"] or "",
            r["key"],
        )  # fmt: skip
        for r in rows
    ]


def outcome_of(error: BaseException) -> str:
    """An outcome naming the kind of failure, never its message (which may quote a value)."""
    return "denied" if isinstance(error, AccessDenied) else f"error: {type(error).__name__}"


@contextmanager
def audited(
    store: GraphStore, actor: str, action: str, targets: Iterable[str] = (), detail: str = ""
) -> Iterator[list[str]]:
    """Run the block and append its entry: ``ok`` with the targets (those given, and any the block adds to
    the list it gets), or how it failed. A failed append is logged and does not undo the work."""
    touched: list[str] = []
    try:
        yield touched
    except CdpError as exc:
        _append(store, entry(actor, action, [*targets, *touched], outcome_of(exc), detail))
        raise
    _append(store, entry(actor, action, [*targets, *touched], detail=detail))


def _append(store: GraphStore, item: AuditEntry) -> None:
    try:
        write_audit(store, [item])
    except CdpError:
        logger.exception("could not append to the audit log: %s %s", item.actor, item.action)


class AuditQueue:
    """Appends entries from one background thread, in batches, in order."""

    def __init__(self, store_of: Callable[[], GraphStore]) -> None:
        self.store_of = store_of
        self._queue: queue.Queue[AuditEntry | threading.Event | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="audit-log", daemon=True)
        self._thread.start()

    def put(self, item: AuditEntry) -> None:
        self._queue.put(item)

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Wait until everything queued so far is written; False if ``timeout_s`` passed first."""
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout_s)

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            # gather for up to a second: one write (a commit) per second at most, not one per read
            deadline = time.monotonic() + BATCH_SECONDS
            while len(batch) < 500 and not isinstance(batch[-1], threading.Event) and batch[-1] is not None:
                try:
                    batch.append(self._queue.get(timeout=max(deadline - time.monotonic(), 0)))
                except queue.Empty:
                    break
            entries = [item for item in batch if isinstance(item, AuditEntry)]
            try:
                write_audit(self.store_of(), entries)
            except Exception:  # noqa: BLE001 - logged; the next batch tries again
                logger.exception("could not append %d reads to the audit log", len(entries))
            for waiting in (item for item in batch if isinstance(item, threading.Event)):
                waiting.set()
            if None in batch:
                return


class PiiReadAudit(SchemaExtension):
    """After an operation that showed personal data (its :class:`api.pii.PiiMask` noted whose), queues a
    ``read:pii`` entry naming those profiles and the operation."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        if not isinstance(context, dict) or context.get("audit") is None:
            return
        revealed = context["pii"].revealed
        if revealed:
            name = self.execution_context.operation_name or "anonymous"
            context["audit"].put(entry(context["principal"].name, "read:pii", revealed, detail=f"graphql {name}"))
