"""A managed local LM server: one child process serving one GGUF over OpenAI-compatible HTTP on 127.0.0.1.

    with LocalServer(ServerConfig(model_path, "qwen2.5-coder-0.5b")) as server:
        dspy.LM("openai/qwen2.5-coder-0.5b", api_base=server.api_base, api_key="local")

Why a child process (``fda.lm.worker``) rather than a server thread in this process: llama.cpp's
log goes to its own file, a crash in native code cannot take the API down, and stopping is certain
(close its stdin; then SIGTERM; then SIGKILL). The worker exits by itself when its stdin closes, so
it cannot outlive a parent that dies. The port is picked by the worker (bind to port 0) and reported
back on its stdout, so there is no race for a free port.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from fda.errors import LMUnavailableError

log = logging.getLogger(__name__)

WORKER_COMMAND = (sys.executable, "-m", "fda.lm.worker")


def llama_env(threads: int, environ: Mapping[str, str]) -> dict[str, str]:
    """OpenMP settings for llama.cpp, applied before it loads (the wheel is built with OpenMP).

    OMP_WAIT_POLICY=PASSIVE: with the default spin-waiting, 2 threads on a busy 2-core box decoded at
    1.2 tok/s instead of 13 (0.5B, load average 8; docs/benchmarks.md). A value already set wins.
    """
    return {"OMP_NUM_THREADS": str(threads), "OMP_WAIT_POLICY": environ.get("OMP_WAIT_POLICY", "PASSIVE")}


@dataclass(frozen=True)
class ServerConfig:
    model_path: Path
    alias: str  # the model name the server answers to (``openai/<alias>``)
    context_size: int = 4096  # tokens of KV cache, shared by the parallel slots
    threads: int = 2
    parallel: int = 1  # concurrent requests (slots)
    host: str = "127.0.0.1"
    port: int = 0  # 0: a free port picked by the worker
    speculative: str = "none"  # "draft" (draft_path proposes tokens) or "ngram" (from the prompt's n-grams)
    draft_path: Path | None = None
    draft_max: int = 16
    lora_path: Path | None = None  # an adapted model: the LoRA adapter GGUF applied to model_path

    def argv(self) -> list[str]:
        extra = ["--speculative", self.speculative, "--draft-max", str(self.draft_max)]
        if self.draft_path is not None:
            extra += ["--draft", str(self.draft_path)]
        return [
            *(extra if self.speculative != "none" else []),
            *(["--lora", str(self.lora_path)] if self.lora_path is not None else []),
            "--model",
            str(self.model_path),
            "--alias",
            self.alias,
            "--ctx",
            str(self.context_size),
            "--threads",
            str(self.threads),
            "--parallel",
            str(self.parallel),
            "--host",
            self.host,
            "--port",
            str(self.port),
        ]


class LocalServer:
    """Start, health-check and stop one worker process. Not thread-safe: ``LocalRuntime`` serialises."""

    def __init__(
        self,
        config: ServerConfig,
        *,
        startup_timeout_s: float = 120.0,
        log_path: Path | None = None,
        command: Sequence[str] = WORKER_COMMAND,
    ) -> None:
        self.config = config
        self.startup_timeout_s = startup_timeout_s
        self.log_path = log_path
        self.command = list(command)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._log_file: Path | None = None
        self._base_url: str | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def base_url(self) -> str:
        if self._base_url is None or not self.running:
            raise LMUnavailableError(f"local LM server {self.config.alias} is not running")
        return self._base_url

    @property
    def api_base(self) -> str:
        return self.base_url + "/v1"

    def start(self) -> str:
        """Start the worker, wait until it reports its address and answers /health; return the base URL."""
        if self.running:
            return self.base_url
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log_file = self.log_path
        else:  # kept only for error reports; removed in stop()
            fd, name = tempfile.mkstemp(prefix=f"fda-lm-{self.config.alias}-", suffix=".log")
            os.close(fd)
            self._log_file = Path(name)
        self._log = self._log_file.open("ab")  # append mode: the worker's writes never race our reads
        env = {**os.environ, **llama_env(self.config.threads, os.environ), "PYTHONUNBUFFERED": "1"}
        t0 = time.perf_counter()
        self._proc = subprocess.Popen(
            [*self.command, *self.config.argv()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=env,
        )
        atexit.register(self.stop)
        try:
            address = self._await_address(t0 + self.startup_timeout_s)
            self._await_health(address, t0 + self.startup_timeout_s)
        except BaseException:
            self.stop(timeout_s=2.0)  # it failed to start: no in-flight work to let finish
            raise
        self._base_url = address
        log.info(
            "local LM %s ready at %s (pid %d, %.1f s)",
            self.config.alias,
            address,
            self._proc.pid,
            time.perf_counter() - t0,
        )
        return address

    def stop(self, timeout_s: float = 10.0) -> None:
        """Close the worker's stdin (it exits); after ``timeout_s`` SIGTERM, after as long SIGKILL. Idempotent."""
        proc, self._proc, self._base_url = self._proc, None, None
        atexit.unregister(self.stop)
        if proc is not None:
            if proc.poll() is None:
                _close_quietly(proc.stdin)
                try:
                    proc.wait(timeout_s)
                except subprocess.TimeoutExpired:
                    log.warning("local LM %s ignored stdin EOF; terminating", self.config.alias)
                    proc.terminate()
                    try:
                        proc.wait(timeout_s)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
            _close_quietly(proc.stdin)
            _close_quietly(proc.stdout)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.log_path is None and self._log_file is not None:
            self._log_file.unlink(missing_ok=True)
            self._log_file = None

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _await_address(self, deadline: float) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        lines: queue.Queue[bytes] = queue.Queue()
        stdout = self._proc.stdout
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=max(0.0, deadline - time.perf_counter()))
        except queue.Empty:
            raise LMUnavailableError(
                f"local LM {self.config.alias} did not start within {self.startup_timeout_s:.0f} s",
                hint=f"Raise FDA_LM__STARTUP_TIMEOUT_S or check the log{self._log_hint()}.",
            ) from None
        if not line:
            rc = self._proc.wait()
            raise LMUnavailableError(
                f"local LM {self.config.alias} exited with code {rc} before it was ready: {self.log_tail()}",
                hint=f"Check the model file (`fda models fetch --verify`) and the log{self._log_hint()}.",
            )
        try:
            payload: dict[str, Any] = json.loads(line)
            return str(payload["address"]).rstrip("/")
        except (ValueError, KeyError) as err:
            raise LMUnavailableError(f"local LM {self.config.alias} sent an unexpected line: {line[:200]!r}") from err

    def _await_health(self, address: str, deadline: float) -> None:
        last: Exception | None = None
        while time.perf_counter() < deadline:
            if not self.running:
                break
            try:
                with urllib.request.urlopen(address + "/health", timeout=5) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError) as err:  # 503 while loading, refused while binding
                last = err
            time.sleep(0.2)
        raise LMUnavailableError(
            f"local LM {self.config.alias} at {address} failed its health check: {last}",
            hint=f"See the log{self._log_hint()}.",
        )

    def log_tail(self, n_bytes: int = 1500) -> str:
        """The end of the worker's log (llama.cpp's own messages), for error reports."""
        if self._log_file is None:
            return ""
        try:
            with self._log_file.open("rb") as f:
                f.seek(max(0, f.seek(0, os.SEEK_END) - n_bytes))
                return f.read().decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def _log_hint(self) -> str:
        return f" ({self.log_path})" if self.log_path else ""


def _close_quietly(stream: IO[bytes] | None) -> None:
    if stream is not None:
        with contextlib.suppress(OSError):
            stream.close()
