"""index/retrieval/background.py: a child process builds while the service answers; its states and /readyz lines."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from index.retrieval.background import BackgroundBuild


def _build(tmp_path: Path, code: str, on_done: object = None, **kw: object) -> BackgroundBuild:
    calls: list[str] = []

    def done() -> None:
        calls.append("attached")
        if on_done is not None:
            raise RuntimeError(str(on_done))

    build = BackgroundBuild(
        "colbert", [sys.executable, "-c", code], tmp_path / "logs" / "build.log", done, poll_s=0.02, **kw
    )  # type: ignore[arg-type]
    build.calls = calls  # type: ignore[attr-defined]
    return build


def test_a_successful_build_attaches_and_reports_ok(tmp_path: Path) -> None:
    build = _build(tmp_path, "print('encoding 3 chunks')", expected_s=600)
    assert build.state == "pending" and build.summary().startswith("degraded")
    build.start()
    assert build.wait(30)
    assert build.state == "done" and build.summary() == "ok" and build.calls == ["attached"]  # type: ignore[attr-defined]
    assert build.returncode == 0
    assert "encoding 3 chunks" in (tmp_path / "logs" / "build.log").read_text()  # the child's output is kept
    assert build.describe()["state"] == "done" and "progress_estimate" not in build.describe()


def test_a_failed_build_is_degraded_with_the_log_and_the_command(tmp_path: Path) -> None:
    build = _build(tmp_path, "import sys; print('colbert-ai blew up'); sys.exit(3)")
    build.start()
    assert build.wait(30)
    assert build.state == "failed" and build.calls == []  # type: ignore[attr-defined]
    line = build.summary()
    assert line.startswith("degraded") and "exited with 3" in line and "fda index --backend colbert" in line
    assert str(tmp_path / "logs" / "build.log") in line
    assert "colbert-ai blew up" in (tmp_path / "logs" / "build.log").read_text()


def test_an_index_that_cannot_be_attached_is_a_failure_not_a_crash(tmp_path: Path) -> None:
    build = _build(tmp_path, "pass", on_done="PLAID would not load")
    build.start()
    assert build.wait(30)
    assert build.state == "failed" and "PLAID would not load" in build.error


def test_while_building_it_reports_elapsed_and_an_estimate(tmp_path: Path) -> None:
    now = [100.0]
    build = _build(tmp_path, "import time; time.sleep(30)", expected_s=600, clock=lambda: now[0])
    build.start()
    try:
        now[0] += 150
        info = build.describe()
        assert info["state"] == "building" and info["elapsed_s"] == 150 and info["progress_estimate"] == 0.25
        assert "about 8 min left" in build.summary() and "150 s" in build.summary()
    finally:
        build.stop(grace_s=5)
    assert build.state == "failed" and "stopped" in build.error and build.calls == []  # type: ignore[attr-defined]


def test_a_command_that_cannot_start_fails_cleanly(tmp_path: Path) -> None:
    build = BackgroundBuild("colbert", ["/nonexistent/fda"], tmp_path / "b.log", lambda: None, niceness=0)
    build.start()
    assert build.state == "failed" and "could not start" in build.error
    assert build.wait(1) and build.summary().startswith("degraded")


def test_stop_ends_the_whole_process_group(tmp_path: Path) -> None:
    """colbert-ai's helpers die with the build: the child runs in its own process group and stop() signals the group."""
    pid_file = tmp_path / "grandchild.pid"
    code = (
        "import subprocess, sys, time; "
        f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        f"open({str(pid_file)!r}, 'w').write(str(p.pid)); time.sleep(60)"
    )
    build = _build(tmp_path, code, niceness=0)
    build.start()
    deadline = time.monotonic() + 20
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    grandchild = int(pid_file.read_text())
    build.stop(grace_s=5)
    time.sleep(0.3)
    assert not _alive(grandchild)


def test_a_build_exits_when_the_service_that_started_it_dies(tmp_path: Path) -> None:
    """`fda index --exit-with-parent`: EOF on stdin (the service is gone, even killed) ends the build."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from fda.cli.index import _exit_when_stdin_closes as w; w(); import time; time.sleep(60)",
        ],
        stdin=subprocess.PIPE,
    )
    time.sleep(1.0)
    assert child.poll() is None
    assert child.stdin is not None
    child.stdin.close()  # what the kernel does when the service's process ends
    assert child.wait(20) == 3


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie waiting for its reaper counts as gone
        return stat.read().split(") ")[1][0] != "Z"


def test_a_build_that_finishes_exits_cleanly_while_watching_its_parent() -> None:
    """The watcher must not stop a normal exit: a daemon thread blocked reading sys.stdin made the interpreter
    abort at shutdown (exit -6 after a finished build, found on a fresh clone)."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from fda.cli.index import _exit_when_stdin_closes as w; w(); import time; time.sleep(0.5)",
        ],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.wait(30) == 0, child.stderr.read().decode() if child.stderr else ""
    assert child.stdin is not None
    child.stdin.close()


def _stopped(pid: int) -> bool:
    """The process is stopped (SIGSTOP): state T in /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ")[1][0] == "T"


def _until(check: object, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def _with_grandchild(tmp_path: Path, own_group: bool = False, **kw: object) -> tuple[BackgroundBuild, int, int]:
    """A build whose child starts a grandchild; ``own_group``: in a process group of its own, as ninja starts
    each compiler when colbert-ai builds its C++ extensions."""
    pid_file = tmp_path / "grandchild.pid"
    code = (
        "import subprocess, sys, time; "
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], "
        f"process_group={0 if own_group else None}); "
        f"open({str(pid_file)!r}, 'w').write(str(p.pid)); time.sleep(60)"
    )
    build = _build(tmp_path, code, niceness=0, **kw)
    build.start()
    assert _until(lambda: pid_file.exists() and pid_file.read_text())
    assert build._proc is not None
    return build, build._proc.pid, int(pid_file.read_text())


def test_answers_pause_the_whole_process_group_and_then_resume_it(tmp_path: Path) -> None:
    """yield_to(True) stops the build and its helpers (SIGSTOP to the group), yield_to(False) continues them."""
    build, child, grandchild = _with_grandchild(tmp_path)
    try:
        assert not _stopped(child)
        build.yield_to(True)
        assert build.paused and _until(lambda: _stopped(child) and _stopped(grandchild))
        assert "paused while an answer is made" in build.summary()
        time.sleep(0.1)
        build.yield_to(False)
        assert not build.paused and _until(lambda: not _stopped(child) and not _stopped(grandchild))
        info = build.describe()
        assert info["pauses"] == 1 and info["paused"] is False and info["paused_s"] >= 0.1
        assert build.state == "building"
    finally:
        build.stop(grace_s=5)


def test_a_pause_reaches_helpers_in_a_process_group_of_their_own(tmp_path: Path) -> None:
    """A fresh clone's colbert build compiles C++ through ninja, which puts each compiler in its own process
    group: signalling the build's group left the compiler running beside the LM. Every process below the child
    is paused, continued and, on stop(), ended."""
    build, child, grandchild = _with_grandchild(tmp_path, own_group=True)
    try:
        assert os.getpgid(grandchild) != os.getpgid(child)  # the case the group signal alone misses
        build.yield_to(True)
        assert _until(lambda: _stopped(child) and _stopped(grandchild))
        build.yield_to(False)
        assert _until(lambda: not _stopped(child) and not _stopped(grandchild))
    finally:
        build.stop(grace_s=5)
    assert _until(lambda: not _alive(child) and not _alive(grandchild))


def test_a_build_stopped_while_paused_still_ends(tmp_path: Path) -> None:
    """A stopped process does not act on SIGTERM until continued: stop() continues it first."""
    build, child, grandchild = _with_grandchild(tmp_path)
    build.yield_to(True)
    assert _until(lambda: _stopped(child))
    t0 = time.monotonic()
    build.stop(grace_s=5)
    assert time.monotonic() - t0 < 4  # ended by SIGTERM, not by the SIGKILL after the grace period
    assert _until(lambda: not _alive(child) and not _alive(grandchild))
    assert not build.paused and build.state == "failed" and "stopped" in build.error


def test_a_pause_is_bounded_so_steady_traffic_never_starves_the_build(tmp_path: Path) -> None:
    """After max_pause_s the build runs min_run_s, then (answers still running) is paused again; the progress
    estimate counts only the time it ran."""
    now = [1000.0]
    build = _build(
        tmp_path, "import time; time.sleep(60)", expected_s=600, clock=lambda: now[0], max_pause_s=100, min_run_s=30
    )
    build.start()
    try:
        now[0] += 60  # ran 60 s
        build.yield_to(True)
        assert build.paused
        now[0] += 100  # the longest pause: the watcher resumes it
        assert _until(lambda: not build.paused)
        assert build.describe()["progress_estimate"] == 0.1  # 60 of 600 s worked; 160 s elapsed
        now[0] += 29
        time.sleep(0.2)  # several watcher polls inside min_run_s: still running
        assert not build.paused
        now[0] += 2
        assert _until(lambda: build.paused)  # answers still running: paused again by the watcher
        assert build.pauses == 2
        build.yield_to(False)
        assert not build.paused and build.paused_s() == 100
    finally:
        build.stop(grace_s=5)


def test_max_pause_zero_never_pauses(tmp_path: Path) -> None:
    build, child, _ = _with_grandchild(tmp_path, max_pause_s=0)
    try:
        build.yield_to(True)
        time.sleep(0.2)
        assert not build.paused and not _stopped(child) and build.pauses == 0
        assert "paused" not in build.describe()
    finally:
        build.stop(grace_s=5)


def test_a_build_started_while_answers_run_and_a_finished_one_are_left_alone(tmp_path: Path) -> None:
    """yield_to before start() takes effect at start; after the build has ended it does nothing."""
    build, _, _ = _with_grandchild(tmp_path)
    build.stop(grace_s=5)
    build.yield_to(True)
    assert not build.paused and build.pauses == 0
    early = _build(tmp_path / "early", "import time; time.sleep(60)", niceness=0)
    early.yield_to(True)
    assert not early.paused  # nothing to pause yet
    early.start()
    try:
        assert early.paused and early._proc is not None and _until(lambda: _stopped(early._proc.pid))  # type: ignore[union-attr]
    finally:
        early.stop(grace_s=5)


def test_a_paused_build_does_not_outlive_a_service_killed_outright(tmp_path: Path) -> None:
    """The service SIGKILLed while the build is paused: a stopped child cannot notice its parent is gone, so the
    build runs in its own process group of the service's session, which the kernel then sends SIGHUP and SIGCONT
    (an orphaned group with a stopped member); in a session of its own it would stay stopped for ever. The child
    takes SIGHUP's default action as a build does (fda index --exit-with-parent handles it): under `nohup` the
    test run's processes inherit SIGHUP ignored, and a plain sleeping child would sleep on."""
    child = "import signal, time; signal.signal(signal.SIGHUP, signal.SIG_DFL); time.sleep(60)"
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from index.retrieval.background import BackgroundBuild\n"
        f"b = BackgroundBuild('x', [sys.executable, '-c', {child!r}], Path({str(tmp_path / 'b.log')!r}),"
        " lambda: None, niceness=0)\n"
        "b.start(); b.yield_to(True); print(b._proc.pid, flush=True); time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert _until(lambda: _stopped(child))
    parent.kill()
    parent.wait(10)
    assert _until(lambda: not _alive(child), timeout_s=10)


def _ninja_like(pids: Path) -> str:
    """A process that, like ninja, survives SIGHUP and waits for a 'compiler' it starts in a process group of its
    own; the compiler's pid goes to ``pids``."""
    return (
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGHUP, lambda *a: None)\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], process_group=0)\n"
        f"open({str(pids)!r}, 'w').write(f'{{p.pid}}')\n"
        "p.wait()\n"
    )


def test_a_build_killed_while_paused_leaves_its_compilers_running_on_to_their_end(tmp_path: Path) -> None:
    """Only the child dies (killed from outside) while paused: the walk from its pid finds nothing any more, so the
    pause remembers whom it stopped and the resume continues them; left stopped, ninja would wait for ever."""
    pids = tmp_path / "pids"
    build = _build(
        tmp_path,
        f"import subprocess, sys; subprocess.Popen([sys.executable, '-c', {_ninja_like(pids)!r}]).wait()",
        niceness=0,
    )
    build.start()
    assert _until(lambda: pids.exists() and pids.read_text())
    compiler = int(pids.read_text())
    try:
        build.yield_to(True)
        assert build._proc is not None and _until(lambda: _stopped(compiler))
        os.kill(build._proc.pid, signal.SIGKILL)
        assert _until(lambda: build.state == "failed")
        assert _until(lambda: not _alive(compiler) or not _stopped(compiler))
    finally:
        build.stop(grace_s=5)
        with contextlib.suppress(ProcessLookupError):
            os.kill(compiler, signal.SIGKILL)


def test_a_service_killed_during_a_paused_compile_leaves_no_stopped_compiler(tmp_path: Path) -> None:
    """ninja survives SIGHUP and waits for its compilers, which run in process groups of their own; the pause
    stopped them too. With the service killed outright, the build child (`--exit-with-parent`, here its watcher
    alone) gets SIGHUP and SIGCONT from the kernel and continues and kills everything below it: without that the
    compilers' group is not orphaned (ninja, its parent, lives on) and stays stopped for ever."""
    pids = tmp_path / "pids"
    ninja = _ninja_like(pids)
    child = (
        "import subprocess, sys, time\n"
        "from fda.cli.index import _exit_when_stdin_closes\n"
        "_exit_when_stdin_closes()\n"
        f"subprocess.Popen([sys.executable, '-c', {ninja!r}]).wait()\n"
    )
    service = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from index.retrieval.background import BackgroundBuild\n"
        f"b = BackgroundBuild('x', [sys.executable, '-c', {child!r}], Path({str(tmp_path / 'b.log')!r}),"
        " lambda: None, niceness=0)\n"
        f"b.start()\n"
        f"while not Path({str(pids)!r}).exists() or not Path({str(pids)!r}).read_text(): time.sleep(0.05)\n"
        "b.yield_to(True); print(b._proc.pid, flush=True); time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", service], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    build = int(parent.stdout.readline())
    compiler = int(pids.read_text())
    try:
        assert _until(lambda: _stopped(build) and _stopped(compiler))
        parent.kill()
        parent.wait(10)
        assert _until(lambda: not _alive(build) and not _alive(compiler), timeout_s=15)
    finally:
        for pid in (compiler, build):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
