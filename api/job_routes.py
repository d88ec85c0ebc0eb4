"""``POST /jobs/{name}``: the server side of :mod:`api.handoff`. The job runs in a thread of its own on
the server's store; progress, notes and the result go back as JSON lines. A caller that hangs up
cancels its job at the next progress report (every write a job makes is safe to stop)."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict

from api.handoff import ServerLink
from api.jobs import JOBS, JobContext, run_job_here
from graph.errors import CdpError
from graph.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["jobs_router"]

_BEAT_S = 5.0  # a line at least this often, so a caller that went away is noticed
_LOOPBACK = {"127.0.0.1", "::1", "localhost", "testclient"}


class JobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    args: dict[str, Any] = {}


class JobCancelled(Exception):
    """The caller hung up."""


def jobs_router(settings: Settings, link: ServerLink) -> APIRouter:
    router = APIRouter()

    @router.post("/jobs/{name}", include_in_schema=False)
    async def run(name: str, job: JobRequest, request: Request) -> StreamingResponse:
        _check_caller(request, link)
        if name not in JOBS:
            raise HTTPException(404, f"no job '{name}'")
        return StreamingResponse(_stream(request.app.state.store, settings, name, job.args),
                                 media_type="application/x-ndjson")  # fmt: skip

    return router


def _check_caller(request: Request, link: ServerLink) -> None:
    host = request.client.host if request.client else ""
    if host not in _LOOPBACK:
        raise HTTPException(403, "jobs are taken from this machine only")
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), link.token.encode()):
        raise HTTPException(401, "a job needs the token in DATA_DIR/server.json")


async def _stream(store: Any, settings: Settings, name: str, args: dict[str, Any]) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
    cancelled = threading.Event()

    def send(message: dict[str, Any] | None) -> None:
        loop.call_soon_threadsafe(lines.put_nowait, message)

    thread = threading.Thread(target=_work, args=(store, settings, name, args, send, cancelled),
                              name=f"job-{name}", daemon=True)  # fmt: skip
    thread.start()
    try:
        while True:
            try:
                message = await asyncio.wait_for(lines.get(), _BEAT_S)
            except TimeoutError:
                yield '{"beat": 1}\n'
                continue
            if message is None:
                return
            yield json.dumps(message) + "\n"
    finally:
        cancelled.set()  # done, or the caller hung up


def _work(
    store: Any,
    settings: Settings,
    name: str,
    args: dict[str, Any],
    send: Callable[[dict[str, Any] | None], None],
    cancelled: threading.Event,
) -> None:
    def progress(bar: str, done: int, total: int) -> None:
        if cancelled.is_set():
            raise JobCancelled
        send({"progress": [bar, done, total]})

    context = JobContext(store, settings, progress, lambda text: send({"note": text}))
    try:
        send({"result": run_job_here(context, name, args)})
    except CdpError as exc:
        send({"error": str(exc)})
    except JobCancelled:
        logger.warning("job %s cancelled: its caller hung up", name)
    except Exception as exc:
        logger.exception("job %s failed", name)
        send({"error": f"job '{name}' failed in the server: {type(exc).__name__}: {exc}"})
    finally:
        send(None)
