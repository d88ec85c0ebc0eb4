"""Benchmark: segments and audience syncs at scale (issue 15): building the profile table, previewing rules,
keeping memberships current, and pushing a segment to a folder and to a webhook on loopback.

    python -m bench.segment_timings --data-dir DIR              # load the 1M demo into DIR first (cdp demo)
    python -m bench.segment_timings --data-dir DIR --no-load    # reuse it (e.g. bench.console_timings' store)
    python -m bench.segment_timings --records 10000 --no-write  # a smoke run

All in this process, on the embedded store (one process holds it): the same calls `cdp segment preview`,
`cdp segment create` and `cdp audience push` make. The webhook is a threaded HTTP server in this process that
checks each signature and answers 200; the client and server share the two cores, so the push figure is a
floor for a receiver elsewhere. A preview is timed warm (the table of the latest resolve run kept, as the
server keeps it); the table's own build is timed once. Segments and destinations made here are named
``bench-*`` and left in the store, with their memberships and sends.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from rich.console import Console

from bench import common

RULES = {
    "frequent, emailable": "traits.frequency >= 2 and consent.email",
    "a city, not London": 'attributes.city != "London" and attributes.city != null',
    "bought in 365 days": 'purchased(within: "365d")',
    "page views in 90 days": 'events(type: "page_view", within: "90d") >= 2',
    "reachable twice": "identifiers.email >= 1 and identifiers.phone >= 1 and profile.size >= 2",
}
SECRET = "bench-signing-secret-0123"
console = Console(stderr=True)


def _load(data_dir: Path, records: int) -> None:
    command = [sys.executable, "-m", "api.cli", "demo", "--records", str(records), "--seed", "42",
               "--data-dir", str(data_dir)]  # fmt: skip
    console.print(f"loading: {' '.join(command[2:])}")
    subprocess.run(command, cwd=common.ROOT, env=os.environ | {"CDP_STORE": "embedded"}, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip


class _Receiver(BaseHTTPRequestHandler):
    received = 0
    bad = 0

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        from api.destinations import sign

        body = self.rfile.read(int(self.headers["Content-Length"]))
        ok = self.headers["X-CDP-Signature"] == sign(SECRET, body)
        type(self).received += ok
        type(self).bad += not ok
        self.send_response(200 if ok else 401)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def measure(data_dir: Path, repeats: int) -> dict[str, Any]:
    from api.access import Principal
    from api.destinations import RetryPolicy, add_destination, destinations
    from api.memberships import refresh_memberships
    from api.segments import create_segment, preview, profile_table, segments
    from api.service import CustomerService
    from graph.settings import StoreSettings, open_store

    store = open_store(StoreSettings(store="embedded", data_dir=data_dir))
    out: dict[str, Any] = {"previews": {}}
    try:
        started = time.perf_counter()
        table = profile_table(store)
        out["table_s"], out["profiles"] = time.perf_counter() - started, len(table.profiles)
        out["records"] = int(table.profiles["profile.size"].sum())
        console.print(f"profile table: {out['profiles']:,} profiles in {out['table_s']:.1f} s")
        for name, rule in RULES.items():
            runs = [preview(store, rule) for _ in range(repeats + 1)]
            out["previews"][name] = (rule, runs[-1].members, statistics.median(r.seconds for r in runs[1:]) * 1000)
            console.print(f"preview {name}: {runs[-1].members:,} members, {out['previews'][name][2]:.0f} ms")
        stamp = datetime.now(UTC).strftime("%H%M%S")
        segment = f"bench-{stamp}"
        if not any(s.name == segment for s in segments(store)):
            started = time.perf_counter()
            create_segment(store, segment, RULES["frequent, emailable"], "bench")  # refreshes memberships
            out["create_s"] = time.perf_counter() - started
        started = time.perf_counter()
        changes = refresh_memberships(store)
        out["refresh_s"], out["members"] = time.perf_counter() - started, changes.members.get(segment, 0)
        console.print(
            f"memberships: created in {out['create_s']:.1f} s, refreshed with nothing new in {out['refresh_s']:.1f} s"
        )
        service = CustomerService(store, principal=Principal("bench"))
        folder = data_dir / "bench-exports"
        if not any(d.name == f"{segment}-drop" for d in destinations(store)):
            add_destination(store, f"{segment}-drop", "folder", str(folder), batch_size=1000)
        started = time.perf_counter()
        report = service.push_audience(segment, f"{segment}-drop", "email")
        out["folder"] = (report.entered, report.batches, time.perf_counter() - started)
        console.print(f"push to a folder: {report.entered:,} members in {out['folder'][2]:.1f} s")
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/hook"
            add_destination(store, f"{segment}-hook", "webhook", url, SECRET, batch_size=500)
            started = time.perf_counter()
            report = service.push_audience(segment, f"{segment}-hook", "email", RetryPolicy(base_s=0.05))
            out["webhook"] = (report.entered, report.batches, time.perf_counter() - started, _Receiver.bad)
            console.print(f"push to a webhook: {report.entered:,} members in {out['webhook'][2]:.1f} s")
            started = time.perf_counter()
            again = service.push_audience(segment, f"{segment}-hook", "email")
            out["again"] = (again.entered + again.exited, time.perf_counter() - started)
        finally:
            server.shutdown()
    finally:
        store.close()
    return out


def section(found: dict[str, Any], command: str, commit: str, load: float) -> str:
    previews = "\n".join(f"| preview: {name} (`{rule}`) | {members:,} | {ms:,.0f} ms |"
                         for name, (rule, members, ms) in found["previews"].items())  # fmt: skip
    folder, hook, again = found["folder"], found["webhook"], found["again"]
    met = all(ms < 1000 for _, _, ms in found["previews"].values())
    return f"""
## Segments and audience syncs of issue 15 ({datetime.now(UTC):%Y-%m-%d}, commit {commit})

Machine: {common.machine()}; 1-minute load average {load:.1f} before the run.

Command: `{command}`

Data: the demo (`cdp demo --seed 42`, {found["records"]:,} records) on the embedded store, {found["profiles"]:,}
profiles; everything in one process, as `cdp segment` and `cdp audience push` run it. Previews are the median
of the warm runs (the profile table kept, as the server keeps it); the webhook is a threaded receiver in the
same process checking every signature.

| what | members | time |
|---|---|---|
| building the profile table (once per resolve run) | {found["profiles"]:,} profiles | {found["table_s"]:,.1f} s |
{previews}
| `cdp segment create` (stores it, then refreshes every membership: all its members enter) | {found["members"]:,} | {found["create_s"]:,.1f} s |
| membership refresh with nothing new (after an ingest or resolve) | - | {found["refresh_s"]:,.1f} s |
| push to a folder (batches of 1,000) | {folder[0]:,} in {folder[1]:,} batches | {folder[2]:,.1f} s |
| push to a webhook on loopback (batches of 500, signed) | {hook[0]:,} in {hook[1]:,} batches | {hook[2]:,.1f} s |
| the next push, nothing new | {again[0]:,} | {again[1]:,.2f} s |

Target: a preview under one second at 1M profiles: {"met" if met else "not met"}. Bad signatures at the receiver: {hook[3]}.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-dir", type=Path, required=True, help="the embedded store (loaded first unless --no-load)"
    )
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--no-load", action="store_true")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--out", type=Path, default=common.ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    if not args.no_load:
        _load(args.data_dir, args.records)
    found = measure(args.data_dir, args.repeats)
    command = "python -m bench.segment_timings " + " ".join(sys.argv[1:])
    common.publish(section(found, command, common.commit(), load), args.out, args.no_write)


if __name__ == "__main__":
    main()
