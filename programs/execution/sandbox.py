"""Run untrusted Python (an answer's code) in a separate process that can do little harm.

    sandbox = Sandbox(SandboxLimits(timeout_s=10, memory_mb=1024), hide=[state_dir])
    result = sandbox.run(source, stdin=json_job)     # SandboxResult(returncode, stdout, stderr, timed_out, ms)

Linux namespaces (``unshare``, util-linux) give the process:
- **no network**: a new network namespace with only a loopback device, never brought up;
- **its own view of the files**: a private 32 MB tmpfs on /tmp (its working folder, so it cannot fill the disk),
  empty tmpfs over each path in ``hide`` (the state folder, ``.env``, home folders) and its own /proc, so
  neither the service's files nor other processes' environments are visible;
- **its own process tree**: a new PID namespace, killed as a whole when time runs out;
- **no privileges**: it drops to a uid of its own (one per concurrent run) with no capabilities and
  ``no_new_privs``; this needs root (a user namespace would leave the code root inside it);
- **limits** (rlimits): address space, CPU seconds, file size, open files, processes, no core dumps; a
  clean environment (PATH, HOME, LANG only: no keys), and a wall-clock timeout.

Where namespaces are not allowed (most containers without privileges, macOS) ``Sandbox.mode`` is ``None``
and ``run`` raises :class:`SandboxUnavailableError`: the code is then not run at all, never run unconfined.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO, Literal

from fda.errors import SandboxBusyError, SandboxUnavailableError

log = logging.getLogger(__name__)

Mode = Literal["root"]
# home folders, and the places other than /tmp where a process can leave files or reach other processes' sockets
ALWAYS_HIDDEN = (Path("/root"), Path("/home"), Path("/var/tmp"), Path("/dev/shm"), Path("/run"))
NOBODY = 65534
# each run gets a uid of its own, so one run's fork bomb spends its own process budget (RLIMIT_NPROC counts a
# uid's processes machine-wide), not the next run's: a block of uids per process, one per slot, shared by every
# Sandbox of the process. The pool is also the limit on runs at once (each is a Python with FastAPI).
RUN_UIDS = 2_000_000 + (os.getpid() % 100_000) * 8
SLOTS = 2
_FREE_UIDS: queue.Queue[int] = queue.Queue()
for _slot in range(SLOTS):
    _FREE_UIDS.put(RUN_UIDS + _slot)
OUTPUT_CAP = 16 * 1024 * 1024  # bytes a run may write to a file, its stdout included


@dataclass(frozen=True)
class SandboxLimits:
    timeout_s: float = 10.0
    memory_mb: int = 1024  # address space; Python with FastAPI and pydantic maps about 400 MB
    max_processes: int = 64  # per run: each run has a uid of its own
    tmp_mb: int = 32


@dataclass(frozen=True)
class SandboxResult:
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool
    ms: float


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _setup_script(
    hide: Sequence[Path],
    keep: Sequence[Path],
    tmp_mb: int,
    drop: bool,
    command: Sequence[str],
    uid: int = NOBODY,
    kill_after_s: int = 0,
) -> str:
    """What runs first inside the namespaces (as their root): mounts, then the command as a child.

    A hidden folder that holds a ``keep`` path (the Python installation, under /root with pyenv) gets a
    tmpfs with only that path bound back in, at the same place, so the interpreter and the venv still work.
    """
    lines = [
        "set -e",
        "mount --make-rprivate /",
        f"mount -t tmpfs -o size={tmp_mb}m,mode=1777 tmpfs /tmp",
        "mkdir -m 0700 /tmp/work",
    ]
    staged = 0
    for path in hide:
        q = shlex.quote(str(path))
        kept = [k for k in keep if _inside(k, path) and k != path]
        for k in kept:
            lines.append(f"mkdir -p /tmp/.keep{staged + kept.index(k)}")
            lines.append(f"mount --rbind {shlex.quote(str(k))} /tmp/.keep{staged + kept.index(k)}")
        # a folder gets an empty tmpfs (unreadable unless something is kept in it); a file gets /dev/null
        mode = "0755" if kept else "000"
        lines.append(f"if [ -d {q} ]; then mount -t tmpfs -o size=64k,mode={mode} tmpfs {q}; fi")
        lines.append(f"if [ -f {q} ]; then mount --bind /dev/null {q}; fi")
        for k in kept:
            lines.append(f"mkdir -p {shlex.quote(str(k))}")
            lines.append(f"mount --move /tmp/.keep{staged + kept.index(k)} {shlex.quote(str(k))}")
        staged += len(kept)
    if drop:
        lines.append(f"chown {uid}:{uid} /tmp/work")
        setpriv = [
            "setpriv",
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            "--no-new-privs",
            "--inh-caps=-all",
            "--bounding-set=-all",
        ]
        command = [*setpriv, *command]
    if kill_after_s:  # a second clock inside: the run dies even when the service that started it is killed
        command = ["timeout", "-s", "KILL", str(kill_after_s), *command]
    lines.append("cd /tmp/work")
    # sh stays PID 1 of the namespace, as root: its parent-death signal (--kill-child) survives, so killing the
    # run kills the namespace and everything in it (an exec'd setpriv would lose it with the uid change)
    lines.append("set +e")
    lines.append(" ".join(shlex.quote(c) for c in command))
    lines.append("exit $?")
    return "\n".join(lines)


class Sandbox:
    def __init__(
        self,
        limits: SandboxLimits | None = None,
        hide: Sequence[Path] = (),
        python: str | None = None,
        mode: Mode | Literal["auto"] | None = "auto",
    ) -> None:
        self.limits = limits or SandboxLimits()
        paths = [Path(os.path.abspath(p)) for p in hide]  # a relative state dir is relative to here, not to /
        self.hide = [p for p in dict.fromkeys([*paths, *ALWAYS_HIDDEN]) if p != Path("/")]
        self.python = python or sys.executable
        # the interpreter and the venv, bound back in where a hidden folder holds them (pyenv under /root)
        self.keep = list(dict.fromkeys(Path(os.path.realpath(p)) for p in (sys.base_prefix, sys.prefix)))
        self._mode = mode

    @cached_property
    def mode(self) -> Mode | None:
        """``root`` when this machine can isolate code (namespaces, then an unprivileged uid), else None. A user namespace
        without root is not used: the code would be root in it, could undo the hiding (umount) and write
        the service user's files."""
        if self._mode != "auto":
            return self._mode
        missing = [c for c in ("unshare", "prlimit", "setpriv", "timeout") if shutil.which(c) is None]
        if missing:
            log.warning("code checks off: %s (util-linux) not on this machine", ", ".join(missing))
            return None
        if os.geteuid() != 0:
            log.warning(
                "code checks off: the sandbox needs root to drop the code to an unprivileged uid in its namespaces"
            )
            return None
        try:  # the whole path, the interpreter included: a venv it cannot reach fails here, not in every answer
            probe = self._run("root", "print('ok')", "")
        except OSError as err:
            log.warning("code checks off: the sandbox did not start: %s", err)
            return None
        if probe.returncode != 0 or probe.stdout.strip() != "ok":
            tail = (probe.stderr.strip().splitlines() or [f"exit status {probe.returncode}"])[-1]
            log.warning("code checks off: the sandbox's probe failed: %s", tail[:200])
            return None
        return "root"

    @staticmethod
    def _unshare(mode: Mode) -> list[str]:
        return ["unshare", "--net", "--pid", "--fork", "--mount", "--mount-proc", "--ipc", "--uts", "--kill-child"]

    def _limits(self) -> list[str]:
        """``prlimit`` before ``unshare``: the limits every process of the run inherits (a command, not a
        ``preexec_fn``, which can deadlock when the service forks from a threaded process)."""
        mb = 1024 * 1024
        cpu = int(self.limits.timeout_s) + 1
        return [
            "prlimit",
            f"--as={self.limits.memory_mb * mb}",
            f"--cpu={cpu}",
            f"--fsize={OUTPUT_CAP}",
            "--nofile=256",
            "--core=0",
            f"--nproc={self.limits.max_processes}",
            "--",
        ]

    def run(self, source: str, stdin: str = "") -> SandboxResult:
        """Run ``python -I -c source`` confined, with ``stdin``; what it printed, its exit status and time."""
        mode = self.mode
        if mode is None:
            raise SandboxUnavailableError("this machine cannot isolate the answer's code (no Linux namespaces)")
        return self._run(mode, source, stdin)

    def _run(self, mode: Mode, source: str, stdin: str) -> SandboxResult:
        command = [self.python, "-I", "-B", "-c", source]
        wait = 2 * self.limits.timeout_s
        try:
            uid = _FREE_UIDS.get(timeout=wait)  # one of the slots: waits while every slot runs
        except queue.Empty:
            raise SandboxBusyError(f"{SLOTS} code checks were running for {wait:g} s; this one did not start") from None
        try:
            return self._run_as(mode, command, stdin, uid)
        finally:
            _FREE_UIDS.put(uid)

    def _run_as(self, mode: Mode, command: list[str], stdin: str, uid: int) -> SandboxResult:
        kill_after = int(self.limits.timeout_s) + 2
        script = _setup_script(
            self.hide, self.keep, self.limits.tmp_mb, drop=True, command=command, uid=uid, kill_after_s=kill_after
        )
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp/work", "LANG": "C.UTF-8"}
        t0 = time.perf_counter()
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(
                [*self._limits(), *self._unshare(mode), "/bin/sh", "-c", script],
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=err,
                env=env,
                cwd="/",
                start_new_session=True,
            )
            timed_out = False
            try:
                proc.communicate(stdin.encode("utf-8"), timeout=self.limits.timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill(proc)
            ms = (time.perf_counter() - t0) * 1000
            return SandboxResult(proc.returncode, _tail(out), _tail(err), timed_out, round(ms, 1))


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, 9)
    proc.wait()


def _tail(handle: IO[bytes], cap: int = 64 * 1024) -> str:
    """At most the last ``cap`` bytes the run wrote."""
    size = handle.seek(0, os.SEEK_END)
    handle.seek(max(0, size - cap))
    return handle.read().decode("utf-8", "replace")
