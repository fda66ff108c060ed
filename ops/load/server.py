"""The server under load: ``fda serve`` started as a subprocess on a free loopback port (waits for /readyz,
stopped afterwards), and a sampler of its resident memory (the server process and its children, e.g. the
local LM's llama.cpp server)."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from fda.errors import ApiError
from ops.bench.sampling import every

log = logging.getLogger(__name__)


class ServerStartError(ApiError):
    """The server under test did not become ready."""

    hint = "Read the server log named above; `fda serve` alone shows the same start-up."


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    url: str
    pid: int | None
    log_path: Path | None = None


def wait_ready(url: str, timeout_s: float, proc: subprocess.Popen[bytes] | None = None) -> dict[str, object]:
    """Poll ``/readyz`` until it answers 200; raise with its last body (or the exit code) otherwise."""
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ServerStartError(f"the server exited with code {proc.returncode} before it was ready")
        try:
            resp = httpx.get(f"{url}/readyz", timeout=5)
            if resp.status_code == 200:
                body: dict[str, object] = resp.json()
                return body
            last = f"{resp.status_code} {resp.text[:300]}"
        except httpx.HTTPError as err:
            last = type(err).__name__
        time.sleep(0.5)
    raise ServerStartError(f"{url}/readyz did not answer 200 within {timeout_s:.0f} s (last: {last})")


def fda_executable() -> list[str]:
    """The ``fda`` entry point next to this interpreter (the venv), else ``python -m`` through typer."""
    exe = Path(sys.executable).parent / "fda"
    if exe.is_file():
        return [str(exe)]
    return [sys.executable, "-c", "from fda.cli.app import app; app()"]


@contextlib.contextmanager
def serve(
    env: Mapping[str, str], log_path: Path, timeout_s: float = 300.0, host: str = "127.0.0.1"
) -> Iterator[RunningServer]:
    """``fda serve`` on a free port of ``host`` with ``env`` added to this environment; stopped on exit."""
    port = free_port(host)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            [*fda_executable(), "serve", "--host", host, "--port", str(port)],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its LM child goes with it
        )
        url = f"http://{host}:{port}"
        try:
            try:
                wait_ready(url, timeout_s, proc)
            except ServerStartError as err:
                raise ServerStartError(f"{err}; server log: {log_path}") from err
            log.info("server ready at %s (pid %d, log %s)", url, proc.pid, log_path)
            yield RunningServer(url, proc.pid, log_path)
        finally:
            stop(proc)


def stop(proc: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)  # uvicorn shuts down gracefully (flushes the query log)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        log.warning("server %d did not stop in %.0f s: killing it", proc.pid, timeout_s)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@dataclass
class RssSeries:
    """(seconds since start, RSS MB) of the server process and of it plus its children."""

    server: list[tuple[float, float]] = field(default_factory=list)
    tree: list[tuple[float, float]] = field(default_factory=list)


@contextlib.contextmanager
def sample_rss(pid: int, interval_s: float = 5.0) -> Iterator[RssSeries]:
    """Sample ``pid``'s RSS (and its process tree's) every ``interval_s`` while the block runs."""
    import psutil

    series = RssSeries()
    proc = psutil.Process(pid)
    t0 = time.monotonic()

    def take() -> None:
        try:
            own = proc.memory_info().rss
            kids = 0
            for child in proc.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    kids += child.memory_info().rss
        except psutil.Error:
            return
        now = time.monotonic() - t0
        series.server.append((now, own / 2**20))
        series.tree.append((now, (own + kids) / 2**20))

    with every(interval_s, take):
        yield series
