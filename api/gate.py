"""Bounded LM concurrency: ``concurrency`` requests run, ``queue_size`` wait, the rest get 503. ``on_busy``
hears when the first request enters (True) and the last one leaves (False): background index builds step aside
meanwhile (api/services.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fda.errors import FDAError


class BusyError(FDAError):
    """Every LM slot is taken and the queue is full."""

    hint = "The assistant is busy; retry after the Retry-After delay."


class LMGate:
    def __init__(self, concurrency: int, queue_size: int, on_busy: Callable[[bool], None] | None = None) -> None:
        self._sem = asyncio.Semaphore(concurrency)
        self.limit = concurrency + queue_size
        self.pending = 0
        self.on_busy = on_busy

    def _notify(self, busy: bool) -> None:
        if self.on_busy is not None:
            self.on_busy(busy)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self.pending >= self.limit:
            raise BusyError(f"{self.pending} LM-bound requests already running or queued")
        self.pending += 1
        try:
            if self.pending == 1:
                self._notify(True)
            async with self._sem:
                yield
        finally:
            self.pending -= 1
            if self.pending == 0:
                self._notify(False)
