"""Latency of the MCP docs tools, called the way an agent calls them: the SDK's client, in process.

    fda bench tools --backend bm25 --repeat 3        # docs/benchmarks.md, "MCP docs tools"

Each gold v2 dev-select question (answerable rows, their text as the query) goes to ``search_docs``; its top hit
to ``read_section`` and ``find_related_docs``; every tenth to ``compare_versions`` (oldest -> latest) and
``check_deprecations`` (the hit's first heading). Per call: the tool, milliseconds, characters returned, and
whether every URL returned is a section of the store. One warm-up pass first (index loading, caches).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import anyio
import pandas as pd

from api.mcp import build_mcp
from eval.gold import load_gold
from fda.settings import Settings
from index.retrieval.factory import open_retriever
from programs.tools.docs import DocsTools


def _urls(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [v for k, v in value.items() if k == "url" and isinstance(v, str)] + [
            u for v in value.values() for u in _urls(v)
        ]
    if isinstance(value, list):
        return [u for v in value for u in _urls(v)]
    return []


def run_bench(settings: Settings, backend: str, repeat: int, limit: int, out: Path | None) -> pd.DataFrame:
    tools = DocsTools(open_retriever(backend, settings), settings.db_path)
    known = tools.section_urls()
    server = build_mcp(lambda: tools)
    questions = [r.question for r in load_gold(version="v2", split="dev-select") if not r.expect_refusal][:limit]
    rows: list[dict[str, Any]] = []

    async def call(client: Any, tool: str, args: dict[str, Any], record: bool) -> Any:
        t0 = time.perf_counter()
        result = await client.call_tool(tool, args)
        ms = (time.perf_counter() - t0) * 1000
        content = result.structured_content or {}
        if record:
            urls = _urls(content)
            rows.append(
                {
                    "tool": tool,
                    "ms": round(ms, 2),
                    "chars": len(json.dumps(content)),
                    "error": bool(result.is_error),
                    "urls": len(urls),
                    "urls_in_store": all(u in known for u in urls),
                }
            )
        return content

    async def session() -> None:
        from mcp import Client

        async with Client(server) as client:
            for n in range(repeat + 1):  # pass 0 warms up
                record = n > 0
                for i, q in enumerate(questions):
                    found = await call(client, "search_docs", {"query": q[:2000], "k": 5}, record)
                    hits = found.get("result") or []
                    if not hits:
                        continue
                    await call(client, "read_section", {"url_or_id": hits[0]["url"]}, record)
                    await call(client, "find_related_docs", {"url": hits[0]["url"]}, record)
                    if i % 10 == 0:
                        topic = hits[0]["title"].split(" > ")[-1]
                        args = {"topic": topic, "from_version": tools.versions[0], "to_version": tools.latest}
                        await call(client, "compare_versions", args, record)
                        await call(client, "check_deprecations", {"symbol_or_topic": topic}, record)

    try:
        anyio.run(session)
    finally:
        tools.close()
    df = pd.DataFrame(rows)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        df.to_json(out, orient="records", lines=True)
    summary = df.groupby("tool").agg(
        calls=("ms", "size"),
        p50_ms=("ms", "median"),
        p95_ms=("ms", lambda s: s.quantile(0.95)),
        mean_chars=("chars", "mean"),
        errors=("error", "sum"),
        urls_in_store=("urls_in_store", "mean"),
    )
    return summary.round(2).reset_index()
