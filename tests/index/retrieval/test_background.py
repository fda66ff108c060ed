"""index/retrieval/background.py: a child process builds while the service answers; its states and /readyz lines."""

from __future__ import annotations

import os
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
    """colbert-ai's helpers die with the build: the child runs in its own session and stop() signals the group."""
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
