"""The analyst console (issue 14, first part): its vendored libraries are the files their README names, its
pages are served without data and behind the API key for data, and, in a real headless Chromium with no
internet on each store, the sign-in page takes a key and the overview's `data-metric` figures equal the
GraphQL answers for the same data, with no console error. Screenshots at 1400x900 go to
``CDP_SCREENSHOTS`` (default ``build/screenshots``)."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from analytics.embeddings import EmbeddingSettings, embed_store
from api.console import CONSOLE_DIR, PAGES
from api.keys import create_key
from api.overview import compute_overview, overview, refresh_overview
from graph.model import IdentifierLink, SourceRecord
from graph.store import GraphStore
from resolve.runner import resolve
from resolve.settings import ResolveSettings
from tests.api.conftest import Server, load_example
from tests.api.test_graphiql_browser import page  # noqa: F401 - the Chromium page fixture

VENDOR = CONSOLE_DIR / "vendor"
ROW = re.compile(r"^\| (\S+) \| (\S+@[\d.]+) \| (package/\S+) \| ([0-9a-f]{64}) \|$", re.MULTILINE)
SCREENSHOTS = Path(os.environ.get("CDP_SCREENSHOTS", Path(__file__).parents[2] / "build" / "screenshots"))
OVERVIEW = """{ overview { profiles records events identifiers ignoredIdentifiers households
  conflictingProfiles { count } } }"""
METRICS = {"profiles": "profiles", "records": "records", "events": "events", "identifiers": "identifiers",
           "ignored_identifiers": "ignoredIdentifiers", "households": "households"}  # fmt: skip


def test_every_vendored_file_is_the_one_the_readme_names() -> None:
    listed = {m[1]: m[4] for m in ROW.finditer((VENDOR / "README.md").read_text(encoding="utf-8"))}
    shipped = {p.relative_to(VENDOR).as_posix() for p in VENDOR.rglob("*") if p.is_file()}
    assert shipped - {"README.md"} == set(listed) and listed
    for name, sha256 in listed.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == sha256, name


def test_pages_load_only_files_of_this_server() -> None:
    for name in PAGES.values():
        html = (CONSOLE_DIR / name).read_text(encoding="utf-8")
        sources = [s for s in re.findall(r'(?:src|href)="([^"]+)"', html) if s != "data:,"]  # data:, an empty icon
        assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources), (name, sources)
        for source in sources:
            if source.startswith("/static/console/"):
                assert (CONSOLE_DIR / source.removeprefix("/static/console/")).is_file(), source


def test_pages_are_open_and_their_data_is_not(server: Server) -> None:
    for path in PAGES:
        page_ = httpx.get(f"{server.url}{path.replace('{profile_id}', 'p_1')}")
        assert page_.status_code == 200 and "default-src 'self'" in page_.headers["content-security-policy"]
    assert httpx.get(f"{server.url}/static/console/console.js").status_code == 200
    refused = httpx.post(f"{server.url}/graphql", json={"query": OVERVIEW})
    assert refused.status_code == 401
    assert httpx.get(f"{server.url}/elsewhere").status_code == 401  # only the pages themselves are open


def _watch(tab: Any) -> tuple[list[str], list[str]]:
    """Abort anything not on loopback; collect what went elsewhere and every console error."""
    elsewhere: list[str] = []
    errors: list[str] = []

    def only_loopback(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    tab.context.route("**/*", only_loopback)
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return elsewhere, errors


@pytest.mark.parametrize("store_kind", ["embedded", "neo4j"])
def test_sign_in_then_the_overview_shows_the_api_figures(page: Any, server: Server, store_kind: str) -> None:  # noqa: F811
    elsewhere, errors = _watch(page)
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{server.url}/")
    page.wait_for_url("**/signin?next=%2F")  # no key yet: sent to sign in
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.fill("#key", "cdp_not-a-key")
    page.click("button[type=submit]")
    page.wait_for_selector("#signin-error:not([hidden])")
    assert page.inner_text("#signin-error") == "This key is not valid."
    errors[:] = [e for e in errors if "401" not in e]  # the refused sign-in's own request, expected
    page.screenshot(path=str(SCREENSHOTS / "signin.png"))

    page.fill("#key", server.key)
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-ready=true][data-page=overview]")
    expected = server.query(OVERVIEW)["data"]["overview"]
    shown = {name: page.get_attribute(f'[data-metric="{name}"]', "data-value") for name in METRICS}
    assert shown == {name: str(expected[field]) for name, field in METRICS.items()}
    conflicting = page.get_attribute('[data-metric="conflicting_profiles"]', "data-value")
    assert conflicting == str(sum(c["count"] for c in expected["conflictingProfiles"]))
    assert int(shown["records"]) == 9 and int(shown["profiles"]) >= 3  # the example data: 6 crm + 3 pos records
    assert page.eval_on_selector_all("canvas", "cs => cs.every(c => c.width > 0 && c.height > 0)")
    page.screenshot(path=str(SCREENSHOTS / f"overview-{store_kind}.png"))
    assert elsewhere == [] and errors == []

    page.click("#signout")
    page.wait_for_url("**/signin")
    page.goto(f"{server.url}/")
    page.wait_for_url("**/signin?next=%2F")  # the key left with the sign-out


def test_the_overview_is_computed_once_per_resolve_run(store: GraphStore, tmp_path: Path) -> None:
    load_example(store, tmp_path)
    live = compute_overview(store)
    stored = refresh_overview(store)
    names: list[str] = []
    original = store.run
    store.run = lambda query, **k: names.append(query.name) or original(query, **k)  # type: ignore[method-assign]
    try:
        read = overview(store)
        assert sorted(names) == ["graph_settings", "latest_run"]  # one small value, however large the store
        assert {**vars(read), "as_of": ""} == {**vars(stored), "as_of": ""} == {**vars(live), "as_of": ""}
        assert read.profiles == 4 and read.records == 9 and read.records_by_source == {"crm": 6, "pos": 3}
        store.upsert_records([SourceRecord("crm", "C9", [IdentifierLink("email", "new@x.com")], {}, "2026-01-01")])
        resolve(store, ResolveSettings(blocklist={"email": ["family@mailbox.co.uk"]}))
        names.clear()
        fresh = overview(store)  # a newer run stored no figures: computed from the store
    finally:
        store.run = original  # type: ignore[method-assign]
    assert "count_records" in names and fresh.records == 10 and fresh.run_id != stored.run_id


def _sign_in(tab: Any, server: Server, key: str) -> None:
    tab.goto(f"{server.url}/signin")
    tab.fill("#key", key)
    tab.click("button[type=submit]")
    tab.wait_for_selector("body[data-ready=true][data-page=overview]")


@pytest.mark.parametrize("store_kind", ["embedded", "neo4j"])
def test_search_finds_the_360_page_and_it_shows_the_profile(page: Any, server: Server, store_kind: str) -> None:  # noqa: F811
    elsewhere, errors = _watch(page)
    page.set_viewport_size({"width": 1400, "height": 900})
    _sign_in(page, server, server.key)
    page.fill("#search input", "ANN@mailbox.co.uk ")  # found as ingest normalises it
    page.press("#search input", "Enter")
    page.wait_for_selector("body[data-ready=true][data-page=profile]")
    ann = server.query('{ profileByRecord(source: "crm", recordId: "C1") { id size identifiers { value } '
                       "household { id } } }")["data"]["profileByRecord"]  # fmt: skip
    assert page.url.endswith(f"/profiles/{ann['id']}") and page.inner_text("#profile-id") == ann["id"]
    assert page.get_attribute('[data-metric="records"]', "data-value") == str(ann["size"]) == "5"
    assert page.get_attribute('[data-metric="identifiers"]', "data-value") == str(len(ann["identifiers"]))
    shown = page.inner_text("#identifiers")
    assert all(i["value"] in shown for i in ann["identifiers"]) and "ann@mailbox.co.uk" in shown
    assert page.locator("#records tbody tr").count() == 5 and page.locator("#events li").count() == 2
    assert "not available" in page.inner_text("#similar")  # no embeddings yet: the section says so
    traits = dict(row.split("\t") for row in page.inner_text("#traits").splitlines())
    assert traits["Purchases"] == "2" and traits["Spent"] == "13.50" and traits["Channels"] == "pos 100%"
    embed_store(server.store, EmbeddingSettings(workers=1, walks_per_node=5, dimensions=8))
    page.reload()
    page.wait_for_selector("body[data-ready=true][data-page=profile]")
    similar = server.query("query($id: ID!) { similarProfiles(id: $id, k: 5) { profile { id } } }", id=ann["id"])
    expected_similar = [s["profile"]["id"] for s in similar["data"]["similarProfiles"]]
    assert page.eval_on_selector_all("#similar a", "as => as.map(a => a.textContent)") == expected_similar != []
    assert "not available" not in page.inner_text("#recommendations")
    page.screenshot(path=str(SCREENSHOTS / f"profile-{store_kind}.png"), full_page=False)

    page.goto(f"{server.url}/")
    page.fill("#search input", "smith, ANN")  # a name, as an analyst types it
    page.press("#search input", "Enter")
    page.wait_for_selector("body[data-ready=true][data-page=profile]")
    assert page.url.endswith(f"/profiles/{ann['id']}")
    page.fill("#search input", "Lee")  # two people of that name: both listed
    page.press("#search input", "Enter")
    page.wait_for_selector("#error:not([hidden]) a")
    assert page.locator("#error a").count() == 2 and "held by 2 profiles" in page.inner_text("#error")

    page.fill("#search input", "nobody@mailbox.co.uk")
    page.press("#search input", "Enter")
    page.wait_for_function("() => document.getElementById('error').textContent.includes('nobody@')")
    assert "nothing holds 'nobody@mailbox.co.uk'" in page.inner_text("#error")
    assert elsewhere == [] and errors == []

    page.evaluate("sessionStorage.clear()")
    _sign_in(page, server, create_key(server.store, "reader", "read:profiles"))
    page.goto(f"{server.url}/profiles/{ann['id']}")
    page.wait_for_selector("body[data-ready=true][data-page=profile]")
    masked = page.inner_text("#identifiers") + page.inner_text("#attributes") + page.inner_text("#records")
    assert "a***@mailbox.co.uk" in masked and "ann@mailbox.co.uk" not in masked and "Smith" not in masked


@pytest.mark.parametrize("store_kind", ["embedded", "neo4j"])
def test_the_explorer_draws_the_profile_and_explains_two_records(page: Any, server: Server, store_kind: str) -> None:  # noqa: F811
    elsewhere, errors = _watch(page)
    page.set_viewport_size({"width": 1400, "height": 900})
    _sign_in(page, server, server.key)
    ann = server.query('{ profileByRecord(source: "crm", recordId: "C1") { id } }')["data"]["profileByRecord"]["id"]
    expected = server.query("query($id: ID!) { profileGraph(id: $id) { nodes { id kind } edges { kind } } }",
                            id=ann)["data"]["profileGraph"]  # fmt: skip
    page.goto(f"{server.url}/graph/{ann}")
    page.wait_for_selector("body[data-ready=true][data-page=graph]")
    drawn = page.evaluate("() => window.cdpGraph.nodes().map(n => n.id()).sort()")
    assert drawn == sorted(n["id"] for n in expected["nodes"])
    records = sorted(n["id"] for n in expected["nodes"] if n["kind"] == "record")
    assert records == ["r:crm:C1", "r:crm:C2", "r:crm:C3", "r:pos:T1", "r:pos:T2"]
    assert page.evaluate("() => window.cdpGraph.edges().length") == len(expected["edges"])
    assert {e["kind"] for e in expected["edges"]} == {"shared_identifier", "in_profile"}
    for record in ("r:crm:C2", "r:pos:T2"):
        page.evaluate(f"() => {{ window.cdpGraph.getElementById('{record}').emit('tap'); }}")  # nothing to return
    page.wait_for_function("() => document.getElementById('explain').textContent.includes('same profile')")
    assert page.inner_text("#explain").startswith("crm:C2 and pos:T2: same profile")
    assert int(page.get_attribute('[data-metric="draw_ms"]', "data-value")) >= 0
    page.screenshot(path=str(SCREENSHOTS / f"graph-{store_kind}.png"))
    assert elsewhere == [] and errors == []


@pytest.mark.parametrize("store_kind", ["embedded", "neo4j"])
def test_the_explorer_expands_to_the_household_and_profiles_sharing_an_identifier(
    page: Any,  # noqa: F811
    server: Server,
    store_kind: str,
) -> None:
    elsewhere, errors = _watch(page)
    page.set_viewport_size({"width": 1400, "height": 900})
    _sign_in(page, server, server.key)
    of = lambda record: server.query(f'{{ profileByRecord(source: "crm", recordId: "{record}") {{ id }} }}')[  # noqa: E731
        "data"]["profileByRecord"]["id"]  # fmt: skip
    cat, dan = of("C5"), of("C6")  # one blocklisted family email, one household, two profiles
    graph = server.query("query($id: ID!) { profileGraph(id: $id) { nodes { id kind type } edges { source target kind } } }",
                         id=cat)["data"]["profileGraph"]  # fmt: skip
    profiles = {n["id"]: n["type"] for n in graph["nodes"] if n["kind"] == "profile"}
    assert profiles == {f"p:{cat}": "self", f"p:{dan}": "household"}
    kinds = {(e["kind"], e["target"]) for e in graph["edges"] if e["target"] == f"p:{dan}"}
    assert kinds == {("household", f"p:{dan}"), ("also_held_by", f"p:{dan}")}  # via the family email too
    page.goto(f"{server.url}/graph/{cat}")
    page.wait_for_selector("body[data-ready=true][data-page=graph]")
    assert page.evaluate("() => window.cdpGraph.getElementById('r:crm:C6').length") == 0
    page.evaluate(f"() => window.cdpExpand('p:{dan}')")  # what double-clicking Dan's hexagon does
    page.wait_for_function("() => window.cdpGraph.getElementById('r:crm:C6').length === 1")
    assert page.get_attribute('[data-metric="expanded"]', "data-value") == "1"
    for record in ("r:crm:C5", "r:crm:C6"):
        page.evaluate(f"() => {{ window.cdpGraph.getElementById('{record}').emit('tap'); }}")
    page.wait_for_function("() => document.getElementById('explain').textContent.includes('crm:C6')")
    assert "same profile" not in page.inner_text("#explain")
    page.screenshot(path=str(SCREENSHOTS / f"graph-expanded-{store_kind}.png"))
    assert elsewhere == [] and errors == []
