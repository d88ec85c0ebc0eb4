// The data quality page (/quality): each source's columns (fill and invalid rates, invalid examples), rows
// rejected by reason, and the identifier values held by the most records; and the overview's "rejects by
// reason" chart. Drawing is kept apart from asking (drawQuality, drawRejects) so `cdp report` draws the same
// charts from the data it embeds. Uses graphql, setMetric, chart and rows from console.js.
"use strict";

const QUALITY = `{ dataQuality { rejectedRows invalidValues sharedAsOf
  sources { source profiledAt rows rejects rejectsByReason { name count }
    columns { column field rows filled invalid fillRate invalidRate examples { value reason } } }
  sharedValues { type value status records } } }`;

function percent(rate) {
  return (100 * rate).toFixed(1) + "%";
}

function drawRejects(canvasId, sources) {
  const reasons = [...new Set(sources.flatMap((s) => s.rejectsByReason.map((r) => r.name)))];
  const none = document.getElementById("rejects-none");
  if (none) none.hidden = reasons.length > 0;
  if (!reasons.length) return;
  const datasets = sources.filter((s) => s.rejectsByReason.length).map((s) => ({
    label: s.source,
    data: reasons.map((reason) => (s.rejectsByReason.find((r) => r.name === reason) || { count: 0 }).count),
  }));
  chart(canvasId, "bar", reasons, datasets, { indexAxis: "y", scales: { x: { stacked: true, ticks: { precision: 0 } },
    y: { stacked: true } } });
}

function sourceTable(s) {
  const section = document.createElement("section");
  section.className = "panel";
  section.dataset.source = s.source;
  const title = document.createElement("h2");
  const note = document.createElement("small");
  note.textContent = `${s.rows.toLocaleString("en")} rows read, ${s.rejects.toLocaleString("en")} rejected; ingested ${s.profiledAt}`;
  title.append(s.source, note);
  const table = document.createElement("table");
  table.id = "columns-" + s.source;
  table.innerHTML = "<thead><tr><th>Column</th><th>Field</th><th>Filled</th><th>Invalid</th>" +
    "<th>Examples of invalid values</th></tr></thead><tbody></tbody>";
  section.append(title, table);
  return section;
}

function drawQuality(q) {
  setMetric("sources", q.sources.length);
  setMetric("rows_read", q.sources.reduce((sum, s) => sum + s.rows, 0));
  setMetric("rejected_rows", q.rejectedRows);
  setMetric("invalid_values", q.invalidValues);
  setMetric("shared_values", q.sharedValues.length);
  const asOf = document.getElementById("shared-as-of");
  if (asOf) asOf.textContent = q.sharedAsOf.replace("T", " ").replace("Z", " UTC");
  document.getElementById("sources").replaceChildren(...q.sources.map(sourceTable));
  for (const s of q.sources) {
    rows("columns-" + s.source, s.columns, [(c) => c.column, (c) => c.field,
      (c) => `${percent(c.fillRate)} (${c.filled.toLocaleString("en")})`,
      (c) => `${percent(c.invalidRate)} (${c.invalid.toLocaleString("en")})`,
      (c) => c.examples.map((e) => `${e.value} (${e.reason})`).join("; ")]);
    const cells = document.querySelectorAll(`#columns-${CSS.escape(s.source)} tbody tr`);
    s.columns.forEach((c, i) => {
      if (!cells[i]) return;
      cells[i].children[2].className = "rate";
      cells[i].children[3].className = c.invalid ? "rate bad" : "rate";
    });
  }
  const columns = q.sources.flatMap((s) => s.columns.map((c) => ({ ...c, label: `${s.source} · ${c.column}` })));
  chart("fill-rates", "bar", columns.map((c) => c.label), [
    { label: "filled %", data: columns.map((c) => +(100 * c.fillRate).toFixed(1)) },
    { label: "invalid % of filled", data: columns.map((c) => +(100 * c.invalidRate).toFixed(1)) },
  ], { scales: { y: { max: 100 } } });
  drawRejects("rejects-by-reason", q.sources);
  rows("shared-values", q.sharedValues, [(v) => v.type, (v) => v.value, (v) => v.status,
    (v) => v.records.toLocaleString("en")]);
}

async function qualityPage() {
  drawQuality((await graphql(QUALITY)).dataQuality);
  document.body.dataset.ready = "true";
}

// the overview calls this when its page loads this script: its "rejects by reason" chart and figure
async function overviewRejects() {
  const q = (await graphql("{ dataQuality { rejectedRows sources { source rejectsByReason { name count } } } }")).dataQuality;
  setMetric("rejected_rows", q.rejectedRows);
  drawRejects("rejects-by-reason", q.sources);
}

window.cdpPages = { ...(window.cdpPages || {}), quality: qualityPage };
window.cdpOverviewRejects = overviewRejects;
