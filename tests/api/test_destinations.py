"""Audience pushes to a real HTTP receiver on loopback (issue 15, item 3): it checks every signature, fails
some first attempts with 503, answers one batch too late, and drops a repeated Idempotency-Key as a real API
would. Every member is delivered exactly once, with an email only for customers who consent to email when it
is sent; a push killed after a batch was received but before it was marked sent is finished by the next
one without a duplicate; a push with nothing new sends nothing; a refusing webhook's batches go to the dead
letters and a replay sends them."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import api.destinations as destinations
from api.access import Principal
from api.destinations import RetryPolicy, add_destination, dead_letters, sends, sign
from api.insights import consenting
from api.memberships import refresh_memberships
from api.segments import create_segment, segment_members
from api.service import CustomerService
from graph.model import IdentifierLink, SourceRecord
from graph.store import GraphStore
from ingest.config import load_config
from ingest.pipeline import ingest
from ingest.synthetic import generate_dataset
from resolve.runner import resolve
from resolve.settings import ResolveSettings

SECRET = "test-signing-secret-0123"
FAST = RetryPolicy(attempts=4, base_s=0.01, cap_s=0.05, timeout_s=0.5)


class Receiver:
    """A webhook receiver: deduplicates by Idempotency-Key, checks signatures, misbehaves as told."""

    def __init__(self) -> None:
        self.accepted: dict[str, dict[str, Any]] = {}
        self.requests: Counter[str] = Counter()
        self.bad_signatures = 0
        self.fail_first: set[int] = set()  # the n-th distinct batch gets a 503 on its first attempt
        self.slow_first: set[int] = set()  # ... or answers after the client's time-out
        self.refuse = False  # every request: 422
        self.order: list[str] = []
        self.lock = threading.Lock()

    def handle(self, key: str, body: bytes, signature: str) -> int:
        with self.lock:
            self.requests[key] += 1
            if key not in self.order:
                self.order.append(key)
            n, attempt = self.order.index(key), self.requests[key]
        if signature != sign(SECRET, body):
            self.bad_signatures += 1
            return 401
        if self.refuse:
            return 422
        if attempt == 1 and n in self.fail_first:
            return 503
        if attempt == 1 and n in self.slow_first:
            time.sleep(1.0)  # the client has given up by now; it will send again
        with self.lock:
            self.accepted.setdefault(key, json.loads(body))  # a repeat is acknowledged, not applied twice
        return 200


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = state.handle(self.headers["Idempotency-Key"], body, self.headers["X-CDP-Signature"])
            try:
                self.send_response(status)
                self.end_headers()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/hooks/cdp"
    finally:
        server.shutdown()


@pytest.fixture
def service(store: GraphStore, tmp_path: Path) -> CustomerService:
    data = generate_dataset(tmp_path / "data", 3_000, seed=7)
    ingest(load_config(data.config_path), store, tmp_path / "rejects")
    resolve(store, ResolveSettings())
    create_segment(store, "buyers", "traits.frequency >= 2", "tests")
    return CustomerService(store, principal=Principal("tests"))


def _delivered(receiver: Receiver) -> list[dict[str, Any]]:
    return [m for payload in receiver.accepted.values() for m in payload["entered"]]


def test_every_member_once_signed_and_only_with_consent(
    service: CustomerService, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    state.fail_first, state.slow_first = {0, 3, 5}, {2}
    add_destination(service.store, "crm-hook", "webhook", url, SECRET, batch_size=7)
    report = service.push_audience("buyers", "crm-hook", "email", FAST)
    members = sorted(segment_members(service.store, "buyers")["profile_id"])
    consent = service.consent_of(members)
    audience = [p for p in members if (c := consent[p].get("email")) is not None and c.granted]  # the oracle
    delivered = _delivered(state)
    assert sorted(m["profile_id"] for m in delivered) == audience  # each consenting member once, nobody else
    assert 20 < report.entered == len(audience) < len(members)
    assert report.sent == report.batches == len(state.accepted) and report.dead == 0 and state.bad_signatures == 0
    assert max(state.requests.values()) >= 2 and sum(state.requests.values()) > len(state.accepted)  # retried
    assert all(m["phone"] is None for m in delivered)  # the email purpose allows no phone
    emails = {p: [i.value for i in ids if i.type == "email"] for p, ids in service.identifiers_of(audience).items()}
    assert all((m["email"] in emails[m["profile_id"]]) == bool(emails[m["profile_id"]]) for m in delivered)

    again = service.push_audience("buyers", "crm-hook", "email", FAST)
    assert (again.entered, again.exited, again.batches, again.sent) == (0, 0, 0, 0)  # nothing new: nothing sent


class Killed(Exception):
    pass


def test_a_killed_push_resumes_without_duplicates(service: CustomerService, receiver: tuple[Receiver, str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    state, url = receiver
    add_destination(service.store, "crm-hook", "webhook", url, SECRET, batch_size=5)
    real_write, marked = service.store.write, []

    def write(work: Any, what: str) -> Any:
        if what == "record a send":
            if len(marked) == 3:  # the 4th batch was received; the process dies before marking it sent
                raise Killed
            marked.append(what)
        return real_write(work, what)

    monkeypatch.setattr(service.store, "write", write)
    with pytest.raises(Killed):
        service.push_audience("buyers", "crm-hook", "email", FAST)
    monkeypatch.setattr(service.store, "write", real_write)
    assert len(state.accepted) == 4
    report = service.push_audience("buyers", "crm-hook", "email", FAST)
    assert report.resumed > 0 and report.batches == 0  # the rest of the planned push, nothing planned twice
    members = sorted(segment_members(service.store, "buyers")["profile_id"])
    assert sorted(m["profile_id"] for m in _delivered(state)) == consenting(service, members, "email")
    assert max(state.requests.values()) == 2  # the unmarked batch went again, with its key: the receiver dropped it


def test_refused_batches_are_dead_letters_and_a_replay_sends_them(service: CustomerService,
                                                                  receiver: tuple[Receiver, str]) -> None:  # fmt: skip
    state, url = receiver
    state.refuse = True
    add_destination(service.store, "crm-hook", "webhook", url, SECRET, batch_size=50)
    report = service.push_audience("buyers", "crm-hook", "email", FAST)
    assert report.dead == report.batches > 0 and report.sent == 0
    dead = dead_letters(service.store, "crm-hook")
    assert len(dead) == report.batches and set(dead["outcome"]) == {"HTTP 422"} and set(dead["attempts"]) == {1}
    state.refuse = False
    replayed = service.replay_dead_letters("crm-hook", FAST)
    assert replayed.sent == report.batches and dead_letters(service.store, "crm-hook").empty
    assert len(_delivered(state)) == report.entered


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_a_folder_destination_writes_each_batch_and_records_it(service: CustomerService, tmp_path: Path,
                                                               file_format: str) -> None:  # fmt: skip
    add_destination(service.store, "drop", "folder", str(tmp_path / "drop"), batch_size=25, file_format=file_format)
    report = service.push_audience("buyers", "drop", "email", FAST)
    files = sorted((tmp_path / "drop" / "buyers").glob(f"*.{file_format}"))
    assert len(files) == report.batches > 1 and not list((tmp_path / "drop").rglob("*.partial"))
    read = pd.read_parquet if file_format == "parquet" else partial(pd.read_csv, dtype=str, keep_default_na=False)
    written = pd.concat([read(f) for f in files]).fillna("")
    members = sorted(segment_members(service.store, "buyers")["profile_id"])
    assert sorted(written["profile_id"]) == consenting(service, members, "email")
    assert list(written.columns) == ["change", "profile_id", "email", "phone"]
    assert set(written["change"]) == {"entered"} and (written["phone"] == "").all()  # email sends no phones
    assert written["email"].str.contains("@").any()
    sent = sends(service.store, "drop")  # the record of every send
    assert len(sent) == report.batches and set(sent["status"]) == {"sent"} and sent["entered"].sum() == len(written)
    assert set(sent["purpose"]) == {"email"} and (sent["sent_at"] >= sent["created_at"]).all()


def _state_consent(store: GraphStore, email: str, granted: bool, at: str) -> None:
    """A preference-centre record stating email consent for the holder of ``email``."""
    attributes = {"consent_email": str(granted).lower(), "consent_email_at": at}
    store.upsert_records([SourceRecord("prefs", f"{email}-{at}", [IdentifierLink("email", email)], attributes, at)])
    resolve(store, ResolveSettings())
    refresh_memberships(store)


def test_a_withdrawn_consent_leaves_the_audience_and_a_new_grant_enters_it(
    service: CustomerService, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    add_destination(service.store, "crm-hook", "webhook", url, SECRET, batch_size=50)
    service.push_audience("buyers", "crm-hook", "email", FAST)
    sent = {m["profile_id"]: m["email"] for m in _delivered(state)}
    member, email = next((p, e) for p, e in sorted(sent.items()) if e)
    _state_consent(service.store, email, False, "2031-01-01T00:00:00Z")
    assert member in set(segment_members(service.store, "buyers")["profile_id"])  # still in the segment
    first = set(state.accepted)
    withdrawn = service.push_audience("buyers", "crm-hook", "email", FAST)
    assert (withdrawn.entered, withdrawn.exited) == (0, 1)
    new = [state.accepted[k] for k in sorted(set(state.accepted) - first)]
    assert [m for payload in new for m in payload["exited"]] == [{"profile_id": member}]
    assert email not in json.dumps(new)  # the withdrawn customer's email does not leave again

    _state_consent(service.store, email, True, "2032-01-01T00:00:00Z")
    seen = set(state.accepted)
    granted = service.push_audience("buyers", "crm-hook", "email", FAST)
    assert (granted.entered, granted.exited) == (1, 0)
    again = [m for k in sorted(set(state.accepted) - seen) for m in state.accepted[k]["entered"]]
    assert again == [{"profile_id": member, "email": email, "phone": None}]


def test_destination_checks() -> None:
    assert destinations.RetryPolicy(base_s=1, cap_s=4).wait(10) <= 4


def test_an_erased_customer_leaves_syncs_and_batches(service: CustomerService, tmp_path: Path) -> None:
    from api.erasure import erase_customer

    add_destination(service.store, "drop", "folder", str(tmp_path / "drop"), batch_size=25)
    service.push_audience("buyers", "drop", "email", FAST)
    member = consenting(service, sorted(segment_members(service.store, "buyers")["profile_id"]), "email")[0]
    assert member in service.store.sync_state("drop|buyers|email")["members"]
    erase_customer(service.store, [member], "tests")
    state = service.store.sync_state("drop|buyers|email")
    assert state is not None and member not in state["members"]
    batches = service.store.outbox("drop", ["pending", "sent", "dead"])
    assert not batches["entered"].str.contains(member).any()
    again = service.push_audience("buyers", "drop", "email", FAST)
    assert again.exited == 0  # gone from the sync's members: never sent again, not even as an exit
