// The analyst console: every figure comes from the GraphQL API (/graphql) with the API key kept in this tab
// (sessionStorage). Without a key, or with a key the server refuses, the page sends the analyst to /signin;
// `cdp serve --insecure-local` answers without one, so its console needs no sign-in.
"use strict";

const KEY = "cdp-api-key";

async function graphql(query, variables) {
  const key = sessionStorage.getItem(KEY);
  const headers = { "Content-Type": "application/json" };
  if (key) headers.Authorization = "Bearer " + key;
  const response = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  if (response.status === 401) {
    const next = encodeURIComponent(location.pathname + location.search);
    location.assign("/signin?next=" + next);
    throw new Error("sign in first");
  }
  const body = await response.json();
  if (body.errors && body.errors.length) throw new Error(body.errors.map((e) => e.message).join("; "));
  return body.data;
}

function showError(error) {
  const box = document.getElementById("error");
  if (box) {
    box.textContent = String(error.message || error);
    box.hidden = false;
  }
}

function setMetric(name, value) {
  for (const node of document.querySelectorAll(`[data-metric="${name}"]`)) {
    node.dataset.value = String(value);
    node.textContent = Number(value).toLocaleString("en");
  }
}

const COLOURS = ["#2f5fd0", "#e07a1f", "#2e9e6a", "#b3261e", "#7b4fc9", "#8a6d3b", "#1b9aaa", "#c2185b"];

function chart(id, type, labels, datasets, options = {}) {
  const canvas = document.getElementById(id);
  if (!canvas || !window.Chart) return;
  datasets.forEach((d, i) => {
    d.backgroundColor = d.backgroundColor || (type === "doughnut" ? COLOURS : COLOURS[i % COLOURS.length]);
    d.borderColor = d.borderColor || COLOURS[i % COLOURS.length];
  });
  if (type !== "doughnut") { // counts: whole ticks only
    const y = (options.scales && options.scales.y) || {};
    options = { ...options, scales: { ...(options.scales || {}), y: { ...y, ticks: { precision: 0 }, beginAtZero: true } } };
  }
  new window.Chart(canvas, {
    type,
    data: { labels, datasets },
    options: { responsive: true, maintainAspectRatio: false, animation: false, ...options },
  });
}

const OVERVIEW = `{ overview { asOf profiles records events identifiers ignoredIdentifiers households
  recordsBySource { name count } identifiersByStatus { name count } profileSizes { name count }
  conflictingProfiles { name count } runs { runId finishedAt merges splits movedRecords incremental } } }`;

async function overviewPage() {
  drawOverview((await graphql(OVERVIEW)).overview);
  if (window.cdpOverviewRejects) await window.cdpOverviewRejects(); // quality.js, when the page loads it
  document.body.dataset.ready = "true";
}

function drawOverview(o) {
  for (const [metric, field] of [["profiles", "profiles"], ["records", "records"], ["events", "events"],
    ["identifiers", "identifiers"], ["ignored_identifiers", "ignoredIdentifiers"], ["households", "households"]]) {
    setMetric(metric, o[field]);
  }
  document.getElementById("as-of").textContent = o.asOf.replace("T", " ").replace("Z", " UTC");
  setMetric("conflicting_profiles", o.conflictingProfiles.reduce((sum, c) => sum + c.count, 0));
  const names = (rows) => rows.map((r) => r.name);
  const counts = (rows) => rows.map((r) => r.count);
  chart("records-by-source", "bar", names(o.recordsBySource), [{ label: "records", data: counts(o.recordsBySource) }],
    { plugins: { legend: { display: false } } });
  const sizes = counts(o.profileSizes);
  const skewed = sizes.length && Math.max(...sizes) > 50 * Math.min(...sizes); // most profiles are small
  chart("profile-sizes", "bar", names(o.profileSizes), [{ label: "profiles", data: sizes }],
    { plugins: { legend: { display: false } }, scales: { y: { type: skewed ? "logarithmic" : "linear" } } });
  chart("identifiers-by-status", "doughnut", names(o.identifiersByStatus),
    [{ label: "identifiers", data: counts(o.identifiersByStatus) }]);
  const runs = o.runs.map((r) => r.finishedAt.slice(0, 16).replace("T", " "));
  chart("runs", "bar", runs, [
    { label: "merges", data: o.runs.map((r) => r.merges) },
    { label: "splits", data: o.runs.map((r) => r.splits) },
    { label: "moved records", data: o.runs.map((r) => r.movedRecords) },
  ]);
}

const PROFILE = `query($id: ID!) { profile(id: $id) { id size
  attributes { name value source support }
  identifiers { type value status sources lastSeen }
  consent { purpose granted at source }
  household { id }
  records { source recordId attributes seenAt }
  events(limit: 200) { type timestamp source properties }
  traits { frequency monetary events }
  history { kind detail reason actor at } } }`;

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  return td;
}

function rows(tableId, items, columns) {
  const body = document.querySelector(`#${tableId} tbody`);
  if (!items.length) {
    const td = cell("none");
    td.colSpan = columns.length;
    td.className = "none";
    return body.replaceChildren(Object.assign(document.createElement("tr"), {}).appendChild(td).parentNode);
  }
  body.replaceChildren(...items.map((item) => {
    const tr = document.createElement("tr");
    tr.append(...columns.map((column) => cell(column(item))));
    return tr;
  }));
}

function items(listId, entries, text) {
  const list = document.getElementById(listId);
  if (!entries.length) return list.replaceChildren(Object.assign(document.createElement("li"), { textContent: "none", className: "none" }));
  list.replaceChildren(...entries.map((entry) => {
    const li = document.createElement("li");
    li.textContent = text(entry);
    return li;
  }));
}

async function profilePage() {
  const id = decodeURIComponent(location.pathname.split("/").pop());
  const p = (await graphql(PROFILE, { id })).profile;
  if (!p) throw new Error(`no profile '${id}'`);
  if (p.id !== id) history.replaceState(null, "", "/profiles/" + encodeURIComponent(p.id)); // merged away
  document.getElementById("profile-id").textContent = p.id;
  document.getElementById("graph-link").href = "/graph/" + encodeURIComponent(p.id);
  document.title = `Profile ${p.id} · cdp-graph`;
  setMetric("records", p.size);
  setMetric("identifiers", p.identifiers.length);
  setMetric("events", p.traits ? p.traits.events : 0);
  setMetric("purchases", p.traits ? p.traits.frequency : 0);
  setMetric("monetary", p.traits && p.traits.monetary !== null ? Math.round(p.traits.monetary) : 0);
  setMetric("household", p.household.length);
  rows("attributes", p.attributes, [(a) => a.name, (a) => a.value, (a) => a.source, (a) => a.support]);
  rows("identifiers", p.identifiers, [(i) => i.type, (i) => i.value, (i) => i.status, (i) => i.sources.join(", "),
    (i) => i.lastSeen]);
  rows("consent", p.consent, [(c) => c.purpose, (c) => (c.granted ? "yes" : "no"), (c) => c.at, (c) => c.source]);
  rows("records", p.records, [(r) => r.source, (r) => r.recordId, (r) => Object.entries(r.attributes)
    .map(([k, v]) => `${k}: ${v}`).join(", "), (r) => r.seenAt]);
  items("events", p.events, (e) => `${e.timestamp} ${e.type} (${e.source}) ${Object.entries(e.properties)
    .map(([k, v]) => `${k}=${v}`).join(" ")}`);
  items("history", p.history, (h) => `${h.at} ${h.kind} ${h.detail} (${h.actor}: ${h.reason})`);
  const household = document.getElementById("household");
  if (!p.household.length) household.replaceChildren(Object.assign(document.createElement("li"), { textContent: "none", className: "none" }));
  else household.replaceChildren(...p.household.map((member) => {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = "/profiles/" + encodeURIComponent(member.id);
    a.textContent = member.id;
    li.append(a);
    return li;
  }));
  document.body.dataset.ready = "true";
}

const GRAPH = `query($id: ID!) { profileGraph(id: $id) { profileId
  nodes { id kind type label status } edges { source target kind label probability } } }`;
const TYPE_COLOURS = { email: "#2f5fd0", phone: "#e07a1f", crm_id: "#2e9e6a", loyalty_id: "#7b4fc9",
  cookie_id: "#8a6d3b", device_id: "#1b9aaa", national_id: "#c2185b" };
const EDGE_COLOURS = { shared_identifier: "#9aa3b5", fuzzy_match: "#2f5fd0", user_merge: "#2e9e6a", cut: "#b3261e" };

async function graphPage() {
  const id = decodeURIComponent(location.pathname.split("/").pop());
  const g = (await graphql(GRAPH, { id })).profileGraph;
  if (!g) throw new Error(`no profile '${id}'`);
  document.getElementById("profile-id").textContent = g.profileId;
  document.getElementById("profile-link").href = "/profiles/" + encodeURIComponent(g.profileId);
  const usable = new Set(["active", "unverified", "record"]);
  const elements = [
    ...g.nodes.map((n) => ({ data: { id: n.id, kind: n.kind, label: n.kind === "record" ? `${n.type}:${n.label}` : n.label,
      colour: n.kind === "record" ? "#5b6478" : usable.has(n.status) ? TYPE_COLOURS[n.type] || "#444" : "#c3c8d2" } })),
    ...g.edges.map((e, i) => ({ data: { id: "e" + i, source: e.source, target: e.target, kind: e.kind,
      label: e.kind === "shared_identifier" ? "" : e.kind === "cut" ? "cut" : e.label, colour: EDGE_COLOURS[e.kind] } })),
  ];
  const started = performance.now();
  const cy = window.cytoscape({
    container: document.getElementById("cy"),
    elements,
    layout: { name: "cose", animate: false, randomize: false, nodeRepulsion: 9000 },
    style: [
      { selector: "node", style: { "background-color": "data(colour)", label: "data(label)", "font-size": 10,
        color: "#1d2433", "text-valign": "bottom", "text-margin-y": 3, width: 18, height: 18 } },
      { selector: "node[kind = 'record']", style: { shape: "round-rectangle", width: 26, height: 18 } },
      { selector: "node:selected", style: { "border-width": 3, "border-color": "#e07a1f" } },
      { selector: "edge", style: { "line-color": "data(colour)", width: 2, label: "data(label)", "font-size": 9,
        "curve-style": "bezier", color: "#2f5fd0" } },
      { selector: "edge[kind = 'cut']", style: { "line-style": "dashed", color: "#b3261e" } },
    ],
  });
  cy.ready(() => setMetric("draw_ms", Math.round(performance.now() - started)));
  setMetric("nodes", g.nodes.length);
  setMetric("edges", g.edges.length);
  const chosen = [];
  cy.on("tap", "node[kind = 'record']", async (event) => {
    chosen.push(event.target.id().slice(2));
    if (chosen.length > 2) chosen.shift();
    if (chosen.length < 2) return;
    const data = await graphql("query($a: String!, $b: String!) { explain(a: $a, b: $b) { summary } }",
      { a: chosen[0], b: chosen[1] });
    document.getElementById("explain").textContent = `${chosen[0]} and ${chosen[1]}: ${data.explain.summary}`;
  });
  window.cdpGraph = cy; // for tests and the curious: the Cytoscape instance
  document.body.dataset.ready = "true";
}

const SEARCH_TYPES = ["email", "phone", "crm_id", "loyalty_id", "cookie_id", "device_id", "national_id"];

async function search(q) {
  q = q.trim();
  if (!q) return;
  if (/^p_[0-9a-f]+$/.test(q)) return location.assign("/profiles/" + q);
  const [source, record] = q.includes(":") ? [q.slice(0, q.indexOf(":")), q.slice(q.indexOf(":") + 1)] : [];
  const parts = SEARCH_TYPES.map((t, n) => `t${n}: profilesByIdentifier(type: "${t}", value: $q) { id }`);
  if (source) parts.push(`r: profileByRecord(source: $source, recordId: $record) { id }`);
  const query = `query($q: String!${source ? ", $source: String!, $record: String!" : ""}) { ${parts.join(" ")} }`;
  const key = sessionStorage.getItem(KEY);
  const headers = { "Content-Type": "application/json" };
  if (key) headers.Authorization = "Bearer " + key;
  const response = await fetch("/graphql", { method: "POST", headers,
    body: JSON.stringify({ query, variables: source ? { q, source, record } : { q } }) });
  const data = (await response.json()).data || {};
  const found = new Set();
  for (const value of Object.values(data)) {
    for (const profile of [].concat(value || [])) found.add(profile.id);
  }
  if (found.size === 1) return location.assign("/profiles/" + [...found][0]);
  showError(found.size ? `'${q}' is held by ${found.size} profiles: ${[...found].join(", ")}` : `nothing holds '${q}'`);
}

function signinPage() {
  const form = document.getElementById("signin");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = document.getElementById("key").value.trim();
    const error = document.getElementById("signin-error");
    const response = await fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + key },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    if (response.status !== 200) {
      error.textContent = response.status === 401 ? "This key is not valid." : "The server answered " + response.status + ".";
      error.hidden = false;
      return;
    }
    sessionStorage.setItem(KEY, key);
    const next = new URLSearchParams(location.search).get("next");
    location.assign(next && next.startsWith("/") && !next.startsWith("//") ? next : "/");
  });
  document.body.dataset.ready = "true";
}

document.addEventListener("DOMContentLoaded", () => {
  const signout = document.getElementById("signout");
  if (signout) {
    signout.addEventListener("click", () => {
      sessionStorage.removeItem(KEY);
      location.assign("/signin");
    });
  }
  const form = document.getElementById("search");
  if (form) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      search(form.elements.q.value).catch(showError);
    });
  }
  const pages = { overview: overviewPage, signin: signinPage, profile: profilePage, graph: graphPage,
    ...(window.cdpPages || {}) }; // a page's own script (loaded before this event) may add its function
  const run = pages[document.body.dataset.page];
  if (run) Promise.resolve(run()).catch(showError);
});
