"""ops/bench/sampling.py: a sample when the block starts, at each interval, and when it ends."""

from __future__ import annotations

import threading

from ops.bench.sampling import every


def test_samples_at_start_and_end_when_no_interval_passes() -> None:
    calls: list[str] = []
    with every(60.0, lambda: calls.append(threading.current_thread().name)):
        pass
    assert len(calls) == 2 and calls[-1] == threading.current_thread().name  # the last one by the caller


def test_samples_each_interval_while_the_block_runs() -> None:
    calls: list[int] = []
    ticked = threading.Event()

    def take() -> None:
        calls.append(1)
        if len(calls) >= 3:
            ticked.set()

    with every(0.01, take):
        assert ticked.wait(5.0)
    assert len(calls) >= 4
