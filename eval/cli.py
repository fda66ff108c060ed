"""``fda eval``: run evaluations, rebuild reports, import labels, keep and check the regression baseline.

    fda eval --program retrieval --backend bm25 --split dev [--limit N] [--workers N] [--gold v1]
    fda eval --resume RUN_ID                 # continue an interrupted run
    fda eval gate                            # retrieval eval on dev vs eval/baselines/ (exit 1 on a drop)
    fda eval baseline --update               # rewrite the committed baseline from a fresh run
    fda eval label labels.csv | --template RUN_ID
    fda eval report RUN_ID                   # rebuild summary.md after importing labels

Registered on the main app by fda/cli.py; heavy imports stay inside the commands.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.console import Console
from rich.table import Table

from fda.errors import EvalError, FDAError
from fda.settings import Settings, get_settings, project_root

if TYPE_CHECKING:
    from eval.gate import GateReport
    from eval.gold import GoldQuestion
    from eval.run import RunOutcome, Tracking
    from index.retriever import Retriever

REPORTS_DIR = project_root() / "eval" / "reports"
BASELINES_DIR = project_root() / "eval" / "baselines"
GATE_PROGRAM = "retrieval"

eval_app = typer.Typer(
    help="Evaluate a program on the gold set (reports, MLflow, DuckDB); gate, baseline, labels, report.",
    invoke_without_command=True,
)
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

ProgramOpt = Annotated[str, typer.Option("--program", "-p", help="retrieval | rag | multihop.")]
BackendOpt = Annotated[
    str | None, typer.Option("--backend", "-b", help="Retrieval backend (bm25, dense, colbert, hybrid, rrf).")
]
SplitOpt = Annotated[str, typer.Option("--split", help="Gold split: train | dev | test.")]
GoldOpt = Annotated[str, typer.Option("--gold", help="Gold-set version under data/gold/.")]
LimitOpt = Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N questions of the split.")]
WorkersOpt = Annotated[int | None, typer.Option("--workers", min=1, max=32, help="Parallel questions.")]
TrackOpt = Annotated[bool | None, typer.Option("--track/--no-track", help="Log to MLflow (default: settings).")]
BuildIndexOpt = Annotated[
    bool, typer.Option("--build-index", help="Build the backend's index first when it is missing (fresh clone).")
]


def _fail(err: FDAError) -> None:
    err_console.print(f"[bold red]error:[/] {err}")
    raise typer.Exit(code=2)


def eval_db(s: Settings) -> Path:
    return s.state_dir / "eval.duckdb"


def tracking_for(s: Settings, track: bool | None) -> Tracking | None:
    from eval.run import Tracking
    from eval.tracking import default_artifact_location, default_tracking_uri

    if not (s.eval.track if track is None else track):
        return None
    return Tracking(
        tracking_uri=s.eval.tracking_uri or default_tracking_uri(s.state_dir),
        experiment=s.eval.experiment,
        artifact_location=s.eval.artifact_location or default_artifact_location(s.state_dir),
    )


def open_retriever(backend: str, s: Settings) -> Retriever:
    """The retrieval factory of index/ (``index.factory.open_backend``), imported lazily."""
    try:
        from index.factory import open_backend
    except ImportError as err:
        raise EvalError(
            f"no retrieval factory to open backend {backend!r} ({err})",
            hint="index/factory.py must provide open_backend(backend, settings) -> Retriever.",
        ) from err
    return open_backend(backend, s)


def open_or_build(backend: str, s: Settings, build: bool) -> Retriever:
    """Open the backend; with ``build``, a missing index is built first (``index.build``; seconds for bm25)."""
    from fda.errors import IndexMissingError

    try:
        return open_retriever(backend, s)
    except IndexMissingError:
        if not build:
            raise
    from index.build import INDEXED, build_indexes, paths_for

    needed: list[str] = [backend] if backend in INDEXED else list(s.retrieval.build)
    build_indexes(s.retrieval, paths_for(s.retrieval, s.state_dir, s.db_path), needed, progress=sys.stderr.isatty())
    return open_retriever(backend, s)


LM_FACTORY_MODULES = ("fda.lm", "fda.lm.factory")  # where make_lm(lm_settings, runtime=...) may live


def _lm_factory() -> Callable[..., Any]:
    for name in LM_FACTORY_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, "make_lm"):
            return cast(Callable[..., Any], module.make_lm)
    raise EvalError(
        "the LM runtime has no make_lm factory yet",
        hint="Answer programs and the judge need fda/lm/ (make_lm); `--program retrieval` works without an LM.",
    )


@contextmanager
def lm_session(s: Settings, *, answers: bool, judge: bool) -> Iterator[tuple[Any | None, Any | None]]:
    """(answer LM, judge LM) from the LM runtime (fda/lm/); its local model servers stop on exit."""
    if not (answers or judge):
        yield None, None
        return
    make_lm = _lm_factory()
    from fda.lm.runtime import LocalRuntime

    lms = s.lm
    with LocalRuntime(
        s.state_dir / "models", context_size=lms.context_size, threads=lms.threads, parallel=lms.parallel,
        startup_timeout_s=lms.startup_timeout_s,
    ) as runtime:  # fmt: skip
        answer = make_lm(lms, runtime=runtime) if answers else None
        grader = None
        if judge:
            judge_settings = lms.model_copy(update={"model": lms.judge_model}) if lms.judge_model else lms
            grader = answer if answer is not None and not lms.judge_model else make_lm(judge_settings, runtime=runtime)
        yield answer, grader


def _select(gold: str, split: str, limit: int | None) -> tuple[list[GoldQuestion], str]:
    from eval.gold import gold_hash, load_gold

    if split not in ("train", "dev", "test"):
        raise EvalError(f"unknown split {split!r}", hint="Use train, dev or test.")
    rows = load_gold(gold, split)  # type: ignore[arg-type]
    return (rows[:limit] if limit else rows), gold_hash(gold)


def run_eval(
    s: Settings,
    *,
    program: str,
    backend: str,
    split: str,
    gold: str,
    limit: int | None,
    workers: int | None,
    track: bool | None,
    resume: str | None = None,
    judge: bool | None = None,
    versions: str = "none",
    baseline: bool = True,
    build_index: bool = False,
    reports_dir: Path | None = None,
) -> RunOutcome:
    """Everything a run needs, built from settings and options, then :func:`eval.run.execute`."""
    from eval.judge import AnswerJudge
    from eval.programs import NEEDS_LM, build_program, check_program
    from eval.run import RunSpec, ensure_gold_in_corpus, execute, new_run_id
    from index.ingest import corpus_hash
    from index.store import ingested_versions

    check_program(program)
    use_judge = (s.eval.judge if judge is None else judge) and program in NEEDS_LM
    rows, ghash = _select(gold, split, limit)
    ensure_gold_in_corpus(rows, s.db_path)
    available = ingested_versions(s.db_path)
    latest = s.corpus.latest_version or (max(available, key=_version_key) if available else None)
    spec = RunSpec(
        program=program,
        backend=backend,
        split=split,
        gold_version=gold,
        gold_hash=ghash,
        corpus_hash=corpus_hash(s.db_path),
        limit=limit,
        workers=workers or s.eval.workers,
        version_policy=versions,
        judge_model=(s.lm.judge_model or s.lm.model) if use_judge else None,
        bootstrap_samples=s.eval.bootstrap_samples,
        bootstrap_seed=s.eval.bootstrap_seed,
    )
    retriever = open_or_build(backend, s, build_index)
    base = None
    if baseline and (program, backend) != ("retrieval", "bm25"):
        base = build_program("retrieval", retriever if backend == "bm25" else open_or_build("bm25", s, build_index))
    reports_dir = reports_dir or REPORTS_DIR
    if resume and not (reports_dir / resume).is_dir():
        raise EvalError(f"no run {resume!r} in {reports_dir}", hint="List runs with `ls eval/reports/`.")
    run_dir = reports_dir / (resume or new_run_id(spec, reports_dir))
    with lm_session(s, answers=program in NEEDS_LM, judge=use_judge) as (lm, judge_lm):
        built = build_program(program, retriever, lm=lm, versions=available, latest=latest, config=s.answer)
        return execute(
            spec,
            built,
            rows,
            run_dir=run_dir,
            eval_db=eval_db(s),
            baseline_program=base,
            judge=AnswerJudge(judge_lm) if judge_lm is not None else None,
            version_of=_version_policy(versions, available),
            tracking=tracking_for(s, track),
            progress=sys.stderr.isatty(),
        )


def _version_key(tag: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in tag.split("."))


def _version_policy(policy: str, available: list[str]) -> Any:
    if policy == "none":
        return lambda gold: None
    if policy == "gold":
        return lambda gold: gold.fastapi_version if gold.fastapi_version in available else None
    raise EvalError(f"unknown --versions {policy!r}", hint="Use none (ask as users do) or gold.")


def print_summary(outcome: RunOutcome) -> None:
    from eval.report import LABELS, fmt

    s = outcome.summary
    table = Table(title=f"{outcome.meta['run_id']}: {s['n_questions']} questions, {s['n_errors']} errors")
    for col in ("metric", "mean", "95% CI", "n", "bm25 baseline"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    base = s.get("baseline") or {}
    for name, v in s["headline"].items():
        ci = f"{fmt(v['low'])} – {fmt(v['high'])}"
        table.add_row(
            LABELS.get(name, name), fmt(v["mean"]), ci, str(v["n"]), fmt(base.get(name)) if name in base else ""
        )
    console.print(table)
    console.print(f"report: {outcome.run_dir / 'summary.md'}")
    if outcome.mlflow_run_id:
        console.print(f"MLflow run: {outcome.mlflow_run_id}")


@eval_app.callback()
def eval_main(
    ctx: typer.Context,
    program: ProgramOpt = "retrieval",
    backend: BackendOpt = None,
    split: SplitOpt = "dev",
    gold: GoldOpt = "v1",
    limit: LimitOpt = None,
    workers: WorkersOpt = None,
    resume: Annotated[str | None, typer.Option("--resume", help="RUN_ID of an interrupted run to finish.")] = None,
    judge: Annotated[
        bool | None, typer.Option("--judge/--no-judge", help="Grade answers with the LLM judge (default: settings).")
    ] = None,
    versions: Annotated[
        str, typer.Option("--versions", help="none: ask without a version; gold: pass the gold row's version.")
    ] = "none",
    baseline: Annotated[bool, typer.Option("--baseline/--no-baseline", help="Also run the BM25 baseline.")] = True,
    track: TrackOpt = None,
    build_index: BuildIndexOpt = False,
) -> None:
    """Evaluate a program on a gold split; writes eval/reports/<run-id>/ (see the subcommands too)."""
    if ctx.invoked_subcommand is not None:
        return
    s = get_settings()
    if resume:
        from eval.run import read_meta

        try:
            meta = read_meta(REPORTS_DIR / resume)
        except FDAError as err:
            _fail(err)
            return
        program, backend, split, gold = meta["program"], meta["backend"], meta["split"], meta["gold_version"]
        limit, versions = meta.get("limit"), meta.get("version_policy", versions)
    try:
        outcome = run_eval(
            s,
            program=program,
            backend=backend or s.retrieval.backend,
            split=split,
            gold=gold,
            limit=limit,
            workers=workers,
            track=track,
            resume=resume,
            judge=judge,
            versions=versions,
            baseline=baseline,
            build_index=build_index,
        )
    except KeyboardInterrupt:
        err_console.print(
            "[yellow]interrupted:[/] finished questions are kept; continue with `fda eval --resume RUN_ID`"
        )
        raise typer.Exit(code=130) from None
    except FDAError as err:
        _fail(err)
        return
    print_summary(outcome)


@eval_app.command("report")
def report_cmd(run_id: Annotated[str, typer.Argument(help="Run folder name under eval/reports/.")]) -> None:
    """Rebuild a run's summary (e.g. after importing labels) and store it again in DuckDB."""
    from eval.run import report_run, store_run

    s = get_settings()
    try:
        outcome = report_run(REPORTS_DIR / run_id, eval_db(s))
        store_run(outcome, eval_db(s))
    except FDAError as err:
        _fail(err)
        return
    print_summary(outcome)


@eval_app.command("label")
def label_cmd(
    path: Annotated[Path | None, typer.Argument(help="Labels to import: .csv or .jsonl.")] = None,
    template: Annotated[str | None, typer.Option("--template", help="RUN_ID: write a CSV to fill in.")] = None,
) -> None:
    """Import human labels into state/eval.duckdb, or write a labelling template for a run."""
    from eval.labels import answer_sha, load_labels, write_template
    from eval.results import load_results
    from eval.store import save_labels, stored_answers

    s = get_settings()
    try:
        if template:
            run_dir = REPORTS_DIR / template
            gold = {g.id: g for g in __import__("eval.gold", fromlist=["load_gold"]).load_gold()}
            rows = [
                {
                    "question_id": r.question_id,
                    "question": gold[r.question_id].question if r.question_id in gold else "",
                    "answer": r.output.answer,
                    "cited": " ".join(c.url for c in r.output.citations),
                }
                for r in load_results(run_dir / "results.jsonl").values()
                if r.output.answer
            ]
            out = write_template(run_dir / "labels-template.csv", template, rows)
            console.print(f"{len(rows)} answers to label: {out}")
            return
        if path is None:
            raise EvalError("give a labels file to import, or --template RUN_ID")
        labels = load_labels(path)
        answers: dict[str, dict[str, str]] = {}
        for lab in labels:
            if lab.run_id not in answers:
                answers[lab.run_id] = stored_answers(eval_db(s), lab.run_id)
            known = answers[lab.run_id]
            if lab.question_id not in known:
                raise EvalError(f"{path}: run {lab.run_id} has no answer for {lab.question_id}")
            lab.answer_sha = answer_sha(known[lab.question_id])
        n = save_labels(eval_db(s), labels)
    except FDAError as err:
        _fail(err)
        return
    console.print(f"imported {n} labels into {eval_db(s)}; rebuild a report with `fda eval report RUN_ID`")


def print_gate(report: GateReport) -> None:
    from eval.report import fmt

    table = Table(title="regression gate: " + ("PASS" if report.passed else "FAIL"))
    for col in ("metric", "baseline", "current", "delta", "paired 95% CI", "n", "verdict"):
        table.add_column(col, justify="left" if col in ("metric", "verdict") else "right")
    for r in report.rows:
        ci = f"{fmt(r.ci_low)} – {fmt(r.ci_high)}" if r.ci_low is not None else "n/a"
        verdict = f"[red]FAIL[/] {r.reason}" if r.failed else "ok"
        table.add_row(r.metric, fmt(r.baseline), fmt(r.current), fmt(r.delta), ci, str(r.n), verdict)
    console.print(table)
    for note in report.notes:
        err_console.print(f"[yellow]note:[/] {note}")


@eval_app.command("gate")
def gate_cmd(
    backend: Annotated[str, typer.Option("--backend", "-b", help="Backend of the baseline to check.")] = "bm25",
    split: SplitOpt = "dev",
    gold: GoldOpt = "v1",
    workers: WorkersOpt = None,
    track: TrackOpt = None,
    build_index: BuildIndexOpt = False,
) -> None:
    """Run the retrieval eval and fail (exit 1) when a retrieval or citation metric dropped beyond noise."""
    from eval.gate import baseline_path, compare, identity_notes, per_question, read_baseline

    s = get_settings()
    try:
        base = read_baseline(baseline_path(BASELINES_DIR, GATE_PROGRAM, backend, split))
        outcome = run_eval(
            s, program=GATE_PROGRAM, backend=backend, split=split, gold=gold, limit=None, workers=workers,
            track=track, baseline=False, build_index=build_index,
        )  # fmt: skip
    except FDAError as err:
        _fail(err)
        return
    report = compare(
        per_question(outcome.results),
        base["per_question"],
        tolerance=s.eval.gate_tolerance,
        paired_ci=s.eval.gate_paired_ci,
        n_samples=s.eval.bootstrap_samples,
        seed=s.eval.bootstrap_seed,
    )
    report.notes.extend(identity_notes(base, outcome.meta))
    print_gate(report)
    console.print(f"report: {outcome.run_dir / 'summary.md'}")
    if not report.passed:
        raise typer.Exit(code=1)


@eval_app.command("baseline")
def baseline_cmd(
    update: Annotated[bool, typer.Option("--update", help="Run the retrieval eval and rewrite the baseline.")] = False,
    from_run: Annotated[str | None, typer.Option("--from-run", help="Take the values of this RUN_ID instead.")] = None,
    backend: Annotated[str, typer.Option("--backend", "-b")] = "bm25",
    split: SplitOpt = "dev",
    gold: GoldOpt = "v1",
    workers: WorkersOpt = None,
    track: TrackOpt = None,
    build_index: BuildIndexOpt = False,
) -> None:
    """Show the committed regression baseline; with --update, rewrite it (then commit the file)."""
    from eval.gate import baseline_path, make_baseline, read_baseline, write_baseline
    from eval.results import load_results
    from eval.run import read_meta

    s = get_settings()
    path = baseline_path(BASELINES_DIR, GATE_PROGRAM, backend, split)
    try:
        if from_run:
            run_dir = REPORTS_DIR / from_run
            meta = read_meta(run_dir)
            if meta.get("program") != GATE_PROGRAM:
                raise EvalError(f"run {from_run} evaluated {meta.get('program')!r}; the gate baseline is retrieval")
            results = list(load_results(run_dir / "results.jsonl").values())
            path = baseline_path(BASELINES_DIR, GATE_PROGRAM, meta["backend"], meta["split"])
            write_baseline(path, make_baseline(results, meta))
        elif update:
            outcome = run_eval(
                s, program=GATE_PROGRAM, backend=backend, split=split, gold=gold, limit=None, workers=workers,
                track=track, baseline=False, build_index=build_index,
            )  # fmt: skip
            write_baseline(path, make_baseline(outcome.results, outcome.meta))
        data = read_baseline(path)
    except FDAError as err:
        _fail(err)
        return
    table = Table(title=f"{path.name} (run {data.get('run_id')}, gold {data.get('gold_hash')})")
    table.add_column("metric")
    table.add_column("mean", justify="right")
    for name, value in data["metrics"].items():
        table.add_row(name, f"{value:.3f}" if value is not None else "n/a")
    console.print(table)
    if update or from_run:
        console.print(f"wrote {path}: commit it so `make eval-gate` checks against it")
