"""Ingest's worker processes die with the process that started them, even when it is killed with SIGKILL."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# an ingest that normalises in two workers and stops in its progress callback, after the first chunk
INGEST = """
import sys, time
from pathlib import Path
import ingest.pipeline
from graph.settings import StoreSettings, open_store
from ingest.config import load_config

ingest.pipeline.PARALLEL_FROM_ROWS, ingest.pipeline.BATCH_ROWS = 0, 100

def hold(source, done, total):
    print("normalising", flush=True)
    time.sleep(600)

here = Path(sys.argv[1])
store = open_store(StoreSettings(store="embedded", data_dir=here / "cdp"))
ingest.pipeline.ingest(load_config(here / "sources.yaml"), store, here / "rejects", on_progress=hold, workers=2)
"""


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` and that run a multiprocessing worker, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _parent(int(entry.name)) == pid and "spawn_main" in _cmdline(int(entry.name)):
            found.append(int(entry.name))
    return found


def _stat(pid: int) -> list[str]:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return text.rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, ...


def _parent(pid: int) -> int:
    fields = _stat(pid)
    return int(fields[1]) if fields else -1


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return bool(fields) and fields[0] != "Z"  # a zombie has exited; only its parent has not reaped it


def _output(process: subprocess.Popen[str]) -> queue.Queue[str]:
    """The lines ``process`` prints, as they come (read by a thread, so a test can wait with a timeout)."""
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout

    def pump() -> None:
        for line in stdout:
            lines.put(line.strip())

    threading.Thread(target=pump, daemon=True).start()
    return lines


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")
def test_workers_exit_when_the_ingest_is_killed(tmp_path: Path) -> None:
    rows = "".join(f"C{i},user{i}@example.com,Person {i}\n" for i in range(2_000))
    (tmp_path / "crm.csv").write_text("id,email,name\n" + rows)
    (tmp_path / "sources.yaml").write_text(
        "sources:\n  crm: {path: crm.csv, record_id: id, identifiers: {email: email}, attributes: {name: full_name}}\n"
    )
    ingest = subprocess.Popen(
        [sys.executable, "-c", INGEST, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    workers: list[int] = []
    try:
        assert _output(ingest).get(timeout=120) == "normalising"
        workers = _children(ingest.pid)
        assert workers, "the ingest started no worker process"
        os.kill(ingest.pid, signal.SIGKILL)
        ingest.wait(10)
        deadline = time.monotonic() + 5
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if _alive(pid)], "workers outlived the ingest that started them"
    finally:
        for pid in [ingest.pid, *workers]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        ingest.wait(10)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")
def test_without_the_kernel_signal_a_worker_still_notices_its_parent_died() -> None:
    """The portable fallback alone: a grandchild polling for its parent exits when the parent is killed."""
    child = "import sys; from ingest.workers import exit_when_orphaned; print('polling', flush=True); "
    child += "exit_when_orphaned(int(sys.argv[1]))"
    parent = (
        f"import os, subprocess, sys, time; c = subprocess.Popen([sys.executable, '-c', {child!r}, str(os.getpid())]); "
    )
    parent += "print(c.pid, flush=True); time.sleep(600)"
    process = subprocess.Popen([sys.executable, "-c", parent], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    orphan = 0
    try:
        output = _output(process)
        lines = {output.get(timeout=60) for _ in range(2)}  # the child's pid; "polling"
        assert "polling" in lines
        orphan = int((lines - {"polling"}).pop())
        assert _alive(orphan)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        deadline = time.monotonic() + 5
        while _alive(orphan) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(orphan), "the orphaned process did not exit"
    finally:
        for pid in [process.pid, orphan]:
            if pid and _alive(pid):
                os.kill(pid, signal.SIGKILL)
        process.wait(10)
