"""Who is calling: the ``Authorization: Bearer KEY`` of each request, checked against the stored keys.

Without a valid key the API answers 401 (``/healthz`` and GraphiQL's own page and assets stay open: they
hold no customer data). A key's scopes become the request's :class:`~api.access.Principal`; the service
asks the policy for a scope before every read or write, so a missing scope is a GraphQL error naming it.
``--insecure-local`` serves without keys, on loopback only, as the local user.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.access import LOCAL_USER, Principal
from api.console import PAGE_PREFIXES as CONSOLE_PAGE_PREFIXES
from api.console import PAGES as CONSOLE_PAGES
from api.keys import ApiKey, authenticate, ensure_admin_key, key_hash, now_utc
from graph.errors import ConfigError
from graph.store import GraphStore

OPEN_PATHS = ("/healthz", "/static/graphiql/", "/static/console/", "/jobs/")  # no customer data; /jobs: its token
OPEN_PAGES = frozenset(CONSOLE_PAGES)  # the console's pages, exactly: their scripts ask for data with a key
OPEN_PAGE_PREFIXES = CONSOLE_PAGE_PREFIXES  # its pages with a parameter (/profiles/ID), GET only
LOOPBACK = ("127.0.0.1", "::1", "localhost")
TOUCH_EVERY_S = 60.0  # last_used_at is written at most this often per key


def principal_of(key: ApiKey) -> Principal:
    return Principal(key.name, frozenset({"*"}) if "admin" in key.scopes else frozenset(key.scopes))


def check_serving_keys(store: GraphStore, host: str, insecure_local: bool, admin_key: str = "") -> None:
    """``cdp serve`` refuses to start with no key unless ``--insecure-local``, which binds to loopback only;
    ``admin_key`` (``CDP_ADMIN_KEY``) is stored first."""
    if admin_key:
        ensure_admin_key(store, admin_key)
    if insecure_local:
        if host not in LOOPBACK:
            raise ConfigError(f"--insecure-local serves without keys on loopback only, not on {host}")
        return
    if not store.api_keys():
        raise ConfigError(
            "refusing to serve without API keys: create one with `cdp keys create --name NAME --scopes SCOPES`, "
            "or serve on loopback without keys with --insecure-local"
        )


class KeyCheck:
    """ASGI middleware: 401 without a valid key; the key's principal in ``scope['state']['principal']``."""

    def __init__(self, app: Any, store_of: Any, insecure_local: bool) -> None:
        self.app, self.store_of, self.insecure_local = app, store_of, insecure_local
        self._touched: dict[str, float] = {}
        # last use is written off the request path: a write may wait for another (a resolve job's)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="key-touch")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        state = scope.setdefault("state", {})
        if self.insecure_local:
            state["principal"] = LOCAL_USER
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        page = path in OPEN_PAGES or (path.startswith(OPEN_PAGE_PREFIXES) and scope.get("method") == "GET")
        if path.startswith(OPEN_PATHS) or page or (path.rstrip("/") == "/graphql" and _wants_page(scope)):
            return await self.app(scope, receive, send)
        found = self._key(Request(scope))
        if found is None:
            response: Response = JSONResponse(
                {"error": "a valid API key is required: Authorization: Bearer KEY (see `cdp keys create`)"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
            return await response(scope, receive, send)
        state["principal"] = principal_of(found)
        return await self.app(scope, receive, send)

    def _key(self, request: Request) -> ApiKey | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        store = self.store_of()
        found = authenticate(store, token.strip())
        if found is not None:
            self._touch(store, token.strip())
        return found

    def _touch(self, store: GraphStore, key: str) -> None:
        digest, now = key_hash(key), time.monotonic()
        if now - self._touched.get(digest, -TOUCH_EVERY_S) < TOUCH_EVERY_S:
            return
        self._touched[digest] = now
        self._writer.submit(self._write_touch, store, digest)

    def _write_touch(self, store: GraphStore, digest: str) -> None:
        try:
            store.write(lambda tx: tx.touch_api_key(digest, now_utc()), "note an API key's use")
        except Exception:  # noqa: BLE001 - a failed note must not fail anything; the next use tries again
            self._touched.pop(digest, None)


def _wants_page(scope: dict[str, Any]) -> bool:
    """GraphiQL's HTML page (a browser's GET asking for HTML, no query): it holds no data."""
    if scope.get("method") != "GET" or b"query=" in scope.get("query_string", b""):
        return False
    accept = dict(scope.get("headers") or []).get(b"accept", b"")
    return b"text/html" in accept
