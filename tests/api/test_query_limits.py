"""Query and request limits over real HTTP, on each store: each over-limit request is refused with an error
naming the limit and its setting, before the store is read; malformed bodies are 400, never 500."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from graphql import parse

from api.query_limits import estimated_cost
from api.schema import build_schema
from api.service import CustomerService
from graph.settings import StoreSettings
from tests.api.conftest import Server, serving

PROFILE_360 = "id size records { recordId attributes } identifiers { type value } attributes { name value }"


@pytest.fixture
def reads(server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the store queries run while a test's requests are answered (the key check's left out)."""
    calls: list[str] = []
    original = server.store.run
    monkeypatch.setattr(server.store, "run", lambda query, **k: calls.append(query.name) or original(query, **k))
    yield calls


def _post(server: Server, payload: object) -> httpx.Response:
    return httpx.post(f"{server.url}/graphql", json=payload, headers=server.headers, timeout=30)


def _data_reads(calls: list[str]) -> list[str]:
    return [c for c in calls if c != "api_key_by_hash"]


def _message(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    [error] = response.json()["errors"]
    return error["message"]


def test_a_query_nesting_household_deep_is_refused_unread(server: Server, reads: list[str]) -> None:
    nested = "id " + "household { id " * 18 + "}" * 18
    response = _post(server, {"query": f"{{ profiles(first: 1) {{ edges {{ node {{ {nested} }} }} }} }}"})
    assert response.status_code == 200 and response.json()["data"] is None
    assert {e["message"] for e in response.json()["errors"]} == {"'anonymous' exceeds maximum operation depth of 12"}
    assert _data_reads(reads) == []


def test_a_hundred_aliased_pages_are_refused_unread(server: Server, reads: list[str]) -> None:
    pages = " ".join(f"p{n}: profiles(first: 20) {{ edges {{ node {{ {PROFILE_360} }} }} }}" for n in range(100))
    assert "aliases" in _message(_post(server, {"query": f"{{ {pages} }}"})).lower()
    assert _data_reads(reads) == []


def test_a_costly_query_is_refused_by_its_variables_too(server: Server, reads: list[str]) -> None:
    query = f"query($n: Int!) {{ profiles(first: $n) {{ edges {{ node {{ {PROFILE_360} events(limit: 500) {{ type }} }} }} }} }}"
    message = _message(_post(server, {"query": query, "variables": {"n": 500}}))
    assert "too costly" in message and "CDP_MAX_QUERY_COST" in message
    assert _data_reads(reads) == []
    small = _post(server, {"query": query, "variables": {"n": 2}}).json()  # the same text, a small page: answered
    assert "errors" not in small and len(small["data"]["profiles"]["edges"]) == 2


def test_the_cost_counts_lists_at_their_size_and_fragments_where_spread() -> None:
    schema = build_schema()._schema
    document = parse("fragment R on Profile { records { recordId } } "
                     "{ profiles(first: 50) { edges { node { id ...R household { ...R } } } } }")  # fmt: skip
    operation = document.definitions[1]
    fragments = {"R": document.definitions[0]}
    # profiles: one connection, whose first sizes its edges; edges, node, id: 50 each; records 50*10 and recordId
    # 500; household 50*5, its records 250*10 and recordId 2500
    assert estimated_cost(operation, schema.query_type, fragments) == 1 + 50 * 3 + 500 * 2 + 250 + 2500 * 2
    # an object's size argument sizes its lists, not the object: one queue of 100 pairs and 100 flagged profiles
    queue = parse("{ reviewQueue(first: 100) { runId pairs { recordA comparisons { weight } } flagged { kind } } }")
    assert estimated_cost(queue.definitions[0], schema.query_type, {}) == 1 + 1 + 100 * 2 + 1000 * 2 + 100 * 2


def test_an_out_of_range_integer_is_a_plain_error(server: Server) -> None:
    response = _post(server, {"query": "{ profiles(first: 99999999999) { edges { cursor } } }"})
    message = _message(response)
    assert "Int cannot represent" in message and "Unexpected error" not in message
    response = _post(server, {"query": "query($n: Int!) { profiles(first: $n) { edges { cursor } } }",
                              "variables": {"n": 2**40}})  # fmt: skip
    assert "Int cannot represent" in _message(response)


def test_malformed_bodies_are_400_saying_why(server: Server) -> None:
    post = lambda body: httpx.post(f"{server.url}/graphql", content=body, timeout=30,  # noqa: E731
                                   headers={**server.headers, "Content-Type": "application/json"})  # fmt: skip
    invalid = post(b'{"query": "{ profiles { edges { cursor } } }", "x": "\xff\xfe"}')
    assert invalid.status_code == 400 and "UTF-8" in invalid.json()["errors"][0]["message"]
    deep = post(json.dumps({"query": "{ __typename }", "variables": {"v": json.loads("[" * 100 + "]" * 100)}}).encode())
    assert deep.status_code == 400 and "nests deeper" in deep.json()["errors"][0]["message"]
    deeper = post(b'{"query": "{ __typename }", "variables": {"v": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}")
    assert deeper.status_code in (400, 413)  # 200 kB of brackets: over the depth, or over a smaller body limit
    assert post(b'{"query": ').status_code == 400


def test_a_100_mb_body_is_refused_before_it_is_read(server: Server) -> None:
    host = urlsplit(server.url)
    with socket.create_connection((host.hostname, host.port), timeout=10) as sock:
        sock.sendall(f"POST /graphql HTTP/1.1\r\nHost: {host.hostname}\r\nAuthorization: Bearer {server.key}\r\n"
                     "Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{\"query\": ".encode())  # fmt: skip
        answer = sock.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 413") and "CDP_MAX_BODY_BYTES" in answer
    chunked = httpx.post(f"{server.url}/graphql", headers=server.headers, timeout=30,
                         content=(b"x" * 100_000 for _ in range(20)))  # 2 MB with no length declared  # fmt: skip
    assert chunked.status_code == 413


def test_a_list_over_the_cap_is_cut_and_says_so(server: Server, store_settings: StoreSettings) -> None:
    with serving(server.store, store_settings.model_copy(update={"max_list_size": 2}), server.key) as capped:
        body = capped.query('{ profileByRecord(source: "crm", recordId: "C1") { size records { recordId } } }')
    profile = body["data"]["profileByRecord"]
    assert profile["size"] == 5 and len(profile["records"]) == 2
    assert body["extensions"]["capped"] == [{"path": "profileByRecord.records", "returned": 2, "held": 5}]


def test_a_key_over_its_rate_gets_429_with_retry_after(server: Server, store_settings: StoreSettings) -> None:
    with serving(server.store, store_settings.model_copy(update={"rate_limit_per_minute": 3}), server.key) as limited:
        codes = [_post(limited, {"query": "{ __typename }"}) for _ in range(4)]
        assert httpx.get(f"{limited.url}/healthz").status_code == 200  # health checks are not counted
    assert [r.status_code for r in codes] == [200, 200, 200, 429]
    assert int(codes[3].headers["Retry-After"]) >= 1 and "CDP_RATE_LIMIT_PER_MINUTE" in codes[3].text


def test_a_query_over_the_time_out_stops_with_an_error(
    server: Server, store_settings: StoreSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = CustomerService.records_of
    monkeypatch.setattr(CustomerService, "records_of", lambda self, ids: time.sleep(1.0) or original(self, ids))
    with serving(server.store, store_settings.model_copy(update={"query_timeout_seconds": 0.3}), server.key) as slow:
        message = _message(_post(slow, {"query": "{ profiles(first: 3) { edges { node { records { recordId } "
                                                 "identifiers { value } } } } }"}))  # fmt: skip
    assert "time-out" in message and "CDP_QUERY_TIMEOUT_SECONDS" in message
