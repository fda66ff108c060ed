"""``fda bench retrieval-rewrite`` (registered by fda/cli.py): ops/retrieval_rewrite.py's table."""

from __future__ import annotations

from typing import Annotated

import typer

from fda.errors import FDAError
from fda.settings import get_settings


def bench_retrieval_rewrite(
    model: Annotated[
        str | None, typer.Option(help="The router's LM: local:<name> or a LiteLLM model string. Default: lm.model.")
    ] = None,
    split: Annotated[
        list[str] | None, typer.Option(help="Gold splits (repeatable): train and/or dev. Default: both.")
    ] = None,
    backend: Annotated[
        str | None, typer.Option("--backend", "-b", help="Retrieval backend. Default: settings.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print every metric as JSON.")] = False,
) -> None:
    """Retrieval with and without the router's rewritten queries (one LM call per question, cached)."""
    import pandas as pd
    from rich.progress import Progress

    from fda.cli import console, err_console, fail
    from fda.lm.factory import model_for
    from index.retriever import open_retriever
    from ops.lm_bench import choice_rows, choice_splits, lm_for, print_split_tables
    from ops.retrieval_quality import evaluate
    from ops.retrieval_rewrite import SHOWN, STRATEGIES, Rewritten, cache_file, rewrite_all
    from programs.rewriter import QueryRewriter

    s = get_settings()
    name = model or model_for(s.lm)
    try:
        splits = choice_splits(split)
        paths, rows = choice_rows(s, splits)
        retriever = open_retriever(backend, s, paths)
        cache = cache_file(s.state_dir / "cache" / "rewrites", name)
        router = QueryRewriter()
        total = sum(len(r) for r in rows.values())
        with lm_for(s, name), Progress(console=err_console) as bar:
            task = bar.add_task(f"rewrite ({name})", total=total)
            queries: dict[str, list[str]] = {}
            failed = 0
            for sp_rows in rows.values():
                got, bad = rewrite_all(sp_rows, lambda q: router(question=q).queries, cache, lambda: bar.advance(task))
                queries.update(got)
                failed += bad
        variants = {label: Rewritten(retriever, queries, strategy, label) for label, strategy in STRATEGIES.items()}
        df = evaluate(variants, rows)
    except FDAError as err:
        fail(err)
        return
    if failed:
        err_console.print(f"[yellow]{failed} router call(s) failed: those questions were searched alone.[/]")
    if as_json:
        console.print_json(df.to_json(orient="records"))
        return
    n_queries = pd.Series([len(v) - 1 for v in queries.values()]).mean()
    print_split_tables(
        df,
        splits,
        SHOWN,
        "strategy",
        lambda sp: (
            f"query rewriting by {name}, {retriever.name}, gold {sp} split ({n_queries:.1f} queries a question; "
            f"cache {cache.name})"
        ),
    )
