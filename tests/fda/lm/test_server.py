"""LocalServer and LocalRuntime against a fake worker process (same protocol, no model)."""

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from fda.errors import LMUnavailableError
from fda.lm.registry import ModelSpec
from fda.lm.runtime import LocalRuntime
from fda.lm.server import LocalServer, ServerConfig
from tests.fda.lm.conftest import fake_command

CONFIG = ServerConfig(Path("/nonexistent.gguf"), "fake", context_size=2048, threads=1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); read its state
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _wait_gone(pid: int, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_start_health_and_stop() -> None:
    server = LocalServer(CONFIG, command=fake_command("ok"), startup_timeout_s=20)
    url = server.start()
    try:
        assert url.startswith("http://127.0.0.1:") and server.api_base == url + "/v1"
        with urllib.request.urlopen(url + "/health", timeout=5) as resp:
            assert json.loads(resp.read()) == {"status": "ok"}
        pid = server.pid
        assert pid is not None and server.running
    finally:
        server.stop()
    assert not server.running and _wait_gone(pid)
    with pytest.raises(LMUnavailableError):
        _ = server.base_url
    server.stop()  # twice is fine


def test_a_worker_that_crashes_reports_its_log() -> None:
    server = LocalServer(CONFIG, command=fake_command("crash"), startup_timeout_s=20)
    with pytest.raises(LMUnavailableError, match=r"exited with code 3.*cannot load model"):
        server.start()
    assert not server.running


def test_a_worker_that_never_reports_is_killed_after_the_timeout() -> None:
    server = LocalServer(CONFIG, command=fake_command("hang"), startup_timeout_s=1.0)
    t0 = time.monotonic()
    with pytest.raises(LMUnavailableError, match="did not start within"):
        server.start()
    assert time.monotonic() - t0 < 15 and not server.running


def test_stop_escalates_when_the_worker_ignores_eof_and_sigterm() -> None:
    server = LocalServer(CONFIG, command=fake_command("deaf"), startup_timeout_s=20)
    server.start()
    pid = server.pid
    assert pid is not None
    server.stop(timeout_s=0.5)
    assert _wait_gone(pid)


def test_worker_exits_when_its_parent_dies(tmp_path: Path) -> None:
    """The parent is SIGKILLed (no atexit); the worker sees stdin EOF and exits by itself."""
    script = tmp_path / "parent.py"
    script.write_text(
        "import os, sys\n"
        "from pathlib import Path\n"
        "from fda.lm.server import LocalServer, ServerConfig\n"
        f"s = LocalServer(ServerConfig(Path('/x.gguf'), 'fake'), command={fake_command('ok')!r})\n"
        "s.start()\n"
        "print(s.pid, flush=True)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=root, timeout=60)
    child = int(out.stdout.split()[0])
    assert _wait_gone(child), f"worker {child} outlived its parent"


def test_runtime_reuses_a_running_server_and_restarts_a_dead_one(
    make_parts: Callable[..., ModelSpec], tmp_path: Path
) -> None:
    spec = make_parts([b"GGUF", b"1234"])
    with LocalRuntime(tmp_path / "models", threads=1, command=fake_command("ok"), log_dir=tmp_path / "logs") as rt:
        first = rt.server_for(spec)
        assert rt.server_for(spec) is first and rt.running() == [spec.name]
        assert (tmp_path / "models" / "fake-model.gguf").is_file()  # assembled on first use
        assert first.config.model_path == tmp_path / "models" / "fake-model.gguf"
        pid = first.pid
        assert pid is not None
        os.kill(pid, 9)
        deadline = time.monotonic() + 10
        while first.running and time.monotonic() < deadline:  # reaped (a zombie leader may linger briefly)
            time.sleep(0.05)
        assert not first.running
        second = rt.server_for(spec)
        assert second is not first and second.running
    assert not second.running and rt.running() == []


def test_runtime_caps_the_context_at_the_model_limit(make_parts: Callable[..., ModelSpec], tmp_path: Path) -> None:
    spec = make_parts([b"GGUF"])
    rt = LocalRuntime(tmp_path, context_size=100_000, threads=3, parallel=2)
    cfg = rt.config_for(spec, tmp_path / "x.gguf")
    assert (cfg.context_size, cfg.threads, cfg.parallel, cfg.alias) == (2048, 3, 2, "fake-model")
    assert cfg.argv()[cfg.argv().index("--ctx") + 1] == "2048"


@pytest.mark.parametrize(("preset", "expected"), [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_worker_gets_openmp_settings(monkeypatch: pytest.MonkeyPatch, preset: str | None, expected: str) -> None:
    if preset is None:
        monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    else:
        monkeypatch.setenv("OMP_WAIT_POLICY", preset)
    cfg = ServerConfig(Path("/x.gguf"), "fake", threads=3)
    with (
        LocalServer(cfg, command=fake_command("ok")) as server,
        urllib.request.urlopen(server.base_url + "/env", timeout=5) as resp,
    ):
        env = json.loads(resp.read())
    assert env == {"OMP_NUM_THREADS": "3", "OMP_WAIT_POLICY": expected}


def test_speculative_settings_reach_the_worker(make_parts: Callable[..., ModelSpec], tmp_path: Path) -> None:
    from fda.lm.worker import parse_args

    spec = make_parts([b"GGUF"])
    rt = LocalRuntime(tmp_path, speculative="ngram", draft_max=8)
    cfg = rt.config_for(spec, tmp_path / "x.gguf")
    assert (cfg.speculative, cfg.draft_path, cfg.draft_max) == ("ngram", None, 8)
    back = parse_args(cfg.argv())  # what the worker process reads
    assert (back.speculative, back.draft_max, back.draft_path) == ("ngram", 8, None)
    # a model never drafts for itself: speculative decoding is off then
    same = LocalRuntime(tmp_path, speculative="draft", draft=spec).config_for(spec, tmp_path / "x.gguf")
    assert same.speculative == "none" and "--speculative" not in same.argv()
    assert parse_args(ServerConfig(Path("/m.gguf"), "m").argv()).speculative == "none"
    # only the served model: a judge or teacher on the same runtime decodes as usual
    only = LocalRuntime(tmp_path, speculative="ngram", speculative_for="served-model")
    assert only.config_for(spec, tmp_path / "x.gguf").speculative == "none"


def test_the_worker_configures_llama_cpp_for_each_mode() -> None:
    import xllamacpp

    from fda.lm.worker import speculative

    kinds = xllamacpp.common_speculative_type
    for mode, draft, kind in (
        ("draft", Path("/d.gguf"), kinds.COMMON_SPECULATIVE_TYPE_DRAFT_SIMPLE),
        ("ngram", None, kinds.COMMON_SPECULATIVE_TYPE_NGRAM_SIMPLE),
        ("none", None, kinds.COMMON_SPECULATIVE_TYPE_NONE),
    ):
        params = xllamacpp.CommonParams()
        speculative(
            params, ServerConfig(Path("/m.gguf"), "m", threads=2, speculative=mode, draft_path=draft), xllamacpp
        )
        assert list(params.speculative.types) == [kind]
        if draft is not None:
            assert params.speculative.draft.mparams.path == "/d.gguf" and params.speculative.draft.n_max == 16
    with pytest.raises(ValueError, match="--draft"):
        speculative(xllamacpp.CommonParams(), ServerConfig(Path("/m.gguf"), "m", speculative="draft"), xllamacpp)


def test_a_stopping_worker_exits_after_its_grace_when_llama_cpp_waits_on_a_generation() -> None:
    """llama.cpp's destructor waits for the generation in flight (an answer the service already timed out on) and
    holds the GIL meanwhile: the worker process ends after the grace instead, so a stopping service does not wait
    20 s (session 21). A close that returns in time ends nothing."""
    import subprocess
    import sys
    import time

    child = (
        "import time; from fda.lm.worker import close_within\n"
        "close_within(lambda: None, 5); print('closed in time', flush=True)\n"
        "close_within(lambda: time.sleep(30), 1); print('not reached', flush=True)\n"
    )
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=20)
    assert done.stdout.strip() == "closed in time" and done.returncode != 0
    assert time.perf_counter() - t0 < 10
