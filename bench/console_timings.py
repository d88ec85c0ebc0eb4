"""Benchmark: the analyst console's timings of issue 14, on a large store, in a real browser.

    python -m bench.console_timings                                   # embedded store, 1M-record demo
    python -m bench.console_timings --records 10000 --no-write        # a smoke run of a few minutes
    python -m bench.console_timings --data-dir DIR --no-load          # a store loaded before (no cdp demo)
    python -m bench.console_timings --store neo4j                     # Neo4j from CDP_NEO4J_URI / _USER / _PASSWORD

The data is ``cdp demo --records N --seed 42`` loaded into the chosen store (as ``bench/serve_load.py`` loads
it: into a fresh temporary data directory, or ``--data-dir``; loading 1M records takes minutes, so keep the
directory with ``--data-dir DIR`` and time it again with ``--no-load``). Then, in order:

1. **In this process, before serving** (the embedded store allows one process at a time): the store is opened
   and ``refresh_overview`` (the work added after each resolve: the overview's figures and the review queue,
   stored with the graph) is called once and timed. The same pass picks the profiles the pages show (a
   typical one, of the median size, and the largest), the profiles the explorer falls back on, and a common
   and a rare surname of the records.
2. ``cdp serve --insecure-local`` in its own process on a free loopback port (``bench.common.serving``).
3. **Page loads** in Debian's Chromium (headless, 1400x900, the persistent-context launch of the browser tests,
   never a Playwright download), driven by Playwright from this process: ``/``, ``/profiles/{id}`` and
   ``/graph/{id}`` (the typical and the largest profile), ``/review`` and ``/quality`` (when served). A load is
   the time from ``page.goto`` to ``body[data-ready=true]`` (each page sets it when its data is shown).
   Cold: each page's first load in the fresh browser; warm: the median of ``--repeats`` loads after every
   page's cold one. Beside it, the GraphQL answer time of the page's main query (its text read from the
   console's own scripts, sent with httpx, median of ``--repeats``): the rest of a load is the browser's.
4. **The explorer at a 500-node neighbourhood**: ``/graph/{largest}``, then the neighbouring profile hexagons
   expanded one at a time (``window.cdpExpand``, what a double click does; breadth first) until the drawing
   holds ``--nodes`` nodes; when the neighbours run out, the next largest profiles are added to the same
   drawing as hexagons and expanded. The drawing's elements are then laid out and drawn afresh in the page (a
   new Cytoscape instance with the page's style and layout (``layoutFor``: force-directed up to 200 nodes, rings
   beyond), timed with ``performance.now()`` up
   to the second animation frame after the layout stopped), once cold and ``--repeats`` times more.
5. **Search by name**: ``profilesByName(name, first: 20)`` for the most common surname of the records and a
   surname one record holds, median of ``--repeats`` (httpx).

Progress goes to stderr; a Markdown section "Console timings of issue 14" is printed and appended to
BENCHMARKS.md unless ``--no-write``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from bench import common
from bench.common import ROOT, serving
from bench.serve_load import DEMO_SEED, load_demo

console = Console(stderr=True, highlight=False, soft_wrap=True)

# the browser tests' Chromium (tests/api/test_graphiql_browser.py: CHROMIUM, CHROMIUM_ARGS), not imported
# from there so that a benchmark does not need pytest
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
    # no internet: anything not on loopback goes to a closed port (loopback bypasses the proxy); no
    # Playwright route, which would put every request through this process and into the timings
    "--proxy-server=http://127.0.0.1:9",
]
VIEWPORT = {"width": 1400, "height": 900}
CONSOLE_JS = ROOT / "api" / "static" / "console"
TARGET_MS = 1_000.0  # the targets: a page load at 1M records, a 500-node neighbourhood's drawing
PAGE_TIMEOUT_MS = 180_000
SURNAME_FIELDS = ("surname", "last_name", "lname", "family_name")
NAME_QUERY = "query($n: String!) { profilesByName(name: $n, first: 20) { id } }"
MAX_EXPANSIONS = 400

READY = """() => {
  if (document.body.dataset.ready === "true") return "ready";
  const error = document.getElementById("error");
  return error && !error.hidden && error.textContent ? "error: " + error.textContent : false;
}"""

# neighbouring profile hexagons not expanded yet, in the order they were drawn (breadth first)
UNEXPANDED = (
    """() => window.cdpGraph.nodes("[kind = 'profile']").filter((n) => !n.data("expanded")).map((n) => n.id())"""
)
COUNTS = "() => [window.cdpGraph.nodes().length, window.cdpGraph.edges().length]"
ADD_PROFILE = """(pid) => { const id = "p:" + pid;
  if (!window.cdpGraph.getElementById(id).length)
    window.cdpGraph.add({ group: "nodes", data: { id, kind: "profile", label: pid, profile: pid, colour: "#444" } });
  return id; }"""

# the drawing's elements laid out and drawn afresh, as the page draws a profile (graphPage in console.js)
FRESH_DRAW = """async () => {
  const shown = window.cdpGraph;
  const elements = shown.elements().map((e) => ({ group: e.group(), data: { ...e.data() } }));
  const box = document.getElementById("cy").getBoundingClientRect();
  const container = document.createElement("div");
  Object.assign(container.style, { position: "fixed", left: box.left + "px", top: box.top + "px",
    width: box.width + "px", height: box.height + "px", background: "#fff", zIndex: 10 });
  document.body.append(container);
  const started = performance.now();
  const cy = window.cytoscape({ container, elements, style: shown.style().json(), layout: { name: "preset" } });
  const layout = cy.layout(layoutFor(cy.nodes().length));  // the page's own choice (console.js)
  const stopped = new Promise((resolve) => layout.one("layoutstop", resolve));
  layout.run();
  await stopped;
  const laidOut = performance.now();
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  const drawn = performance.now();
  const counts = [cy.nodes().length, cy.edges().length];
  cy.destroy();
  container.remove();
  return { layout: laidOut - started, total: drawn - started, nodes: counts[0], edges: counts[1] };
}"""


@dataclass
class Picked:
    """What the in-process pass found: the store's size, ``refresh_overview``'s cost and what to ask for."""

    profiles: int
    records: int
    refresh_s: float
    typical: tuple[str, int]  # (profile id, records)
    largest: tuple[str, int]
    large: list[str]  # the largest profiles, most records first: the explorer's fallback
    surnames: dict[str, tuple[str, int]] = field(default_factory=dict)  # "common"/"rare" -> (name, records)


@dataclass
class PageRow:
    name: str
    path: str
    query: str | None  # the page's main GraphQL query, None when not found
    variables: dict[str, Any]
    cold_ms: float | None = None
    warm_ms: list[float] = field(default_factory=list)
    graphql_ms: list[float] = field(default_factory=list)
    draw_ms: list[float] = field(default_factory=list)  # the explorer's own data-metric="draw_ms"
    note: str = ""


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _records(n: int) -> str:
    return f"{n:,} record{'' if n == 1 else 's'}"


def _fmt(ms: float | None) -> str:
    if ms is None:
        return "-"
    return f"{ms:.1f}" if ms < 100 else f"{ms:,.0f}"


# ---- 1. in this process, before serving ---------------------------------------------------------------


def inspect(store_kind: str, data_dir: Path) -> Picked:
    """Open the store, time ``refresh_overview``, pick the profiles and surnames; close it again."""
    from api.overview import refresh_overview
    from graph.settings import Settings, open_store
    from ingest.normalise import name_key

    store = open_store(Settings(store=store_kind, data_dir=data_dir))  # type: ignore[arg-type]
    try:
        console.print("[bold]refresh_overview[/bold] in this process (overview figures and review queue)")
        started = time.perf_counter()
        refresh_overview(store)
        refresh_s = time.perf_counter() - started
        console.print(f"  {refresh_s:.2f} s")
        sizes = store.assignments().groupby("profile_id").size()
        if sizes.empty:
            raise SystemExit("the store holds no resolved profiles: load it first (leave out --no-load)")
        ordered = sorted(((int(n), str(pid)) for pid, n in sizes.items()), key=lambda t: (-t[0], t[1]))
        median = int(statistics.median_low(sorted(int(n) for n in sizes)))
        of_median = sorted(pid for n, pid in ordered if n == median)
        typical = (of_median[len(of_median) // 2], median)
        largest = (ordered[0][1], ordered[0][0])
        console.print(f"  {len(sizes):,} profiles holding {int(sizes.sum()):,} records; typical {typical[0]} "
                      f"({_records(median)}, the median), largest {largest[0]} ({_records(largest[1])})")  # fmt: skip
        surnames: Counter[str] = Counter()
        spelt: dict[str, str] = {}  # a surname as a record holds it (the search's scan is case-sensitive)
        for text in store.profile_record_attributes()["attributes"]:
            values = json.loads(text) if isinstance(text, str) else dict(text or {})
            for key in SURNAME_FIELDS:
                if values.get(key):
                    surnames[name_key(str(values[key]))] += 1
                    spelt.setdefault(name_key(str(values[key])), str(values[key]))
    finally:
        store.close()
    found: dict[str, tuple[str, int]] = {}
    usable = {k: n for k, n in surnames.items() if k.isalpha() and len(k) >= 3}
    if usable:
        common_name = max(usable.items(), key=lambda kv: (kv[1], kv[0]))
        found["common"] = (spelt[common_name[0]], common_name[1])
        once = sorted(k for k, n in usable.items() if n == 1 and len(k) >= 4)
        if once:
            found["rare"] = (spelt[once[len(once) // 2]], 1)
    console.print(f"  surnames: {found or 'none found in ' + ', '.join(SURNAME_FIELDS)}")
    return Picked(len(sizes), int(sizes.sum()), refresh_s, typical, largest, [pid for _, pid in ordered[:300]], found)


# ---- 2. what the server serves ----------------------------------------------------------------------


def console_queries() -> dict[str, str]:
    """Every ``const NAME = `...`;`` GraphQL text of the console's scripts (console.js and pages' own)."""
    found: dict[str, str] = {}
    for script in sorted(CONSOLE_JS.glob("*.js")):
        for name, text in re.findall(r"const ([A-Z_]+) = `([^`]*)`;", script.read_text(encoding="utf-8")):
            if text.lstrip().startswith(("{", "query")):
                found[name] = text
    return found


def pages(url: str, picked: Picked) -> list[PageRow]:
    queries = console_queries()
    typical, largest = picked.typical, picked.largest
    rows = [
        PageRow("`/` overview", "/", queries.get("OVERVIEW"), {}),
        PageRow(f"`/profiles/{{id}}` typical ({_records(typical[1])})", f"/profiles/{typical[0]}",
                queries.get("PROFILE"), {"id": typical[0]}),
        PageRow(f"`/profiles/{{id}}` largest ({_records(largest[1])})", f"/profiles/{largest[0]}",
                queries.get("PROFILE"), {"id": largest[0]}),
        PageRow(f"`/graph/{{id}}` typical ({_records(typical[1])})", f"/graph/{typical[0]}", queries.get("GRAPH"),
                {"id": typical[0]}),
        PageRow(f"`/graph/{{id}}` largest ({_records(largest[1])})", f"/graph/{largest[0]}", queries.get("GRAPH"),
                {"id": largest[0]}),
        PageRow("`/review`", "/review", queries.get("REVIEW"), {"first": 100}),  # reviewPage asks for 100
    ]  # fmt: skip
    quality = httpx.get(f"{url}/quality", timeout=30, trust_env=False)
    if quality.status_code == 200 and "data-page" in quality.text:
        query = next((text for name, text in queries.items() if "QUALITY" in name), None)
        rows.append(PageRow("`/quality`", "/quality", query, {}, note="" if query else "main query not found"))
    else:
        rows.append(PageRow("`/quality`", "/quality", None, {}, note=f"not served here (HTTP {quality.status_code}): skipped"))  # fmt: skip
    return rows


# ---- 3. and 4. in the browser -------------------------------------------------------------------------


@contextlib.contextmanager
def chromium(profile_dir: Path) -> Any:
    """A page of Debian's Chromium as the browser tests launch it (a persistent context, --headless=new)."""
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing: run scripts/browser-deps (Debian's chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise SystemExit("playwright is not installed (pip install -e '.[test]')") from None
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile_dir),
            executable_path=str(CHROMIUM),
            headless=False,  # --headless=new in CHROMIUM_ARGS; Playwright's own flag would pick the old mode
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
        )
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_viewport_size(VIEWPORT)
            yield page
        finally:
            context.close()


def load(page: Any, url: str) -> float:
    """Milliseconds from ``page.goto`` to ``body[data-ready=true]``; raises with the page's error shown."""
    started = time.perf_counter()
    page.goto(url, wait_until="commit")
    state = page.wait_for_function(READY).json_value()
    ms = (time.perf_counter() - started) * 1000
    if state != "ready":
        raise RuntimeError(f"{url}: {state}")
    return ms


def measure_pages(page: Any, url: str, rows: list[PageRow], repeats: int) -> None:
    shown = [row for row in rows if row.query is not None or "skipped" not in row.note]

    def one(row: PageRow) -> float | None:
        try:
            ms = load(page, url + row.path)
        except Exception as exc:  # a page that fails is reported, the others still measured
            row.note = (row.note + "; " if row.note else "") + f"failed: {str(exc)[:160]}"
            console.print(f"    [red]{row.name}: {exc}[/red]")
            return None
        if row.path.startswith("/graph/"):
            with contextlib.suppress(Exception):
                row.draw_ms.append(float(page.get_attribute('[data-metric="draw_ms"]', "data-value")))
        return ms

    console.print("[bold]page loads[/bold], cold (each page's first load in a fresh browser)")
    for row in shown:
        row.cold_ms = one(row)
        console.print(f"  {row.name}: {_fmt(row.cold_ms)} ms")
    console.print(f"[bold]page loads[/bold], warm ({repeats} rounds over every page)")
    for n in range(repeats):
        for row in shown:
            if "failed" not in row.note and (ms := one(row)) is not None:
                row.warm_ms.append(ms)
        console.print(f"  round {n + 1} of {repeats} done")
    for row in shown:
        console.print(f"  {row.name}: median {_fmt(_median(row.warm_ms))} ms")


def graphql_ms(client: httpx.Client, query: str, variables: dict[str, Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    response = client.post("/graphql", json={"query": query, "variables": variables})
    ms = (time.perf_counter() - started) * 1000
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"HTTP {response.status_code}: {str(body.get('errors') or response.text)[:200]}")
    return ms, body["data"]


def measure_graphql(url: str, rows: list[PageRow], picked: Picked, repeats: int) -> dict[str, tuple[list[float], int]]:
    """Each page's main query, then the name searches: (times, profiles found) per surname kind."""
    searches: dict[str, tuple[list[float], int]] = {}
    with httpx.Client(base_url=url, timeout=300, trust_env=False) as client:
        console.print(f"[bold]GraphQL[/bold]: each page's main query, {repeats} times")
        for row in rows:
            if row.query is None:
                continue
            try:
                row.graphql_ms = [graphql_ms(client, row.query, row.variables)[0] for _ in range(repeats)]
            except RuntimeError as exc:
                row.note = (row.note + "; " if row.note else "") + f"GraphQL failed: {str(exc)[:160]}"
            console.print(f"  {row.name}: median {_fmt(_median(row.graphql_ms))} ms")
        console.print(f"[bold]search by name[/bold]: profilesByName, {repeats} times each")
        for kind, (name, _) in picked.surnames.items():
            times, found = [], 0
            for _ in range(repeats):
                ms, data = graphql_ms(client, NAME_QUERY, {"n": name})
                times.append(ms)
                found = len(data["profilesByName"])
            searches[kind] = (times, found)
            console.print(f"  {kind} '{name}': median {_fmt(_median(times))} ms, {found} profiles")
    return searches


@dataclass
class Explorer:
    start: str
    expansions: int = 0  # neighbouring profiles expanded
    added: int = 0  # large profiles added to the drawing when the neighbours ran out
    from_neighbours: tuple[int, int] = (0, 0)  # (nodes, edges) when the neighbours ran out, or at the end
    nodes: int = 0
    edges: int = 0
    last_expand_ms: float | None = None  # fetch + add + the layout of the whole drawing
    cold: dict[str, float] = field(default_factory=dict)  # the first fresh drawing: layout, total
    warm: list[dict[str, float]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def measure_explorer(page: Any, url: str, picked: Picked, target: int, repeats: int) -> Explorer:
    found = Explorer(picked.largest[0])
    console.print(f"[bold]explorer[/bold]: from {found.start}, expanding profiles until {target} nodes")
    load(page, f"{url}/graph/{found.start}")
    tried, fallback, ran_out = {f"p:{found.start}"}, iter(picked.large), False
    nodes, edges = page.evaluate(COUNTS)
    while nodes < target and found.expansions + found.added < MAX_EXPANSIONS:
        waiting = [n for n in page.evaluate(UNEXPANDED) if n not in tried]
        if waiting:
            node = waiting[0]
        else:
            if not ran_out:
                ran_out, found.from_neighbours = True, (nodes, edges)
                console.print(f"  neighbours ran out at {nodes} nodes after {found.expansions} expansions; "
                              "adding the largest profiles")  # fmt: skip
            pid = next((p for p in fallback if f"p:{p}" not in tried), None)
            if pid is None:
                break
            node = page.evaluate(ADD_PROFILE, pid)
        tried.add(node)
        started = time.perf_counter()
        try:
            page.evaluate("(id) => window.cdpExpand(id)", node)
        except Exception as exc:  # one profile failing to expand: say so, go on
            found.failures.append(f"{node}: {str(exc)[:120]}")
            continue
        found.last_expand_ms = (time.perf_counter() - started) * 1000
        if ran_out:
            found.added += 1
        else:
            found.expansions += 1
        nodes, edges = page.evaluate(COUNTS)
        if (found.expansions + found.added) % 10 == 0:
            console.print(f"  {found.expansions + found.added} expanded: {nodes} nodes, {edges} edges "
                          f"(last expansion {_fmt(found.last_expand_ms)} ms)")  # fmt: skip
    if not ran_out:
        found.from_neighbours = (nodes, edges)
    found.nodes, found.edges = nodes, edges
    console.print(f"  drawing: {nodes} nodes, {edges} edges ({found.expansions} neighbours expanded, "
                  f"{found.added} large profiles added); laying it out afresh, 1 + {repeats} times")  # fmt: skip
    found.cold = page.evaluate(FRESH_DRAW)
    found.warm = [page.evaluate(FRESH_DRAW) for _ in range(repeats)]
    console.print(f"  cold {_fmt(found.cold['total'])} ms, warm median "
                  f"{_fmt(_median([w['total'] for w in found.warm]))} ms (layout and first frame)")  # fmt: skip
    return found


def watch(page: Any) -> list[str]:
    """Collect the page's uncaught errors and console errors."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(f"{message.text} ({message.location.get('url')})")
            if message.type == "error" else None)  # fmt: skip
    return errors


# ---- the section --------------------------------------------------------------------------------------


def _verdict(ms: float | None) -> str:
    return "-" if ms is None else ("met" if ms < TARGET_MS else "not met")


def section(plan: argparse.Namespace, result: dict[str, Any], command: str, commit: str, load_avg: float) -> str:
    picked: Picked = result["picked"]
    rows: list[PageRow] = result["rows"]
    explorer: Explorer = result["explorer"]
    searches: dict[str, tuple[list[float], int]] = result["searches"]
    n = plan.repeats
    data = (f"`cdp demo --records {plan.records} --seed {DEMO_SEED}` (loaded in {result['load_s']:.0f} s)"
            if not plan.no_load else "the data the store already held")  # fmt: skip
    table = [
        f"| what | cold ms | warm ms (median of {n}) | GraphQL ms (median of {n}) | notes |",
        "|---|---|---|---|---|",
        f"| `refresh_overview` after a resolve (in-process, once) | {_fmt(picked.refresh_s * 1000)} | - | - | "
        "overview figures, strong values, review queue; stored with the graph |",
    ]
    for row in rows:
        notes = [row.note] if row.note else []
        if row.draw_ms:
            notes.insert(0, f"the page's draw_ms: median {_fmt(_median(row.draw_ms))}")
        table.append(f"| {row.name} | {_fmt(row.cold_ms)} | {_fmt(_median(row.warm_ms))} | "
                     f"{_fmt(_median(row.graphql_ms))} | {'; '.join(notes)} |")  # fmt: skip
    warm_total = _median([w["total"] for w in explorer.warm])
    warm_layout = _median([w["layout"] for w in explorer.warm])
    table += [
        f"| explorer: {explorer.nodes} nodes, {explorer.edges} edges laid out (the page's rings past 200 nodes) and drawn afresh | "
        f"{_fmt(explorer.cold.get('total'))} | {_fmt(warm_total)} | - | of which the layout: cold "
        f"{_fmt(explorer.cold.get('layout'))}, warm {_fmt(warm_layout)} |",
        f"| explorer: the last expansion (`cdpExpand`: profileGraph, add, layout of the whole drawing) | "
        f"{_fmt(explorer.last_expand_ms)} | - | - | one double click at {explorer.nodes} nodes |",
    ]
    for kind, (name, records) in picked.surnames.items():
        times, found = searches.get(kind, ([], 0))
        held = f"{records:,} records hold it" if kind == "common" else "one record holds it"
        table.append(f"| search by name: {kind} surname \"{name}\" | - | - | {_fmt(_median(times))} | {held}; "
                     f"{found} profile{'' if found == 1 else 's'} found (first: 20) |")  # fmt: skip
    if not picked.surnames:
        table.append(f"| search by name | - | - | - | no surname field ({', '.join(SURNAME_FIELDS)}) in the records |")
    loads = [(row.name, _median(row.warm_ms)) for row in rows if row.warm_ms]
    slow = [f"{name} {_fmt(ms)} ms" for name, ms in loads if ms is not None and ms >= TARGET_MS]
    size_note = ("" if picked.records >= 1_000_000 else
                 f" (this run holds {picked.records:,} records, not 1M: the verdicts hold for this size only)")  # fmt: skip
    neighbours = explorer.from_neighbours
    how = (
        f"{explorer.expansions} neighbouring profiles expanded (breadth first) from the largest profile "
        f"`{explorer.start}`"
        + (f"; the neighbours ran out at {neighbours[0]} nodes, so the {explorer.added} next largest profiles "
           "were added to the same drawing and expanded" if explorer.added else "")
    )  # fmt: skip
    short = explorer.nodes < plan.nodes
    errors = result["errors"]
    return "\n".join([
        "\n## Console timings of issue 14\n",
        f"{datetime.now(UTC):%Y-%m-%d}, commit {commit}, {plan.store} store.\n",
        f"Machine: {common.machine()}; 1-minute load average {load_avg:.1f} before the run (a shared machine)\n",
        f"Command: `{command}`\n",
        f"Data: {data} on the {plan.store} store: {picked.profiles:,} profiles holding {picked.records:,} records. "
        f"Typical profile `{picked.typical[0]}` ({_records(picked.typical[1])}, the median size); largest "
        f"`{picked.largest[0]}` ({_records(picked.largest[1])}).\n",
        "`cdp serve --insecure-local` (uvicorn, one worker) in its own process on loopback; Debian's Chromium "
        f"(headless, {VIEWPORT['width']}x{VIEWPORT['height']}, no internet) driven by Playwright from this process. "
        "A page load: from `page.goto` to `body[data-ready=true]` (the page's data shown). Cold: the page's first "
        f"load in the fresh browser; warm: the median of {n} more, after every page's cold load. GraphQL: the "
        "page's main query (its text from the console's scripts) sent with httpx, the median of "
        f"{n}: the rest of a load is the browser's (assets, scripts, drawing, and the page's other queries, "
        "e.g. the 360 page's similar profiles). Explorer: "
        f"{how}, until the drawing held at least {plan.nodes} nodes; its elements then laid out with the page's "
        "layout (`layoutFor`: force-directed up to 200 nodes, rings beyond) and drawn in a new Cytoscape instance in the page (`performance.now()` to the second "
        f"animation frame after the layout stopped), once cold and {n} times warm.\n",
        *table,
        "",
        f"Targets{size_note}: page loads under a second: "
        + ("met by every page (warm)" if loads and not slow else "not met by " + ", ".join(slow) if slow else "-")
        + f"; a {plan.nodes}-node neighbourhood drawn under a second: "
        + (f"not measured (the drawing reached only {explorer.nodes} nodes)" if short
           else f"{_verdict(warm_total)} ({explorer.nodes} nodes, {_fmt(warm_total)} ms warm, "
                f"{_fmt(explorer.cold.get('total'))} ms cold)")
        + ". Console errors in the browser: "
        + (f"{len(errors)}, e.g. {errors[0][:200]}" if errors else "none")
        + (f". Expansions that failed: {len(explorer.failures)}, e.g. {explorer.failures[0]}" if explorer.failures else "")
        + ".\n",
    ])  # fmt: skip


# ---- the run ------------------------------------------------------------------------------------------


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--store", choices=["embedded", "neo4j"], default="embedded")
    parser.add_argument("--records", type=int, default=1_000_000, help="demo rows to load (default 1000000)")
    parser.add_argument(
        "--data-dir", type=Path, help="for cdp demo's files and the embedded graph (default: a temporary one)"
    )
    parser.add_argument("--no-load", action="store_true", help="measure what the store holds; do not run cdp demo")
    parser.add_argument("--repeats", type=int, default=5, help="warm loads and GraphQL requests (default 5)")
    parser.add_argument("--nodes", type=int, default=500, help="the explorer's neighbourhood (default 500)")
    parser.add_argument("--no-write", action="store_true", help="print the section; do not append it")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    plan = parser.parse_args()
    if plan.no_load and plan.store == "embedded" and not plan.data_dir:
        parser.error("--no-load on the embedded store needs --data-dir")
    if plan.repeats < 1:
        parser.error("--repeats must be at least 1")
    return plan


def _command(argv: list[str]) -> str:
    """The command that reproduces the figures: without the options that only say where they go."""
    kept, skip = [], False
    for arg in argv:
        if not skip and arg.split("=")[0] not in ("--no-write", "--out"):
            kept.append(arg)
        skip = arg == "--out"
    return " ".join(["python -m bench.console_timings", *kept])


def main() -> None:
    plan = _arguments()
    if plan.store == "neo4j":
        from graph.settings import Settings

        if Settings(store="neo4j").has_default_password():
            raise SystemExit("cdp serve refuses an empty or default CDP_NEO4J_PASSWORD: set CDP_NEO4J_URI, "
                             "CDP_NEO4J_USER and CDP_NEO4J_PASSWORD (scripts/neo4j-local start prints them)")  # fmt: skip
    commit, load_avg, began = common.commit(), os.getloadavg()[0], time.perf_counter()
    result: dict[str, Any] = {"load_s": 0.0}
    with tempfile.TemporaryDirectory(prefix="cdp-console-timings-") as tmp:
        data_dir = plan.data_dir or Path(tmp) / "data"
        if not plan.no_load:
            started = time.perf_counter()
            load_demo(plan.store, data_dir, plan.records)
            result["load_s"] = time.perf_counter() - started
        picked = result["picked"] = inspect(plan.store, data_dir)
        console.print(f"[bold]serving[/bold] the {plan.store} store (cdp serve --insecure-local in its own process)")
        with serving(plan.store, data_dir, Path(tmp) / "serve.log") as (url, _):
            console.print(f"  at {url}")
            rows = result["rows"] = pages(url, picked)
            with chromium(Path(tmp) / "chromium-profile") as page:
                result["errors"] = watch(page)
                measure_pages(page, url, rows, plan.repeats)
                result["explorer"] = measure_explorer(page, url, picked, plan.nodes, plan.repeats)
            result["searches"] = measure_graphql(url, rows, picked, plan.repeats)
    console.print(f"done in {time.perf_counter() - began:.0f} s")
    common.publish(section(plan, result, _command(sys.argv[1:]), commit, load_avg), plan.out, plan.no_write)


if __name__ == "__main__":
    main()
