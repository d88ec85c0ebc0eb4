"""Requests to the server over real HTTP while another is busy: the server keeps answering."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from api.service import CustomerService
from tests.api.conftest import Server


def test_healthz_answers_while_a_heavy_query_runs(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """A query whose answer takes seconds of Python work (as a page of 500 full profiles does) must not
    hold the server: before, operations ran on the server's event loop, and /healthz waited for it."""
    original = CustomerService.golden_from

    def heavy(records: object) -> object:
        until = time.monotonic() + 3.0
        while time.monotonic() < until:  # CPU work, holding the interpreter as Python code does
            sum(range(1000))
        return original(records)  # type: ignore[arg-type]

    monkeypatch.setattr(CustomerService, "golden_from", staticmethod(heavy))
    done: list[float] = []
    query = '{ profileByRecord(source: "crm", recordId: "C1") { attributes { name value } } }'
    slow = threading.Thread(target=lambda: (server.query(query), done.append(time.monotonic())))
    slow.start()
    time.sleep(0.5)  # the heavy query is under way
    asked = time.monotonic()
    health = httpx.get(f"{server.url}/healthz", timeout=30)
    answered = time.monotonic()
    slow.join(30)
    assert health.status_code == 200 and done, "both answered"
    assert answered < done[0], "/healthz waited for the heavy query"
    assert answered - asked < 1.5
