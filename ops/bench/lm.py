"""Local LM benchmark: load time, prompt tok/s, time to first token, decode tok/s (free text and JSON-schema
constrained), per model and thread count, through the same managed server the project uses.

    fda bench lm --models qwen2.5-coder-0.5b,qwen2.5-coder-1.5b --threads 1,2 --repeat 3

Prompt and decode rates are llama.cpp's own timings; TTFT is measured by the client over streaming HTTP
(prompt processing + first token + HTTP). Prompt caching is off, so every run processes the whole prompt.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from fda.lm.assemble import assemble
from fda.lm.registry import get_spec
from fda.lm.server import WORKER_COMMAND, LocalServer, ServerConfig

_PASSAGE = (
    "[{n}] FastAPI dependencies: declare a parameter with Depends() and FastAPI calls the dependency for each "
    "request, caches its result within the request, and passes it to the path operation function. Dependencies "
    "can declare their own dependencies, and a dependency with yield runs its exit code after the response. "
)
_SCHEMA = {
    "type": "object",
    "properties": {"citations": {"type": "array", "items": {"type": "integer"}}, "answer": {"type": "string"}},
    "required": ["citations", "answer"],
}


def bench_prompt(words: int) -> list[dict[str, str]]:
    per = len(_PASSAGE.split())
    context = "".join(_PASSAGE.format(n=i + 1) for i in range(max(1, words // per)))
    return [
        {"role": "system", "content": "Answer from the numbered passages only; cite them as [n]."},
        {"role": "user", "content": f"{context}\nQuestion: how do dependencies with yield work? Explain in detail."},
    ]


def _stream(base_url: str, body: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    import httpx

    t0 = time.perf_counter()
    ttft: float | None = None
    timings: dict[str, Any] = {}
    with httpx.stream("POST", f"{base_url}/v1/chat/completions", json=body, timeout=timeout_s) as resp:
        resp.raise_for_status()
        for line in resp.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            delta = (chunk.get("choices") or [{}])[0].get("delta") or {}
            if ttft is None and delta.get("content"):
                ttft = time.perf_counter() - t0
            timings = chunk.get("timings") or timings
    return {"ttft_s": ttft, "total_s": time.perf_counter() - t0, **timings}


def _one(base_url: str, messages: list[dict[str, str]], max_tokens: int, json_mode: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messages": messages,
        "max_tokens": max_tokens,
        "temperature": 0.0,
        "stream": True,
        "cache_prompt": False,
    }
    if json_mode:
        body["response_format"] = {"type": "json_schema", "json_schema": {"name": "answer", "schema": _SCHEMA}}
    else:
        body["ignore_eos"] = True  # a fixed decode length
    return _stream(base_url, body, timeout_s=600)


def _rss_mb(pid: int | None) -> float | None:
    try:
        import psutil

        return round(psutil.Process(pid).memory_info().rss / 2**20) if pid else None
    except Exception:  # psutil missing or the process gone: the column stays empty
        return None


def run_bench(
    models_dir: Path,
    models: Sequence[str],
    threads: Sequence[int],
    *,
    repeat: int = 3,
    prompt_words: int = 500,
    max_tokens: int = 128,
    context_size: int = 4096,
    command: Sequence[str] = WORKER_COMMAND,
) -> pd.DataFrame:
    messages = bench_prompt(prompt_words)
    rows = []
    for name in models:
        spec = get_spec(name)
        path = assemble(spec, models_dir)
        for n_threads in threads:
            config = ServerConfig(path, spec.name, context_size=context_size, threads=n_threads)
            load1 = os.getloadavg()[0]
            t0 = time.perf_counter()
            with LocalServer(config, startup_timeout_s=300, command=command) as server:
                load_s = time.perf_counter() - t0
                _one(server.base_url, messages[:1], 4, json_mode=False)  # warm-up
                runs = [_one(server.base_url, messages, max_tokens, json_mode=False) for _ in range(repeat)]
                json_runs = [_one(server.base_url, messages, max_tokens, json_mode=True) for _ in range(repeat)]
                rss = _rss_mb(server.pid)

            def med(key: str, rs: list[dict[str, Any]] = runs) -> float:
                return round(statistics.median(float(r[key]) for r in rs if r.get(key) is not None), 2)

            rows.append(
                {
                    "model": spec.name,
                    "threads": n_threads,
                    "load_s": round(load_s, 1),
                    "prompt_tokens": int(med("prompt_n")),
                    "prompt_tok_s": med("prompt_per_second"),
                    "ttft_s": med("ttft_s"),
                    "decode_tok_s": med("predicted_per_second"),
                    "json_tok_s": med("predicted_per_second", json_runs),
                    "gen_tokens": int(med("predicted_n")),
                    "total_s": med("total_s"),
                    "rss_mb": rss,
                    "load1": round(load1, 1),
                }
            )
    return pd.DataFrame(rows)
