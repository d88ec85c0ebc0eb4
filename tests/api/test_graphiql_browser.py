"""GraphiQL in a real headless browser with no internet: the page loads, runs a query and shows the result.

The browser is Debian's chromium (``scripts/browser-deps`` installs it) driven by Playwright; Playwright's own
browser downloads are never used. Without chromium or playwright the test is skipped and says why, unless
``CDP_REQUIRE_BROWSER=1`` (CI), where it fails instead.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.api.conftest import Server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # no internet: anything not on loopback goes to a closed port (loopback bypasses the proxy)
    "--proxy-server=http://127.0.0.1:9",
]
QUERY = "{ profiles(first: 2) { edges { node { id } } } }"
TIMEOUT_MS = 60_000  # graphiql.min.js is 3.5 MB of JavaScript to parse on a busy 2-core machine

# The page does not depend on the store: one server is enough.
pytestmark = pytest.mark.parametrize("store_kind", ["embedded"])


def _playwright() -> Any:
    """playwright.sync_api.sync_playwright, or skip (fail under CDP_REQUIRE_BROWSER=1) saying what is missing."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} is missing (scripts/browser-deps installs Debian's chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing.append("playwright is not installed (pip install -e '.[test]')")
    if missing:
        reason = "no headless browser: " + "; ".join(missing)
        if os.environ.get("CDP_REQUIRE_BROWSER") == "1":
            pytest.fail(f"CDP_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    return sync_playwright


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    sync_playwright = _playwright()
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=False,  # --headless=new above; Playwright's own headless flag would pick the old mode
            args=CHROMIUM_ARGS,
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def _editor_text(page: Any, selector: str) -> str:
    return page.eval_on_selector(f"{selector} .CodeMirror", "el => el.CodeMirror.getValue()")


def test_graphiql_runs_a_query_without_internet(page: Any, server: Server) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout  # installed: the page fixture checked

    elsewhere: list[str] = []
    requested: list[str] = []
    errors: list[str] = []

    def only_loopback(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_loopback)
    page.on("request", lambda request: requested.append(request.url))
    page.on("websocket", lambda ws: elsewhere.append(ws.url))  # GraphiQL opens one only for subscriptions
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: errors.append(f"{request.url}: {request.failure}"))

    page.context.set_extra_http_headers(server.headers)  # the API key, as GraphiQL's headers editor would send it
    page.goto(f"{server.url}/graphql")
    try:
        page.wait_for_selector(".graphiql-query-editor .CodeMirror")
    except PlaywrightTimeout:
        pytest.fail(f"GraphiQL's editor did not appear; requests off loopback: {elsewhere}; errors: {errors}")
    page.click(".graphiql-query-editor .CodeMirror")
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(QUERY)
    assert _editor_text(page, ".graphiql-query-editor") == QUERY

    page.click(".graphiql-execute-button")
    page.wait_for_function(
        "() => document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue().includes('edges')"
    )
    shown = json.loads(_editor_text(page, ".graphiql-response"))

    assert shown == server.query(QUERY)
    assert len(shown["data"]["profiles"]["edges"]) == 2
    assert elsewhere == []
    assert errors == []
    assert all(urlsplit(url).hostname == "127.0.0.1" for url in requested)
    assert any(url.endswith("/graphiql-3.8.3/graphiql.min.js") for url in requested)
