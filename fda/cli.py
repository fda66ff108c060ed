"""The ``fda`` command line: one entry point, thin commands over the packages.

fda --help
fda ingest && fda corpus stats
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Annotated

import pandas as pd
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from api.cli import ask_cmd, serve_cmd
from eval.cli import eval_app
from fda.env import apply_offline_defaults
from fda.errors import ConfigError, FDAError
from fda.lm.cli import models_app
from fda.log import setup_logging
from fda.settings import describe_invalid, get_settings
from index.cli import (
    bench_retrieval,
    bench_retrieval_ablation,
    bench_retrieval_quality,
    bench_retrieval_tune,
    index_cmd,
    search_cmd,
    train_retriever_cmd,
)
from index.questions_cli import gen_questions_cmd
from ops.bench_answer_cli import bench_answer
from ops.load_cli import bench_load
from ops.retrieval_rerank_cli import bench_retrieval_rerank
from ops.retrieval_rewrite_cli import bench_retrieval_rewrite
from optimizers.cli import compile_cmd, programs_app

app = typer.Typer(
    help="FastAPI Docs Assistant: cited answers from the FastAPI docs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
corpus_app = typer.Typer(help="Inspect the ingested corpus.", no_args_is_help=True)
gold_app = typer.Typer(help="The gold question set.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks: print a table, record it in docs/benchmarks.md.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")
app.add_typer(gold_app, name="gold")
app.add_typer(bench_app, name="bench")
app.add_typer(models_app, name="models")
app.add_typer(eval_app, name="eval")
app.command("serve")(serve_cmd)
app.command("ask")(ask_cmd)
app.add_typer(programs_app, name="programs")
app.command("compile")(compile_cmd)
app.command("index")(index_cmd)
app.command("search")(search_cmd)
app.command("train-retriever")(train_retriever_cmd)
app.command("gen-questions")(gen_questions_cmd)
bench_app.command("retrieval")(bench_retrieval)
bench_app.command("retrieval-quality")(bench_retrieval_quality)
bench_app.command("retrieval-ablation")(bench_retrieval_ablation)
bench_app.command("retrieval-tune")(bench_retrieval_tune)
bench_app.command("retrieval-rewrite")(bench_retrieval_rewrite)
bench_app.command("retrieval-rerank")(bench_retrieval_rerank)
bench_app.command("load")(bench_load)
bench_app.command("answer")(bench_answer)

console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
log = logging.getLogger("fda")


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs.")] = False) -> None:
    try:
        s = get_settings()
    except ValidationError as err:  # one clear line per bad variable instead of pydantic's traceback
        fail(
            ConfigError(
                f"invalid settings: {describe_invalid(err)}",
                hint="Fix or unset those variables (environment or .env); the README's Configuration section "
                "and the docs it links list the allowed values.",
            )
        )
    apply_offline_defaults(s.state_dir)
    setup_logging("DEBUG" if verbose else s.logging.level, s.logging.json_logs)


def print_df(df: pd.DataFrame, title: str) -> None:
    table = Table(title=title, show_lines=False)
    for col in df.columns:
        table.add_column(str(col), justify="right" if pd.api.types.is_numeric_dtype(df[col]) else "left")
    for row in df.itertuples(index=False):
        table.add_row(*["" if v is None else f"{v:.1f}" if isinstance(v, float) else str(v) for v in row])
    console.print(table)


def fail(err: FDAError) -> None:
    err_console.print(f"[bold red]error:[/] {err}")
    raise typer.Exit(code=2)


@app.command()
def ingest(
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            "-s",
            help="Folder of dumps, *.jsonl, checkout, tarball, or github:OWNER/REPO@TAG. Repeatable. Default: settings (../shared/corpus).",
        ),
    ] = None,
    version: Annotated[
        str | None, typer.Option(help="Release tag of a checkout/tarball whose version cannot be read from it.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Re-ingest versions whose input did not change.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Parse the FastAPI docs into the DuckDB store (documents, sections, chunks, releases)."""
    from index.ingest import ingest as run_ingest

    s = get_settings()
    try:
        summary = run_ingest(
            source or s.corpus.sources,
            s.db_path,
            s.state_dir / "cache",
            s.chunking,
            latest_version=s.corpus.latest_version,
            version=version,
            force=force,
            progress=sys.stderr.isatty(),
        )
    except FDAError as err:
        fail(err)
        return
    rows = [
        {
            "version": r.version,
            "status": r.status,
            "docs": r.n_documents,
            "skipped": len(r.skipped),
            "sections": r.n_sections,
            "chunks": r.n_chunks,
            "releases": r.n_releases,
            "includes": r.n_includes,
            "include_problems": len(r.include_problems),
            "undecodable": len(r.undecodable),
        }
        for r in summary.reports
    ]
    if as_json:
        console.print_json(json.dumps({"db": str(summary.db_path), "seconds": summary.seconds, "versions": rows}))
        return
    print_df(pd.DataFrame(rows), f"ingested into {summary.db_path} in {summary.seconds:.1f} s")
    for r in summary.reports:
        for md, ref in r.include_problems:
            err_console.print(f"[yellow]warning:[/] {r.version} {md}: include {ref} not found (placeholder kept)")
        for bad in r.undecodable:
            err_console.print(f"[yellow]warning:[/] {r.version} {bad}: unreadable, skipped")


@corpus_app.command("stats")
def corpus_stats_cmd(
    detail: Annotated[bool, typer.Option(help="Also break sections down by docs area.")] = False,
) -> None:
    """Counts per version and section type, chunk token sizes, and ingest issues."""
    from index.stats import corpus_stats

    try:
        stats = corpus_stats(get_settings().db_path)
    except FDAError as err:
        fail(err)
        return
    print_df(stats["versions"], "versions")
    by_type = stats["by_type"]
    if not detail:
        by_type = by_type.groupby(["version", "kind"], as_index=False)[["sections", "chunks", "tokens"]].sum()
    print_df(by_type, "sections by type")
    print_df(stats["tokens"], "chunk sizes (MiniLM tokens)")
    if not stats["issues"].empty:
        print_df(stats["issues"], "ingest issues (details: table ingest_issues)")


@gold_app.command("validate")
def gold_validate(
    version: Annotated[str, typer.Option(help="Gold-set version folder under data/gold/.")] = "v1",
    check_corpus: Annotated[bool, typer.Option(help="Check every gold section exists in the ingested store.")] = True,
) -> None:
    """Validate the gold set's schema (and its sections against the corpus) and print its make-up."""
    from eval.gold import gold_hash, load_gold
    from eval.gold_check import missing_sections

    try:
        rows = load_gold(version)
        missing = missing_sections(rows, get_settings().db_path) if check_corpus else []
    except FDAError as err:
        fail(err)
        return
    df = pd.DataFrame([{"type": r.type.value, "split": r.split} for r in rows])
    print_df(
        df.value_counts().unstack(fill_value=0).reset_index(),
        f"gold {version} ({len(rows)} rows, hash {gold_hash(version)})",
    )
    if missing:
        for qid, url in missing:
            err_console.print(f"[red]missing:[/] {qid}: {url}")
        raise typer.Exit(code=1)


@bench_app.command("ingest")
def bench_ingest(
    repeat: Annotated[int, typer.Option(min=1, help="Runs to time (each into a fresh temporary store).")] = 1,
) -> None:
    """Time and peak memory of ingesting every configured version from scratch."""
    from ops.bench_ingest import run_bench

    s = get_settings()
    try:
        df = run_bench(s.corpus.sources, s.chunking, repeat)
    except FDAError as err:
        fail(err)
        return
    print_df(df, "fda bench ingest")


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
    from ops.bench_lm import run_bench as run_lm_bench

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


@app.command("ui")
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


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
