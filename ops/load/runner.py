"""A closed-loop load generator: ``users`` coroutines, each sending its next request as soon as the previous
one answered, until a time limit and/or a request budget runs out (ops/load/suite.py builds the requests).

    samples, wall_s = await run_closed_loop(send, users=50, duration_s=30)

``send(i)`` sends request number ``i`` (0, 1, 2, ... across all users) and returns its HTTP status; an
exception is recorded as a failed sample (status 0) and the user carries on.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable

from ops.load.stats import Sample

Send = Callable[[int], Awaitable[int]]


async def run_closed_loop(
    send: Send,
    users: int,
    duration_s: float | None = None,
    max_requests: int | None = None,
    grace_s: float = 30.0,
    pace_s: float = 0.0,
) -> tuple[list[Sample], float]:
    """Samples of every finished request and the wall time (until the last one finished). No new request
    starts after ``duration_s`` or once ``max_requests`` were started; requests still running ``grace_s``
    after the deadline are cancelled and not counted. ``pace_s`` > 0: each user starts a request at most
    every ``pace_s`` seconds (locust's ``constant_pacing``), so ``users / pace_s`` requests per second are
    offered while the server keeps up; users start spread over the first ``pace_s``."""
    if users < 1:
        raise ValueError("users must be at least 1")
    if duration_s is None and max_requests is None:
        raise ValueError("give a duration, a request budget, or both")
    counter = itertools.count()
    samples: list[Sample] = []
    t0 = time.perf_counter()
    deadline = t0 + duration_s if duration_s is not None else None

    async def user(n: int) -> None:
        if pace_s > 0:
            await asyncio.sleep(pace_s * n / users)
        while deadline is None or time.perf_counter() < deadline:
            i = next(counter)
            if max_requests is not None and i >= max_requests:
                return
            start = time.perf_counter()
            try:
                status, error = await send(i), None
            except asyncio.CancelledError:
                raise
            except Exception as err:  # a failed request is a sample, not the end of the run
                status, error = 0, type(err).__name__
            done = time.perf_counter()
            samples.append(Sample(start - t0, done - start, status, error))
            if pace_s > 0 and done - start < pace_s:
                await asyncio.sleep(pace_s - (done - start))

    tasks = [asyncio.create_task(user(n)) for n in range(users)]
    timeout = None if duration_s is None else duration_s + grace_s
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        if task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
    end = max((s.start_s + s.latency_s for s in samples), default=time.perf_counter() - t0)
    return samples, end
