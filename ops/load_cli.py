"""``fda bench load`` (registered by fda/cli.py): the load test and soak of ops/load.py, printed as tables."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from typing import Annotated, Any

import typer

from fda.errors import FDAError
from fda.settings import get_settings


def bench_load(
    url: Annotated[
        str | None, typer.Option(help="Test a running server instead of starting `fda serve` on a free port.")
    ] = None,
    pid: Annotated[
        int | None, typer.Option(help="With --url: the server's pid, to watch its memory in the soak.")
    ] = None,
    scenario: Annotated[
        list[str] | None,
        typer.Option(
            "--scenario",
            "-s",
            help="search, search-paced, search-default, search-cached, ask-lm, ask-cached, soak. Default: all.",
        ),
    ] = None,
    users: Annotated[int, typer.Option(min=1, help="Concurrent users (search, cached ask, soak).")] = 50,
    lm_users: Annotated[int, typer.Option(min=1, help="Concurrent users of the LM-bound ask scenario.")] = 4,
    scenario_s: Annotated[float, typer.Option(min=1, help="Seconds per search / cached-ask scenario.")] = 30.0,
    lm_s: Annotated[float, typer.Option(min=1, help="Seconds of the LM-bound ask scenario (new requests).")] = 120.0,
    duration: Annotated[float, typer.Option(min=1, help="Seconds of the soak.")] = 300.0,
    sample_s: Annotated[float, typer.Option(min=0.5, help="Seconds between memory samples in the soak.")] = 5.0,
    backend: Annotated[str, typer.Option(help="Backend of the `search` and soak scenarios.")] = "bm25",
    rate: Annotated[float, typer.Option(min=1, help="Requests per second offered in `search-paced`.")] = 200.0,
    lm: Annotated[
        str | None,
        typer.Option(help="FDA_LM__MODEL of the started server. Default: local:qwen2.5-coder-0.5b (fast to warm)."),
    ] = "local:qwen2.5-coder-0.5b",
    ready_timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait for the server's /readyz.")] = 300.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Load test of the HTTP service on loopback: RPS, p50/p95/p99 and errors per scenario; a soak watching RSS."""
    import pandas as pd

    from fda.cli import console, err_console, fail, print_df
    from ops.load import SCENARIOS, AiohttpClient, LoadConfig, gold_texts, now_stamp, run_load
    from ops.load_server import RunningServer, serve

    unknown = sorted(set(scenario or []) - set(SCENARIOS))
    if unknown:
        fail(FDAError(f"unknown scenario(s): {', '.join(unknown)}", hint=f"Use: {', '.join(SCENARIOS)}."))
    s = get_settings()
    cfg = LoadConfig(
        scenarios=scenario or SCENARIOS,
        users=users,
        lm_users=lm_users,
        scenario_s=scenario_s,
        lm_s=lm_s,
        soak_s=duration,
        sample_s=sample_s,
        backend=backend,
        rate=rate,
    )
    queries, questions = gold_texts()

    @contextlib.contextmanager
    def server() -> Iterator[RunningServer]:
        if url:
            yield RunningServer(url.rstrip("/"), pid)
            return
        env = {"FDA_LM__CACHE": "false"}  # LM-bound asks must reach the model, not DSPy's disk cache
        if lm:
            env["FDA_LM__MODEL"] = lm
        log_path = s.state_dir / "load" / f"server-{now_stamp()}.log"
        err_console.print(f"starting `fda serve` (log: {log_path}) ...")
        with serve(env, log_path, ready_timeout) as running:
            yield running

    async def go(running: RunningServer) -> Any:
        import httpx

        ready = httpx.get(f"{running.url}/readyz", timeout=10).json()
        default_backend = s.retrieval.backend if not url else "default"
        async with AiohttpClient(running.url, connections=max(users, lm_users) + 10) as client:
            report = await run_load(client, cfg, queries, questions, default_backend, running.pid)
        return report, ready

    try:
        with server() as running:
            report, ready = asyncio.run(go(running))
    except (FDAError, RuntimeError) as err:
        fail(err if isinstance(err, FDAError) else FDAError(str(err)))
        return
    if as_json:
        console.print_json(
            json.dumps({"rows": report.rows, "errors": report.errors, "soak": report.soak, "server": ready})
        )
        return
    components = ", ".join(f"{k}: {v}" for k, v in ready.get("components", {}).items())
    print_df(pd.DataFrame(report.rows), f"fda bench load ({components})")
    for name, kinds in report.errors.items():
        err_console.print(f"[yellow]{name} errors:[/] {kinds}")
    if report.soak:
        rows = [
            {"process": name, **{k: v for k, v in report.soak[name].items()}}
            for name in ("server", "server_and_children")
        ]
        print_df(
            pd.DataFrame(rows), f"soak memory (RSS MB over {report.soak['duration_s']:.0f} s; slope after warm-up)"
        )
