"""``fda gold``: the gold question set.

fda gold validate --version v2   # schema, lint, splits, and every gold section against the ingested store
fda gold split --version v2      # assign a split to rows that have none (stratified, grouped, seeded)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import pandas as pd
import typer

from fda.console import console, err_console, fail, print_df
from fda.errors import FDAError
from fda.settings import get_settings

gold_app = typer.Typer(help="The gold question set.", no_args_is_help=True)
VersionOpt = Annotated[str, typer.Option("--version", help="Gold-set version folder under data/gold/.")]


@gold_app.command("validate")
def gold_validate(
    version: VersionOpt = "v2",
    check_corpus: Annotated[
        bool, typer.Option(help="Check every gold section exists (and, v2, has a chunk) in the ingested store.")
    ] = True,
    semantic: Annotated[
        bool, typer.Option(help="v2: also find near-duplicates by sentence vectors (the packaged MiniLM, ~10 s).")
    ] = True,
) -> None:
    """Validate the gold set and print its make-up; exit 1 listing every problem.

    v1: schema and sections. v2 adds the lint (answer keys that can fail, no docs toy identifiers in
    written questions), retrievability (every section has a chunk) and split grouping (stored splits,
    groups and near-duplicates on one side of every boundary)."""
    from eval.gold import gold_hash, load_all_rows, manifest
    from eval.gold_check import missing_sections, unretrievable_sections
    from eval.gold_lint import lint_rows, semantic_near_duplicates, split_problems

    v2 = bool(manifest(version))
    try:
        rows = load_all_rows(version)
        db = get_settings().db_path
        weak = [str(p) for p in lint_rows(rows, v2=v2)]
        # v1 is frozen for comparisons: its weak must-mention strings (the reason for v2) are reported, not fatal
        problems = weak if v2 else []
        if v2:
            similar = semantic_near_duplicates(rows, question_encoder()) if semantic else None
            problems += [str(p) for p in split_problems(rows, similar)]
        if check_corpus:
            problems += [f"{qid}: no such section {url}" for qid, url in missing_sections(rows, db)]
            if v2:
                problems += [
                    f"{qid}: no chunk (not retrievable): {url}" for qid, url in unretrievable_sections(rows, db)
                ]
    except FDAError as err:
        fail(err)
    df = pd.DataFrame([{"type": r.type.value, "split": r.split} for r in rows])
    print_df(
        df.value_counts().unstack(fill_value=0).reset_index(),
        f"gold {version} ({len(rows)} rows, hash {gold_hash(version)})",
    )
    if v2:
        users = sum(1 for r in rows if r.source and r.source.kind == "user")
        refusals = sum(1 for r in rows if r.type.value in ("unanswerable", "false_premise"))
        console.print(
            f"real user questions {users} ({users / len(rows):.0%}); unanswerable + false premise {refusals} "
            f"({refusals / len(rows):.0%}); facts {sum(len(r.facts) for r in rows)}"
        )
    if weak and not v2:
        err_console.print(f"[yellow]note:[/] {len(weak)} weak must-mention strings in frozen {version} (v2 fixes them)")
    if problems:
        for line in problems:
            err_console.print(f"[red]problem:[/] {line}")
        err_console.print(f"{len(problems)} problem(s)")
        raise typer.Exit(code=1)


def question_encoder() -> Callable[[list[str]], Any]:
    """The packaged all-MiniLM-L6-v2 (offline) as a function of texts to L2-normalised vectors."""
    from index.retrieval.dense import MiniLMEncoder
    from index.retrieval.layout import default_model_path

    return MiniLMEncoder(default_model_path()).encode


@gold_app.command("split")
def gold_split(
    version: VersionOpt = "v2",
    seed: Annotated[int | None, typer.Option(help="Seed (default: the version's manifest.json).")] = None,
    semantic: Annotated[bool, typer.Option(help="Group near-duplicates found by sentence vectors too.")] = True,
) -> None:
    """Assign train / dev-select / dev-confirm / test to rows without a split; assigned rows never move.

    First, near-duplicate unassigned rows (word overlap, and sentence vectors unless --no-semantic) are
    given one group, so they land in one split."""
    from eval.gold import load_all_rows, manifest
    from eval.gold_lint import near_duplicates, semantic_near_duplicates
    from eval.gold_split import assign_splits, join_groups

    try:
        if not manifest(version):
            raise FDAError(f"gold {version} has no manifest.json: its splits are hash buckets (v1)")
        rows = load_all_rows(version)
        pairs = near_duplicates(rows) + (semantic_near_duplicates(rows, question_encoder()) if semantic else [])
        grouped = join_groups(version, pairs)
        if grouped:
            console.print(f"grouped {grouped} near-duplicate rows")
        changed = assign_splits(version, seed=seed)
    except FDAError as err:
        fail(err)
    except ValueError as err:
        fail(FDAError(str(err), hint="Give the group's rows one split by hand, then run this again."))
    console.print(f"assigned {sum(changed.values())} rows: {dict(changed)}" if changed else "every row has a split")


@gold_app.command("pool")
def gold_pool(
    version: VersionOpt = "v2",
    depth: Annotated[int, typer.Option(min=1, max=20, help="Top k of every backend to pool.")] = 5,
    backend: Annotated[
        list[str] | None, typer.Option("--backend", "-b", help="Backends to pool (default: every one).")
    ] = None,
    merge: Annotated[
        bool, typer.Option("--merge", help="Fold data/gold/<v>/pool/judgments.jsonl into the rows.")
    ] = False,
) -> None:
    """Relevance pooling: every backend's top k per answerable row, minus what the row names or a judgment
    covers, into data/gold/<version>/pool/candidates.jsonl to judge; --merge folds the judgments in."""
    from eval.gold import load_all_rows
    from eval.pooling import judged, merge_judgments, pool, write_candidates
    from fda.settings import LOCAL_BACKENDS
    from index.retrieval.factory import open_retriever
    from index.retrieval.passages import versions

    s = get_settings()
    try:
        if merge:
            console.print(f"added {merge_judgments(version)} pooled sections to gold {version}")
            return
        names = backend or list(LOCAL_BACKENDS)
        retrievers = {name: open_retriever(name, s) for name in names}
        known, latest = versions(s.db_path)
        found = pool(load_all_rows(version), retrievers, known, latest or known[-1], depth, judged(version))
        path = write_candidates(found, version)
    except FDAError as err:
        fail(err)
    console.print(f"{len(found)} candidates over {len({c.id for c in found})} rows from {', '.join(names)}: {path}")
