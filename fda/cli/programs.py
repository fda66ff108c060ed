"""``fda compile`` and ``fda programs``: compile with a DSPy optimizer, then list, promote, roll back and
evaluate the registered versions.

    fda compile --program rag --optimizer bootstrap --lm local:qwen2.5-coder-0.5b --backend bm25
    fda compile -p rag -o mipro --teacher-lm local:qwen2.5-coder-1.5b --limit-train 30 --limit-dev 20
    fda programs list                    # versions, aliases, scores, whether each fits the current index
    fda programs promote 3               # champion -> version 3 (the service loads it on start)
    fda programs rollback                # champion -> the version before
    fda programs eval champion --split test     # an eval report (eval/reports/) of a version, or `uncompiled`

Registered on the main app by fda/cli/app.py; heavy imports stay inside the commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from fda.console import console, err_console, fail
from fda.errors import FDAError
from fda.settings import BACKENDS, Settings, get_settings
from optimizers.session import registry_of

if TYPE_CHECKING:
    from optimizers.compile import CompileOutcome
    from optimizers.evaluate import Evaluation

programs_app = typer.Typer(
    help="Compiled program versions in the MLflow registry: list, promote, rollback, eval.", no_args_is_help=True
)

ProgramOpt = Annotated[str, typer.Option("--program", "-p", help="rag | multihop.")]
BackendOpt = Annotated[
    str | None, typer.Option("--backend", "-b", help=f"Retrieval backend: {', '.join(BACKENDS)} (default: settings).")
]
GoldOpt = Annotated[str, typer.Option("--gold", help="Gold-set version under data/gold/.")]


def compile_cmd(
    program: ProgramOpt = "rag",
    optimizer: Annotated[str, typer.Option("--optimizer", "-o", help="bootstrap | mipro | gepa.")] = "bootstrap",
    lm: Annotated[str | None, typer.Option("--lm", help="Student LM (default: settings lm.model).")] = None,
    teacher_lm: Annotated[
        str | None, typer.Option("--teacher-lm", help="Teacher / prompt / reflection LM (default: lm.teacher_model).")
    ] = None,
    backend: BackendOpt = None,
    gold: GoldOpt = "v1",
    limit_train: Annotated[int | None, typer.Option("--limit-train", min=1, help="First N train questions.")] = None,
    limit_dev: Annotated[int | None, typer.Option("--limit-dev", min=1, help="First N dev questions.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Optimizer seed (default: settings compile.seed).")] = None,
    build_index: Annotated[bool, typer.Option("--build-index", help="Build a missing index first.")] = False,
) -> None:
    """Compile an answer program on the gold train split, select on dev, register it in MLflow (never touches test)."""
    from optimizers.session import compile_run

    s = get_settings()
    try:
        outcome = compile_run(
            s, program=program, optimizer=optimizer, lm=lm, teacher_lm=teacher_lm, backend=backend, gold=gold,
            limit_train=limit_train, limit_dev=limit_dev, seed=seed, build_index=build_index, announce=console.print,
        )  # fmt: skip
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted:[/] the MLflow run is marked FAILED; nothing was registered or promoted")
        raise typer.Exit(code=130) from None
    except FDAError as err:
        fail(err)
        return
    print_outcome(outcome, registry_of(s).model_name(program))


def _row(table: Table, name: str, ev: Evaluation) -> None:
    m = ev.means
    cells = [m.get(k) for k in ("score", "citations", "must_mention", "refusal", "fallback")]
    table.add_row(name, *("n/a" if v is None else f"{v:.3f}" for v in cells),
                  str(ev.usage["lm_calls"]), str(ev.usage["prompt_tokens"] + ev.usage["completion_tokens"]),
                  f"{ev.seconds:.0f}")  # fmt: skip


def print_outcome(outcome: CompileOutcome, model_name: str) -> None:
    table = Table(title=f"{model_name} version {outcome.version} (MLflow run {outcome.run_id})")
    for col in ("on dev", "combined", "citations", "must-mention", "refusal", "fallback", "LM calls", "tokens", "s"):
        table.add_column(col, justify="left" if col == "on dev" else "right")
    _row(table, "uncompiled", outcome.baseline)
    if outcome.incumbent_name != "uncompiled program":
        _row(table, outcome.incumbent_name, outcome.incumbent)
    _row(table, "compiled", outcome.compiled)
    console.print(table)
    cost = outcome.cost
    console.print(f"compile cost: {cost['compile.lm_calls']:.0f} LM calls ({cost['compile.cache_hits']:.0f} cached), "
                  f"{cost['compile.prompt_tokens'] + cost['compile.completion_tokens']:.0f} tokens, "
                  f"{cost['compile.seconds']:.0f} s")  # fmt: skip
    verdict = "[green]promoted to champion[/]" if outcome.promoted else "[yellow]registered as challenger[/]"
    console.print(f"{verdict}: {outcome.decision.reason}")


@programs_app.command("list")
def list_cmd(program: ProgramOpt = "rag", backend: BackendOpt = None) -> None:
    """Registered versions: aliases, optimizer, dev score, LM, and whether each fits the current index."""
    import tempfile
    from datetime import UTC, datetime
    from pathlib import Path

    from optimizers.manifest import mismatches, read_manifest

    s = get_settings()
    try:
        registry = registry_of(s)
        current = _current_corpus(s)
        retriever = backend or s.retrieval.backend
        table = Table(title=f"{registry.model_name(program)} ({registry.tracking_uri})")
        for col in ("version", "aliases", "created", "optimizer", "dev score", "uncompiled", "LM", "serves here"):
            table.add_column(col, justify="right" if col in ("version", "dev score", "uncompiled") else "left")
        with tempfile.TemporaryDirectory() as tmp:
            for v in registry.versions(program):
                manifest = read_manifest(registry.download(program, v.version, Path(tmp) / v.version))
                scores = manifest.get("scores") or {}
                problems = mismatches(manifest, program=program, corpus_hash=current, retriever=retriever)
                table.add_row(
                    v.version, ", ".join(v.aliases), datetime.fromtimestamp(v.created_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M"),
                    manifest.get("optimizer", ""), _fmt((scores.get("dev") or {}).get("score")),
                    _fmt((scores.get("baseline_dev") or {}).get("score")), (manifest.get("lm") or {}).get("model", ""),
                    "yes" if not problems else "no: " + "; ".join(problems),
                )  # fmt: skip
    except FDAError as err:
        fail(err)
        return
    console.print(table)
    if not table.row_count:
        console.print(f"no versions registered yet: `fda compile --program {program}` makes one")


def _current_corpus(s: Settings) -> str:
    from index.ingest.pipeline import corpus_hash

    try:
        return corpus_hash(s.db_path)
    except FDAError:  # no store yet: nothing fits, and the table says why
        return ""


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.3f}"


@programs_app.command("promote")
def promote_cmd(
    version: Annotated[str, typer.Argument(help="Version number to make the champion.")], program: ProgramOpt = "rag"
) -> None:
    """Make VERSION the champion (a manual override of the automatic promotion)."""
    s = get_settings()
    try:
        registry = registry_of(s)
        registry.promote(program, version, reason="manual: fda programs promote")
    except FDAError as err:
        fail(err)
        return
    console.print(f"{registry.model_name(program)}: version {version} is the champion; restart the service to serve it")


@programs_app.command("rollback")
def rollback_cmd(program: ProgramOpt = "rag") -> None:
    """Make the previous champion the champion again."""
    s = get_settings()
    try:
        registry = registry_of(s)
        version = registry.rollback(program)
    except FDAError as err:
        fail(err)
        return
    console.print(f"{registry.model_name(program)}: rolled back, version {version} is the champion")


@programs_app.command("ship")
def ship_cmd(
    version: Annotated[str, typer.Argument(help="Version number to ship, or 'champion'.")] = "champion",
    program: ProgramOpt = "rag",
) -> None:
    """Copy a registered version (program.json + manifest.json) into data/programs/<program>/ to commit: a fresh
    clone then registers it on first start and serves it as the champion (optimizers/shipped.py)."""
    from optimizers.shipped import ship

    s = get_settings()
    try:
        registry = registry_of(s)
        number = registry.champion(program) if version == "champion" else version
        if number is None:
            raise FDAError(f"{registry.model_name(program)} has no champion", hint="`fda programs list`.")
        dest = ship(program, registry, number)
    except FDAError as err:
        fail(err)
        return
    console.print(f"{registry.model_name(program)}/{number} -> {dest}: commit it (git add {dest})")


@programs_app.command("eval")
def eval_cmd(
    version: Annotated[str, typer.Argument(help="A version number, 'champion', or 'uncompiled'.")] = "champion",
    program: ProgramOpt = "rag",
    split: Annotated[str, typer.Option("--split", help="dev | test (test is for reports only).")] = "test",
    backend: BackendOpt = None,
    gold: GoldOpt = "v1",
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="First N questions of the split.")] = None,
    workers: Annotated[int | None, typer.Option("--workers", min=1, max=32)] = None,
    lm: Annotated[str | None, typer.Option("--lm", help="LM (default: settings lm.model).")] = None,
) -> None:
    """Evaluate a registered version (or the uncompiled program) with the eval runner: a full report in
    eval/reports/, the eval DuckDB and MLflow, like `fda eval`."""
    from fda.cli.eval import print_summary
    from optimizers.session import evaluate_version

    s = get_settings()
    try:
        outcome = evaluate_version(
            s, version=version, program=program, split=split, backend=backend, gold=gold, limit=limit,
            workers=workers, lm=lm,
        )  # fmt: skip
    except FDAError as err:
        fail(err)
        return
    print_summary(outcome)
