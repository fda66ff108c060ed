"""The real-browser check: headless Chromium (Debian's `chromium`) loads the running UI, which talks to a
running API (the real app with fake services); screenshots and the rendered DOM show the key elements.

    make chromium && .venv/bin/python -m pytest -m slow tests/ui/test_browser.py
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.ui.browser import chromium_path
from tests.ui.screenshots import SHOTS, capture

pytestmark = pytest.mark.slow


def test_ui_renders_in_a_real_browser(tmp_path: Path) -> None:
    assert chromium_path(), "chromium is not installed: run `make chromium` (apt-get install -y chromium)"
    out = tmp_path / "img"
    doms = capture(tmp_path / "work", out)
    for shot in SHOTS:
        png = out / f"ui-{shot.name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000, shot.name
    nav = ("Runs", "Question drill-down", "Labelling", "Playground", "Coverage", "Service")
    for name, dom in doms.items():
        assert all(f">{label}<" in dom for label in nav), f"navigation missing on {name}"
        assert "API ready at" in dom, name
        assert 'data-testid="stException"' not in dom, f"a Python exception is shown on {name}"
    runs = doms["runs"]
    assert runs.count('data-testid="stVegaLiteChart"') >= 3  # headline CIs and the per-type/category charts
    assert "20260102-120000-rag-hybrid-dev" in runs
    assert 'data-testid="stMetric"' in runs
    play = doms["playground"]
    assert 'href="https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware"' in play  # a citation link
    assert "Answer to: How do I enable CORS?" in play
    assert re.search(r">\s*Helpful\s*<", play) and re.search(r">\s*Not helpful\s*<", play)
    assert 'data-testid="stVegaLiteChart"' in doms["coverage"]
    assert doms["service"].count('data-testid="stVegaLiteChart"') >= 2  # questions per minute, stage latency
    assert "Save label" in doms["labelling"]
