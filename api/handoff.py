"""One writer, many readers, across processes: while ``cdp serve`` holds the embedded store, every other
``cdp`` command hands its job to that server over HTTP instead of opening the store itself.

Only one process can open the embedded store (ladybug locks the file, and a read-only opener in another
process is not safe while the writer checkpoints), so the server is the single process using it and
runs the job on its own store: writes through its one writer connection, under the writer lease, while
its readers keep answering the API. The server publishes ``DATA_DIR/server.json`` (its address, its
process id and a random token; readable only by the owner of the data directory) and removes it when
it stops; a command that finds a live server there posts the job with the token and prints the progress
and result streamed back. The job endpoint takes only loopback callers holding the token. On Neo4j,
commands talk to the database directly: it is built for many clients.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from graph.errors import CdpError, StoreUnavailable
from graph.lease import process_alive

__all__ = ["ServerLink", "find_server", "new_link", "publish", "submit", "withdraw"]

LINK_FILE = "server.json"


@dataclass(frozen=True)
class ServerLink:
    url: str  # http://127.0.0.1:PORT
    token: str
    pid: int


def new_link(host: str, port: int) -> ServerLink:
    reachable = "127.0.0.1" if host in ("0.0.0.0", "::", "", "localhost") else host
    return ServerLink(f"http://{reachable}:{port}", secrets.token_urlsafe(32), os.getpid())


def publish(data_dir: Path, link: ServerLink) -> None:
    """Write ``server.json`` (mode 600) so commands on this machine find the server."""
    path = Path(data_dir) / LINK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(link), handle)
    os.replace(temporary, path)


def withdraw(data_dir: Path, link: ServerLink) -> None:
    """Remove ``server.json`` if it is still this server's."""
    found = _read(Path(data_dir) / LINK_FILE)
    if found is not None and found.token == link.token:
        (Path(data_dir) / LINK_FILE).unlink(missing_ok=True)


def find_server(data_dir: Path) -> ServerLink | None:
    """The live server holding ``data_dir``'s store, or None (no file, or its process is gone)."""
    link = _read(Path(data_dir) / LINK_FILE)
    if link is None or not process_alive(link.pid):
        return None
    return link


class ServerGone(CdpError):
    """The server named in ``server.json`` does not answer: its store is free again."""


def submit(
    link: ServerLink,
    name: str,
    args: dict[str, Any],
    progress: Callable[[str, int, int], None],
    note: Callable[[str], None],
    connect_s: float = 5.0,
) -> Any:
    """Run job ``name`` in the server; progress and notes are passed on as they arrive. Returns the
    job's result (JSON-ready data); the job's error is raised here as a :class:`CdpError`."""
    response = _post(link, name, args, connect_s)
    for line in response:
        message = json.loads(line)
        if "progress" in message:
            progress(*message["progress"])
        elif "note" in message:
            note(message["note"])
        elif "result" in message:
            return message["result"]
        elif "error" in message:
            raise CdpError(message["error"])
    raise StoreUnavailable(f"the server at {link.url} stopped before job '{name}' finished")


def _post(link: ServerLink, name: str, args: dict[str, Any], connect_s: float) -> http.client.HTTPResponse:
    parts = urlsplit(link.url)
    body = json.dumps({"args": args})
    headers = {"Authorization": f"Bearer {link.token}", "Content-Type": "application/json"}
    deadline = time.monotonic() + connect_s
    while True:
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=None)
        try:
            connection.request("POST", f"/jobs/{name}", body=body, headers=headers)
            response = connection.getresponse()
            break
        except ConnectionRefusedError:  # starting up, or gone and the file left behind
            connection.close()
            if time.monotonic() > deadline or not process_alive(link.pid):
                raise ServerGone(f"the server at {link.url} (pid {link.pid}) does not answer") from None
            time.sleep(0.2)
    if response.status != 200:
        detail = response.read().decode("utf-8", "replace")[:300]
        raise CdpError(f"the server at {link.url} refused job '{name}': HTTP {response.status} {detail}")
    return response


def _read(path: Path) -> ServerLink | None:
    try:
        data = json.loads(path.read_text())
        return ServerLink(str(data["url"]), str(data["token"]), int(data["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def run_job(
    settings: Any,
    name: str,
    args: dict[str, Any],
    progress: Callable[[str, int, int], None],
    note: Callable[[str], None],
) -> Any:
    """Run job ``name``: in the server holding the embedded store when one does, else here on a store
    opened for it. Returns its result, rebuilt as the dataclass the job returns (see :mod:`api.jobs`)."""
    from api.jobs import JobContext, from_json, run_job_here
    from graph.settings import open_store

    if settings.store == "embedded":
        link = find_server(settings.data_dir)
        if link is not None:
            try:
                return from_json(name, submit(link, name, args, progress, note))
            except ServerGone:
                pass  # its store is free: open it here
    store = open_store(settings)
    try:
        return from_json(name, run_job_here(JobContext(store, settings, progress, note), name, args))
    finally:
        store.close()
