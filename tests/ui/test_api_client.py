"""The UI's API client against the real app with fake services (tests/ui/conftest.py), and transport errors."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from fda.errors import ApiError
from tests.ui.conftest import ApiServer, free_port
from ui.answer_view import link_markers, status_line
from ui.api_client import ApiClient


def test_ready_lists_versions(fake_api: ApiServer) -> None:
    ready = ApiClient(fake_api.url).ready()
    assert ready["ready"] is True
    assert ready["latest"] == "0.141.1" and "0.68.0" in ready["versions"]


def test_ask_stream_events_in_order(fake_api: ApiServer) -> None:
    events = list(ApiClient(fake_api.url).ask_stream("How do I add CORSMiddleware?", None, "rag"))
    kinds = [e for e, _ in events]
    assert kinds[0] == "meta" and kinds[-2:] == ["citations", "final"]
    assert "token" in kinds
    tokens = "".join(p["text"] for e, p in events if e == "token")
    final = events[-1][1]
    assert tokens.strip().startswith("Answer to: How do I add CORSMiddleware?")
    assert final["citations"][0]["url"] == "https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware"
    assert final["trace_id"] == events[0][1]["trace_id"]


def test_ask_json_and_source_and_feedback(fake_api: ApiServer) -> None:
    api = ApiClient(fake_api.url)
    resp = api.ask("How do I add CORSMiddleware?", "0.141.1", None)
    chunk = resp["citations"][0]["chunk_id"]
    assert "whole section" in api.source(chunk)["section_text"]
    stored = api.feedback(resp["trace_id"], "down", "wrong page")
    assert stored["stored"] is True and stored["id"]


def test_api_error_body_becomes_message_and_hint(fake_api: ApiServer) -> None:
    with pytest.raises(ApiError) as info:
        ApiClient(fake_api.url).ask("CORS?", "9.9.9", None)
    assert "400" in str(info.value) and "unknown_version" in str(info.value)
    assert "corpus stats" in info.value.hint  # the API's own hint travels to the UI
    with pytest.raises(ApiError, match="404"):
        ApiClient(fake_api.url).source("no-such-chunk")


def test_stream_refused_before_it_starts_raises(fake_api: ApiServer) -> None:
    with pytest.raises(ApiError, match="unknown_version"):
        list(ApiClient(fake_api.url).ask_stream("CORS?", "9.9.9", None))


def test_unreachable_api_says_how_to_start_it() -> None:
    with pytest.raises(ApiError) as info:
        ApiClient(f"http://127.0.0.1:{free_port()}").ready()
    assert "not reachable" in str(info.value)
    assert "fda serve" in info.value.hint


def test_timeout_is_reported_as_such() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(ApiError, match="did not answer in time") as info:
        ApiClient("http://api.test", transport=httpx.MockTransport(slow)).ask("q", None, None)
    assert "FDA_UI__REQUEST_TIMEOUT_S" in info.value.hint


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Use it [1].", "Use it [\\[1\\]](https://a/#x)."),
        ("Both [1][2]", "Both [\\[1\\]](https://a/#x)[\\[2\\]](https://b/#y)"),
        ("Unknown [3] stays", "Unknown [3] stays"),
        ("No markers", "No markers"),
    ],
)
def test_link_markers(text: str, expected: str) -> None:
    cites = [{"number": 1, "url": "https://a/#x"}, {"number": 2, "url": "https://b/#y"}]
    assert link_markers(text, cites) == expected


def test_status_line_names_trace_and_timings() -> None:
    line = status_line(
        {
            "version": "0.141.1",
            "program": "rag",
            "program_version": "v1",
            "cached": True,
            "timings_ms": {"total": 12.3},
            "usage": {},
            "trace_id": "abc",
        }
    )
    assert "docs 0.141.1" in line and "cached" in line and "total 12 ms" in line and "`abc`" in line


def test_the_key_goes_with_every_call_when_the_api_needs_one(tmp_path: Path) -> None:
    from fda.settings import Settings
    from ui.config import from_settings

    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(200, json={"ready": True, "components": {}})

    key = "k" * 24
    cfg = from_settings(Settings(state_dir=tmp_path, api={"api_keys": [key]}))  # type: ignore[arg-type]
    assert key not in repr(cfg)
    ApiClient(cfg.api_url, transport=httpx.MockTransport(handler), api_key=cfg.api_key).ready()
    ApiClient(cfg.api_url, transport=httpx.MockTransport(handler)).ready()
    assert seen == [f"Bearer {key}", None]
    assert from_settings(Settings(state_dir=tmp_path)).api_key is None


def test_sources_markdown_lists_numbered_links() -> None:
    from ui.answer_view import sources_markdown

    md = sources_markdown([{"number": 1, "title": "CORS", "url": "https://fastapi.tiangolo.com/tutorial/cors/#a"}])
    assert "1. [CORS](https://fastapi.tiangolo.com/tutorial/cors/#a)" in md


def test_readiness_tells_ready_degraded_and_down_apart() -> None:
    from ui.api_client import readiness

    assert readiness({"ready": True, "components": {"index": "ok", "lm": "ok"}, "degraded": []}) == (
        "ready",
        "index: ok, lm: ok",
    )
    building = "degraded: colbert index building in the background (120 s, about 8 min left)"
    state, detail = readiness(
        {"ready": True, "components": {"lm": "ok", "index.colbert": building}, "degraded": ["index.colbert"]}
    )
    assert state == "degraded" and detail == f"index.colbert: {building}"
    assert readiness({"ready": False, "components": {"lm": "not available: refused"}})[0] == "down"
    assert readiness({"ready": False}) == ("down", "no components reported")
