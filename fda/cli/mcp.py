"""``fda mcp``: the docs tools over MCP on stdin/stdout, for a coding agent's MCP config (api/mcp.py).

    {"mcpServers": {"fastapi-docs": {"command": "/path/to/repo/.venv/bin/fda", "args": ["mcp"]}}}

stdout carries the protocol, so every log line goes to stderr. The docs tools open the store and the configured
index at start and warm it with one search (measured here: ready in ~6 s with ``fused``, ~1 s with ``--backend
bm25``, whose ranking is weaker); the ``answer`` tool starts the LM on its first call (``--no-answer`` leaves it
out).
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated, Any

import typer

from fda.console import fail
from fda.errors import FDAError
from fda.settings import get_settings


def mcp_cmd(
    backend: Annotated[
        str | None, typer.Option(help="Retrieval backend for search_docs (default: settings retrieval.backend).")
    ] = None,
    answer: Annotated[bool, typer.Option(help="Offer the `answer` tool (starts the LM on its first call).")] = True,
    code: Annotated[
        bool, typer.Option(help="Offer the `check_code` tool: run the agent's FastAPI code in the sandbox.")
    ] = True,
) -> None:
    """Serve the docs tools to a coding agent over MCP (stdio): search_docs, read_section, compare_versions,
    check_deprecations, find_related_docs, answer, check_code."""
    import anyio

    from api.mcp import build_mcp
    from api.wiring import warm_up
    from fda.env import apply_offline_defaults
    from index.retrieval.factory import open_retriever
    from programs.tools.docs import DocsTools

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, force=True)
    settings = get_settings()
    apply_offline_defaults(settings.state_dir)
    try:
        retriever = open_retriever(backend or settings.retrieval.backend, settings)
        warm_up(retriever)  # load the query encoders now: the agent's first search should not wait (~2 s fused)
        tools = DocsTools(retriever, settings.db_path)
    except FDAError as err:
        fail(err)
        return
    services: list[Any] = []  # the answering services, started on the first `answer` call
    starting = anyio.Lock()  # two first calls at once start one LM, not two

    async def ask(question: str, version: str | None) -> dict[str, Any]:
        from api.mcp import answer_with
        from api.wiring import wire

        async with starting:
            if not services:
                services.append(await anyio.to_thread.run_sync(lambda: wire(settings, build_missing=False)))
        return await answer_with(services[0], question, version)

    checker = None
    if code:
        from programs.execution import load_code_checker

        checker = load_code_checker(settings)
    server = build_mcp(lambda: tools, ask if answer else None, (lambda: checker) if code else None)
    try:
        server.run("stdio")
    finally:
        tools.close()
        for s in services:
            s.close()
