"""``fda bench retrieval-rerank`` (registered by fda/cli.py): ops/retrieval_rerank.py's table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer

from fda.errors import FDAError
from fda.settings import get_settings
from fda.types import Passage

SHOWN = ["page R@1", "page Hit@1", "page R@5", "section R@1", "section R@5", "section R@10", "section MRR@10"]


def bench_retrieval_rerank(
    model: Annotated[
        str | None, typer.Option(help="The re-ranking LM: local:<name> or a LiteLLM model string. Default: lm.model.")
    ] = None,
    split: Annotated[
        list[str] | None, typer.Option(help="Gold splits (repeatable): train and/or dev. Default: both.")
    ] = None,
    backend: Annotated[
        str | None, typer.Option("--backend", "-b", help="Retrieval backend. Default: settings.")
    ] = None,
    top: Annotated[int, typer.Option(min=2, max=20, help="Sections shown to the LM.")] = 8,
    as_json: Annotated[bool, typer.Option("--json", help="Print every metric as JSON.")] = False,
) -> None:
    """Retrieval as ranked and after the LM re-orders the top sections (one LM call per question, cached)."""
    from rich.progress import Progress

    from fda.cli import console, err_console, fail
    from fda.lm.factory import model_for
    from index.retriever import open_retriever
    from ops.lm_bench import choice_rows, choice_splits, lm_for, print_split_tables
    from ops.retrieval_quality import evaluate
    from ops.retrieval_rerank import Reranked, cache_file
    from programs.reranker import LMReranker

    s = get_settings()
    name = model or model_for(s.lm)
    try:
        splits = choice_splits(split)
        paths, rows = choice_rows(s, splits)
        retriever = open_retriever(backend, s, paths)
        cache = cache_file(s.state_dir / "cache" / "rerank", name, top)
        reranker = LMReranker(top=top)

        def pick(question: str, shown: Sequence[Passage]) -> list[object]:
            return reranker.ask(question, shown)

        with lm_for(s, name), Progress(console=err_console) as bar:
            task = bar.add_task(f"rerank ({name}, top {top})", total=sum(len(r) for r in rows.values()))
            reranked = Reranked(
                retriever,
                pick,
                cache,
                top=top,
                name=f"{retriever.name} + lm rerank",
                progress=lambda: bar.advance(task),
            )
            df = evaluate({retriever.name: retriever, reranked.name: reranked}, rows)
    except FDAError as err:
        fail(err)
        return
    if reranked.failed:
        err_console.print(
            f"[yellow]{reranked.failed} LM call(s) failed: those questions kept the retriever's order.[/]"
        )
    if as_json:
        console.print_json(df.to_json(orient="records"))
        return
    print_split_tables(
        df,
        splits,
        SHOWN,
        "backend",
        lambda sp: (
            f"LM re-ranking by {name} (top {top}), gold {sp} split ({reranked.calls} LM calls this run; cache "
            f"{cache.name})"
        ),
    )
