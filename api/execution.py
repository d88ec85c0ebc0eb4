"""GraphQL operations executed off the server's event loop.

Strawberry executes an operation on the event loop that received it, so a heavy query (every profile's
360 view in one request) held the loop for seconds, and every other request, ``/healthz`` included,
waited behind it. :class:`ThreadedSchema` runs each operation on an event loop of its own in a worker
thread; the server's loop stays free to accept and answer, and a heavy query shares the CPU with the
others (Python switches threads every few milliseconds) instead of holding it. Store reads of every
operation go to one shared pool of threads (the drivers block; the embedded store reads in parallel).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import strawberry

__all__ = ["Executors", "ThreadedSchema"]

T = TypeVar("T")


class _SharedPool(ThreadPoolExecutor):
    """A pool every operation's loop uses as its default executor; a loop closing must not shut it down."""

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        pass

    def close(self) -> None:
        super().shutdown(wait=False, cancel_futures=True)


@dataclass
class Executors:
    """The threads operations execute in, and the threads their store reads run in."""

    operations: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=32, thread_name_prefix="graphql")
    )
    reads: _SharedPool = field(default_factory=lambda: _SharedPool(max_workers=16, thread_name_prefix="store-read"))

    def close(self) -> None:
        self.operations.shutdown(wait=False, cancel_futures=True)
        self.reads.close()


def _run_on_own_loop(start: Callable[[], Awaitable[T]], reads: ThreadPoolExecutor) -> T:
    loop = asyncio.new_event_loop()
    loop.set_default_executor(reads)  # asyncio.to_thread in resolvers and loaders lands in the shared pool
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
            self.executors.operations, _run_on_own_loop, lambda: parent.execute(*args, **kwargs), self.executors.reads
        )
