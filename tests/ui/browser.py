"""Drive headless Chromium (Debian's ``chromium``) over the DevTools protocol: load a page, wait until
Streamlit has rendered the expected text, save a screenshot and the rendered DOM.

``chromium --dump-dom`` / ``--screenshot`` fire at the load event, before Streamlit's websocket delivers
the page (the script runs server-side after the load), so the waiting happens here instead.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
BUSY = "document.querySelector('[data-testid=\"stStatusWidget\"]') !== null"


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Page:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self.ws.recv(timeout=60))
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result

    def eval(self, expression: str) -> Any:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def load(self, url: str, expect: Sequence[str], timeout_s: float = 90.0, settle_s: float = 1.5) -> None:
        """Navigate and wait until every ``expect`` text is on the page and Streamlit has stopped running."""
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout_s
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            text = self.eval("document.body ? document.body.innerText : ''") or ""
            ready = all(e in text for e in expect) and not self.eval(BUSY)
            if ready:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= settle_s:
                    return
            else:
                quiet_since = None
            time.sleep(0.25)
        text = self.eval("document.body.innerText") or ""
        missing = [e for e in expect if e not in text]
        busy = self.eval("document.querySelector('[data-testid=\"stStatusWidget\"]')?.innerText")
        raise TimeoutError(
            f"{url}: not rendered in {timeout_s:.0f} s (missing: {missing}; still running: {busy!r}); page text: {text[:600]!r}"
        )

    def screenshot(self, path: Path) -> None:
        height = int(
            self.eval("(document.querySelector('[data-testid=\"stMainBlockContainer\"]')?.scrollHeight || 0) + 40") or 0
        )
        if height:
            self.call(
                "Emulation.setDeviceMetricsOverride",
                width=1400,
                height=min(max(height, 900), 6000),
                deviceScaleFactor=1,
                mobile=False,
            )
            time.sleep(0.5)
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def dom(self) -> str:
        return str(self.eval("document.documentElement.outerHTML"))


@contextmanager
def browser(width: int = 1400, height: int = 1000) -> Iterator[Page]:
    """A fresh headless Chromium (own profile folder) with one page, closed afterwards."""
    from websockets.sync.client import connect

    exe = chromium_path()
    if exe is None:
        raise RuntimeError("chromium is not installed: run `make chromium` (Debian: apt-get install -y chromium)")
    with tempfile.TemporaryDirectory(prefix="fda-chromium-", ignore_cleanup_errors=True) as profile:
        proc = subprocess.Popen(
            [
                exe,
                *FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + 30
            while not port_file.is_file() or not port_file.read_text().strip():
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("chromium did not start its DevTools endpoint")
                time.sleep(0.1)
            port = int(port_file.read_text().split()[0])
            targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
            ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")
            with connect(ws_url, max_size=64 * 1024 * 1024, open_timeout=10) as ws:
                page = Page(ws)
                page.call("Page.enable")
                page.call(
                    "Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False
                )
                yield page
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
