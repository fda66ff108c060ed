"""Bounded LM concurrency: ``concurrency`` requests run, ``queue_size`` wait, the rest get 503."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fda.errors import FDAError


class BusyError(FDAError):
    """Every LM slot is taken and the queue is full."""

    hint = "The assistant is busy; retry after the Retry-After delay."


class LMGate:
    def __init__(self, concurrency: int, queue_size: int) -> None:
        self._sem = asyncio.Semaphore(concurrency)
        self.limit = concurrency + queue_size
        self.pending = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self.pending >= self.limit:
            raise BusyError(f"{self.pending} LM-bound requests already running or queued")
        self.pending += 1
        try:
            async with self._sem:
                yield
        finally:
            self.pending -= 1
