"""``fda bench``: the benchmarks. Each prints a table; docs/benchmarks.md and docs/results/ record them with
the command that made them. The retrieval benches live in fda/cli/bench_retrieval.py and fda/cli/bench_levers.py.

    fda bench ingest --repeat 3
    fda bench lm --models qwen2.5-coder-0.5b --threads 1,2
    fda bench answer --split dev --limit 20
    fda bench load                      # starts `fda serve` on a free loopback port
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
from collections.abc import Iterator
from typing import Annotated, Any

import typer

from eval.gold import Split
from fda.cli import bench_levers, bench_retrieval
from fda.console import console, err_console, fail, print_df
from fda.errors import FDAError
from fda.settings import get_settings

bench_app = typer.Typer(
    help="Benchmarks: print a table; docs/benchmarks.md and docs/results/ record them.", no_args_is_help=True
)
bench_app.command("retrieval")(bench_retrieval.bench_retrieval)
bench_app.command("retrieval-quality")(bench_retrieval.bench_retrieval_quality)
bench_app.command("retrieval-ablation")(bench_retrieval.bench_retrieval_ablation)
bench_app.command("retrieval-tune")(bench_retrieval.bench_retrieval_tune)
bench_app.command("retrieval-rewrite")(bench_levers.bench_retrieval_rewrite)
bench_app.command("retrieval-rerank")(bench_levers.bench_retrieval_rerank)


@bench_app.command("ingest")
def bench_ingest(
    repeat: Annotated[int, typer.Option(min=1, help="Runs to time (each into a fresh temporary store).")] = 1,
) -> None:
    """Time and peak memory of ingesting every configured version from scratch."""
    from ops.bench.ingest import run_bench

    s = get_settings()
    try:
        df = run_bench(s.corpus.sources, s.chunking, repeat)
    except FDAError as err:
        fail(err)
        return
    print_df(df, "fda bench ingest")


@bench_app.command("tools")
def bench_tools(
    backend: Annotated[str | None, typer.Option(help="Retrieval backend for search_docs (default: settings).")] = None,
    repeat: Annotated[int, typer.Option(min=1, help="Timed passes over the questions (after one warm-up).")] = 3,
    limit: Annotated[int, typer.Option(min=1, help="Gold v2 dev-select answerable questions used as queries.")] = 60,
    save: Annotated[bool, typer.Option(help="Write per-call rows to eval/results/bench/.")] = True,
) -> None:
    """Latency of the MCP docs tools through the SDK's client, in process (api/mcp.py)."""
    from ops.bench.tools import run_bench

    s = get_settings()
    name = backend or s.retrieval.backend
    out = None
    if save:
        from pathlib import Path

        stamp = time.strftime("%Y%m%d-%H%M%S")
        out = Path(__file__).resolve().parents[2] / "eval" / "results" / "bench" / f"{stamp}-tools-{name}.jsonl"
    try:
        df = run_bench(s, name, repeat, limit, out)
    except FDAError as err:
        fail(err)
        return
    print_df(df, f"fda bench tools --backend {name}")
    if out is not None:
        console.print(f"per-call rows: {out}")


@bench_app.command("lm")
def bench_lm(
    models: Annotated[
        str, typer.Option(help="Comma-separated local model names.")
    ] = "qwen2.5-coder-0.5b,qwen2.5-coder-1.5b",
    threads: Annotated[str, typer.Option(help="Comma-separated llama.cpp thread counts.")] = "1,2",
    repeat: Annotated[int, typer.Option(min=1, help="Requests per measurement (median reported).")] = 3,
    prompt_words: Annotated[int, typer.Option(min=10, help="Prompt size in words (~1.3 tokens each).")] = 500,
    max_tokens: Annotated[int, typer.Option(min=1, help="Tokens generated per request.")] = 128,
) -> None:
    """Local LMs: load time, prompt tok/s, time to first token, decode tok/s (plain and JSON-schema)."""
    from ops.bench.lm import run_bench as run_lm_bench

    s = get_settings()
    try:
        df = run_lm_bench(
            s.state_dir / "models",
            [m.strip() for m in models.split(",") if m.strip()],
            [int(t) for t in threads.split(",") if t.strip()],
            repeat=repeat,
            prompt_words=prompt_words,
            max_tokens=max_tokens,
            context_size=s.lm.context_size,
        )
    except FDAError as err:
        fail(err)
        return
    print_df(df, "fda bench lm")


@bench_app.command("load")
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
    generator: Annotated[
        str,
        typer.Option(
            help="Load generator of the search scenarios: locust (headless, its final JSON stats), aiohttp (in "
            "process), or auto (locust when installed). The ask scenarios and the soak always use aiohttp (they read "
            "each answer)."
        ),
    ] = "auto",
    lm: Annotated[
        str | None,
        typer.Option(help="FDA_LM__MODEL of the started server. Default: local:qwen2.5-coder-0.5b (fast to warm)."),
    ] = "local:qwen2.5-coder-0.5b",
    ready_timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait for the server's /readyz.")] = 300.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Load test of the HTTP service on loopback: RPS, p50/p95/p99 and errors per scenario; a soak watching RSS."""
    import pandas as pd

    from ops.load.server import RunningServer, serve
    from ops.load.suite import SCENARIOS, AiohttpClient, LoadConfig, gold_texts, now_stamp, run_load

    if generator not in ("aiohttp", "locust", "auto"):
        fail(FDAError(f"unknown generator {generator!r}", hint="Use locust, aiohttp or auto."))
    if generator == "auto":
        import importlib.util

        generator = "locust" if importlib.util.find_spec("locust") is not None else "aiohttp"
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
        generator=generator,
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
            report = await run_load(client, cfg, queries, questions, default_backend, running.pid, running.url)
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


DEFAULT_MODELS = "local:qwen2.5-coder-0.5b,local:qwen2.5-coder-1.5b"


def _advance(bar: Any, task: Any, done: int, total: int) -> None:
    bar.update(task, completed=done)


@bench_app.command("answer")
def bench_answer(
    models: Annotated[
        str, typer.Option(help="Comma-separated LMs: local:<name> or LiteLLM model strings.")
    ] = DEFAULT_MODELS,
    split: Annotated[Split, typer.Option(help="Gold split: train, dev or test.")] = "dev",
    limit: Annotated[int | None, typer.Option(min=1, help="First N questions of the split.")] = None,
    program: Annotated[str, typer.Option(help="rag or multihop.")] = "rag",
    backend: Annotated[str | None, typer.Option(help="Retrieval backend. Default: settings.")] = None,
    k: Annotated[
        int | None, typer.Option(min=1, help="Passages shown to the answer step. Default: the program's.")
    ] = None,
    passage_chars: Annotated[
        int | None, typer.Option(min=100, help="Characters of each passage shown. Default: the program's.")
    ] = None,
    rewrite: Annotated[
        bool | None,
        typer.Option(
            help="Routing + query rewriting (one LM call) before retrieval. Default: settings.answer.rewrite."
        ),
    ] = None,
    focus: Annotated[
        bool | None,
        typer.Option(help="Keep each passage's best-matching lines (else its start). Default: settings.answer.focus."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """End-to-end answers per LM over gold questions: latency p50/p95, time to first token, tokens, quality."""
    from rich.progress import Progress

    from eval.gold import load_gold
    from fda.lm.factory import make_lm, runtime_from_settings
    from index.retrieval.factory import open_retriever
    from ops.bench.answer import run_model, summarize, table
    from optimizers.serving import program_versions
    from programs.factory import build_answer_program
    from programs.trust.checks import checks_for

    base = get_settings()
    names = [m.strip() for m in models.split(",") if m.strip()]
    out_dir = base.state_dir / "bench" / "answer" / time.strftime("%Y%m%d-%H%M%S")
    summaries = []
    setup = (
        f"k={k or base.answer.k or 'default'}, passage_chars={passage_chars or base.answer.passage_chars or 'default'}, "
        f"rewrite={base.answer.rewrite if rewrite is None else rewrite}, focus={base.answer.focus if focus is None else focus}"
    )
    try:
        questions = load_gold(split=split)
        questions = questions[:limit] if limit else questions
        retriever = open_retriever(backend or base.retrieval.backend, base)
        versions, latest = program_versions(base) if program == "multihop" else ([], None)
        checks = checks_for(base, retriever)
        for name in names:
            s = base.model_copy(update={"lm": base.lm.model_copy(update={"model": name, "cache": False})})
            with runtime_from_settings(s) as runtime:
                lm = make_lm(s.lm, runtime=runtime)
                built = build_answer_program(
                    program,
                    retriever,
                    lm=lm,
                    versions=versions,
                    latest=latest,
                    config=base.answer,
                    rewrite=rewrite,
                    k=k,
                    passage_chars=passage_chars,
                    focus=focus,
                    checks=checks,
                )
                with Progress(console=err_console, transient=True) as bar:
                    task = bar.add_task(f"{name} on {split}", total=len(questions))
                    advance = functools.partial(_advance, bar, task)
                    rows = run_model(name, built, questions, out_dir, progress=advance)
            summaries.append({**summarize(name, rows), "setup": setup})
    except FDAError as err:
        fail(err)
        return
    df = table(summaries)
    if as_json:
        console.print_json(json.dumps({"split": split, "program": program, "rows": summaries, "out": str(out_dir)}))
        return
    cost = ["model", "questions", "errors", "p50 s", "p95 s", "TTFT p50 s", "TTFT p95 s", "prompt tok", "LM calls"]
    quality = ["model", "combined", "citations", "must-mention", "refusal acc", "declined", "fallback"]
    print_df(df[cost], f"fda bench answer: {program} on {split}, cost")
    print_df(df[quality], f"fda bench answer: {program} on {split}, quality")
    console.print(f"per-question rows: {out_dir}")
