"""``fda ui``: the Streamlit explorer on loopback.

fda ui --port 8501 --api-url http://127.0.0.1:8000
"""

from __future__ import annotations

from typing import Annotated

import typer

from fda.console import console
from fda.settings import get_settings


def ui_cmd(
    port: Annotated[int | None, typer.Option(help="Port; default: settings (FDA_UI__PORT, 8501).")] = None,
    api_url: Annotated[str | None, typer.Option(help="API base URL; default: settings (FDA_UI__API_URL).")] = None,
) -> None:
    """Start the Streamlit explorer on loopback: runs, drill-down, labelling, playground, coverage."""
    import os
    import subprocess

    from ui.launch import streamlit_command

    s = get_settings()
    env = dict(os.environ) | ({"FDA_UI__API_URL": api_url} if api_url else {})
    cmd = streamlit_command(s.ui.host, port or s.ui.port)
    console.print(f"UI on http://{s.ui.host}:{port or s.ui.port} (API: {api_url or s.ui.api_url}); Ctrl-C stops it")
    try:
        code = subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code=code)
