"""Build a missing index in a background process while the service answers without it.

``fda serve`` on a fresh clone: BM25 and dense take about two minutes to build, the ColBERT index about ten
more on two cores. Rather than keep the user waiting, the service starts on the signals it has (``fused``
without ColBERT) and runs ``fda index --backend colbert`` as a child process at low CPU priority; when it
exits 0, ``on_done`` attaches the new index (index/retrieval/factory.py ``Deferred``) and the service is
whole. /readyz shows :meth:`BackgroundBuild.describe` meanwhile.

The child is a separate process, not a thread: its peak memory (~3 GB) goes back to the system when it
ends, a crash in colbert-ai cannot take the service down, and ``nice`` keeps it behind the requests.

``nice`` alone is not enough on two cores: the LM's two decoding threads meet at a barrier for every layer, so
each time the scheduler gives a core to the build for a slice, the other LM thread waits too, and answers made
during a build ran past their budget (ops/bench/answers_during_build.py, docs/benchmarks.md). So the service
also tells the build when answers are being made (:meth:`BackgroundBuild.yield_to`, from the LM gate) and the
child's processes are stopped (SIGSTOP) until none is (SIGCONT). No build starves under steady traffic: a
pause lasts at most ``max_pause_s``, after which the build runs ``min_run_s`` before it can be paused again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Measured on the 2-core box that targets run on (docs/benchmarks.md, "Start-up on a fresh clone"): 407 and 419 s
# for 2,895 chunks as this niced background child with 2 threads while the service answered a few questions.
# Only an estimate for the status line; nothing waits on it.
COLBERT_SECONDS_PER_CHUNK = 0.15
DENSE_SECONDS_PER_CHUNK = 0.015  # 44 s for the latest version's 2,895 chunks with every core (the same page)
# a fresh clone's colbert build first compiles colbert-ai's four C++ extensions (index/retrieval/warm.py), which the
# per-chunk figure above never included: ~2 min for the four on an idle box (../shared/ENVIRONMENT.md), 214.8 s on
# session 30's slow one; session 30's first build ran 998 s against an estimate of 434 s without them
EXTENSION_SECONDS = 50.0


def descendants(pid: int) -> list[Any]:
    """Every process below ``pid`` (children, theirs...) as psutil processes; [] once it is gone or unreadable."""
    import psutil

    try:
        return list(psutil.Process(pid).children(recursive=True))
    except Exception:  # psutil.Error, or no /proc: nothing below to reach
        return []


def signal_processes(processes: Sequence[Any], sig: int) -> None:
    """``sig`` to each psutil process still the one it was (psutil checks its start time: no reused pid)."""
    for process in processes:
        with contextlib.suppress(Exception):
            process.send_signal(sig)


def end_descendants(pid: int) -> None:
    """Continue, then kill, every process below ``pid``: a build that is ending leaves no compiler behind, running
    or stopped (fda index --exit-with-parent, when its service is gone)."""
    below = descendants(pid)
    signal_processes(below, signal.SIGCONT)
    signal_processes(below, signal.SIGKILL)


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> list[Any]:
    """``sig`` to the child's process group and to every process below it; returns those below. The group alone
    misses some: on a fresh clone the colbert build first compiles colbert-ai's C++ extensions through ninja, which
    runs each compiler in a process group of its own, so a compiler kept a core while the build was "paused" (seen
    on a fresh clone; what it cost answers was within that day's noise: docs/benchmarks.md). The group goes first,
    so a stopped parent starts nothing new; the tree is read before (a child ended by ``sig`` takes its list with
    it) and after (a helper started in between)."""
    before = descendants(proc.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    seen = {p.pid for p in before}
    below = [*before, *(p for p in descendants(proc.pid) if p.pid not in seen)]
    signal_processes(below, sig)
    return below


class BackgroundBuild:
    """One child process (``command``) whose output goes to ``log_path``; ``on_done()`` runs in the watcher
    thread after a zero exit. States: ``pending`` -> ``building`` -> ``attaching`` -> ``done`` | ``failed``."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        log_path: Path,
        on_done: Callable[[], None],
        *,
        expected_s: float | None = None,
        niceness: int = 10,
        env: dict[str, str] | None = None,
        meanwhile: str = "answers use the other signals meanwhile",
        fix: str | None = None,
        poll_s: float = 1.0,
        max_pause_s: float = 120.0,
        min_run_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.command = list(command)
        self.log_path = log_path
        self.on_done = on_done
        self.expected_s = expected_s
        self.niceness = niceness
        self.env = env
        self.meanwhile = meanwhile  # what the service does without the index, for /readyz
        self.fix = fix or f"fda index --backend {name}"  # the command that builds it by hand
        self.poll_s = poll_s
        self.max_pause_s = max_pause_s  # 0: never paused (nice only)
        self.min_run_s = min_run_s
        self._clock = clock
        self.pauses = 0  # how many times answers paused it
        self._busy = False  # answers are being made (yield_to)
        self._paused_since: float | None = None
        self._paused_total = 0.0
        self._stopped: list[Any] = []  # the processes below the child that the current pause stopped
        self._no_pause_until = 0.0  # after a pause that reached max_pause_s
        self._lock = threading.Lock()
        self.state = "pending"
        self.error = ""
        self.returncode: int | None = None
        self._started_at: float | None = None
        self._ended_at: float | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._watcher: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        nice = shutil.which("nice") if self.niceness else None
        if nice:  # behind the requests (not preexec_fn: unsafe in a process with threads)
            self.command = [nice, "-n", str(self.niceness), *self.command]
        with self.log_path.open("ab") as out:
            out.write(f"\n== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(self.command)}\n".encode())
            out.flush()
            try:
                self._proc = subprocess.Popen(
                    self.command,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    # a pipe the child watches (`fda index --exit-with-parent`): EOF when this process dies,
                    # even by SIGKILL, so no orphaned build keeps the CPU busy
                    stdin=subprocess.PIPE,
                    env=self.env,
                    # a process group of its own: Ctrl+C on `make run` stops the service, which stops the build
                    # (not the terminal's SIGINT straight to the child), and stop() signals the whole group. In the
                    # service's session, not a new one: if the service is killed outright while the build is
                    # paused, the kernel sends the orphaned group SIGHUP and SIGCONT, so no stopped build is left
                    process_group=0,
                )
            except OSError as err:
                self._fail(f"could not start {self.command[0]}: {err}")
                return
        self._started_at = self._clock()
        self.state = "building"
        log.info("building the %s index in the background (pid %d, log %s)", self.name, self._proc.pid, self.log_path)
        self._watcher = threading.Thread(target=self._watch, name=f"build-{self.name}", daemon=True)
        self._watcher.start()
        with self._lock:  # answers already running when it starts
            self._apply(self._clock())

    def yield_to(self, busy: bool) -> None:
        """Answers are being made (``busy``) or none is: the child is paused while they are, within
        ``max_pause_s`` at a time. Safe from any thread, before, during and after the build."""
        with self._lock:
            self._busy = busy
            self._apply(self._clock())

    @property
    def paused(self) -> bool:
        return self._paused_since is not None

    def paused_s(self) -> float:
        """Seconds the child has spent paused so far."""
        current = self._clock() - self._paused_since if self._paused_since is not None else 0.0
        return self._paused_total + current

    def _apply(self, now: float) -> None:
        """Pause or resume the child for the current state (hold ``_lock``)."""
        proc = self._proc
        running = self.state == "building" and proc is not None and proc.poll() is None
        if self._paused_since is not None:
            overran = now - self._paused_since >= self.max_pause_s
            if running and self._busy and not overran:
                return
            if running and self._busy:  # steady traffic: let the build move before the next pause
                self._no_pause_until = now + self.min_run_s
                log.info(
                    "resuming the %s build for %.0f s after a %.0f s pause",
                    self.name,
                    self.min_run_s,
                    now - self._paused_since,
                )
            self._resume(now)
        elif running and self._busy and self.max_pause_s > 0 and now >= self._no_pause_until:
            assert proc is not None
            self._paused_since = now  # first: whatever happens while signalling, _resume continues it
            self.pauses += 1
            self._stopped = _signal_group(proc, signal.SIGSTOP)

    def _resume(self, now: float) -> None:
        if self._paused_since is None:
            return
        if self._proc is not None:  # and those stopped below it, even if the child is gone and they were re-parented
            _signal_group(self._proc, signal.SIGCONT)
        signal_processes(self._stopped, signal.SIGCONT)
        self._stopped = []
        self._paused_total += now - self._paused_since
        self._paused_since = None

    def _watch(self) -> None:
        assert self._proc is not None
        while not self._stopping.is_set():
            code = self._proc.poll()
            if code is not None:
                break
            with self._lock:  # a pause that reached max_pause_s ends here, and the next one starts here
                self._apply(self._clock())
            self._stopping.wait(self.poll_s)
        else:
            return
        with self._lock:  # killed from outside while paused: no pause outlives the child
            self._resume(self._clock())
        self.returncode = code
        self._ended_at = self._clock()
        if self._stopping.is_set():  # the service is shutting down: attach nothing
            return
        if code != 0:
            self._fail(f"`{' '.join(self.command)}` exited with {code}; see {self.log_path}")
            return
        self.state = "attaching"
        try:
            self.on_done()
        except Exception as err:  # the service keeps answering on what it has
            log.exception("the %s index was built but could not be attached", self.name)
            self._fail(f"built, but could not be attached: {err}")
            return
        self.state = "done"
        log.info("the %s index is built and attached (%.0f s)", self.name, self.elapsed_s())

    def _fail(self, message: str) -> None:
        self.state = "failed"
        self.error = message
        log.error("background %s build failed: %s", self.name, message)

    def elapsed_s(self) -> float:
        if self._started_at is None:
            return 0.0
        end = self._ended_at if self._ended_at is not None else self._clock()
        return end - self._started_at

    def running_s(self) -> float:
        """Seconds the child has been working: elapsed less paused."""
        return max(0.0, self.elapsed_s() - self.paused_s())

    def wait(self, timeout_s: float | None = None) -> bool:
        """True once the build has finished (done or failed) within ``timeout_s``."""
        if self._watcher is not None:
            self._watcher.join(timeout_s)
        return self.state in ("done", "failed")

    def stop(self, grace_s: float = 5.0) -> None:
        """Stop the child (service shutdown): an unfinished index folder has no manifest, so the next start
        builds it again."""
        self._stopping.set()
        proc = self._proc
        with self._lock:  # a stopped child would not act on SIGTERM
            self._busy = False
            self._resume(self._clock())
        if proc is not None and proc.poll() is None:
            _signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
            if self.state == "building":
                self.state = "failed"
                self.error = "stopped with the service before it finished"
        if proc is not None and proc.stdin is not None:
            proc.stdin.close()
        if self._watcher is not None and self._watcher is not threading.current_thread():
            self._watcher.join(grace_s + self.poll_s)

    def describe(self) -> dict[str, Any]:
        """What /readyz shows: state, seconds so far, the estimate, the log, the error."""
        out: dict[str, Any] = {
            "index": self.name,
            "state": self.state,
            "elapsed_s": round(self.elapsed_s(), 1),
            "log": str(self.log_path),
        }
        if self.pauses:
            out["paused"] = self.paused
            out["paused_s"] = round(self.paused_s(), 1)
            out["pauses"] = self.pauses
        if self.expected_s is not None:
            out["expected_s"] = round(self.expected_s)
            if self.state == "building":
                out["progress_estimate"] = round(min(0.99, self.running_s() / max(self.expected_s, 1.0)), 2)
        if self.error:
            out["error"] = self.error
        return out

    def summary(self) -> str:
        """One line for /readyz's components and the logs."""
        if self.state == "done":
            return "ok"
        if self.state == "failed":
            return f"degraded: the {self.name} build failed ({self.error}); run `{self.fix}`"
        eta = ""
        if self.expected_s is not None and self.state == "building":
            left = max(0.0, self.expected_s - self.running_s())
            eta = f", about {left / 60:.0f} min left" if left >= 60 else ", finishing"
        if self.paused:
            eta += ", paused while an answer is made"
        return (
            f"degraded: {self.name} index building in the background ({self.elapsed_s():.0f} s{eta}); {self.meanwhile}"
        )
