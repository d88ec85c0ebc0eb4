"""``cdp report``: the console's overview and data quality pages as one self-contained HTML file to mail.

The file asks nothing of any server: the figures are embedded as JSON (the same shape the GraphQL API answers
``overview`` and ``dataQuality`` with) and drawn by the console's own scripts and the vendored Chart.js, all
inlined; a Content-Security-Policy forbids every request. Personal data (invalid examples, shared values) is
masked as for a key without ``read:pii``, unless asked for.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import UTC, datetime
from html import escape
from typing import Any

from api.console import CONSOLE_DIR
from api.data_quality import data_quality
from api.overview import overview
from api.pii import PiiMask
from api.quality_types import data_quality_answer
from graph.store import GraphStore

__all__ = ["render_report", "report_data"]

SCRIPTS = ("vendor/chart.js-4.6.1/chart.umd.min.js", "console.js", "quality.js")
CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"
_COUNTS = ("records_by_source", "identifiers_by_status", "profile_sizes", "conflicting_profiles", "source_overlap")


def report_data(store: GraphStore, with_pii: bool = False) -> dict[str, Any]:
    """What the report shows, as JSON-ready data: the overview's and data quality's GraphQL answers."""
    found = overview(store)
    figures = {**asdict(found), **{name: _named(getattr(found, name)) for name in _COUNTS}}
    figures["match_weights"] = found.match_weights or None  # as the overview query answers it
    quality = asdict(data_quality_answer(data_quality(store), PiiMask(reveal=with_pii)))
    return {
        "generatedAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "personalData": with_pii,
        "overview": _camel(figures),
        "dataQuality": _camel(quality),
    }


def render_report(data: dict[str, Any]) -> str:
    """The HTML file: the pages' markup, ``data`` embedded, console.css and every script inlined."""
    payload = json.dumps(data).replace("<", "\\u003c")  # no "</script>" can end the data early
    scripts = "\n".join(f"<script>{_script(name)}</script>" for name in SCRIPTS)
    note = "includes personal data" if data["personalData"] else "personal data masked"
    return _TEMPLATE.format(
        csp=CSP,
        css=(CONSOLE_DIR / "console.css").read_text(encoding="utf-8"),
        heading=escape(f"generated {data['generatedAt']} · {note}"),
        payload=payload,
        scripts=scripts,
        **_page_parts(),
    )


#: what the report leaves out of the overview page: the rejects, which its data-quality part shows
_OVERVIEW_ONLY = ('data-metric="rejected_rows"', 'id="rejects-by-reason"')


def _page_parts() -> dict[str, str]:
    """The markup of the overview and data-quality pages (their as-of line and what their ``main`` holds),
    so the report shows what the pages show and cannot drift from them."""
    parts = {}
    for name, page, drop in (("overview", "overview.html", _OVERVIEW_ONLY), ("quality", "quality.html", ())):
        html = (CONSOLE_DIR / page).read_text(encoding="utf-8")
        as_of, main = (
            re.search(r'<p class="as-of">.*?</p>', html, re.S),
            re.search(r"<main[^>]*>(.*)</main>", html, re.S),
        )
        if as_of is None or main is None:
            raise ValueError(f"{page} has no as-of line or no main element for the report")
        lines = [line for line in main[1].splitlines() if line.strip() and not any(d in line for d in drop)]
        parts[f"{name}_as_of"], parts[f"{name}_main"] = as_of[0], "\n".join(lines)
    return parts


def _script(name: str) -> str:
    text = (CONSOLE_DIR / name).read_text(encoding="utf-8")
    if re.search(r"</script", text, re.IGNORECASE):
        raise ValueError(f"{name} holds '</script' and cannot be inlined")
    return text


def _named(counts: dict[Any, int]) -> list[dict[str, Any]]:
    return [{"name": str(name), "count": int(n)} for name, n in counts.items()]


def _camel(value: Any) -> Any:
    """Keys as GraphQL names them (``rejects_by_reason`` -> ``rejectsByReason``), all the way down."""
    if isinstance(value, dict):
        return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), str(k)): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


_REPORT_JS = """
window.cdpPages = { ...(window.cdpPages || {}), report: () => {
  const data = JSON.parse(document.getElementById("cdp-report-data").textContent);
  drawOverview(data.overview);
  drawQuality(data.dataQuality);
  document.body.dataset.ready = "true";
} };
"""

_TEMPLATE = (
    """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta http-equiv="Content-Security-Policy" content="{csp}">
  <title>cdp-graph report</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <style>{css}
section.report-part {{ margin-bottom: 1.5rem; }} section.report-part > h1 {{ font-size: 1.2rem; margin: 0 0 0.6rem; }}
  </style>
</head>
<body data-page="report">
  <header><span class="brand">cdp-graph report</span><nav><span>{heading}</span></nav></header>
  <p id="error" class="error" hidden></p>
  <main>
  <section class="report-part" aria-label="Overview">
    <h1>Overview</h1>
    {overview_as_of}
{overview_main}
  </section>
  <section class="report-part" aria-label="Data quality">
    <h1>Data quality</h1>
    {quality_as_of}
{quality_main}
  </section>
  </main>
  <script type="application/json" id="cdp-report-data">{payload}</script>
{scripts}
<script>"""
    + _REPORT_JS.replace("{", "{{").replace("}", "}}")
    + """</script>
</body>
</html>
"""
)
