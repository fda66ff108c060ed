"""api/mcp.py: the docs tools over MCP, checked with the official SDK's own client.

- in process (``Client(server)``) over the real store (corpus tier): tool list and schemas, structured results whose
  URLs are sections of the store, typed errors as tool errors that say what to do;
- over streamable HTTP, mounted in the real app served by uvicorn (fake services): the tools, the answer tool
  through the service's ask path, and the API key guarding /mcp like every other route.
stdio (`fda mcp`) runs in the slow tier (tests/api/test_server_real.py).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import uvicorn
from mcp import Client

from api.main import create_app
from api.mcp import build_mcp
from fda.settings import Settings
from programs.tools.docs import DocsTools, Hit, Section
from tests.api.conftest import make_services
from tests.programs.conftest import WordMatch

TOOLS = {"search_docs", "read_section", "compare_versions", "check_deprecations", "find_related_docs", "answer"}


async def _fake_answer(question: str, version: str | None) -> dict[str, Any]:
    return {"answer": f"About {question} [1]", "citations": [], "version": version}


@pytest.mark.corpus
def test_in_process_tools_results_and_errors(real_store: tuple[Path, object]) -> None:
    tools = DocsTools(WordMatch(real_store[0]), real_store[0])
    server = build_mcp(lambda: tools, _fake_answer)
    urls = tools.section_urls()

    async def session() -> None:
        async with Client(server) as client:
            listed = (await client.list_tools()).tools
            assert {t.name for t in listed} == TOOLS
            for tool in listed:
                assert tool.description and len(tool.description) > 40, tool.name  # written for agents
            schema = next(t for t in listed if t.name == "search_docs").input_schema
            assert set(schema["properties"]) == {"query", "version", "k", "max_chars"}
            assert schema["required"] == ["query"]

            found = await client.call_tool("search_docs", {"query": "CORSMiddleware origins", "k": 3})
            assert not found.is_error
            hits = found.structured_content["result"]  # type: ignore[index]
            assert hits and all(h["url"] in urls for h in hits)

            section = await client.call_tool("read_section", {"url_or_id": hits[0]["url"], "version": "0.68.0"})
            assert not section.is_error and section.structured_content["version"] == "0.68.0"  # type: ignore[index]
            assert section.structured_content["url"] in urls  # type: ignore[index]

            bad = await client.call_tool("search_docs", {"query": "cors", "version": "9.9.9"})
            assert bad.is_error and "0.141.1" in bad.content[0].text  # type: ignore[union-attr]
            missing = await client.call_tool("read_section", {"url_or_id": "https://example.com/x"})
            assert missing.is_error and "search_docs" in missing.content[0].text  # type: ignore[union-attr]
            invalid = await client.call_tool("search_docs", {"query": "cors", "k": 500})
            assert invalid.is_error  # out of range: refused by the schema, never run

            answered = await client.call_tool("answer", {"question": "How do I enable CORS?"})
            assert answered.structured_content["answer"] == "About How do I enable CORS? [1]"  # type: ignore[index]

    try:
        anyio.run(session)
    finally:
        tools.close()


class FakeTools:
    """What the HTTP test needs of DocsTools: one search, one section."""

    def search_docs(self, query: str, version: str | None, k: int, max_chars: int) -> list[Hit]:
        return [
            Hit(
                url="https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware",
                title="CORS",
                version=version or "0.141.1",
                snippet=query,
            )
        ]

    def read_section(self, url_or_id: str, version: str | None, max_chars: int) -> Section:
        return Section(url=url_or_id, title="CORS", version="0.141.1", text="Use CORSMiddleware.")

    def close(self) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    api: dict[str, Any] = {"request_timeout_s": 5, **getattr(request, "param", {})}
    settings = Settings(state_dir=tmp_path, api=api)  # type: ignore[arg-type]

    def services(s: Settings) -> Any:
        out = make_services(s, tmp_path)
        out.docs_tools = FakeTools()
        return out

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, services), port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        assert time.time() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_streamable_http_mounted_in_the_app(served: str) -> None:
    async def session() -> None:
        async with Client(f"{served}/mcp") as client:
            assert {t.name for t in (await client.list_tools()).tools} == TOOLS
            found = await client.call_tool("search_docs", {"query": "enable CORS", "version": "0.68.0"})
            assert found.structured_content["result"][0]["version"] == "0.68.0"  # type: ignore[index]
            # the answer tool goes through the service's ask path (the fake program cites its top passage)
            answered = await client.call_tool("answer", {"question": "How do I enable CORS?"})
            assert not answered.is_error
            body = answered.structured_content
            assert body is not None and body["answer"].startswith("Answer to: How do I enable CORS?")
            assert body["citations"] and body["program_version"] == "uncompiled"

    anyio.run(session)


@pytest.mark.parametrize("served", [{"api_keys": ["k" * 32]}], indirect=True)
def test_mcp_route_needs_the_api_key_like_the_rest(served: str) -> None:
    r = httpx.post(f"{served}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, timeout=10)
    assert r.status_code == 401


PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
JSON_RPC = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


def test_mcp_refuses_a_foreign_host_header_by_default(served: str) -> None:
    # DNS rebinding: a page on another site resolving to this machine must not reach the tools
    r = httpx.post(f"{served}/mcp", json=PING, headers={**JSON_RPC, "host": "docs.example.com"}, timeout=10)
    assert r.status_code == 421
    local = httpx.post(f"{served}/mcp", json=PING, headers=JSON_RPC, timeout=10)
    assert local.status_code != 421


@pytest.mark.parametrize("served", [{"mcp_allowed_hosts": ["docs.example.com"]}], indirect=True)
def test_mcp_accepts_the_hosts_it_is_told_to(served: str) -> None:
    r = httpx.post(f"{served}/mcp", json=PING, headers={**JSON_RPC, "host": "docs.example.com"}, timeout=10)
    assert r.status_code != 421


def test_mcp_survives_a_second_lifespan_of_the_same_app(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    def services(s: Settings) -> Any:
        out = make_services(s, tmp_path)
        out.docs_tools = FakeTools()
        return out

    app = create_app(Settings(state_dir=tmp_path), services)
    for _ in range(2):  # the SDK's session manager runs once per server: each start-up builds its own
        with TestClient(app, base_url="http://localhost") as client:
            r = client.post("/mcp", json=PING, headers=JSON_RPC)
            assert r.status_code == 200, r.text
    idle = TestClient(app, base_url="http://localhost")
    assert idle.post("/mcp", json=PING, headers=JSON_RPC).status_code == 503  # no lifespan running


def test_check_code_runs_an_agents_code_in_the_sandbox() -> None:
    from programs.execution.check import CodeChecker
    from programs.execution.sandbox import Sandbox, SandboxLimits

    box = Sandbox(SandboxLimits(timeout_s=8))
    if box.mode is None:
        pytest.skip("no sandbox here (needs root and Linux namespaces)")
    checker = CodeChecker(box, imports={"FastAPI": "from fastapi import FastAPI"})
    server = build_mcp(lambda: None, None, lambda: checker)  # type: ignore[arg-type,return-value]
    off = build_mcp(lambda: None, None, lambda: None)  # type: ignore[arg-type,return-value]

    async def session() -> None:
        async with Client(server) as client:
            assert "check_code" in {t.name for t in (await client.list_tools()).tools}
            ok = await client.call_tool(
                "check_code", {"code": "app = FastAPI()\n\n@app.get('/')\ndef root():\n    return {}"}
            )
            assert not ok.is_error and ok.structured_content["status"] == "verified"  # type: ignore[index]
            assert ok.structured_content["added"] == ["from fastapi import FastAPI"]  # type: ignore[index]
            bad = await client.call_tool("check_code", {"code": "from fastapi import Nope\napp = 1"})
            assert bad.structured_content["status"] == "failed"  # type: ignore[index]
            # run as written: an "import" line inside a string is not moved (and not imported)
            text = 'DOC = """\nimport client\n"""\napp = FastAPI()\n\n@app.get("/")\ndef root():\n    return DOC'
            verbatim = await client.call_tool("check_code", {"code": text})
            assert verbatim.structured_content["status"] == "verified"  # type: ignore[index]
        async with Client(off) as client:
            refused = await client.call_tool("check_code", {"code": "app = FastAPI()"})
            assert refused.is_error and "code checks are off" in refused.content[0].text  # type: ignore[union-attr]

    anyio.run(session)


def test_check_code_is_not_offered_over_http_unless_asked() -> None:
    server = build_mcp(lambda: None, None)  # type: ignore[arg-type,return-value]

    async def names() -> set[str]:
        async with Client(server) as client:
            return {t.name for t in (await client.list_tools()).tools}

    assert "check_code" not in anyio.run(names)
    assert Settings().api.mcp_code_tool is False
    with pytest.raises(ValueError, match="mcp_code_tool lets /mcp clients run code"):
        Settings(api={"mcp_code_tool": True})  # type: ignore[arg-type]
    assert Settings(api={"mcp_code_tool": True, "api_keys": ["k" * 24]}).api.mcp_code_tool  # type: ignore[arg-type]
