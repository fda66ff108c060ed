"""Retrieval commands: ``fda index``, ``fda search``, ``fda train-retriever`` (registered by fda/cli/app.py;
heavy imports stay inside the commands).

    fda index && fda search "How do I enable CORS?" --backend hybrid
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
import typer
from rich.table import Table

from fda.console import console, fail, print_df
from fda.errors import ConfigError, FDAError
from fda.settings import get_settings

log = logging.getLogger(__name__)


def index_cmd(
    backend: Annotated[
        list[str] | None, typer.Option("--backend", "-b", help="bm25, dense or colbert; repeatable. Default: settings.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Rebuild even when the inputs did not change.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    exit_with_parent: Annotated[
        bool, typer.Option("--exit-with-parent", hidden=True, help="Exit when stdin closes (fda serve's builds).")
    ] = False,
    target: Annotated[
        Literal["local", "azure-search"],
        typer.Option(
            help="local: the indexes under state/indexes; azure-search: one Azure AI Search index per version "
            "(FDA_AZURE__SEARCH__ENDPOINT), schema and chunks with their vectors uploaded."
        ),
    ] = "local",
    version: Annotated[
        list[str] | None,
        typer.Option("--version", "-V", help="azure-search: docs version to upload; repeatable. Default: the latest."),
    ] = None,
) -> None:
    """Build the retrieval indexes for every ingested version (rebuilt only when their inputs change), or upload
    versions to Azure AI Search (--target azure-search)."""
    if target == "azure-search":
        if backend:
            fail(ConfigError("--backend names local indexes", hint="Leave it out with --target azure-search."))
        _index_azure(version, as_json)
        return
    if version:
        fail(ConfigError("--version applies to --target azure-search", hint="Local indexes cover every version."))
    if exit_with_parent:
        _exit_when_stdin_closes()
    from index.retrieval.build import build_indexes
    from index.retrieval.layout import paths_for

    s = get_settings()
    if set(backend or s.retrieval.build) - {"bm25"}:  # the encoders: a batch job gets every core
        _encode_with_build_threads(s.retrieval.build_threads)
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


def _encode_with_build_threads(build_threads: int) -> None:
    import torch

    threads = build_threads or os.cpu_count() or 1
    torch.set_num_threads(threads)
    log.info("encoding with %d threads (retrieval.build_threads)", threads)


def _index_azure(versions: list[str] | None, as_json: bool) -> None:
    """Upload versions to Azure AI Search; documents that failed twice make the command fail after the table."""
    from index.retrieval.azure_search import SearchUnavailableError
    from index.retrieval.azure_upload import upload_from_store

    s = get_settings()
    _encode_with_build_threads(s.retrieval.build_threads)  # versions the dense index lacks are encoded
    try:
        reports = upload_from_store(s, versions, progress=sys.stderr.isatty())
    except FDAError as err:
        fail(err)
    rows = [
        {
            "version": r.version,
            "index": r.index,
            "documents": r.documents,
            "uploaded": r.uploaded,
            "failed": r.failed,
            "retried": r.retried,
            "batches": len(r.batches),
            "seconds": r.seconds,
        }
        for r in reports
    ]
    if as_json:
        console.print_json(json.dumps(rows))
    else:
        print_df(pd.DataFrame(rows), "fda index --target azure-search")
    failed = sum(r.failed for r in reports)
    if failed:
        fail(
            SearchUnavailableError(
                f"{failed} documents were not uploaded (each was tried twice)",
                hint="Run the same command again: uploads are keyed by chunk id, so nothing is duplicated.",
            )
        )


def _exit_when_stdin_closes() -> None:
    """`fda serve` started this build with a pipe on stdin: EOF means the service is gone (even killed), and an
    unfinished index is worth nothing to anyone; its folder has no manifest, so the next start builds again.

    A build paused (stopped) when its service was killed cannot read the pipe; the kernel then sends its process
    group SIGHUP and SIGCONT, handled here the same way. Either way the processes below it (ninja and the
    compilers it starts in process groups of their own, which the pause stopped too) are continued and killed
    first: left stopped, ninja would wait on them for ever. The compile lock they leave is cleared by the next
    build (index/retrieval/warm.py)."""
    import signal
    import threading

    from index.retrieval.background import end_descendants

    def leave(reason: str) -> None:
        log.warning("%s: stopping", reason)
        end_descendants(os.getpid())
        os._exit(3)

    def watch() -> None:
        # the raw descriptor, not sys.stdin: a daemon thread blocked in a buffered read holds its lock, and the
        # interpreter then aborts at a normal exit ("could not acquire lock for <stdin> at interpreter shutdown")
        while os.read(0, 4096):
            pass
        leave("the service that started this build is gone")

    signal.signal(signal.SIGHUP, lambda *_: leave("the service that started this build is gone (SIGHUP)"))
    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


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
    from index.retrieval.factory import open_retriever

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

    from index.retrieval.layout import ARTIFACTS_DIR, default_model_path
    from index.training.run import train_retriever
    from index.training.train import TrainConfig

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
