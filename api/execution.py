"""GraphQL operations executed off the server's event loop.

Strawberry executes an operation on the event loop that received it, so a heavy query (every profile's
360 view in one request) held the loop for seconds, and every other request, ``/healthz`` included,
waited behind it. :class:`ThreadedSchema` runs each operation on an event loop of its own in a worker
thread (a few of them: more only make every operation wait longer for the interpreter); the server's
loop stays free to accept and answer, and a heavy query shares the CPU with the others instead of
holding it. On the embedded store an operation's reads run in its own thread (its loop's executor runs
them inline: ladybug answers a small read in a fraction of a millisecond, less than a hop to another
thread costs); on a server store they run in parallel in a shared pool (each read waits on the network).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionResult

from graph.errors import InvalidRequest

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


class _SharedPool(ThreadPoolExecutor):
    """A pool every operation's loop uses as its default executor; a loop closing must not shut it down."""

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        pass

    def close(self) -> None:
        super().shutdown(wait=False, cancel_futures=True)


@dataclass
class Executors:
    """The threads operations execute in, and (``parallel_reads``) those their store reads run in."""

    operations: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=4, thread_name_prefix="graphql")
    )
    reads: _SharedPool = field(default_factory=lambda: _SharedPool(max_workers=16, thread_name_prefix="store-read"))
    parallel_reads: bool = False
    timeout_s: float = 30.0  # an operation still running after this is stopped with an error

    def close(self) -> None:
        self.operations.shutdown(wait=False, cancel_futures=True)
        self.reads.close()


def _run_on_own_loop(start: Callable[[], Awaitable[T]], reads: ThreadPoolExecutor | None, timeout_s: float) -> T:
    loop = asyncio.new_event_loop()
    loop.set_default_executor(reads or _Inline(max_workers=1))  # where asyncio.to_thread in resolvers lands
    try:
        # cancelled at its next await: between two store reads, never inside one
        return loop.run_until_complete(asyncio.wait_for(start(), timeout_s))  # type: ignore[arg-type]
    except TimeoutError:
        error = InvalidRequest(f"query time-out: stopped after {timeout_s:g} s (CDP_QUERY_TIMEOUT_SECONDS)")
        return ExecutionResult(data=None, errors=[GraphQLError(str(error), original_error=error)])  # type: ignore[return-value]
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
        reads = self.executors.reads if self.executors.parallel_reads else None
        return await asyncio.get_running_loop().run_in_executor(
            self.executors.operations,
            _run_on_own_loop,
            lambda: parent.execute(*args, **kwargs),
            reads,
            self.executors.timeout_s,
        )
