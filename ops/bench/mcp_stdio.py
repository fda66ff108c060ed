"""How long a coding agent waits for `fda mcp` (stdio): start to handshake done, then the first search_docs.

    python -m ops.bench.mcp_stdio --backend fused      # docs/agent.md
    python -m ops.bench.mcp_stdio --backend bm25

Starts `fda mcp --no-answer` through the MCP SDK's own stdio client, as an agent does, and prints the seconds
to a connected session, the milliseconds of the first search, and its top URLs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

ROOT = Path(__file__).resolve().parents[2]


async def measure(backend: str, query: str) -> tuple[float, float, list[str]]:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "fda.cli.app", "mcp", "--no-answer", "--backend", backend],
        env=dict(os.environ),
        cwd=ROOT,
    )
    t0 = time.perf_counter()
    async with Client(params) as client:
        ready = time.perf_counter() - t0
        t1 = time.perf_counter()
        found = await client.call_tool("search_docs", {"query": query, "k": 3})
        first = (time.perf_counter() - t1) * 1000
    hits = (found.structured_content or {}).get("result") or []
    return ready, first, [h["url"] for h in hits]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="fused")
    parser.add_argument("--query", default="run code after the response is sent")
    args = parser.parse_args()
    ready, first, urls = anyio.run(measure, args.backend, args.query)
    sys.stdout.write(f"{args.backend}: session ready in {ready:.1f} s, first search_docs {first:.0f} ms\n")
    for url in urls:
        sys.stdout.write(f"  {url}\n")


if __name__ == "__main__":
    main()
