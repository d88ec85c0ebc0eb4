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
    )


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
    <p class="as-of">Figures as of <time id="as-of">…</time>, after the last resolve run.</p>
    <section class="figures" aria-label="Headline figures">
      <div><span>Profiles</span><b data-metric="profiles">…</b></div>
      <div><span>Records</span><b data-metric="records">…</b></div>
      <div><span>Events</span><b data-metric="events">…</b></div>
      <div><span>Identifiers</span><b data-metric="identifiers">…</b></div>
      <div><span>Ignored identifiers</span><b data-metric="ignored_identifiers">…</b></div>
      <div><span>Households</span><b data-metric="households">…</b></div>
      <div><span>Profiles with two national ids or birth dates</span><b data-metric="conflicting_profiles">…</b></div>
      <div><span>Profiles seen in two or more sources</span><b data-metric="multi_source_profiles">…</b></div>
    </section>
    <section class="charts">
      <figure><figcaption>Records by source</figcaption><canvas id="records-by-source"></canvas></figure>
      <figure><figcaption>Profiles by size (records in a profile)</figcaption><canvas id="profile-sizes"></canvas></figure>
      <figure><figcaption>Identifiers by status</figcaption><canvas id="identifiers-by-status"></canvas></figure>
      <figure><figcaption>Merges, splits and moved records per resolve run</figcaption><canvas id="runs"></canvas></figure>
      <figure><figcaption>Source overlap: profiles by the sources their records come from</figcaption><canvas id="source-overlap"></canvas></figure>
      <figure><figcaption>Match weights around the threshold (scored pairs of the last run, 1-bit bins)</figcaption><canvas id="match-weights"></canvas></figure>
    </section>
  </section>
  <section class="report-part" aria-label="Data quality">
    <h1>Data quality</h1>
    <p class="as-of">Columns as each source's last ingest found them; shared values as of <time id="shared-as-of">…</time>.</p>
    <section class="figures" aria-label="Data quality figures">
      <div><span>Sources</span><b data-metric="sources">…</b></div>
      <div><span>Rows read</span><b data-metric="rows_read">…</b></div>
      <div><span>Rows rejected</span><b data-metric="rejected_rows">…</b></div>
      <div><span>Invalid values dropped</span><b data-metric="invalid_values">…</b></div>
      <div><span>Values shared by many records</span><b data-metric="shared_values">…</b></div>
    </section>
    <section class="charts">
      <figure><figcaption>Fill rate per column (% of rows ingested holding a value)</figcaption><canvas id="fill-rates"></canvas></figure>
      <figure><figcaption>Rows rejected at ingest, by reason</figcaption><canvas id="rejects-by-reason"></canvas><p id="rejects-none" class="none" hidden>No row was rejected.</p></figure>
    </section>
    <div id="sources"></div>
    <section class="panel">
      <h2>Identifier values held by the most records</h2>
      <table id="shared-values"><thead><tr><th>Type</th><th>Value</th><th>Status</th><th>Records</th></tr></thead><tbody></tbody></table>
    </section>
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
