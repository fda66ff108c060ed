"""``fda ingest`` and ``fda corpus stats``: the docs into the DuckDB store, and what is in it.

fda ingest                       # the three dumps in ../shared/corpus
fda corpus stats --detail
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import pandas as pd
import typer

from fda.console import console, err_console, fail, print_df
from fda.errors import FDAError
from fda.settings import get_settings

corpus_app = typer.Typer(help="Inspect the ingested corpus.", no_args_is_help=True)


def ingest_cmd(
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
    from index.ingest.pipeline import ingest as run_ingest

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
    from index.ingest.stats import corpus_stats

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
