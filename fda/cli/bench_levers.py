"""``fda bench retrieval-rewrite`` and ``fda bench retrieval-rerank``: an LM lever on retrieval, measured on
gold train/dev (ops/bench/retrieval_rewrite.py, ops/bench/retrieval_rerank.py), registered on ``fda bench``.

    fda bench retrieval-rewrite --model local:qwen2.5-coder-1.5b
    fda bench retrieval-rerank -b fused --top 8
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from fda.cli.bench_retrieval import print_split_tables
from fda.console import console, err_console, fail
from fda.errors import FDAError
from fda.settings import BACKENDS, Settings, get_settings
from fda.types import Passage

if TYPE_CHECKING:
    from rich.progress import Progress

    from eval.retrieval_quality import Target
    from index.retrieval.base import Retriever

LeverModelOpt = Annotated[
    str | None, typer.Option("--model", help="The LM: local:<name> or a LiteLLM model string. Default: lm.model.")
]
LeverSplitOpt = Annotated[
    list[str] | None, typer.Option("--split", help="Gold splits (repeatable): train and/or dev. Default: both.")
]
LeverBackendOpt = Annotated[
    str | None, typer.Option("--backend", "-b", help=f"Retrieval backend: {', '.join(BACKENDS)}. Default: settings.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print every metric as JSON.")]

RERANK_SHOWN = ["page R@1", "page Hit@1", "page R@5", "section R@1", "section R@5", "section R@10", "section MRR@10"]


@dataclass
class Lever:
    """What both benches set up: the LM's name, the splits, their rows, the retriever, a progress bar."""

    settings: Settings
    model: str
    splits: list[str]
    rows: dict[str, list[Target]]
    retriever: Retriever
    bar: Progress

    @property
    def total(self) -> int:
        return sum(len(r) for r in self.rows.values())


@contextmanager
def lever(model: str | None, split: Sequence[str] | None, backend: str | None) -> Iterator[Lever]:
    """Splits (test refused), rows, the retriever, and the LM in DSPy's context for the block."""
    from rich.progress import Progress

    from fda.lm.factory import model_for
    from index.retrieval.factory import open_retriever
    from ops.bench.lm_levers import choice_rows, choice_splits, lm_for

    s = get_settings()
    name = model or model_for(s.lm)
    splits = choice_splits(split)
    paths, rows = choice_rows(s, splits)
    retriever = open_retriever(backend, s, paths)
    with lm_for(s, name), Progress(console=err_console) as bar:
        yield Lever(s, name, splits, rows, retriever, bar)


def bench_retrieval_rewrite(
    model: LeverModelOpt = None, split: LeverSplitOpt = None, backend: LeverBackendOpt = None, as_json: JsonOpt = False
) -> None:
    """Retrieval with and without the router's rewritten queries (one LM call per question, cached)."""
    import pandas as pd

    from eval.retrieval_quality import evaluate
    from ops.bench.retrieval_rewrite import SHOWN, STRATEGIES, Rewritten, cache_file, rewrite_all
    from programs.rewriter import QueryRewriter

    try:
        with lever(model, split, backend) as lv:
            cache = cache_file(lv.settings.state_dir / "cache" / "rewrites", lv.model)
            router = QueryRewriter()
            task = lv.bar.add_task(f"rewrite ({lv.model})", total=lv.total)
            queries: dict[str, list[str]] = {}
            failed = 0
            for sp_rows in lv.rows.values():
                got, bad = rewrite_all(
                    sp_rows, lambda q: router(question=q).queries, cache, lambda: lv.bar.advance(task)
                )
                queries.update(got)
                failed += bad
        variants = {label: Rewritten(lv.retriever, queries, st, label) for label, st in STRATEGIES.items()}
        df = evaluate(variants, lv.rows)
    except FDAError as err:
        fail(err)
    if failed:
        err_console.print(f"[yellow]{failed} router call(s) failed: those questions were searched alone.[/]")
    if as_json:
        console.print_json(df.to_json(orient="records"))
        return
    n_queries = pd.Series([len(v) - 1 for v in queries.values()]).mean()
    print_split_tables(
        df,
        lv.splits,
        SHOWN,
        "strategy",
        lambda sp: (
            f"query rewriting by {lv.model}, {lv.retriever.name}, gold {sp} split ({n_queries:.1f} queries a "
            f"question; cache {cache.name})"
        ),
    )


def bench_retrieval_rerank(
    model: LeverModelOpt = None,
    split: LeverSplitOpt = None,
    backend: LeverBackendOpt = None,
    top: Annotated[int, typer.Option(min=2, max=20, help="Sections shown to the LM.")] = 8,
    as_json: JsonOpt = False,
) -> None:
    """Retrieval as ranked and after the LM re-orders the top sections (one LM call per question, cached)."""
    from eval.retrieval_quality import evaluate
    from ops.bench.retrieval_rerank import Reranked, cache_file
    from programs.reranker import LMReranker

    try:
        with lever(model, split, backend) as lv:
            cache = cache_file(lv.settings.state_dir / "cache" / "rerank", lv.model, top)
            reranker = LMReranker(top=top)

            def pick(question: str, shown: Sequence[Passage]) -> list[object]:
                return reranker.ask(question, shown)

            task = lv.bar.add_task(f"rerank ({lv.model}, top {top})", total=lv.total)
            reranked = Reranked(
                lv.retriever,
                pick,
                cache,
                top=top,
                name=f"{lv.retriever.name} + lm rerank",
                progress=lambda: lv.bar.advance(task),
            )
            df = evaluate({lv.retriever.name: lv.retriever, reranked.name: reranked}, lv.rows)
    except FDAError as err:
        fail(err)
    if reranked.failed:
        err_console.print(
            f"[yellow]{reranked.failed} LM call(s) failed: those questions kept the retriever's order.[/]"
        )
    if as_json:
        console.print_json(df.to_json(orient="records"))
        return
    print_split_tables(
        df,
        lv.splits,
        RERANK_SHOWN,
        "backend",
        lambda sp: (
            f"LM re-ranking by {lv.model} (top {top}), gold {sp} split ({reranked.calls} LM calls this run; cache "
            f"{cache.name})"
        ),
    )
