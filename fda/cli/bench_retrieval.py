"""``fda bench retrieval``, ``retrieval-quality``, ``retrieval-ablation`` and ``retrieval-tune``: the retrieval
benches (ops/bench/, with eval/retrieval_quality.py's metrics), registered on ``fda bench`` by fda/cli/bench.py.

    fda bench retrieval-quality --split dev --by-type
    fda bench retrieval --plot docs/img/retrieval-latency.png
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, cast

import pandas as pd
import typer

from fda.console import console, err_console, fail, print_df, three_decimals
from fda.errors import FDAError
from fda.settings import INDEXED, LOCAL_BACKENDS, get_settings


def print_split_tables(
    df: pd.DataFrame, splits: Sequence[str], shown: Sequence[str], first: str, title: Callable[[str], str]
) -> None:
    """One table per split, titled ``title(split)``: ``first`` (the backend column, renamed) and the ``shown``
    metrics to three decimals."""
    for sp in splits:
        part = three_decimals(df[df["split"] == sp][["backend", "n", *shown]], list(shown))
        part = part.rename(columns=lambda c: c.replace("section", "sec")).rename(columns={"backend": first})
        print_df(part, title(sp))


def bench_retrieval(
    backend: Annotated[list[str] | None, typer.Option("--backend", "-b", help="Repeatable. Default: all six.")] = None,
    queries: Annotated[int, typer.Option(min=1, help="How many gold questions to time (all splits; text only).")] = 172,
    build: Annotated[
        bool, typer.Option(help="Also time building every index for all versions (temporary folder).")
    ] = False,
    plot: Annotated[Path | None, typer.Option(help="Also draw p50/p95 against the targets into this PNG.")] = None,
) -> None:
    """Query latency p50/p95 per backend (one thread, latest docs), optional index build time, peak memory."""
    import tempfile

    from eval.gold import load_gold
    from index.retrieval.build import build_indexes
    from index.retrieval.factory import open_retriever
    from index.retrieval.layout import paths_for
    from ops.bench.retrieval_latency import build_times, latency

    s = get_settings()
    names = backend or list(LOCAL_BACKENDS)
    try:
        paths = paths_for(s.retrieval, s.state_dir, s.db_path)
        if build:
            with tempfile.TemporaryDirectory(dir=s.state_dir) as tmp:
                tmp_paths = dataclasses.replace(paths, index_root=Path(tmp))

                def _build(name: str) -> float:
                    reports = build_indexes(s.retrieval, tmp_paths, [name], force=True, progress=sys.stderr.isatty())
                    return float(sum(sum(r.versions.values()) for r in reports))

                indexed = [n for n in names if n in INDEXED]
                print_df(build_times(_build, indexed), "index build, all versions (fda bench retrieval --build)")
        questions = [r.question for r in load_gold()][:queries]
        df = latency(lambda name: open_retriever(name, s, paths), names, questions, k=s.retrieval.k)
    except FDAError as err:
        fail(err)
        return
    print_df(df, f"search latency, latest docs, k={s.retrieval.k}, 1 thread (fda bench retrieval)")
    if plot is not None:
        from ops.bench.retrieval_plots import latency_figure, save

        console.print(f"chart: {save(latency_figure(df), plot)}")


def bench_retrieval_quality(
    backend: Annotated[list[str] | None, typer.Option("--backend", "-b", help="Repeatable. Default: all six.")] = None,
    split: Annotated[
        list[str] | None,
        typer.Option(help="Gold splits (repeatable). Default: v1 dev and test; v2 dev-select (its test is sealed)."),
    ] = None,
    gold: Annotated[str, typer.Option("--gold", help="Gold-set version under data/gold/.")] = "v1",
    as_json: Annotated[bool, typer.Option("--json", help="Print every metric as JSON.")] = False,
    plot: Annotated[
        Path | None, typer.Option(help="Also draw the target metrics against targets and ceiling into this PNG.")
    ] = None,
    per_type: Annotated[
        bool,
        typer.Option(
            "--by-type", help="Also break page Hit@1 / section R@5 down by question type (how-to, multi-hop, ...)."
        ),
    ] = False,
) -> None:
    """Recall@1/5/10, MRR@10, nDCG@10 at page and section level for every backend on the gold splits."""
    from eval.retrieval_quality import HEADLINE, by_type, ceiling, evaluate, split_targets
    from index.retrieval.factory import open_retriever
    from index.retrieval.layout import paths_for

    s = get_settings()
    names = backend or list(LOCAL_BACKENDS)
    try:
        paths = paths_for(s.retrieval, s.state_dir, s.db_path)
        from eval.session import splits_of

        allowed = splits_of(gold)
        splits = [sp for sp in split or (["dev", "test"] if gold == "v1" else ["dev-select"]) if sp in allowed]
        by_split = split_targets(s.db_path, splits, gold)
        rows: list[dict[str, object]] = []
        df = evaluate({n: open_retriever(n, s, paths) for n in names}, by_split, per_row=rows)
        df = pd.concat([df, ceiling(by_split)], ignore_index=True)
    except FDAError as err:
        fail(err)
        return
    if plot is not None:
        from ops.bench.retrieval_plots import quality_figure, save

        err_console.print(f"chart: {save(quality_figure(df), plot)}")
    if as_json:
        console.print_json(df.to_json(orient="records"))
        return
    for sp in by_split:
        print_split_tables(df, [sp], HEADLINE, "backend", lambda sp: f"retrieval quality, gold {gold} {sp} split")
        if per_type:
            print_df(by_type(rows, sp, ["page Hit@1", "section R@5"]), f"page Hit@1 / section R@5 by type, {sp}")


def bench_retrieval_ablation(
    split: Annotated[str, typer.Option(help="Gold split: dev (default) or train; never test.")] = "dev",
    as_json: Annotated[bool, typer.Option("--json", help="Print every metric as JSON.")] = False,
) -> None:
    """Each retrieval lever's effect on the dev split (ops/bench/retrieval_ablation.py), deltas against bm25."""
    from eval.retrieval_quality import evaluate, split_targets
    from index.retrieval.layout import paths_for
    from ops.bench.retrieval_ablation import levers, open_variants

    if split not in ("dev", "train"):
        fail(
            FDAError(
                f"split {split!r} is not for tuning", hint="Use --split dev or --split train; test is for reports."
            )
        )
        return
    s = get_settings()
    try:
        paths = paths_for(s.retrieval, s.state_dir, s.db_path)
        df = evaluate(open_variants(s.retrieval, paths), split_targets(s.db_path, [split]))
    except FDAError as err:
        fail(err)
        return
    df.insert(1, "lever", df["backend"].map(levers()))
    if as_json:
        console.print_json(df.to_json(orient="records"))
        return
    cols = ["page R@1", "page Hit@1", "page R@5", "section R@5", "section R@10", "section nDCG@10"]
    part = three_decimals(df[["backend", "n", *cols, "ms/query"]], cols)
    print_df(part, f"retrieval ablation, gold {split} split (fda bench retrieval-ablation)")


def bench_retrieval_tune(
    tune_split: Annotated[
        str, typer.Option("--tune", help="Split the grid is searched on: train (default) or dev.")
    ] = "train",
    check: Annotated[str, typer.Option(help="Split the best settings are checked on: dev (default) or train.")] = "dev",
    top: Annotated[int, typer.Option(min=1, help="Best settings shown and checked.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the shown rows as JSON.")] = False,
) -> None:
    """Grid-search the fused weights on one gold split and check the best on another (never test)."""
    from eval.gold import Split, load_gold
    from eval.retrieval_quality import targets
    from index.retrieval.factory import Opener
    from index.retrieval.fused import SIGNALS, FusedRetriever
    from index.retrieval.layout import paths_for
    from index.retrieval.passages import versions
    from ops.bench.retrieval_tune import SHOWN, Setting, collect, grid, score, tune

    if {tune_split, check} - {"train", "dev"} or tune_split == check:
        fail(FDAError("tune and check on two different splits of train and dev", hint="Test is for reports only."))
        return
    s = get_settings()
    try:
        paths = paths_for(s.retrieval, s.state_dir, s.db_path)
        known, latest = versions(s.db_path)
        latest = latest or known[-1]
        # every signal computed (a weight of 0 would skip it), whatever the current weights; bare: open_retriever
        # adds the service's wrappers
        every = s.retrieval.model_copy(update={"fused_weights": [1.0] * len(SIGNALS)})
        fused = Opener(every, paths).get("fused")
        assert isinstance(fused, FusedRetriever)
        rows = {
            sp: collect(fused, targets(load_gold(split=cast("Split", sp)), known, latest), latest)
            for sp in (tune_split, check)
        }
    except FDAError as err:
        fail(err)
        return
    df = tune(rows[tune_split], grid())
    weights = list(s.retrieval.fused_weights)
    current = Setting(tuple(weights + [0.0] * (len(SIGNALS) - len(weights))), s.retrieval.page_weight)
    picked = [*df["_setting"].head(top), current]
    out = pd.DataFrame(
        [
            {
                "setting": st.label() + (" (current)" if st == current else ""),
                **{f"{tune_split} {k}": score(rows[tune_split], st)[k] for k in ("objective", *SHOWN)},
                **{f"{check} {k}": score(rows[check], st)[k] for k in ("objective", *SHOWN)},
            }
            for st in picked
        ]
    )
    if as_json:
        console.print_json(out.to_json(orient="records"))
        return
    cols = [
        "setting",
        *[f"{sp} {k}" for sp in (tune_split, check) for k in ("objective", "page R@1", "page R@5", "section R@5")],
    ]
    part = three_decimals(out[cols], cols[1:])
    n = {sp: len(r) for sp, r in rows.items()}
    print_df(
        part.rename(columns=lambda c: c.replace("section", "sec")),
        f"fused weights [bm25, dense, colbert, headings] + page boost: best of {len(df)} on {tune_split} "
        f"({n[tune_split]} rows), checked on {check} ({n[check]} rows)",
    )
