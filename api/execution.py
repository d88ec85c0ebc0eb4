"""GraphQL operations executed off the server's event loop.

Strawberry executes an operation on the event loop that received it, so a heavy query (every profile's
360 view in one request) held the loop for seconds, and every other request, ``/healthz`` included,
waited behind it. :class:`ThreadedSchema` runs each operation on an event loop of its own in a worker
thread (a few of them: more only make every operation wait longer for the interpreter); the server's
loop stays free to accept and answer, and a heavy query shares the CPU with the others instead of
holding it. An operation's store reads run in its own thread (its loop's executor runs them inline).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import strawberry

__all__ = ["Executors", "ThreadedSchema"]

T = TypeVar("T")


class _Inline(ThreadPoolExecutor):
    """Runs what is submitted at once, in the submitting thread: an operation already has a thread of its
    own, so its store reads need no other (a hop to another thread and back cost more than most reads)."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        done: Future[T] = Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            done.set_exception(exc)
        return done


@dataclass
class Executors:
    """The threads operations execute in."""

    operations: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=4, thread_name_prefix="graphql")
    )

    def close(self) -> None:
        self.operations.shutdown(wait=False, cancel_futures=True)


def _run_on_own_loop(start: Callable[[], Awaitable[T]]) -> T:
    loop = asyncio.new_event_loop()
    loop.set_default_executor(_Inline(max_workers=1))  # asyncio.to_thread in resolvers and loaders: here
    try:
        return loop.run_until_complete(start())  # type: ignore[arg-type]
    finally:
        loop.close()


class ThreadedSchema(strawberry.Schema):
    """A schema whose operations run off the calling event loop (see the module docstring); without
    ``executors`` it executes as strawberry does."""

    def __init__(self, *args: Any, executors: Executors | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.executors = executors

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        if self.executors is None:
            return await super().execute(*args, **kwargs)
        parent = super()
        return await asyncio.get_running_loop().run_in_executor(
            self.executors.operations, _run_on_own_loop, lambda: parent.execute(*args, **kwargs)
        )
