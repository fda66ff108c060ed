"""``fda bench answer`` (registered by fda/cli.py): ops/bench_answer.py's latency + quality table per LM."""

from __future__ import annotations

import functools
import json
import time
from typing import Annotated, Any

import typer

from eval.gold import Split
from fda.errors import FDAError
from fda.settings import get_settings

DEFAULT_MODELS = "local:qwen2.5-coder-0.5b,local:qwen2.5-coder-1.5b"


def _advance(bar: Any, task: Any, done: int, total: int) -> None:
    bar.update(task, completed=done)


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
    from fda.cli import console, err_console, fail, print_df
    from fda.env import apply_offline_defaults
    from fda.lm.factory import make_lm, runtime_from_settings
    from index.retriever import open_retriever
    from ops.bench_answer import run_model, summarize, table
    from optimizers.serving import program_versions
    from programs.factory import build_answer_program

    base = get_settings()
    apply_offline_defaults(base.state_dir)
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
