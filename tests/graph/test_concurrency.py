"""Reads while a write is under way, on each real store: never a dirty read, and reads do not queue
behind the writer."""

from __future__ import annotations

import threading
import time
from typing import Any

import pandas as pd
import pytest

from api.service import CustomerService
from graph.model import IdentifierLink, Label, SourceRecord
from graph.store import GraphStore
from graph.writes import Transaction
from resolve.runner import resolve
from resolve.settings import ResolveSettings


def _rec(rid: str, email: str) -> SourceRecord:
    return SourceRecord("crm", rid, [IdentifierLink("email", email)], {"first_name": "Ann"}, "2025-01-01T00:00:00Z")


def test_an_open_transaction_is_invisible_to_readers_and_does_not_block_them(store: GraphStore) -> None:
    opened, read_done = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    def writer() -> None:
        try:
            with store.transaction() as tx:
                tx.create_nodes(Label.PROFILE, pd.DataFrame({"id": ["p_dirty"], "size": [1], "updated_at": ["t"]}))
                opened.set()
                assert read_done.wait(20), "the reader never finished while the transaction was open"
                raise RuntimeError("roll back on purpose")
        except RuntimeError:
            pass
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    assert opened.wait(20)
    seen = store.profile_sizes_of(["p_dirty"])  # must neither see the write nor wait for its end
    read_done.set()
    thread.join(30)
    assert not failure, failure
    assert seen == {}
    assert store.profile_sizes_of(["p_dirty"]) == {}  # rolled back


def test_reads_during_a_merge_never_see_a_half_written_transaction(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record's assignment is replaced inside one transaction (old edge deleted, new one created); the
    merge is slowed between the two, so a reader that could see uncommitted writes would find records in
    no profile. Readers run all through the merge, and must not wait for it."""
    store.upsert_records([_rec(str(n), f"u{n}@x.com") for n in range(6)])
    resolve(store, ResolveSettings(matching={"enabled": False}))
    ids = store.assignments().set_index("record")["profile_id"]
    gap_open = threading.Event()
    original = Transaction.create_edges

    def slow_create_edges(self: Transaction, rel: Any, frame: pd.DataFrame) -> None:
        if str(rel) == "IN_PROFILE":
            gap_open.set()
            time.sleep(1.0)  # the old edges are deleted, the new ones not yet written
        original(self, rel, frame)

    monkeypatch.setattr(Transaction, "create_edges", slow_create_edges)
    merged: list[str] = []
    merge = threading.Thread(
        target=lambda: merged.append(CustomerService(store).merge_profiles([ids["crm:0"], ids["crm:1"]], "same person"))
    )
    merge.start()
    assert gap_open.wait(30), "the merge never reached its assignment write"
    reads, started = 0, time.monotonic()
    while merge.is_alive() and time.monotonic() - started < 30:
        frame = store.assignments()
        assert sorted(frame["record"]) == sorted(ids.index), "a reader saw a record in no profile (a dirty read)"
        assert not frame["record"].duplicated().any()
        reads += 1
    merge.join(30)
    assert merged and reads >= 3, f"only {reads} reads completed during the merge: reads waited for the writer"
    after = store.assignments().set_index("record")["profile_id"]
    assert after["crm:0"] == after["crm:1"] == merged[0]


def _slow_reads(store: GraphStore, monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Every read the driver runs takes at least ``seconds`` (as on a big graph), inside the driver."""
    if store.kind == "embedded":
        import ladybug

        target, name = ladybug.Connection, "execute"
    else:
        import neo4j

        target, name = neo4j.Session, "execute_read"
    original = getattr(target, name)

    def slow(self: Any, *args: Any, **kwargs: Any) -> Any:
        time.sleep(seconds)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(target, name, slow)


def test_reads_run_at_the_same_time(store: GraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Six slow reads from six threads take about as long as one: they do not queue behind one lock or
    one connection (before, the embedded store ran its queries one at a time)."""
    store.upsert_records([_rec(str(n), f"u{n}@x.com") for n in range(3)])
    _slow_reads(store, monkeypatch, 0.5)
    threads = [threading.Thread(target=store.record_keys) for _ in range(6)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert time.monotonic() - started < 2.0  # one after another: 3 s
