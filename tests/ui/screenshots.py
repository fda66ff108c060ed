"""Start the UI (``fda ui``'s command) against the fake API, load pages in headless Chromium, keep
screenshots and DOM dumps. Used by the slow browser test and to refresh the README's pictures:

    .venv/bin/python -m tests.ui.screenshots docs/img      # writes docs/img/ui-*.png
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.ui.browser import browser
from tests.ui.conftest import ApiServer, free_port
from tests.ui.fixtures import make_state
from ui.launch import streamlit_command


@dataclass(frozen=True)
class Shot:
    name: str
    path: str
    expect: tuple[str, ...]


SHOTS = (
    Shot("runs", "", ("Evaluation runs", "Headline metrics", "By type and category")),
    Shot("question", "question", ("Question drill-down", "Retrieved passages", "Gold")),
    Shot("labelling", "labelling", ("Labelling", "Judge-human agreement", "Save label")),
    Shot("playground", "playground?q=How+do+I+enable+CORS%3F&ask=1", ("Playground", "Sources", "Was this helpful?")),
    Shot("coverage", "coverage", ("Coverage", "By docs area", "never retrieved")),
    Shot("service", "service", ("Service", "Questions per minute", "Latency per stage")),
)


@contextmanager
def running_ui(state_dir: Path, api_url: str, log_path: Path) -> Iterator[str]:
    """``fda ui``'s streamlit command on a free loopback port; yields the base URL once it answers."""
    port = free_port()
    env = {**os.environ, "FDA_STATE_DIR": str(state_dir), "FDA_UI__API_URL": api_url}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(streamlit_command("127.0.0.1", port), env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not start (log: {log_path})")
                time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def capture(work: Path, out_dir: Path, shots: tuple[Shot, ...] = SHOTS, n_questions: int = 14) -> dict[str, str]:
    """Fixture state + fake API + UI + Chromium: ``out_dir/ui-<name>.png`` per shot; returns the DOMs."""
    state = make_state(work / "state", n_questions=n_questions)
    out_dir.mkdir(parents=True, exist_ok=True)
    doms: dict[str, str] = {}
    with (
        ApiServer(work / "api") as api,
        running_ui(state.state_dir, api.url, work / "streamlit.log") as url,
        browser() as page,
    ):
        for shot in shots:
            page.load(f"{url}/{shot.path}", shot.expect)
            page.screenshot(out_dir / f"ui-{shot.name}.png")
            doms[shot.name] = page.dom()
            (work / f"dom-{shot.name}.html").write_text(doms[shot.name], encoding="utf-8")
    return doms


if __name__ == "__main__":  # pragma: no cover - refreshes docs/img
    import tempfile

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img")
    with tempfile.TemporaryDirectory(prefix="fda-ui-shots-") as tmp:
        capture(Path(tmp), target, n_questions=40)
    sys.stdout.write(f"screenshots in {target}\n")
