"""UI test fixtures: a state folder made by the real eval/log/store code (tests/ui/fixtures.py), the real
API app with fake services served by uvicorn on loopback in a thread, and the env the pages read."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fda.settings import Settings
from tests.ui.fixtures import FixtureState, make_state

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "ui"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ApiServer:
    """The real app (api.main.create_app) with the fake services of tests/api, on 127.0.0.1:<port>."""

    def __init__(self, state_dir: Path) -> None:
        import uvicorn

        from api.main import create_app
        from tests.api.conftest import make_services

        settings = Settings(state_dir=state_dir, api={"log_flush_s": 0.2})  # type: ignore[arg-type]
        app = create_app(settings, lambda s: make_services(s, state_dir))
        self.spool_dir = state_dir / "spool"  # where make_services spools query logs and feedback
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, name="fake-api", daemon=True)

    def __enter__(self) -> ApiServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the fake API did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def fixture_state(tmp_path_factory: pytest.TempPathFactory) -> FixtureState:
    return make_state(tmp_path_factory.mktemp("ui-state"))


@pytest.fixture(scope="session")
def fake_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    with ApiServer(tmp_path_factory.mktemp("api-state")) as server:
        yield server


@pytest.fixture
def ui_env(monkeypatch: pytest.MonkeyPatch, fixture_state: FixtureState, fake_api: ApiServer) -> FixtureState:
    """Pages read settings from the environment: point them at the fixture state and the fake API."""
    from fda.settings import get_settings

    monkeypatch.setenv("FDA_STATE_DIR", str(fixture_state.state_dir))
    monkeypatch.setenv("FDA_UI__API_URL", fake_api.url)
    monkeypatch.setenv("FDA_UI__LOAD_COMMITTED_RUNS", "false")  # the fixture's runs only
    get_settings.cache_clear()
    return fixture_state


@pytest.fixture
def empty_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A fresh state folder with nothing in it, and an API URL where nothing listens."""
    from fda.settings import get_settings

    monkeypatch.setenv("FDA_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("FDA_UI__API_URL", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    return tmp_path
