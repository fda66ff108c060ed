"""``every(interval_s, take)``: call ``take`` now, every ``interval_s`` seconds in a background thread while
the block runs, and once more when it ends (the memory samplers of the benchmarks share it)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def every(interval_s: float, take: Callable[[], None]) -> Iterator[None]:
    stop = threading.Event()

    def loop() -> None:
        take()
        while not stop.wait(interval_s):
            take()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        take()
