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
  conflictingProfiles { name count } runs { runId finishedAt merges splits movedRecords incremental }
  sourceOverlap { name count } matchWeights { thresholdWeight start counts below above } } }`;

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
  const overlap = o.sourceOverlap.slice(0, 12);
  chart("source-overlap", "bar", names(overlap), [{ label: "profiles", data: counts(overlap) }],
    { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { ticks: { precision: 0 } } } });
  setMetric("multi_source_profiles", o.sourceOverlap.filter((r) => r.name.includes("+")).reduce((sum, r) => sum + r.count, 0));
  const w = o.matchWeights; // null before a run scored any pair
  if (w && w.counts) {
    const edges = w.counts.map((_, i) => w.start + i);
    const linked = edges.map((edge) => edge + 1 > w.thresholdWeight); // a bin reaching past the threshold
    chart("match-weights", "bar", edges.map((edge) => `${edge} to ${edge + 1}`), [{ label: "pairs", data: w.counts,
      backgroundColor: linked.map((above) => (above ? "#2e9e6a" : "#9aa3b5")) }],
    { plugins: { legend: { display: false }, title: { display: true, text: `threshold at weight ${w.thresholdWeight.toFixed(1)}` +
      ` (green: bins reaching it); ${w.below.toLocaleString("en")} pairs below ${w.start}, ${w.above.toLocaleString("en")} above ${w.start + w.counts.length}` } } });
  }
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
  traits { recencyDays frequency monetary firstSeen lastSeen topCategory events channelMix { channel share } }
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

// similar profiles and recommendations come from `cdp embed`: before it, the sections say so
async function insights(id) {
  const similar = document.getElementById("similar");
  const recommended = document.getElementById("recommendations");
  try {
    const data = await graphql(`query($id: ID!) { similarProfiles(id: $id, k: 5) { profile { id size } score }
      profile(id: $id) { recommendations(k: 5) { product score } } }`, { id });
    items("recommendations", data.profile.recommendations, (r) => `${r.product} (score ${r.score.toFixed(2)})`);
    if (!data.similarProfiles.length) items("similar", [], () => "");
    else similar.replaceChildren(...data.similarProfiles.map((s) => el("li", {}, profileLink(s.profile.id),
      ` ${s.profile.size} records, similarity ${s.score.toFixed(2)}`)));
  } catch (error) {
    const note = `not available: ${error.message}`;
    for (const list of [similar, recommended]) list.replaceChildren(el("li", { className: "none", textContent: note }));
  }
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
  const t = p.traits;
  const traits = t ? [["Purchases", t.frequency], ["Spent", t.monetary === null ? "" : t.monetary.toFixed(2)],
    ["Days since the last purchase", t.recencyDays === null ? "" : Math.round(t.recencyDays)],
    ["Top category", t.topCategory || ""], ["First seen", t.firstSeen || ""], ["Last seen", t.lastSeen || ""],
    ["Channels", t.channelMix.map((c) => `${c.channel} ${Math.round(c.share * 100)}%`).join(", ")]] : [];
  rows("traits", traits, [(r) => r[0], (r) => r[1]]);
  await insights(p.id);
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
  nodes { id kind type label status profileId } edges { source target kind label probability } } }`;
const TYPE_COLOURS = { email: "#2f5fd0", phone: "#e07a1f", crm_id: "#2e9e6a", loyalty_id: "#7b4fc9",
  cookie_id: "#8a6d3b", device_id: "#1b9aaa", national_id: "#c2185b" };
const EDGE_COLOURS = { shared_identifier: "#9aa3b5", fuzzy_match: "#2f5fd0", user_merge: "#2e9e6a", cut: "#b3261e",
  in_profile: "#e3e6ee", also_held_by: "#e07a1f", household: "#7b4fc9" };
const PROFILE_COLOURS = { self: "#1d2433", neighbour: "#e07a1f", household: "#7b4fc9" };

// a force-directed layout reads best but costs O(nodes^2) per iteration (seconds at 500 nodes on a small
// machine); past LAYOUT_FORCE_NODES, rings: profiles in the middle, then records, then identifiers
const LAYOUT_FORCE_NODES = 200;
const RINGS = { profile: 3, record: 2, identifier: 1 };

function layoutFor(nodes) {
  if (nodes <= LAYOUT_FORCE_NODES) return { name: "cose", animate: false, randomize: false, nodeRepulsion: 9000 };
  return { name: "concentric", animate: false, concentric: (node) => RINGS[node.data("kind")] || 0, levelWidth: () => 1,
    minNodeSpacing: 6, avoidOverlap: true };
}

function graphElements(g, known = new Set()) {
  const usable = new Set(["active", "unverified", "record"]);
  const nodes = g.nodes.filter((n) => !known.has(n.id)).map((n) => ({ data: { id: n.id, kind: n.kind, profile: n.profileId,
    label: n.kind === "record" ? `${n.type}:${n.label}` : n.label,
    colour: n.kind === "record" ? "#5b6478" : n.kind === "profile" ? PROFILE_COLOURS[n.type] || "#444"
      : usable.has(n.status) ? TYPE_COLOURS[n.type] || "#444" : "#c3c8d2" } }));
  const edges = g.edges.map((e) => ({ data: { id: `e:${e.kind}:${e.source}:${e.target}`, source: e.source, target: e.target,
    kind: e.kind, label: ["shared_identifier", "in_profile", "also_held_by"].includes(e.kind) ? "" : e.kind === "cut" ? "cut" : e.label,
    colour: EDGE_COLOURS[e.kind] } })).filter((e) => !known.has(e.data.id));
  return [...nodes, ...edges];
}

async function graphPage() {
  const id = decodeURIComponent(location.pathname.split("/").pop());
  const g = (await graphql(GRAPH, { id })).profileGraph;
  if (!g) throw new Error(`no profile '${id}'`);
  document.getElementById("profile-id").textContent = g.profileId;
  document.getElementById("profile-link").href = "/profiles/" + encodeURIComponent(g.profileId);
  const elements = graphElements(g);
  const started = performance.now();
  const cy = window.cytoscape({
    container: document.getElementById("cy"),
    elements,
    layout: layoutFor(elements.filter((e) => !e.data.source).length),
    style: [
      { selector: "node", style: { "background-color": "data(colour)", label: "data(label)", "font-size": 10,
        color: "#1d2433", "text-valign": "bottom", "text-margin-y": 3, width: 18, height: 18 } },
      { selector: "node[kind = 'record']", style: { shape: "round-rectangle", width: 26, height: 18 } },
      { selector: "node[kind = 'profile']", style: { shape: "hexagon", width: 30, height: 30, "font-weight": 600 } },
      { selector: "node[kind = 'profile'][?expanded]", style: { "border-width": 2, "border-color": "#1d2433" } },
      { selector: "node:selected", style: { "border-width": 3, "border-color": "#e07a1f" } },
      { selector: "edge", style: { "line-color": "data(colour)", width: 2, label: "data(label)", "font-size": 9,
        "curve-style": "bezier", color: "#2f5fd0" } },
      { selector: "edge[kind = 'cut']", style: { "line-style": "dashed", color: "#b3261e" } },
      { selector: "edge[kind = 'also_held_by'], edge[kind = 'household']", style: { "line-style": "dotted", color: "#7b4fc9" } },
      { selector: "edge[kind = 'in_profile']", style: { width: 1 } },
    ],
  });
  cy.getElementById("p:" + g.profileId).data("expanded", true);
  const expand = async (node) => { // another profile: draw its records and identifiers too
    if (node.data("expanded")) return;
    const more = (await graphql(GRAPH, { id: node.data("label") })).profileGraph;
    node.data("expanded", true);
    if (!more) return;
    const known = new Set(cy.elements().map((e) => e.id()));
    cy.add(graphElements(more, known));
    cy.layout(layoutFor(cy.nodes().length)).run();
    setMetric("nodes", cy.nodes().length);
    setMetric("edges", cy.edges().length);
    setMetric("expanded", cy.nodes("[?expanded]").length - 1);
  };
  cy.on("dbltap", "node[kind = 'profile']", (event) => expand(event.target).catch(showError));
  window.cdpExpand = (id) => expand(cy.getElementById(id)); // for tests: what a double click does
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

const REVIEW = `query($first: Int!) { reviewQueue(first: $first) { asOf runId threshold
  pairs { recordA recordB probability weight linked comparisons { comparison level weight } profileA profileB
    attributesA attributesB verdict }
  flagged { profileId kind values } } }`;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
}

function profileLink(id, path = "/profiles/") {
  return id ? el("a", { href: path + encodeURIComponent(id), textContent: id }) : el("span", { textContent: "(gone)" });
}

function attributeText(attributes) {
  return Object.entries(attributes || {}).map(([k, v]) => `${k}: ${v}`).join(", ");
}

function button(text, action, onClick) {
  const b = el("button", { type: "button", textContent: text });
  b.dataset.action = action;
  b.addEventListener("click", () => onClick(b).catch(showError));
  return b;
}

function decided(tr, verdict, note) {
  tr.dataset.verdict = verdict;
  for (const b of tr.querySelectorAll("button[data-action]")) b.disabled = b.dataset.action !== "explain";
  tr.querySelector(".outcome").textContent = note;
  const shown = document.querySelector('[data-metric="decided"]');
  setMetric("decided", Number(shown.dataset.value || 0) + 1);
}

function pairRow(p) {
  const tr = el("tr");
  tr.dataset.pair = `${p.recordA}|${p.recordB}`;
  const same = p.profileA && p.profileA === p.profileB;
  const records = el("td", {}, el("code", { textContent: p.recordA }), " in ", profileLink(p.profileA), el("br"),
    el("code", { textContent: p.recordB }), " in ", same ? "the same profile" : profileLink(p.profileB));
  const score = el("td", {}, p.probability.toFixed(3), el("br"),
    el("span", { className: p.linked ? "linked" : "not-linked", textContent: p.linked ? "linked" : "not linked" }),
    el("br"), el("span", { className: "evidence", textContent: `weight ${p.weight.toFixed(1)}` }));
  const evidence = el("td", { className: "evidence",
    textContent: p.comparisons.filter((c) => c.level !== "missing").map((c) => `${c.comparison} ${c.level} (${c.weight >= 0 ? "+" : ""}${c.weight.toFixed(1)})`).join(", ") });
  const explained = el("div", { className: "explained" });
  evidence.append(el("br"), button("Explain", "explain", async () => {
    const data = await graphql("query($a: String!, $b: String!) { explain(a: $a, b: $b) { summary } }",
      { a: p.recordA, b: p.recordB });
    explained.textContent = data.explain.summary;
  }), explained);
  const actions = el("td", {}, el("div", { className: "outcome" }));
  const label = (match) => async () => {
    const mutation = "mutation($a: String!, $b: String!, $m: Boolean!) { labelPair(recordA: $a, recordB: $b, match: $m) { match } }";
    await graphql(mutation, { a: p.recordA, b: p.recordB, m: match });
    decided(tr, match ? "match" : "not-match", match ? "labelled a match" : "labelled not a match");
  };
  actions.prepend(button("Match", "match", label(true)), button("Not a match", "not-match", label(false)));
  const reason = `review: ${p.recordA} and ${p.recordB}`;
  if (same) {
    actions.prepend(button("Split B off", "split", async () => {
      const data = await graphql("mutation($id: ID!, $r: [String!]!, $why: String!) { splitProfile(id: $id, records: $r, reason: $why) { id } }",
        { id: p.profileA, r: [p.recordB], why: reason });
      decided(tr, "split", `split: now ${data.splitProfile.map((x) => x.id).join(" and ")}`);
    }));
  } else if (p.profileA && p.profileB) {
    actions.prepend(button("Merge", "merge", async () => {
      const data = await graphql("mutation($ids: [ID!]!, $why: String!) { mergeProfiles(ids: $ids, reason: $why) { id } }",
        { ids: [p.profileA, p.profileB], why: reason });
      decided(tr, "merge", `merged into ${data.mergeProfiles.id}`);
    }));
  }
  tr.append(records, score, evidence, el("td", { textContent: attributeText(p.attributesA) }),
    el("td", { textContent: attributeText(p.attributesB) }), actions);
  return tr;
}

async function reviewPage() {
  const q = (await graphql(REVIEW, { first: 100 })).reviewQueue;
  document.getElementById("run-id").textContent = q.runId || "none yet";
  document.getElementById("as-of").textContent = q.asOf ? q.asOf.replace("T", " ").replace("Z", " UTC") : "never";
  document.getElementById("threshold").textContent = String(q.threshold);
  setMetric("pairs", q.pairs.length);
  setMetric("linked", q.pairs.filter((p) => p.linked).length);
  setMetric("not_linked", q.pairs.filter((p) => !p.linked).length);
  setMetric("flagged", q.flagged.length);
  setMetric("decided", 0);
  const pairs = document.querySelector("#pairs tbody");
  if (!q.pairs.length) pairs.replaceChildren(el("tr", {}, el("td", { colSpan: 6, className: "none", textContent: "nothing to review" })));
  else pairs.replaceChildren(...q.pairs.map(pairRow));
  const flagged = document.querySelector("#flagged tbody");
  if (!q.flagged.length) flagged.replaceChildren(el("tr", {}, el("td", { colSpan: 4, className: "none", textContent: "none" })));
  else flagged.replaceChildren(...q.flagged.map((f) => el("tr", {}, el("td", {}, profileLink(f.profileId)),
    el("td", { textContent: f.kind }), el("td", { textContent: f.values.join(", ") }),
    el("td", {}, el("a", { href: "/graph/" + encodeURIComponent(f.profileId), textContent: "identity graph" })))));
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
  if (/^[\p{L}][\p{L}' .,-]*$/u.test(q)) parts.push("n: profilesByName(name: $q, first: 20) { id }"); // a name
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
  if (!found.size) return showError(`nothing holds '${q}'`);
  const box = document.getElementById("error");
  box.replaceChildren(`'${q}' is held by ${found.size} profiles: `, ...[...found].flatMap((id, n) => [n ? ", " : "",
    Object.assign(document.createElement("a"), { href: "/profiles/" + encodeURIComponent(id), textContent: id })]));
  box.hidden = false;
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
  const pages = { overview: overviewPage, signin: signinPage, profile: profilePage, graph: graphPage, review: reviewPage,
    ...(window.cdpPages || {}) }; // a page's own script (loaded before this event) may add its function
  const run = pages[document.body.dataset.page];
  if (run) Promise.resolve(run()).catch(showError);
});
