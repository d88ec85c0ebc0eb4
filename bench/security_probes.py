"""Benchmark: the probes of issue 13 against ``cdp serve`` with API keys, and what the protections cost.

    python -m bench.security_probes              # embedded store, 10k-record demo, about 2 minutes
    python -m bench.security_probes --no-write   # print only

The 10k demo (``cdp demo --records 10000 --seed 42``) is loaded into a fresh embedded store, three keys are
made (``reader``: read:profiles; ``support``: read:profiles,read:pii; ``admin``), and ``cdp serve`` runs in
its own process on loopback with its default limits. Each probe of the issue is sent over HTTP and reported
with its status, its answer and how long the server took: the deep ``household`` query, 100 aliased pages of
the 360 view, a 100 MB body, an invalid UTF-8 body, deeply nested variables, an out-of-range integer, a
query over GET with a foreign ``Host``, and the contact details of customers who withdrew email consent as
each key sees them. Then the cost of the protections on an ordinary request: 300 sequential 360-view
requests with the masked key and with the ``read:pii`` key (whose reads are audited), and a burst past the
rate limit (2,000 requests). Last, ``cdp erase`` of one customer, timed.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench import common
from bench.serve_load import DEMO_SEED, VIEW, VIEW_FIELDS

FIELDS = VIEW_FIELDS % 20  # the 360 view: attributes, identifiers, records, 20 events, traits, history, household

RECORDS = 10_000


@dataclass
class Probe:
    name: str
    status: int
    ms: float
    answer: str


def _cdp(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", *args, "--data-dir", str(data_dir)], cwd=common.ROOT,
                          env=os.environ | {"CDP_STORE": "embedded"}, capture_output=True, text=True)  # fmt: skip


def _post(url: str, key: str, payload: Any = None, content: bytes | None = None, **headers: str) -> Probe:
    started = time.perf_counter()
    response = httpx.post(f"{url}/graphql", json=payload if content is None else None, content=content,
                          headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json", **headers},
                          timeout=120, trust_env=False)  # fmt: skip
    ms = (time.perf_counter() - started) * 1000
    try:
        body = response.json()
        errors = body.get("errors") or []
        answer = errors[0]["message"] if errors else "answered"
    except ValueError:
        answer = response.text[:120]
    return Probe("", response.status_code, ms, answer[:150])


def _huge_body(url: str, key: str) -> Probe:
    """A declared 100 MB body: the server answers before it is sent."""
    where = urlsplit(url)
    started = time.perf_counter()
    with socket.create_connection((where.hostname, where.port), timeout=30) as sock:
        sock.sendall(f"POST /graphql HTTP/1.1\r\nHost: {where.hostname}\r\nAuthorization: Bearer {key}\r\n"
                     "Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n".encode())  # fmt: skip
        sock.sendall(b'{"query": "' + b"x" * 1_000_000)
        answer = sock.recv(4096).decode(errors="replace")
    return Probe(
        "", int(answer.split(" ")[1]), (time.perf_counter() - started) * 1000, answer.split("\r\n\r\n")[-1][:150]
    )


def probes(url: str, keys: dict[str, str]) -> list[Probe]:
    reader = keys["reader"]
    nested = "id " + "household { id " * 18 + "}" * 18
    pages = " ".join(f"p{n}: profiles(first: 20) {{ edges {{ node {{ {FIELDS} }} }} }}" for n in range(100))
    found = [
        ("household nested 18 deep", _post(url, reader, {"query": f"{{ profiles(first: 5) {{ edges {{ node {{ {nested} }} }} }} }}"})),
        ("100 aliased pages of the 360 view", _post(url, reader, {"query": f"{{ {pages} }}"})),
        ("one page of 20 360 views (allowed)", _post(url, reader, {"query": f"{{ profiles(first: 20) {{ edges {{ node {{ {FIELDS} }} }} }} }}"})),
        ("a 100 MB body", _huge_body(url, reader)),
        ("an invalid UTF-8 body", _post(url, reader, content=b'{"query": "{ __typename }", "x": "\xff"}')),
        ("variables nested 10,000 deep", _post(url, reader, content=b'{"query": "{ __typename }", "variables": {"v": '
                                                + b"[" * 10_000 + b"]" * 10_000 + b"}}")),
        ("an out-of-range integer", _post(url, reader, {"query": "{ profiles(first: 99999999999) { edges { cursor } } }"})),
    ]  # fmt: skip
    started = time.perf_counter()
    foreign = httpx.get(f"{url}/graphql", params={"query": "{ profiles { edges { cursor } } }"}, trust_env=False,
                        headers={"Host": "attacker.example", "Authorization": f"Bearer {reader}"})  # fmt: skip
    found.append(("GET with a foreign Host", Probe("", foreign.status_code, (time.perf_counter() - started) * 1000,
                                                   foreign.text[:150])))  # fmt: skip
    started = time.perf_counter()
    get = httpx.get(f"{url}/graphql", params={"query": "{ profiles { edges { cursor } } }"}, trust_env=False,
                    headers={"Authorization": f"Bearer {reader}", "Accept": "application/json"})  # fmt: skip
    found.append(("GET with the right Host", Probe("", get.status_code, (time.perf_counter() - started) * 1000,
                                                   get.text[:150])))  # fmt: skip
    return [Probe(name, p.status, p.ms, p.answer) for name, p in found]


CONSENT_PAGE = "query($after: String) { profiles(first: 500, after: $after) { pageInfo { hasNextPage endCursor } " \
    "edges { node { id consent { purpose granted } identifiers { type value } } } } }"  # fmt: skip


def withdrawn_contacts(url: str, keys: dict[str, str]) -> dict[str, tuple[int, int]]:
    """Per key: (profiles whose latest email consent is a withdrawal, how many of them show an unmasked email
    or phone in the 360 view)."""
    out = {}
    for name in ("reader", "support"):
        after, withdrawn, shown = None, 0, 0
        while True:
            body = httpx.post(f"{url}/graphql", json={"query": CONSENT_PAGE, "variables": {"after": after}},
                              headers={"Authorization": f"Bearer {keys[name]}"}, timeout=120, trust_env=False).json()  # fmt: skip
            page = body["data"]["profiles"]
            for edge in page["edges"]:
                node = edge["node"]
                if any(c["purpose"] == "email" and not c["granted"] for c in node["consent"]):
                    withdrawn += 1
                    contact = [i["value"] for i in node["identifiers"] if i["type"] in ("email", "phone")]
                    shown += any("*" not in v for v in contact)
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        out[name] = (withdrawn, shown)
    return out


def latency(url: str, key: str, ids: list[str], n: int = 300) -> tuple[float, float]:
    query = VIEW
    times = []
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    with httpx.Client(headers=headers, timeout=30, trust_env=False) as client:
        for i in range(n + 20):
            started = time.perf_counter()
            response = client.post(f"{url}/graphql", json={"query": query, "variables": {"id": ids[i % len(ids)]}})
            assert response.status_code == 200 and "errors" not in response.json(), response.text[:300]
            if i >= 20:
                times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def burst(url: str, key: str, n: int = 2_000) -> tuple[int, int, float]:
    """``n`` small requests back to back with one key: (answered 200, refused 429, seconds)."""
    codes: dict[int, int] = {}
    started = time.perf_counter()
    with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=30, trust_env=False) as client:
        for _ in range(n):
            code = client.post(f"{url}/graphql", json={"query": "{ __typename }"}).status_code
            codes[code] = codes.get(code, 0) + 1
    return codes.get(200, 0), codes.get(429, 0), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--out", type=Path, default=common.ROOT / "BENCHMARKS.md")
    plan = parser.parse_args()
    commit, load = common.commit(), os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="cdp-security-") as tmp:
        data_dir = Path(tmp) / "data"
        demo = _cdp(data_dir, "demo", "--records", str(RECORDS), "--seed", str(DEMO_SEED))
        assert demo.returncode == 0, demo.stderr[-1500:]
        scopes = {"reader": "read:profiles", "support": "read:profiles,read:pii", "admin": "admin"}
        keys = {name: _cdp(data_dir, "keys", "create", "--name", name, "--scopes", s).stdout.strip()
                for name, s in scopes.items()}  # fmt: skip
        with common.serving("embedded", data_dir, Path(tmp) / "serve.log", insecure_local=False) as (url, _):
            found = probes(url, keys)
            consent = withdrawn_contacts(url, keys)
            page = httpx.post(f"{url}/graphql", json={"query": "{ profiles(first: 500) { edges { node { id } } } }"},
                              headers={"Authorization": f"Bearer {keys['admin']}"}, trust_env=False).json()  # fmt: skip
            ids = [e["node"]["id"] for e in page["data"]["profiles"]["edges"]]
            random.Random(1).shuffle(ids)
            masked, revealed = latency(url, keys["reader"], ids), latency(url, keys["support"], ids)
            flood = burst(url, keys["admin"])
        with common.serving("embedded", data_dir, Path(tmp) / "open.log") as (url, _):
            baseline = latency(url, "", ids)  # --insecure-local: no key check, nothing masked or audited
        problems = [ln for ln in (Path(tmp) / "serve.log").read_text().splitlines() if "audit" in ln.lower()]
        if problems:
            print("\n".join(problems[-10:]))
        audit = _cdp(data_dir, "audit", "--since", "2000-01-01", "--limit", "100000").stdout.splitlines()
        started = time.perf_counter()
        erased = _cdp(data_dir, "erase", "--profile", ids[0])
        erase_s = time.perf_counter() - started
        assert erased.returncode == 0, erased.stderr[-1500:]
    text = section(found, consent, (baseline, masked, revealed), flood, audit, erase_s, erased.stderr.strip(), commit,
                   load)  # fmt: skip
    common.publish(text, plan.out, plan.no_write)


def section(found: list[Probe], consent: dict[str, tuple[int, int]], views: tuple[tuple[float, float], ...],
            flood: tuple[int, int, float], audit: list[str], erase_s: float, erased: str, commit: str,
            load: float) -> str:  # fmt: skip
    baseline, masked, revealed = views
    rows = "\n".join(f"| {p.name} | {p.status} | {p.ms:,.1f} | {p.answer.replace('|', '/')} |" for p in found)
    pii_reads = sum(line.split("\t")[2] == "read:pii" for line in audit if line.count("\t") >= 5)
    by_actor = Counter(line.split("\t")[1] for line in audit if line.count("\t") >= 5 and "\tread:pii\t" in line)
    return f"""
## Security probes of issue 13 (2026-12-07, commit {commit})

Machine: {common.machine()}; 1-minute load average {load:.1f} before the run.

Command: `python -m bench.security_probes`

Data: `cdp demo --records {RECORDS:,} --seed {DEMO_SEED}` on the embedded store, served by `cdp serve` with API
keys and its default limits, in its own process on loopback.

| probe | HTTP status | ms | answer |
|---|---|---|---|
{rows}

Customers whose latest email consent is a withdrawal, and how many of them show an unmasked email or phone in
the 360 view: key without `read:pii` {consent["reader"][1]:,} of {consent["reader"][0]:,}; key with `read:pii`
{consent["support"][1]:,} of {consent["support"][0]:,} (a support agent with `read:pii` sees the customer whole;
consent governs what exports and sends carry).

The 360 view one request at a time (`bench/serve_load.py`'s `VIEW`, 300 requests after 20 to warm up, the
same profiles in the same order), on the same data and machine:

| server | p50 ms | p99 ms |
|---|---|---|
| `--insecure-local` (no key check, nothing masked or audited) | {baseline[0]:.1f} | {baseline[1]:.1f} |
| key without `read:pii` (key check, limits, masking) | {masked[0]:.1f} | {masked[1]:.1f} |
| key with `read:pii` (the same, each read's entry queued to the audit log) | {revealed[0]:.1f} | {revealed[1]:.1f} |

{pii_reads:,} `read:pii` entries were in the audit log after the run, by key: {
        ", ".join(f"{k} {v:,}" for k, v in sorted(by_actor.items()))
    } (`local` is the `--insecure-local` run, whose user holds every scope). A request
makes one when it showed personal data: a profile holding only cookie, device or loyalty ids and no name
shows none.

Rate limit: 2,000 requests back to back with one key in {flood[2]:.1f} s: {flood[0]:,} answered, {flood[1]:,}
refused with 429 (the default allows 1,200 a minute: a minute's worth at once, then 20 a second).

Erase: `cdp erase --profile ID` of one customer took {erase_s:.1f} s end to end (a process start, the
deletes, and a resolve of the 10k records with the saved model): "{erased}".
"""


if __name__ == "__main__":
    main()
