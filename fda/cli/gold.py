"""``fda gold``: the gold question set.

fda gold validate                # schema, splits and every gold section against the ingested store
"""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import typer

from fda.console import err_console, fail, print_df
from fda.errors import FDAError
from fda.settings import get_settings

gold_app = typer.Typer(help="The gold question set.", no_args_is_help=True)


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
