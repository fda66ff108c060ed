"""How ``fda ui`` starts Streamlit: headless, on the given (loopback) address, usage stats off (offline),
and the toolbar without the deploy button."""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"
FLAGS = {"--server.headless": "true", "--browser.gatherUsageStats": "false", "--client.toolbarMode": "minimal"}


def streamlit_command(host: str, port: int, app: Path = APP) -> list[str]:
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.address", host, "--server.port", str(port)]
    for flag, value in FLAGS.items():
        cmd += [flag, value]
    return cmd
