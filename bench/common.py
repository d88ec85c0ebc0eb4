"""What every benchmark shares: where the repository and the generated data live, the machine and commit
a run is recorded with, the demo data, and appending a run's section to BENCHMARKS.md."""

from __future__ import annotations

import contextlib
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
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


@contextlib.contextmanager
def serving(store: str, data_dir: Path, log: Path, insecure_local: bool = True) -> Iterator[tuple[str, int]]:
    """``cdp serve`` on ``store`` in its own process on a free loopback port: its URL and process id. Its
    output goes to ``log`` (a pipe nobody reads would stall it once full). Without ``insecure_local`` it asks
    for API keys (create them first with ``cdp keys create``)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [
        sys.executable,
        "-m",
        "api.cli",
        "serve",
        *(["--insecure-local"] if insecure_local else []),
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    import httpx

    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=os.environ | {"CDP_STORE": store}, stdout=out, stderr=out)
    url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 60
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"cdp serve exited {proc.returncode}:\n{log.read_text()[-1500:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=1, trust_env=False).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"cdp serve did not answer /healthz in 60 s:\n{log.read_text()[-1500:]}")
            time.sleep(0.2)
        yield url, proc.pid
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
        if proc.poll() is None:
            proc.kill()
