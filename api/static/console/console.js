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
  const o = (await graphql(OVERVIEW)).overview;
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
  document.body.dataset.ready = "true";
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
  const pages = { overview: overviewPage, signin: signinPage };
  const run = pages[document.body.dataset.page];
  if (run) Promise.resolve(run()).catch(showError);
});
