"""The API asks for a key (issue 13): over real HTTP, on each store, 401 without a valid one, a GraphQL error
naming the missing scope, /healthz open; `cdp serve` refuses to start without keys unless told to serve on
loopback only, and stores the deployment's admin key from CDP_ADMIN_KEY."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from api.auth import check_serving_keys
from api.keys import authenticate, create_key, list_keys, revoke_key
from graph.errors import ConfigError, InvalidRequest
from graph.store import GraphStore
from tests.api.conftest import Server

PROFILES = "{ profiles(first: 2) { edges { node { id } } } }"
MERGE = 'mutation { mergeProfiles(ids: ["p_x", "p_y"], reason: "test") { id } }'


def _post(server: Server, query: str, key: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return httpx.post(f"{server.url}/graphql", json={"query": query}, headers=headers, timeout=30)


def test_no_key_or_a_wrong_or_revoked_one_is_401(server: Server) -> None:
    for key in (None, "cdp_not-a-key", server.key + "x"):
        answer = _post(server, PROFILES, key)
        assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer", key
        assert "Authorization: Bearer KEY" in answer.json()["error"]
    reader = create_key(server.store, "reader", "read:profiles")
    assert _post(server, PROFILES, reader).status_code == 200
    revoke_key(server.store, "reader")
    assert _post(server, PROFILES, reader).status_code == 401
    get = httpx.get(f"{server.url}/graphql", params={"query": PROFILES}, timeout=30)
    assert get.status_code == 401  # a query over GET is no way around it
    assert httpx.get(f"{server.url}/healthz", timeout=30).status_code == 200  # open: no customer data


def test_a_key_without_the_scope_gets_an_error_naming_it(server: Server) -> None:
    exporter = create_key(server.store, "exporter", "export")
    answer = _post(server, PROFILES, exporter).json()
    assert answer["data"] is None or answer["data"].get("profiles") is None
    assert "the API key 'exporter' lacks the scope 'read:profiles'" in answer["errors"][0]["message"]
    reader = create_key(server.store, "reader", "read:profiles")
    assert len(_post(server, PROFILES, reader).json()["data"]["profiles"]["edges"]) == 2
    merged = _post(server, MERGE, reader).json()
    assert "lacks the scope 'write:profiles'" in merged["errors"][0]["message"]
    assert _post(server, PROFILES, server.key).json()["data"]["profiles"]["edges"]  # admin holds every scope


def test_a_key_used_is_noted_as_used(server: Server) -> None:
    reader = create_key(server.store, "reader", "read:profiles")
    assert {k.name: k.last_used_at for k in list_keys(server.store)}["reader"] == ""
    assert _post(server, PROFILES, reader).status_code == 200
    deadline = time.monotonic() + 10  # written off the request path
    while {k.name: k.last_used_at for k in list_keys(server.store)}["reader"] == "" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert {k.name: k.last_used_at for k in list_keys(server.store)}["reader"] != ""


def test_serve_needs_a_key_or_loopback_without_keys(store: GraphStore) -> None:
    with pytest.raises(ConfigError, match="refusing to serve without API keys"):
        check_serving_keys(store, "127.0.0.1", insecure_local=False)
    with pytest.raises(ConfigError, match="loopback only, not on 0.0.0.0"):
        check_serving_keys(store, "0.0.0.0", insecure_local=True)
    check_serving_keys(store, "127.0.0.1", insecure_local=True)
    admin = "a" * 40
    with pytest.raises(InvalidRequest, match="at least 32 characters"):
        check_serving_keys(store, "0.0.0.0", insecure_local=False, admin_key="short")
    check_serving_keys(store, "0.0.0.0", insecure_local=False, admin_key=admin)  # stored: it may serve
    check_serving_keys(store, "0.0.0.0", insecure_local=False, admin_key=admin)  # again: stored once
    assert [(k.name, k.scopes) for k in list_keys(store)] == [("admin", ("admin",))]
    rotated = "b" * 40
    check_serving_keys(store, "0.0.0.0", insecure_local=False, admin_key=rotated)
    assert authenticate(store, admin) is None and authenticate(store, rotated).name == "admin"


def test_cdp_serve_refuses_to_start_without_keys(tmp_path) -> None:
    env = {**os.environ, "CDP_STORE": "embedded", "CDP_DATA_DIR": str(tmp_path / "cdp")}
    out = subprocess.run([sys.executable, "-m", "api.cli", "serve", "--port", "1"], env=env, capture_output=True,
                         text=True, timeout=60)  # fmt: skip
    assert out.returncode == 1 and "refusing to serve without API keys" in out.stderr
    out = subprocess.run([sys.executable, "-m", "api.cli", "serve", "--insecure-local", "--host", "0.0.0.0"], env=env,
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert out.returncode == 1 and "loopback only" in out.stderr


def test_an_unknown_host_is_refused_and_get_queries_are_off(server: Server) -> None:
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends Host: evil.example."""
    rebound = httpx.post(f"{server.url}/graphql", json={"query": PROFILES},
                         headers={**server.headers, "Host": "evil.example"}, timeout=30)  # fmt: skip
    assert rebound.status_code == 400
    assert httpx.post(f"{server.url}/graphql", json={"query": PROFILES}, headers={**server.headers,
                      "Host": "localhost"}, timeout=30).status_code == 200  # fmt: skip
    get = httpx.get(f"{server.url}/graphql", params={"query": PROFILES}, headers=server.headers, timeout=30)
    assert get.status_code != 200 and "profiles" not in get.text  # a valid key, but queries over GET are off
    page = httpx.get(f"{server.url}/graphql", headers={"Accept": "text/html"}, timeout=30)
    assert page.status_code == 200 and "graphiql" in page.text.lower()  # GraphiQL's page is still served


def test_cors_and_get_are_settings(store: GraphStore, store_settings) -> None:
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from api.app import create_app

    key = create_key(store, "web", "read:profiles")
    auth = {"Authorization": f"Bearer {key}"}
    settings = store_settings.model_copy(update={"neo4j_password": SecretStr("not-a-default-pw"),
        "allowed_hosts": ["testserver"], "cors_origins": ["https://console.example"], "graphql_get": True})  # fmt: skip
    with TestClient(create_app(settings, store=store)) as client:
        allowed = client.options("/graphql", headers={"Origin": "https://console.example",
                                 "Access-Control-Request-Method": "POST"})  # fmt: skip
        assert allowed.headers.get("access-control-allow-origin") == "https://console.example"
        other = client.options("/graphql", headers={"Origin": "https://evil.example",
                               "Access-Control-Request-Method": "POST"})  # fmt: skip
        assert "access-control-allow-origin" not in other.headers
        assert client.get("/graphql", params={"query": PROFILES}, headers=auth).json()["data"]["profiles"] is not None
