"""Destinations and audience pushes: a segment's members sent to a folder or a webhook, in batches, with the
contact details the purpose allows of customers who consent to it when the batch is sent.

A push is for a purpose (``email``, ``sms``, ``ads``, ``analytics``): its audience is the segment's members whose
latest consent to that purpose is a grant, so a customer who withdraws consent leaves the audience at the
next push (the destination is told to drop them) and one who grants it enters. A push first sends what an
earlier push left in the outbox, then plans this one: the members who entered the audience since the last
sync of this segment and purpose to this destination and those who left (all of them, the first time), in
batches of the destination's size. The batches and the members they bring the destination to are stored in
one transaction, then each batch is sent and marked sent (or dead) in its own. So a push killed half-way is
finished by the next one and nothing is planned twice; a batch sent but not yet marked is sent again with
the same ``Idempotency-Key``, which a receiver uses to drop the repeat.

A webhook request is a JSON POST signed with the destination's secret (``X-CDP-Signature: sha256=<hex HMAC
of the body>``). 5xx answers, 429, time-outs and refused connections are retried with exponential backoff
and full jitter, up to :attr:`RetryPolicy.attempts` attempts; other answers (4xx: the request is wrong and
would stay wrong) and exhausted retries put the batch in the dead letters (``cdp destination deadletters``),
from where ``replay`` sends them again. A folder destination writes each batch as a CSV or Parquet file
(``change, profile_id, email, phone``; written to a temporary name, then renamed). Every batch stays in the outbox as the record of the send: what (segment,
members), when, how many attempts, and the outcome.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pandas as pd

from api.segments import NAME, segment_members, segment_named
from graph.errors import InvalidRequest, NotFound
from graph.lease import writer_lease
from graph.store import GraphStore

__all__ = ["Destination", "PushReport", "RetryPolicy", "add_destination", "deliver", "destinations", "push", "sends",
           "sign"]  # fmt: skip

KINDS = ("folder", "webhook")
FORMATS = ("csv", "parquet")  # of a folder's files
MIN_SECRET = 16


@dataclass(frozen=True)
class Destination:
    name: str
    kind: str  # folder or webhook
    target: str  # the folder's path or the webhook's URL
    secret: str  # a webhook's signing secret ("" for a folder); never shown
    batch_size: int
    created_at: str
    format: str = "csv"  # a folder's files: csv or parquet


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_s: float = 0.5  # the first retry waits up to this (full jitter), each next one up to twice as long
    cap_s: float = 30.0
    timeout_s: float = 10.0

    def wait(self, attempt: int) -> float:
        """Seconds before retry ``attempt`` (1 for the first retry): full jitter over the exponential step."""
        return random.uniform(0, min(self.cap_s, self.base_s * 2 ** (attempt - 1)))


@dataclass
class PushReport:
    destination: str
    segment: str
    entered: int = 0
    exited: int = 0
    batches: int = 0  # planned by this push
    sent: int = 0  # batches sent by this push (resumed ones included)
    dead: int = 0  # batches that went to the dead letters
    resumed: int = 0  # batches an earlier push left unsent, sent first


def sign(secret: str, body: bytes) -> str:
    """The ``X-CDP-Signature`` header of ``body``.

    >>> sign("s3cret-s3cret-s3cret", b"{}")[:15]
    'sha256=634abc33'
    """
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def destinations(store: GraphStore) -> list[Destination]:
    return [Destination(r["name"], r["kind"], r["target"], r["secret"], int(r["batch_size"]), r["created_at"],
                        r["format"]) for r in store.destinations()]  # fmt: skip


def destination_named(store: GraphStore, name: str) -> Destination:
    found = next((d for d in destinations(store) if d.name == name), None)
    if found is None:
        raise NotFound(f"no destination '{name}' (cdp destination list shows them)")
    return found


def add_destination(store: GraphStore, name: str, kind: str, target: str, secret: str = "",
                    batch_size: int = 500, file_format: str = "csv") -> Destination:  # fmt: skip
    """Store a destination: a folder (made if missing) of CSV or Parquet files, or a webhook URL (http or
    https) with its secret."""
    if not NAME.match(name):
        raise InvalidRequest(f"destination name '{name}': letters, digits, '_', '.' and '-', at most 64")
    if kind not in KINDS:
        raise InvalidRequest(f"destination kind '{kind}': one of {', '.join(KINDS)}")
    if file_format not in FORMATS:
        raise InvalidRequest(f"--format {file_format}: one of {', '.join(FORMATS)}")
    if kind == "webhook" and file_format != "csv":
        raise InvalidRequest("--format is a folder's: a webhook is sent JSON")
    if not 1 <= batch_size <= 10_000:
        raise InvalidRequest(f"--batch-size {batch_size}: between 1 and 10000")
    if kind == "webhook":
        url = urlsplit(target)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise InvalidRequest(f"webhook URL '{target}': give an http:// or https:// URL")
        if len(secret) < MIN_SECRET:
            raise InvalidRequest(f"a webhook needs a signing secret of at least {MIN_SECRET} characters")
    else:
        Path(target).mkdir(parents=True, exist_ok=True)
        target, secret = str(Path(target).resolve()), ""
    if any(d.name == name for d in destinations(store)):
        raise InvalidRequest(f"a destination '{name}' exists already")
    at = _now()
    row = {"name": name, "kind": kind, "target": target, "secret": secret, "batch_size": batch_size, "created_at": at,
           "format": file_format}  # fmt: skip
    store.write(lambda tx: tx.add_destination(row), "add a destination")
    return Destination(name, kind, target, secret, batch_size, at, file_format)


#: contact details of profile ids for a purpose, at the time of sending: ``profile_id -> {email, phone}``
ContactsFn = Callable[[list[str], str], pd.DataFrame]
#: those of the profile ids whose latest consent to the purpose is a grant, now
ConsentingFn = Callable[[list[str], str], list[str]]


def push(store: GraphStore, segment: str, destination: str, purpose: str, contacts: ContactsFn,
         consenting: ConsentingFn, policy: RetryPolicy = RetryPolicy(), wait_s: float = 600.0) -> PushReport:  # fmt: skip
    """Send the audience's entries and exits since the last sync to the destination (see the module): the
    audience of a purpose is the segment's members who consent to it, so a customer who withdraws consent
    leaves it (and one who grants it enters), each destination keeping one sync per segment and purpose."""
    found, dest = segment_named(store, segment), destination_named(store, destination)
    report = PushReport(dest.name, found.name)
    with writer_lease(store, "push", wait_s):
        before = deliver(store, dest, contacts, policy, report)
        report.resumed = before
        key = f"{dest.name}|{found.name}|{purpose}"
        state = store.sync_state(key)
        last = set(json.loads(state["members"])) if state else set()
        now = set(consenting(sorted(segment_members(store, found.name)["profile_id"]), purpose))
        entered, exited = sorted(now - last), sorted(last - now)
        report.entered, report.exited = len(entered), len(exited)
        batches = plan_batches(dest, found.name, purpose, entered, exited)
        report.batches = len(batches)
        if len(batches) or state is None:
            members = json.dumps(sorted(now))
            store.write(lambda tx: tx.plan_sync(key, dest.name, found.name, members, _now(), batches), "plan a sync")
        deliver(store, dest, contacts, policy, report)
    return report


OUTBOX_COLUMNS = ["key", "destination", "segment", "sync", "batch", "purpose", "entered", "exited", "status",
                  "attempts", "outcome", "created_at", "sent_at"]  # fmt: skip


def plan_batches(dest: Destination, segment: str, purpose: str, entered: list[str], exited: list[str]) -> pd.DataFrame:
    """Outbox rows (pending) sending ``entered`` then ``exited`` in batches of the destination's size."""
    sync, at, size = uuid.uuid4().hex[:12], _now(), dest.batch_size
    changes = [("entered", p) for p in entered] + [("exited", p) for p in exited]
    rows = []
    for n, start in enumerate(range(0, len(changes), size)):
        part = changes[start : start + size]
        rows.append({"key": f"{dest.name}|{sync}|{n:05d}", "destination": dest.name, "segment": segment, "sync": sync,
                     "batch": n, "purpose": purpose, "entered": json.dumps([p for c, p in part if c == "entered"]),
                     "exited": json.dumps([p for c, p in part if c == "exited"]), "status": "pending", "attempts": 0,
                     "outcome": "", "created_at": at, "sent_at": ""})  # fmt: skip
    return pd.DataFrame(rows, columns=OUTBOX_COLUMNS)


def deliver(store: GraphStore, dest: Destination, contacts: ContactsFn, policy: RetryPolicy,
            report: PushReport | None = None) -> int:  # fmt: skip
    """Send the destination's pending batches, oldest first; returns how many were sent."""
    sent = 0
    for batch in store.outbox(dest.name, ["pending"]).to_dict("records"):
        body = _body(store, dest, batch, contacts)
        status, attempts, outcome = (_post(dest, batch, body, policy) if dest.kind == "webhook"
                                     else _write_file(dest, batch, body))  # fmt: skip
        at = _now() if status == "sent" else ""
        store.write(lambda tx, b=batch, s=status, a=attempts, o=outcome, t=at: tx.set_outbox_status(b["key"], s, a, o, t),
                    "record a send")  # fmt: skip
        sent += status == "sent"
        if report is not None:
            report.sent += status == "sent"
            report.dead += status == "dead"
    return sent


def _body(store: GraphStore, dest: Destination, batch: dict[str, Any], contacts: ContactsFn) -> bytes:
    """The batch's JSON, its members' contact details read now: a customer who withdrew consent since the
    batch was planned is sent without them; a profile no longer in the store (erased) is left out."""
    entered = json.loads(batch["entered"])
    live = set(store.profile_sizes_of(entered)) if entered else set()
    entered = [p for p in entered if p in live]
    details = contacts(entered, batch["purpose"]) if entered else pd.DataFrame(columns=["email", "phone"])
    members = []
    for pid in entered:
        row = details.loc[pid] if pid in details.index else {"email": "", "phone": ""}
        members.append({"profile_id": pid, "email": row["email"] or None, "phone": row["phone"] or None})
    payload = {"destination": dest.name, "segment": batch["segment"], "sync": batch["sync"], "batch": int(batch["batch"]),
               "purpose": batch["purpose"], "entered": members,
               "exited": [{"profile_id": p} for p in json.loads(batch["exited"])]}  # fmt: skip
    return json.dumps(payload, sort_keys=True).encode()


def _post(dest: Destination, batch: dict[str, Any], body: bytes, policy: RetryPolicy) -> tuple[str, int, str]:
    headers = {"Content-Type": "application/json", "X-CDP-Signature": sign(dest.secret, body),
               "Idempotency-Key": batch["key"], "User-Agent": "cdp-graph"}  # fmt: skip
    attempts, outcome = int(batch["attempts"]), ""
    with httpx.Client(timeout=policy.timeout_s, trust_env=False) as client:
        for attempt in range(1, policy.attempts + 1):
            attempts += 1
            try:
                answer = client.post(dest.target, content=body, headers=headers)
            except httpx.TimeoutException:
                outcome = "timed out"
            except httpx.TransportError as exc:
                outcome = f"not reached: {type(exc).__name__}"
            else:
                outcome = f"HTTP {answer.status_code}"
                if answer.is_success:
                    return "sent", attempts, outcome
                if answer.status_code < 500 and answer.status_code != 429:
                    return "dead", attempts, outcome  # the request is wrong: retrying sends the same
            if attempt < policy.attempts:
                time.sleep(policy.wait(attempt))
    return "dead", attempts, outcome


FILE_COLUMNS = ["change", "profile_id", "email", "phone"]


def _write_file(dest: Destination, batch: dict[str, Any], body: bytes) -> tuple[str, int, str]:
    """The batch as one file of the folder's format, ``<segment>/<sync>-<batch>.<format>`` (an exit carries no
    contact details); written whole under a temporary name, then renamed, so a reader never sees half."""
    payload = json.loads(body)
    rows = [["entered", m["profile_id"], m["email"] or "", m["phone"] or ""] for m in payload["entered"]]
    rows += [["exited", m["profile_id"], "", ""] for m in payload["exited"]]
    frame = pd.DataFrame(rows, columns=FILE_COLUMNS, dtype="string")
    folder = Path(dest.target) / payload["segment"]
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{payload['sync']}-{payload['batch']:05d}.{dest.format}"
    partial = out.with_name(out.name + ".partial")
    if dest.format == "parquet":
        frame.to_parquet(partial, index=False)
    else:
        frame.to_csv(partial, index=False)
    os.replace(partial, out)
    return "sent", int(batch["attempts"]) + 1, f"written to {out.name}"


def sends(store: GraphStore, destination: str) -> pd.DataFrame:
    """The record of every batch planned for the destination, oldest first: ``created_at, sent_at, segment,
    sync, batch, purpose, entered, exited`` (how many members), ``status`` (pending, sent or dead),
    ``attempts, outcome``."""
    destination_named(store, destination)
    found = store.outbox(destination, ["pending", "sent", "dead"])
    for change in ("entered", "exited"):
        found[change] = found[change].map(lambda members: len(json.loads(members))).astype("int64")
    return found[["created_at", "sent_at", "segment", "sync", "batch", "purpose", "entered", "exited", "status",
                  "attempts", "outcome"]]  # fmt: skip


def dead_letters(store: GraphStore, destination: str) -> pd.DataFrame:
    """The destination's dead batches: key, segment, batch, attempts, outcome, created_at."""
    destination_named(store, destination)
    return store.outbox(destination, ["dead"])


def replay(
    store: GraphStore, destination: str, contacts: ContactsFn, policy: RetryPolicy = RetryPolicy()
) -> PushReport:
    """Send the dead letters again (their attempts count on)."""
    dest = destination_named(store, destination)
    report = PushReport(dest.name, "")
    with writer_lease(store, "push", 600.0):
        for batch in store.outbox(dest.name, ["dead"]).to_dict("records"):
            store.write(lambda tx, b=batch: tx.set_outbox_status(b["key"], "pending", int(b["attempts"]), b["outcome"], ""),
                        "replay a dead letter")  # fmt: skip
        deliver(store, dest, contacts, policy, report)
    return report


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
