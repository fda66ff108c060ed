"""``fda bench retrieval-rerank`` (registered by fda/cli.py): ops/retrieval_rerank.py's table."""

from __future__ import annotations

from typing import Annotated, cast

import typer

from fda.errors import FDAError
from fda.settings import get_settings

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
    import dspy
    from rich.progress import Progress

    from eval.gold import Split, load_gold
    from fda.cli import console, err_console, fail, print_df
    from fda.lm.adapter import adapter_for
    from fda.lm.factory import make_lm, model_for, runtime_from_settings
    from index.build import paths_for
    from index.passages import versions
    from index.retriever import open_retriever
    from ops.retrieval_quality import evaluate, targets
    from ops.retrieval_rerank import Reranked, cache_file
    from programs.reranker import LMReranker

    splits = split or ["train", "dev"]
    if set(splits) - {"train", "dev"}:
        fail(
            FDAError(f"splits {splits} are not for choosing", hint="Use --split train and/or dev; test is for reports.")
        )
        return
    s = get_settings()
    name = model or model_for(s.lm)
    try:
        paths = paths_for(s.retrieval, s.state_dir, s.db_path)
        known, latest = versions(s.db_path)
        rows = {sp: targets(load_gold(split=cast("Split", sp)), known, latest or known[-1]) for sp in splits}
        retriever = open_retriever(backend, s, paths)
        cache = cache_file(s.state_dir / "cache" / "rerank", name, top)
        with runtime_from_settings(s, progress=True) as runtime:
            lm = make_lm(s.lm, runtime=runtime, model=name)
            reranker = LMReranker(top=top)

            def pick(question: str, shown: object) -> list[object]:
                with dspy.context(lm=lm, adapter=adapter_for(lm)):
                    return list(reranker.ask(question, cast("list", shown)))

            total = sum(len(r) for r in rows.values())
            with Progress(console=err_console) as bar:
                task = bar.add_task(f"rerank ({name}, top {top})", total=total)
                reranked = Reranked(retriever, pick, cache, top=top, name=f"{retriever.name} + lm rerank")
                reranked.progress = lambda: bar.advance(task)
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
    for sp in rows:
        part = df[df["split"] == sp][["backend", "n", *SHOWN]].copy()
        for col in SHOWN:
            part[col] = part[col].map(lambda v: f"{v:.3f}")
        print_df(
            part.rename(columns=lambda c: c.replace("section", "sec")),
            f"LM re-ranking by {name} (top {top}), gold {sp} split ({reranked.calls} LM calls this run; cache "
            f"{cache.name})",
        )
