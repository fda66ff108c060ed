"""Retrieval commands: ``fda index``, ``fda search``, ``fda train-retriever``, ``fda bench retrieval`` and
``fda bench retrieval-quality``. Registered on the main app by fda/cli.py; heavy imports stay inside.

    fda index && fda search "How do I enable CORS?" --backend hybrid
    fda bench retrieval-quality
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any, cast

import pandas as pd
import typer
from rich.table import Table

from fda.errors import ConfigError, FDAError
from fda.settings import get_settings

log = logging.getLogger(__name__)


def _helpers() -> tuple[Any, Any, Any]:
    """fda/cli.py's console and table helpers (imported late: fda/cli.py imports this module)."""
    from fda.cli import console, fail, print_df

    return console, fail, print_df


def index_cmd(
    backend: Annotated[
        list[str] | None, typer.Option("--backend", "-b", help="bm25, dense or colbert; repeatable. Default: settings.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Rebuild even when the inputs did not change.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Build the retrieval indexes for every ingested version (rebuilt only when their inputs change)."""
    from index.build import build_indexes, paths_for

    console, fail, print_df = _helpers()
    s = get_settings()
    try:
        reports = build_indexes(
            s.retrieval,
            paths_for(s.retrieval, s.state_dir, s.db_path),
            backend,
            force=force,
            progress=sys.stderr.isatty(),
        )
    except FDAError as err:
        fail(err)
        return
    rows = [
        {
            "backend": r.backend,
            "status": r.status,
            "seconds": r.seconds,
            "chunks": sum(r.versions.values()),
            "folder": str(r.folder),
        }
        for r in reports
    ]
    if as_json:
        console.print_json(json.dumps(rows))
        return
    print_df(pd.DataFrame(rows), "fda index")


def search_cmd(
    query: Annotated[str, typer.Argument(help="The question or keywords.")],
    backend: Annotated[
        str | None, typer.Option("--backend", "-b", help="bm25, dense, colbert, hybrid, rerank.")
    ] = None,
    version: Annotated[str | None, typer.Option("--version", "-V", help="Docs version (default: latest).")] = None,
    k: Annotated[int | None, typer.Option("-k", min=1, max=100, help="Results (default: settings).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
) -> None:
    """Search the docs: ranked URL#anchor, heading path and score."""
    from index.retriever import open_retriever

    console, fail, _ = _helpers()
    s = get_settings()
    try:
        retriever = open_retriever(backend, s)
        passages = retriever.search(query, k=k or s.retrieval.k, version=version)
    except FDAError as err:
        fail(err)
        return
    if as_json:
        console.print_json(json.dumps([p.model_dump() for p in passages]))
        return
    table = Table(title=f"{retriever.name}: {query[:80]}")
    for col, justify in (("#", "right"), ("url", "left"), ("heading path", "left"), ("score", "right")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for i, p in enumerate(passages, start=1):
        table.add_row(str(i), p.url, p.title, f"{p.score:.3f}")
    console.print(table)


def train_retriever_cmd(
    steps: Annotated[int, typer.Option(min=1, help="Optimiser steps.")] = 800,
    lr: Annotated[float, typer.Option(help="Peak learning rate (AdamW, warm-up then cosine decay).")] = 2e-3,
    seed: Annotated[int, typer.Option(help="Seed for pairs, sampling and initialisation.")] = 0,
    out: Annotated[
        str | None,
        typer.Option(help="Output folder. Default: data/retriever/<retrieval.artifact> (the committed one)."),
    ] = None,
    generated: Annotated[
        bool,
        typer.Option(
            help="Also train on the questions generated from sections "
            "(data/retriever/<retrieval.questions_artifact>/, written by `fda gen-questions`), as the committed "
            "colbert-minilm-fda-v2 was; --no-generated (with --out) gives the v1 recipe."
        ),
    ] = True,
) -> None:
    """Train the ColBERT projection on pairs made from the latest docs (no gold questions) and write it."""
    from tqdm import tqdm

    from index.build import ARTIFACTS_DIR
    from index.colbert_train import TrainConfig
    from index.dense import default_model_path
    from index.train_run import train_retriever

    console, fail, _ = _helpers()
    s = get_settings()
    if not generated and out is None:
        fail(
            ConfigError(
                f"--no-generated without --out would overwrite the committed {s.retrieval.artifact} "
                "(trained with the generated questions) with the v1 recipe",
                hint="Pass --out DIR (e.g. --out data/retriever/colbert-minilm-fda-v1 to reproduce v1).",
            )
        )
        return
    out_dir = Path(out) if out else ARTIFACTS_DIR / s.retrieval.artifact
    show = sys.stderr.isatty()

    class _Progress:
        def __init__(self) -> None:
            self.docs = tqdm(desc="encode docs", unit="chunk", disable=not show)
            self.steps = tqdm(total=steps, desc="train", unit="step", disable=not show)

        def doc(self, n: int) -> None:
            self.docs.update(n)

        def step(self, i: int, loss: float) -> None:
            self.steps.update(1)
            if i % 50 == 0:
                self.steps.set_postfix(loss=f"{loss:.3f}")
                log.info("train step %d/%d loss %.3f", i, steps, loss)

    try:
        manifest = train_retriever(
            s.db_path,
            default_model_path(),
            out_dir,
            s.state_dir / "cache" / "colbert-train",
            TrainConfig(seed=seed, steps=steps, lr=lr),
            progress=_Progress(),
            questions_file=ARTIFACTS_DIR / s.retrieval.questions_artifact / "questions.jsonl" if generated else None,
        )
    except FDAError as err:
        fail(err)
        return
    curve = manifest["loss_curve"]["mean_loss"]
    console.print(
        f"wrote {out_dir} ({manifest['data']['pairs']} pairs, loss {curve[0]:.3f} -> {curve[-1]:.3f}, "
        f"{manifest['seconds']['total']:.0f} s). Rebuild the colbert index with `fda index`."
    )


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
    from index.build import build_indexes, paths_for
    from index.retriever import open_retriever
    from ops.bench_retrieval import build_times, latency

    _, fail, print_df = _helpers()
    s = get_settings()
    names = backend or ["bm25", "dense", "colbert", "hybrid", "rerank", "fused"]
    try:
        paths = paths_for(s.retrieval, s.state_dir, s.db_path)
        if build:
            with tempfile.TemporaryDirectory(dir=s.state_dir) as tmp:
                tmp_paths = dataclasses.replace(paths, index_root=Path(tmp))

                def _build(name: str) -> float:
                    reports = build_indexes(s.retrieval, tmp_paths, [name], force=True, progress=sys.stderr.isatty())
                    return float(sum(sum(r.versions.values()) for r in reports))

                indexed = [n for n in names if n in ("bm25", "dense", "colbert")]
                print_df(build_times(_build, indexed), "index build, all versions (fda bench retrieval --build)")
        questions = [r.question for r in load_gold()][:queries]
        df = latency(lambda name: open_retriever(name, s, paths), names, questions, k=s.retrieval.k)
    except FDAError as err:
        fail(err)
        return
    print_df(df, f"search latency, latest docs, k={s.retrieval.k}, 1 thread (fda bench retrieval)")
    if plot is not None:
        from ops.retrieval_plots import latency_figure, save

        _helpers()[0].print(f"chart: {save(latency_figure(df), plot)}")


def bench_retrieval_quality(
    backend: Annotated[list[str] | None, typer.Option("--backend", "-b", help="Repeatable. Default: all six.")] = None,
    split: Annotated[list[str] | None, typer.Option(help="Gold splits (repeatable). Default: dev and test.")] = None,
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
    from eval.gold import Split, load_gold
    from index.build import paths_for
    from index.passages import versions
    from index.retriever import open_retriever
    from ops.retrieval_quality import HEADLINE, Target, by_type, ceiling, evaluate, targets

    console, fail, print_df = _helpers()
    s = get_settings()
    names = backend or ["bm25", "dense", "colbert", "hybrid", "rerank", "fused"]
    try:
        paths = paths_for(s.retrieval, s.state_dir, s.db_path)
        known, latest = versions(s.db_path)
        splits = [cast("Split", sp) for sp in split or ["dev", "test"] if sp in ("train", "dev", "test")]
        split_targets: dict[str, list[Target]] = {
            sp: targets(load_gold(split=sp), known, latest or known[-1]) for sp in splits
        }
        rows: list[dict[str, object]] = []
        df = evaluate({n: open_retriever(n, s, paths) for n in names}, split_targets, per_row=rows)
        df = pd.concat([df, ceiling(split_targets)], ignore_index=True)
    except FDAError as err:
        fail(err)
        return
    if plot is not None:
        from fda.cli import err_console
        from ops.retrieval_plots import quality_figure, save

        err_console.print(f"chart: {save(quality_figure(df), plot)}")
    if as_json:
        console.print_json(df.to_json(orient="records"))
        return
    for sp in split_targets:
        part = df[df["split"] == sp][["backend", "n", *HEADLINE]].copy()
        for col in HEADLINE:  # three decimals (print_df shows one)
            part[col] = part[col].map(lambda v: f"{v:.3f}")
        print_df(part.rename(columns=lambda c: c.replace("section", "sec")), f"retrieval quality, gold {sp} split")
        if per_type:
            print_df(by_type(rows, sp, ["page Hit@1", "section R@5"]), f"page Hit@1 / section R@5 by type, {sp}")


def bench_retrieval_ablation(
    split: Annotated[str, typer.Option(help="Gold split: dev (default) or train; never test.")] = "dev",
    as_json: Annotated[bool, typer.Option("--json", help="Print every metric as JSON.")] = False,
) -> None:
    """Each retrieval lever's effect on the dev split (ops/retrieval_ablation.py), deltas against bm25."""
    from eval.gold import Split, load_gold
    from index.build import paths_for
    from index.passages import versions
    from ops.retrieval_ablation import levers, open_variants
    from ops.retrieval_quality import evaluate, targets

    console, fail, print_df = _helpers()
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
        known, latest = versions(s.db_path)
        rows = targets(load_gold(split=cast("Split", split)), known, latest or known[-1])
        df = evaluate(open_variants(s.retrieval, paths), {split: rows})
    except FDAError as err:
        fail(err)
        return
    df.insert(1, "lever", df["backend"].map(levers()))
    if as_json:
        console.print_json(df.to_json(orient="records"))
        return
    cols = ["page R@1", "page Hit@1", "page R@5", "section R@5", "section R@10", "section nDCG@10"]
    part = df[["backend", "n", *cols, "ms/query"]].copy()
    for col in cols:
        part[col] = part[col].map(lambda v: f"{v:.3f}")
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
    from index.build import paths_for
    from index.factory import Opener
    from index.fused import SIGNALS, FusedRetriever
    from index.passages import versions
    from ops.retrieval_quality import targets
    from ops.retrieval_tune import SHOWN, Setting, collect, grid, score, tune

    console, fail, print_df = _helpers()
    if {tune_split, check} - {"train", "dev"} or tune_split == check:
        fail(FDAError("tune and check on two different splits of train and dev", hint="Test is for reports only."))
        return
    s = get_settings()
    try:
        paths = paths_for(s.retrieval, s.state_dir, s.db_path)
        known, latest = versions(s.db_path)
        latest = latest or known[-1]
        # every signal computed (a weight of 0 would skip it), whatever the current weights; bare: open_backend
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
    part = out[cols].copy()
    for col in cols[1:]:
        part[col] = part[col].map(lambda v: f"{v:.3f}")
    n = {sp: len(r) for sp, r in rows.items()}
    print_df(
        part.rename(columns=lambda c: c.replace("section", "sec")),
        f"fused weights [bm25, dense, colbert, headings] + page boost: best of {len(df)} on {tune_split} "
        f"({n[tune_split]} rows), checked on {check} ({n[check]} rows)",
    )
