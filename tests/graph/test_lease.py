"""The writer lease on each real store: one multi-transaction writer at a time, across processes."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from graph.lease import WriterBusy, writer_lease
from graph.store import GraphStore


def test_a_second_writer_waits_then_gives_up_naming_the_first(store: GraphStore) -> None:
    with writer_lease(store, "resolve"):
        failed: list[BaseException] = []

        def second() -> None:
            try:
                with writer_lease(store, "ingest", wait_s=0.5):
                    pass
            except WriterBusy as exc:
                failed.append(exc)

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(30)
        assert failed and "resolve" in str(failed[0]) and "busy" in str(failed[0])
    with writer_lease(store, "ingest", wait_s=0.5):  # released: free again
        pass


def test_the_holder_may_take_it_again(store: GraphStore) -> None:
    with writer_lease(store, "merge"), writer_lease(store, "resolve", wait_s=0.1):  # a merge resolves
        pass


def test_a_waiting_writer_goes_on_when_the_first_finishes(store: GraphStore) -> None:
    order: list[str] = []
    notes: list[str] = []

    def second() -> None:
        with writer_lease(store, "ingest", wait_s=30, on_wait=notes.append):
            order.append("ingest")

    with writer_lease(store, "resolve"):
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(1.0)
        order.append("resolve done")
    thread.join(30)
    assert order == ["resolve done", "ingest"] and "waiting for resolve" in notes[0]


@pytest.mark.parametrize(
    ("holder", "expires_in", "free"),
    [
        (f"{socket.gethostname()}:999999999:dead", 3600.0, True),  # this machine, process gone
        ("elsewhere:1:x", -1.0, True),  # another machine that stopped renewing it
        ("elsewhere:1:x", 3600.0, False),  # another machine, still renewing
    ],
)
def test_a_dead_holders_lease_is_free(store: GraphStore, holder: str, expires_in: float, free: bool) -> None:
    with store.transaction() as tx:
        tx.lock_lease("writer")
        tx.set_lease("writer", holder, "resolve", time.time() + expires_in)
    if free:
        with writer_lease(store, "ingest", wait_s=0.1):
            pass
    else:
        with pytest.raises(WriterBusy), writer_lease(store, "ingest", wait_s=0.1):
            pass
