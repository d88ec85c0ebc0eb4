"""What every benchmark shares: where the repository and the generated data live, the machine and commit
a run is recorded with, the demo data, and appending a run's section to BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "out"


def demo_data(records: int, name: str = "data") -> Path:
    """``bench/out/<name>-<records>``: the demo data (``generate_dataset(..., n_records=records, seed=7)``),
    generated on first use (``people.csv`` is written last, so a directory holding it is complete)."""
    from ingest.synthetic import generate_dataset

    directory = DATA / f"{name}-{records}"
    if not (directory / "people.csv").exists():
        generate_dataset(directory, n_records=records, seed=7)
    return directory


def machine() -> str:
    with open("/proc/cpuinfo") as handle:
        cpu = next((ln.split(":", 1)[1].strip() for ln in handle if ln.startswith("model name")), "?")
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Python {platform.python_version()}, {platform.system()}"


def commit() -> str:
    """The short commit, and whether tracked files had changes."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + (" with uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def publish(text: str, out: Path, no_write: bool) -> None:
    """Append ``text`` to ``out`` (BENCHMARKS.md) unless ``no_write``, and print it."""
    if not no_write:
        with out.open("a") as handle:
            handle.write(text)
    print(text)
