"""The sandbox holds against code that tries to read the environment or the state folder, reach the network,
fork without end, fill the disk or memory, or run forever (docs/code-checks.md)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from fda.errors import SandboxUnavailableError
from programs.execution.sandbox import Sandbox, SandboxLimits, _setup_script


def run(sandbox: Sandbox, code: str) -> tuple[int, str, str]:
    result = sandbox.run(code)
    return result.returncode, result.stdout.strip(), result.stderr.strip()


def test_plain_code_runs_and_prints(sandbox: Sandbox) -> None:
    assert run(sandbox, "import fastapi; print('ok', fastapi.__name__)") == (0, "ok fastapi", "")


def test_it_cannot_read_the_state_folder(sandbox: Sandbox, secret_dir: Path) -> None:
    assert (secret_dir / "mlflow.db").read_text() == "TOP-SECRET-STATE"  # readable by anyone outside
    code, out, err = run(sandbox, f"print(open({str(secret_dir / 'mlflow.db')!r}).read())")
    assert code != 0 and "TOP-SECRET-STATE" not in out
    assert "PermissionError" in err or "FileNotFoundError" in err
    code, out, err = run(
        sandbox, f"import subprocess; print(subprocess.run(['umount', {str(secret_dir)!r}]).returncode)"
    )
    assert out.strip() != "0"  # and cannot undo the hiding


def test_it_sees_no_secrets_in_its_environment(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FDA_LM__API_KEY", "sk-should-not-leak")
    code, out, _ = run(sandbox, "import os; print(sorted(os.environ))")
    assert code == 0 and "FDA_LM__API_KEY" not in out and "sk-" not in out


def test_it_cannot_read_other_processes_or_home_folders(sandbox: Sandbox) -> None:
    code, out, _ = run(sandbox, "import os; print([p for p in os.listdir('/proc') if p.isdigit()])")
    # its own process tree only: the namespace's sh (PID 1) and itself
    assert code == 0 and eval(out)[0] == "1" and len(eval(out)) <= 3 and str(os.getpid()) not in eval(out)
    code, out, _ = run(sandbox, "import os; print(os.listdir('/root'))")
    assert ".bashrc" not in out and ".ssh" not in out


def test_it_has_no_network(sandbox: Sandbox) -> None:
    code, _, err = run(sandbox, "import socket; socket.create_connection(('1.1.1.1', 80), timeout=2)")
    assert code != 0 and "OSError" in err


def test_it_does_not_run_as_root(sandbox: Sandbox) -> None:
    code, out, _ = run(sandbox, "import os; print(os.geteuid(), os.getegid(), os.getgroups())")
    uid, gid, groups = out.split(" ", 2)
    assert int(uid) >= 2_000_000 and uid == gid and groups == "[]"  # a uid of its own, no account, no groups
    code, _, err = run(sandbox, "open('/etc/shadow').read()")
    assert code != 0 and "PermissionError" in err


def test_fork_bombs_hit_the_process_limit(sandbox: Sandbox) -> None:
    code, _, err = run(sandbox, "import os\nfor _ in range(500):\n    os.fork()")
    assert code != 0 and "BlockingIOError" in err


def test_it_leaves_nothing_behind_in_shared_folders(sandbox: Sandbox) -> None:
    marker = f"fda-sandbox-test-{os.getpid()}"
    script = (
        f"for d in ('/var/tmp', '/dev/shm', '/run', '/tmp'):\n"
        f"    try:\n        open(d + '/{marker}', 'w').write('x'); print(d, 'written')\n"
        f"    except OSError:\n        print(d, 'refused')"
    )
    code, out, _ = run(sandbox, script)
    assert code == 0 and "/tmp written" in out  # its own /tmp works; the others are empty, closed tmpfs
    assert not any(Path(d, marker).exists() for d in ("/var/tmp", "/dev/shm", "/run", "/tmp"))


def test_it_cannot_fill_the_disk(sandbox: Sandbox) -> None:
    code, _, err = run(sandbox, "open('big', 'wb').write(b'x' * 200_000_000)")
    assert code != 0 and ("File too large" in err or "No space left" in err or "MemoryError" in err)


def test_memory_is_capped(sandbox: Sandbox) -> None:
    code, _, err = run(sandbox, "x = bytearray(4_000_000_000)")
    assert code != 0 and "MemoryError" in err


@pytest.mark.parametrize(
    "code",
    [
        "import os, time\nif os.fork() == 0:\n    time.sleep(60)\nwhile True:\n    pass",
        "import os, time\nos.setsid()\ntime.sleep(60)",  # leaves the process group the timeout kills
    ],
)
def test_endless_code_is_killed_with_all_its_children(sandbox: Sandbox, code: str) -> None:
    box = Sandbox(SandboxLimits(timeout_s=1.5), hide=sandbox.hide, mode=sandbox.mode)
    result = box.run(code)
    assert result.timed_out and result.ms < 5000
    time.sleep(0.5)
    survivors = subprocess.run(["pgrep", "-u", "65534", "-f", "time.sleep"], capture_output=True, text=True).stdout
    assert survivors.strip() == ""


def test_no_namespaces_means_nothing_runs() -> None:
    box = Sandbox(mode=None)
    with pytest.raises(SandboxUnavailableError, match="cannot isolate"):
        box.run("print('unconfined')")


def test_the_interpreter_stays_reachable_inside_a_hidden_folder() -> None:
    script = _setup_script([Path("/root")], [Path("/root/.pyenv/versions/3.11")], 32, True, ["python", "-c", "1"])
    assert "mount -t tmpfs -o size=64k,mode=0755 tmpfs /root" in script
    assert script.index("mount --rbind /root/.pyenv/versions/3.11") < script.index("tmpfs /root")
    assert "mount --move /tmp/.keep0 /root/.pyenv/versions/3.11" in script
    assert "--reuid=65534" in script and script.rstrip().endswith("python -c 1\nexit $?")  # sh stays PID 1
    assert os.path.isabs(script.split("cd ")[1].split()[0])
