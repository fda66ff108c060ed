"""api/threads.py: a call past its timeout is left behind, and never holds the process's exit."""

from __future__ import annotations

import asyncio
import contextvars
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from api.threads import run_abandonable

WHO: contextvars.ContextVar[str] = contextvars.ContextVar("who", default="nobody")


def test_the_result_and_the_callers_context_come_through() -> None:
    async def main() -> tuple[str, str]:
        WHO.set("request-1")
        return await run_abandonable(lambda: (WHO.get(), threading.current_thread().name), 5, name="t-answer")

    assert asyncio.run(main()) == ("request-1", "t-answer")


def test_an_error_reaches_the_caller() -> None:
    def fail() -> None:
        raise ValueError("the LM said no")

    with pytest.raises(ValueError, match="the LM said no"):
        asyncio.run(run_abandonable(fail, 5))


def test_a_timeout_returns_at_once_and_leaves_the_call_running() -> None:
    release, finished = threading.Event(), threading.Event()

    def blocked() -> str:
        release.wait(10)
        finished.set()
        return "late"

    t0 = time.perf_counter()
    with pytest.raises(TimeoutError):
        asyncio.run(run_abandonable(blocked, 0.1))
    assert time.perf_counter() - t0 < 5 and not finished.is_set()
    release.set()  # the abandoned call ends on its own; its result goes nowhere (the loop is closed)
    assert finished.wait(5)


def test_an_abandoned_call_does_not_hold_the_process_exit() -> None:
    """What a stopped service showed: 20-40 s of waiting on a timed-out answer's LM call (anyio's worker threads
    are not daemons). The child exits as soon as its loop ends, with the call still blocked for a minute."""
    child = textwrap.dedent(
        """
        import asyncio, time
        from api.threads import run_abandonable

        async def main():
            try:
                await run_abandonable(lambda: time.sleep(60), 0.1)
            except TimeoutError:
                print("timed out", flush=True)

        asyncio.run(main())
        """
    )
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and done.stdout.strip() == "timed out", done.stderr
    assert time.perf_counter() - t0 < 20
