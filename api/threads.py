"""A blocking call (a program's answer, the agent's loop) run where a timeout can leave it behind.

    pred = await run_abandonable(call, timeout=60)   # TimeoutError past it; the call runs on, unawaited

``anyio.to_thread.run_sync`` runs calls on non-daemon worker threads: a call the request stopped waiting for (an
answer past its budget, its LM call still running) then holds the process's exit until it ends, which a stopped
service showed as 20-40 s of waiting on a shutdown signal (docs/operations.md). Here each call gets a daemon
thread, so a timed-out call never delays a shutdown, and the caller's context variables (the trace, the sources
listener) go with it as they do with anyio.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def _settle(future: asyncio.Future[T], result: T | None, error: BaseException | None) -> None:
    if future.done():  # the caller stopped waiting (timeout, cancelled request): nobody reads it
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]


async def run_abandonable(func: Callable[[], T], timeout: float | None = None, name: str = "fda-call") -> T:
    """``func()`` on a daemon thread with the caller's context; ``TimeoutError`` after ``timeout`` seconds (the
    thread is then left to finish on its own, its result dropped)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    context = contextvars.copy_context()

    def target() -> None:
        result: T | None = None
        error: BaseException | None = None
        try:
            result = context.run(func)
        except BaseException as exc:  # handed to the awaiting task, which re-raises it
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop closed while the call ran (shutdown): nobody waits
            loop.call_soon_threadsafe(_settle, future, result, error)

    threading.Thread(target=target, name=name, daemon=True).start()
    return await asyncio.wait_for(future, timeout)
