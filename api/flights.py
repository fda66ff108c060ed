"""One answer in the making per question: a request that stops waiting leaves it running, and its answer is kept.

    flight, joined = flights.join(key, make)    # the answer for ``key`` being made, or a new one: make(started)
    pred = await flight.result(budget)          # TimeoutError past ``budget`` s queued or ``budget`` s answering

The same question asked twice at once is answered once (``joined``: the second request waits on the first's
flight). Past the answer budget a request falls back to retrieval-only (api/answering.py), but the flight goes
on: it holds its LM slot until the LM call ends, so the gate still counts it, and ``make`` puts the answer in the
answer cache. "Ask again in a moment" then gets the written answer, or waits on the flight, instead of starting
a second LM call behind the first (seen as a newcomer in session 32: a slow box timed the same question out
twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class Flight:
    task: asyncio.Task[Any]
    started: asyncio.Event  # set when the flight got its LM slot: the budget runs from there, not from the queue

    async def result(self, budget: float) -> Any:
        """The flight's answer; ``TimeoutError`` past ``budget`` seconds in the queue, or ``budget`` seconds once
        it has its slot (the flight goes on either way: a queued answer still runs, and is kept, when its turn
        comes). Its error (a full queue, a broken program) is raised here, to every request that waits on it."""
        slot = asyncio.ensure_future(self.started.wait())
        try:
            await asyncio.wait({slot, self.task}, timeout=budget, return_when=asyncio.FIRST_COMPLETED)
        finally:
            slot.cancel()
        if not (self.started.is_set() or self.task.done()):
            raise TimeoutError("no LM slot within the budget")
        return await asyncio.wait_for(asyncio.shield(self.task), budget)


class Flights:
    def __init__(self) -> None:
        self._flights: dict[Hashable, Flight] = {}

    def __len__(self) -> int:
        return len(self._flights)

    def join(self, key: Hashable, make: Callable[[asyncio.Event], Awaitable[Any]]) -> tuple[Flight, bool]:
        """The unfinished flight for ``key`` (True: joined), or a new one running ``make(started)`` (False)."""
        flight = self._flights.get(key)
        if flight is not None and not flight.task.done():
            return flight, True
        started = asyncio.Event()
        flight = Flight(asyncio.ensure_future(make(started)), started)
        self._flights[key] = flight
        flight.task.add_done_callback(lambda task: self._landed(key, flight))
        return flight, False

    def _landed(self, key: Hashable, flight: Flight) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        # read here, so an error nobody waited for any more is logged rather than warned about at exit
        error = None if flight.task.cancelled() else flight.task.exception()
        if error is not None:
            log.info("an answer ended with %s: %s", type(error).__name__, str(error)[:200])

    def cancel(self) -> None:
        """Stop waiting on every flight (shutdown): their LM calls run on daemon threads and end with the process."""
        for flight in list(self._flights.values()):
            with contextlib.suppress(RuntimeError):  # its loop has closed: nothing waits on it
                flight.task.cancel()
        self._flights.clear()
