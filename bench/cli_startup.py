"""How long ``cdp`` takes before it does anything: ``cdp --help``, ``cdp --version`` and a command's own
``--help``, each started as a fresh process (the way a user or a cron job runs it), median and worst of
``--runs``. The issue's target: under 0.5 s. ``python -m bench.cli_startup [--runs 20] [--no-write]``."""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import time
from datetime import date

from bench.common import ROOT, commit, machine, publish

COMMANDS = (["--help"], ["--version"], ["resolve", "--help"], ["serve", "--help"])


def timings(args: list[str], runs: int) -> list[float]:
    cdp = shutil.which("cdp") or "cdp"
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([cdp, *args], capture_output=True, check=True)
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-write", action="store_true")
    options = parser.parse_args()
    timings(["--help"], 2)  # warm the file cache
    rows = []
    for args in COMMANDS:
        found = timings(args, options.runs)
        rows.append(f"| `cdp {' '.join(args)}` | {statistics.median(found):.3f} | {max(found):.3f} |")
        print(rows[-1], flush=True)
    text = (
        f"\n## CLI start-up (issue 11)\n\n{date.today()}, commit {commit()}.\n\nMachine: {machine()}\n\n"
        f"Command: `python -m bench.cli_startup --runs {options.runs}`\n\n"
        f"Each a fresh process through the installed `cdp` script, {options.runs} runs. Target: under 0.5 s.\n\n"
        "| command | median s | worst s |\n|---|---|---|\n" + "\n".join(rows) + "\n"
    )
    publish(text, ROOT / "BENCHMARKS.md", options.no_write)


if __name__ == "__main__":
    main()
