"""``fda eval``: run evaluations, rebuild reports, import labels, keep and check the regression baseline.

    fda eval --program retrieval --backend bm25 --split dev [--limit N] [--workers N] [--gold v1]
    fda eval --resume RUN_ID                 # continue an interrupted run
    fda eval gate                            # retrieval eval on dev vs eval/baselines/ (exit 1 on a drop)
    fda eval baseline --update               # rewrite the committed baseline from a fresh run
    fda eval label labels.csv | --template RUN_ID
    fda eval report RUN_ID                   # rebuild summary.md after importing labels

Registered on the main app by fda/cli/app.py; heavy imports stay inside the commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from eval import session
from eval.gold import sealed_split
from fda.console import console, err_console, fail
from fda.errors import EvalError, FDAError
from fda.settings import BACKENDS, get_settings

if TYPE_CHECKING:
    from eval.gate import GateReport
    from eval.run import RunOutcome
    from fda.settings import Settings

eval_app = typer.Typer(
    help="Evaluate a program on the gold set (reports, MLflow, DuckDB); gate, baseline, labels, report.",
    invoke_without_command=True,
)

ProgramOpt = Annotated[
    str,
    typer.Option("--program", "-p", help="retrieval | rag | multihop | agent | closedbook (no retrieval: a baseline)."),
]
BackendOpt = Annotated[
    str | None, typer.Option("--backend", "-b", help=f"Retrieval backend: {', '.join(BACKENDS)} (default: settings).")
]
SplitOpt = Annotated[
    str,
    typer.Option(
        "--split",
        help="Gold split. v1: train | dev | test; v2: train | dev-select | dev-confirm (test: fda eval confirm).",
    ),
]
GoldOpt = Annotated[str, typer.Option("--gold", help="Gold-set version under data/gold/.")]
LimitOpt = Annotated[
    int | None, typer.Option("--limit", min=1, help="A seeded random subset of N questions, stratified by type.")
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the --limit subset.")]
LmSeedOpt = Annotated[
    int | None,
    typer.Option("--lm-seed", help="The LM's sampling seed; with FDA_LM__TEMPERATURE > 0, one run per seed."),
]
WorkersOpt = Annotated[int | None, typer.Option("--workers", min=1, max=32, help="Parallel questions.")]
TrackOpt = Annotated[bool | None, typer.Option("--track/--no-track", help="Log to MLflow (default: settings).")]
BuildIndexOpt = Annotated[
    bool, typer.Option("--build-index", help="Build the backend's index first when it is missing (fresh clone).")
]


def print_summary(outcome: RunOutcome) -> None:
    from eval.report import LABELS, fmt

    s = outcome.summary
    failures = f", {s['lm_failures']} LM failures" if s.get("lm_failures") else ""
    table = Table(title=f"{outcome.meta['run_id']}: {s['n_questions']} questions, {s['n_errors']} errors{failures}")
    for col in ("metric", "mean", "95% CI", "n", "bm25 baseline"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    base = s.get("baseline") or {}
    for name, v in s["headline"].items():
        ci = f"{fmt(v['low'])} – {fmt(v['high'])}"
        table.add_row(
            LABELS.get(name, name), fmt(v["mean"]), ci, str(v["n"]), fmt(base.get(name)) if name in base else ""
        )
    console.print(table)
    if s.get("decline_balanced_accuracy") is not None:
        console.print(
            f"decline balanced accuracy: {fmt(s['decline_balanced_accuracy'])} (0.5 = always or never declines)"
        )
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
    seed: SeedOpt = 0,
    lm_seed: LmSeedOpt = None,
    types: Annotated[
        str | None,
        typer.Option("--types", help="Only these question types, comma-separated (e.g. multihop,version)."),
    ] = None,
    workers: WorkersOpt = None,
    resume: Annotated[str | None, typer.Option("--resume", help="RUN_ID of an interrupted run to finish.")] = None,
    judge: Annotated[
        bool | None, typer.Option("--judge/--no-judge", help="Grade answers with the LLM judge (default: settings).")
    ] = None,
    versions: Annotated[
        str,
        typer.Option(
            "--versions",
            help="none: ask without a version (as users do); gold: the gold row's version; target: the version its "
            "gold sections live in, as `fda bench retrieval-quality` searches (eval/retrieval_quality.py).",
        ),
    ] = "none",
    baseline: Annotated[bool, typer.Option("--baseline/--no-baseline", help="Also run the BM25 baseline.")] = True,
    track: TrackOpt = None,
    build_index: BuildIndexOpt = False,
    suite: Annotated[
        str,
        typer.Option(
            "--suite",
            help="gold: the gold questions; redteam: the attacks of data/redteam/ (--split tune | heldout | "
            "heldout-2 | heldout-3 | ...: every data/redteam/heldout-N.jsonl), attack success per category (eval/redteam.py).",
        ),
    ] = "gold",
    purpose: Annotated[
        str,
        typer.Option(
            "--purpose",
            help="What a read of a held-out red-team part is for (required there; logged in data/redteam/access.jsonl).",
        ),
    ] = "",
) -> None:
    """Evaluate a program on a gold split; writes eval/reports/<run-id>/ (see the subcommands too)."""
    if ctx.invoked_subcommand is not None:
        return
    s = get_settings()
    if suite == "redteam":
        run_redteam(
            s, program if program != "retrieval" else "rag", backend or s.retrieval.backend, split, resume, purpose
        )
        return
    if suite != "gold":
        fail(EvalError(f"unknown suite {suite!r}", hint="Use gold or redteam."))
    if resume:
        from eval.run import read_meta

        try:
            meta = read_meta(session.REPORTS_DIR / resume)
        except FDAError as err:
            fail(err)
            return
        program, backend, split, gold = meta["program"], meta["backend"], meta["split"], meta["gold_version"]
        limit, versions, seed = meta.get("limit"), meta.get("version_policy", versions), meta.get("seed", 0)
        lm_seed = meta.get("lm_seed")
        types = ",".join(meta.get("types") or []) or None
        if split == "test" and sealed_split(gold):
            fail(EvalError("a sealed test run cannot be resumed", hint="Start a new logged `fda eval confirm`."))
    try:
        outcome = session.run_eval(
            s,
            program=program,
            backend=backend or s.retrieval.backend,
            split=split,
            gold=gold,
            limit=limit,
            seed=seed,
            lm_seed=lm_seed,
            workers=workers,
            track=track,
            resume=resume,
            judge=judge,
            versions=versions,
            baseline=baseline,
            build_index=build_index,
            types=[t.strip() for t in types.split(",") if t.strip()] if types else None,
        )
    except KeyboardInterrupt:
        err_console.print(
            "[yellow]interrupted:[/] finished questions are kept; continue with `fda eval --resume RUN_ID`"
        )
        raise typer.Exit(code=130) from None
    except FDAError as err:
        fail(err)
        return
    print_summary(outcome)


@eval_app.command("confirm")
def confirm_cmd(
    purpose: Annotated[str, typer.Option("--purpose", help="What this read of the test split is for (logged).")],
    program: ProgramOpt = "rag",
    backend: BackendOpt = None,
    gold: GoldOpt = "v2",
    workers: WorkersOpt = None,
    who: Annotated[str | None, typer.Option("--who", help="Who runs it (logged; default: the OS user).")] = None,
    judge: Annotated[bool | None, typer.Option("--judge/--no-judge", help="Grade with the LLM judge.")] = None,
    versions: Annotated[str, typer.Option("--versions", help="none | gold | target (see fda eval --help).")] = "none",
    allow_dirty: Annotated[
        bool, typer.Option("--allow-dirty", help="Run on uncommitted changes (logged as dirty).")
    ] = False,
    track: TrackOpt = None,
) -> None:
    """Score a candidate ONCE on the sealed test split: logs who, what, when and the git sha to
    data/gold/<gold>/access/test-access.jsonl before reading a row, then the run id and headline after."""
    import sys

    from eval.results_export import export_run
    from eval.sealed import close_sealed, open_sealed

    s = get_settings()
    backend = backend or s.retrieval.backend
    try:
        access = open_sealed(
            gold, who=who, purpose=purpose, command=" ".join(["fda", *sys.argv[1:]]), allow_dirty=allow_dirty
        )
        outcome = session.run_eval(
            s,
            program=program,
            backend=backend,
            split="test",
            gold=gold,
            limit=None,
            workers=workers,
            track=track,
            judge=judge,
            versions=versions,
            baseline=False,
            access=access,
        )
        exported = export_run(outcome.run_dir)
        headline = {k: v["mean"] for k, v in outcome.summary["headline"].items()}
        close_sealed(access, run_id=outcome.meta["run_id"], results_file=str(exported), headline=headline)
    except FDAError as err:
        fail(err)
    print_summary(outcome)
    console.print(
        f"logged in data/gold/{gold}/access/test-access.jsonl; per-question results: {exported} (commit both)"
    )


@eval_app.command("export")
def export_cmd(
    run_ids: Annotated[list[str], typer.Argument(help="Run folder names under eval/reports/.")],
) -> None:
    """Copy runs' per-question results (slimmed) and meta into eval/results/, to commit with the numbers
    quoted from them; the UI loads them on a fresh clone."""
    from eval.results_export import export_run

    try:
        for run_id in run_ids:
            console.print(f"{run_id} -> {export_run(session.REPORTS_DIR / run_id)}")
    except FDAError as err:
        fail(err)


@eval_app.command("agreement")
def agreement_cmd(
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Judge validation: labeller-labeller and judge-labeller Cohen's kappa (overall and per verdict class)
    from data/labels/*.jsonl against the committed answers in eval/results/."""
    import dataclasses
    import json

    from eval.agreement import (
        agreement_table,
        check_labels,
        committed_answers,
        fact_agreement_table,
        label_scored_means,
        load_label_files,
    )
    from eval.report import fmt

    try:
        labels = load_label_files()
        answers = committed_answers(sorted({lab.run_id for lab in labels}))
        check_labels(labels, answers)
        table = agreement_table(labels, answers) + fact_agreement_table(labels, answers)
        moved = label_scored_means(labels, answers)
    except FDAError as err:
        fail(err)
    if json_out:
        console.print_json(json.dumps([dataclasses.asdict(a) for a in table]))
        return
    out = Table(title=f"agreement over {len(labels)} labels ({len({lab.labeller for lab in labels})} labellers)")
    for col in ("pair", "class", "n", "observed", "kappa"):
        out.add_column(col, justify="left" if col in ("pair", "class") else "right")
    for a in table:
        out.add_row(a.pair, a.cls, str(a.n), fmt(a.observed), fmt(a.kappa))
    console.print(out)
    scored = Table(title="answer score of the labelled answers: the judge's fact checks vs each labeller's")
    columns = list(dict.fromkeys(k for m in moved for k in m))
    for col in columns:
        scored.add_column(col, justify="left" if col == "run_id" else "right")
    for m in moved:
        scored.add_row(*(fmt(m.get(c)) for c in columns))
    console.print(scored)


@eval_app.command("rescore")
def rescore_cmd(run_ids: Annotated[list[str], typer.Argument(help="Run folder names under eval/reports/.")]) -> None:
    """Recompute a finished run's metrics against the gold set as it is now (after pooling, say), from the
    stored answers and judge verdicts; no LM call. Then rebuilds the report and the eval store's copy."""
    from eval.rescore import rescore_run
    from eval.run import report_run, store_run

    s = get_settings()
    try:
        for run_id in run_ids:
            n = rescore_run(session.REPORTS_DIR / run_id, s.db_path)
            store_run(report_run(session.REPORTS_DIR / run_id, session.eval_db(s)), session.eval_db(s))
            console.print(f"{run_id}: {n} questions rescored")
    except FDAError as err:
        fail(err)


@eval_app.command("seeds")
def seeds_cmd(
    run_ids: Annotated[list[str], typer.Argument(help="Runs of one configuration that differ only in --lm-seed.")],
    metric: Annotated[
        list[str] | None, typer.Option("--metric", "-m", help="Repeatable (default: the v2 headline five).")
    ] = None,
) -> None:
    """One configuration over several seeds: each run's mean, and the pooled mean with a bootstrap CI
    clustered by question (a question's seeds move together, so they do not narrow the interval)."""
    from eval.report import fmt
    from eval.results import load_results
    from eval.run import read_meta
    from eval.stats import clustered_bootstrap_ci

    names = metric or [
        "answer_score",
        "refusal_recall",
        "over_refusal",
        "citation_group_recall",
        "faithfulness_lexical",
    ]
    from types import SimpleNamespace

    from eval.compare import load_run
    from eval.results_export import RESULTS_DIR

    runs: dict[str, dict[str, Any]] = {}
    metas: dict[str, dict[str, Any]] = {}
    try:
        for r in run_ids:
            if (session.REPORTS_DIR / r / "results.jsonl").is_file():
                runs[r], metas[r] = (
                    load_results(session.REPORTS_DIR / r / "results.jsonl"),
                    read_meta(session.REPORTS_DIR / r),
                )
            else:  # a fresh clone: the committed per-question rows (eval/results/<run>.jsonl and its meta)
                runs[r] = {row["question_id"]: SimpleNamespace(metrics=row["metrics"]) for row in load_run(r)}
                meta_path = RESULTS_DIR / f"{r}.meta.json"
                metas[r] = json.loads(meta_path.read_text())["meta"] if meta_path.is_file() else {}
    except FDAError as err:
        fail(err)
    if (
        len(
            {
                (m["program"], m["backend"], m["split"], m["gold_hash"], m.get("limit"), m.get("seed"))
                for m in metas.values()
            }
        )
        > 1
    ):
        fail(EvalError("the runs differ in more than their LM seed", hint="Compare runs of one configuration."))
    table = Table(title=f"{len(run_ids)} seeds of {metas[run_ids[0]]['program']} on {metas[run_ids[0]]['split']}")
    table.add_column("metric")
    for r in run_ids:
        table.add_column(f"lm-seed {metas[r].get('lm_seed')}", justify="right")
    table.add_column("pooled (95% CI, clustered by question)", justify="right")
    for name in names:
        cells, values, clusters = [], [], []
        for r in run_ids:
            ids = sorted(runs[r])  # question order fixed: the same rows give the same interval from any source
            vals = [runs[r][q].metrics.get(name) for q in ids]
            kept = [v for v in vals if v is not None]
            cells.append(fmt(sum(kept) / len(kept)) if kept else "n/a")
            values += vals
            clusters += ids
        ci = clustered_bootstrap_ci(values, clusters)
        table.add_row(name, *cells, f"{fmt(ci.mean)} ({fmt(ci.low)} – {fmt(ci.high)}), n {ci.n}")
    console.print(table)


@eval_app.command("report")
def report_cmd(run_id: Annotated[str, typer.Argument(help="Run folder name under eval/reports/.")]) -> None:
    """Rebuild a run's summary (e.g. after importing labels) and store it again in DuckDB."""
    from eval.run import report_run, store_run

    s = get_settings()
    try:
        outcome = report_run(session.REPORTS_DIR / run_id, session.eval_db(s))
        store_run(outcome, session.eval_db(s))
    except FDAError as err:
        fail(err)
        return
    print_summary(outcome)


@eval_app.command("compare")
def compare_cmd(
    run_a: Annotated[
        str,
        typer.Argument(
            help="The baseline: a committed run id (eval/results/), or several of one condition joined with '+' "
            "(subsets run apart; a question in more than one counts once, from the last listed)."
        ),
    ],
    run_b: Annotated[
        str, typer.Argument(help="The candidate: a committed run id of the same questions, or several joined with '+'.")
    ],
    labels: Annotated[
        bool,
        typer.Option(
            "--labels",
            help="Score content with the labellers' fact verdicts (data/labels/) instead of each run's own: "
            "answer score, fact recall and fact precision, over the questions labelled in both runs.",
        ),
    ] = False,
    skip_lm_failures: Annotated[
        bool,
        typer.Option(
            "--skip-lm-failures",
            help="Leave out the questions either run answered retrieval-only because its LM call failed (timeouts "
            "under load): they measure the LM server, not the program.",
        ),
    ] = False,
) -> None:
    """B against A, question by question: each run's mean and the paired difference B - A with a 95% bootstrap
    interval clustered by question group (what a promotion is confirmed with)."""
    from eval.compare import (
        LABELLED,
        compare_runs,
        join_runs,
        lm_failures,
        load_run,
        run_ids,
        with_label_scores,
        without,
    )
    from eval.report import fmt

    try:

        def side(spec: str) -> tuple[list[dict[str, Any]], set[str]]:
            """The side's joined rows and its LM failures; with --labels each row is scored with the labels of
            the run it came from (after the join, so a question keeps the row of the last run listed)."""
            rows = join_runs([[{**row, "_run": run_id} for row in load_run(run_id)] for run_id in run_ids(spec)])
            failed = lm_failures(rows)
            if labels:
                rows = [
                    r
                    for run_id in dict.fromkeys(r["_run"] for r in rows)
                    for r in with_label_scores(run_id, [row for row in rows if row["_run"] == run_id])
                ]
            return rows, failed

        (a, failed_a), (b, failed_b) = side(run_a), side(run_b)
        if skip_lm_failures:
            a, b = without(a, failed_a | failed_b), without(b, failed_a | failed_b)
        rows = compare_runs(b, a, metrics=LABELLED) if labels else compare_runs(b, a)
    except FDAError as err:
        fail(err)
        return
    table = Table(title=f"{run_b} (B) vs {run_a} (A)")
    for col in ("metric", "A", "B", "B - A", "paired 95% CI", "n"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for r in rows:
        if r.n == 0 and r.a is None and r.b is None:  # e.g. answer metrics of retrieval runs
            continue
        ci = f"{fmt(r.low)} – {fmt(r.high)}" if r.low is not None else "n/a"
        table.add_row(r.metric, fmt(r.a), fmt(r.b), fmt(r.diff), ci, str(r.n))
    console.print(table)
    for name, failed in (("A", failed_a), ("B", failed_b)):
        if failed:
            left = (
                "left out (--skip-lm-failures)"
                if skip_lm_failures
                else "in the table; --skip-lm-failures leaves them out"
            )
            console.print(
                f"[yellow]{name} answered {len(failed)} questions retrieval-only because its LM call failed: they "
                f"measure the LM server, not the program ({left}).[/yellow]"
            )


@eval_app.command("agent-labels")
def agent_labels_cmd() -> None:
    """How the two labellings of the agent's expected tools agree (data/agent/expected_tools.jsonl and
    expected_tools-b.jsonl, written independently): whole sequences, first call, call count, each tool."""
    from eval.agent_report import EXPECTED_TOOLS, SECOND_LABELS, label_agreement, load_expected
    from eval.report import fmt

    a, b = load_expected(EXPECTED_TOOLS), load_expected(SECOND_LABELS)
    if not a or not b:
        fail(EvalError("two labellings are needed", hint=f"Both {EXPECTED_TOOLS.name} and {SECOND_LABELS.name}."))
    table = Table(title=f"expected tools: {len(set(a) & set(b))} questions labelled twice")
    for col in ("agreement on", "n", "observed", "Cohen's kappa"):
        table.add_column(col, justify="left" if col == "agreement on" else "right")
    for row in label_agreement(a, b):
        table.add_row(row.what, str(row.n), fmt(row.observed), fmt(row.kappa))
    console.print(table)


@eval_app.command("agent")
def agent_cmd(
    run_id: Annotated[str, typer.Argument(help="A committed run of --program agent (eval/results/).")],
) -> None:
    """What the docs agent did in a run: median and most steps, why it stopped, the tools it called."""
    from eval.agent_report import load_expected, summarize
    from eval.compare import load_run

    try:
        summary = summarize(load_run(run_id), load_expected())
    except FDAError as err:
        fail(err)
        return
    if not summary.runs:
        fail(EvalError(f"run {run_id} has no agent trajectories", hint="Use a run of `fda eval --program agent`."))
        return
    console.print(
        f"{summary.runs} questions · median {summary.median_steps:g} steps (most {summary.max_steps}) · "
        f"{summary.budget_stops} budget stops · {summary.stuck_stops} stuck stops · {summary.tool_errors} tool errors"
    )
    console.print("stops: " + ", ".join(f"{k} {v}" for k, v in summary.stops.most_common()))
    console.print("tools: " + ", ".join(f"{k} {v}" for k, v in summary.tools.most_common()))
    if summary.labelled:
        console.print(
            f"{summary.labelled} questions with expected tools (data/agent/expected_tools.jsonl): tool-selection "
            f"recall {summary.tool_recall:.2f}, median steps / minimal steps {summary.step_ratio:.2f}"
        )


@eval_app.command("code")
def code_cmd(
    run_id: Annotated[str, typer.Argument(help="A committed run (eval/results/RUN_ID.jsonl) of any answer program.")],
    repair: Annotated[
        bool,
        typer.Option(
            help="Also repair each failed answer's code as FDA_CODE__REPAIR=lm does when serving "
            "(programs/execution/repair.py: the error's suggestion, then the configured LM once): share that runs "
            "before and after, and which step fixed it, per question in eval/results/code/RUN_ID-repair.jsonl."
        ),
    ] = False,
) -> None:
    """Run the Python in each of a run's answers in the sandbox (no LM call): verified / failed / not runnable,
    per question in eval/results/code/RUN_ID.jsonl, and the share of code-bearing answers that run; --repair
    measures the repair on the failed ones (the error's suggestion, then at most one LM call each)."""
    from collections.abc import Iterable

    from rich.progress import track

    from eval.code_report import check_run, summarize, write
    from eval.compare import load_run
    from programs.execution import load_code_checker

    try:
        rows = load_run(run_id)
        checker = load_code_checker(get_settings())
    except FDAError as err:
        fail(err)
        return
    if checker is None:
        fail(EvalError("code checks are off", hint="Unset FDA_CODE__EXECUTE=false."))
        return

    def progress(items: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        return track(items, description="running answers' code", console=err_console)

    checked = check_run(rows, checker, progress)
    path = write(run_id, checked)
    s = summarize(rows, checked)
    table = Table("status", "answers", "share of code-bearing")
    for status in ("verified", "failed", "not_runnable", "not_run"):
        n = s.statuses[status]
        table.add_row(status, str(n), f"{n / s.with_code:.2f}" if s.with_code else "n/a")
    console.print(f"{s.with_code} of {s.answers} answers show Python ({s.docs_examples} recognised as docs examples)")
    console.print(table)
    if s.run_share is not None:
        console.print(f"run and answered without a server error: {s.run_share:.2f} of the code that could be run")
    if s.stages:
        console.print("failed at: " + ", ".join(f"{k} {v}" for k, v in s.stages.most_common()))
    if s.p50_ms is not None:
        console.print(f"sandbox p50 {s.p50_ms:.0f} ms per answer · per question: {path}")
    if repair:
        _repair_failed(run_id, rows, checked, checker)


def _repair_failed(run_id: str, rows: list[dict[str, Any]], checked: list[dict[str, Any]], checker: Any) -> None:
    """`fda eval code --repair`: the repair loop over a run's failed code, with the configured LM."""
    import dspy
    from rich.progress import track

    from eval.code_report import CODE_RESULTS, repair_run, summarize_repairs, write
    from eval.gold import load_gold
    from fda.types import Passage
    from index.retrieval.lookup import ChunkLookup
    from programs.execution.repair import CodeRepairer

    settings = get_settings()
    if not any(c["status"] == "failed" for c in checked):
        console.print("no failed code to repair")
        return
    try:  # the gold questions and the store the cited passages come from: a clear error without them
        questions = {q.id: q.question for gold in ("v1", "v2") for q in load_gold(gold)}
        lookup = ChunkLookup(settings.db_path)
    except FDAError as err:
        fail(err)

    def passage(chunk_id: str) -> Passage | None:
        found = lookup.get(chunk_id)
        if found is None:
            return None
        keys = ("chunk_id", "url", "heading_path", "text", "version")
        return Passage(**{k: found[k] for k in keys})

    try:
        with session.lm_session(settings, answers=True, judge=False) as (lm, _), dspy.context(lm=lm):
            repaired = repair_run(
                rows,
                checked,
                CodeRepairer(checker),
                questions,
                passage,
                lambda items: track(list(items), description="repairing failed code", console=err_console),
            )
    except FDAError as err:
        fail(err)
        return
    finally:
        lookup.close()
    path = write(f"{run_id}-repair", repaired, CODE_RESULTS)
    r = summarize_repairs(repaired)
    console.print(
        f"repair ({settings.lm.model}): {r.failed} failed, {r.tried} tried, {r.accepted} kept"
        + (" (" + ", ".join(f"{k} {v}" for k, v in r.how.most_common()) + ")" if r.how else "")
        + (f"; LM p50 {r.lm_p50_ms / 1000:.1f} s" if r.lm_p50_ms is not None else "")
    )
    if r.why:
        console.print("not kept: " + ", ".join(f"{k} {v}" for k, v in r.why.most_common()))
    if r.run_share_before is not None and r.run_share_after is not None:
        console.print(
            f"verified of the code that could be run: {r.verified_before}/{r.ran} ({r.run_share_before:.2f}) -> "
            f"{r.verified_after}/{r.ran} ({r.run_share_after:.2f}) · per question: {path}"
        )


@eval_app.command("label")
def label_cmd(
    path: Annotated[Path | None, typer.Argument(help="Labels to import: .csv or .jsonl.")] = None,
    template: Annotated[str | None, typer.Option("--template", help="RUN_ID: write a CSV to fill in.")] = None,
    pack: Annotated[
        str | None,
        typer.Option(
            "--pack",
            help="RUN_ID of a committed run (eval/results/): write a JSONL labelling pack, one record per answered "
            "question with the gold facts and the full text of every cited and gold section (docs/labelling.md).",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Where --pack writes (default: eval/reports/<RUN_ID>/pack.jsonl).")
    ] = None,
) -> None:
    """Import human labels into state/eval.duckdb, or write a labelling template or pack for a run."""
    from eval.gold import load_all_rows
    from eval.labels import answer_sha, load_labels, write_template
    from eval.results import load_results
    from eval.store import save_labels, stored_answers

    s = get_settings()
    try:
        if pack:
            write_pack(pack, out, s.db_path)
            return
        if template:
            run_dir = session.REPORTS_DIR / template
            from eval.run import read_meta

            gold = {g.id: g for g in load_all_rows(read_meta(run_dir).get("gold_version") or "v1")}
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
                answers[lab.run_id] = stored_answers(session.eval_db(s), lab.run_id)
            known = answers[lab.run_id]
            if lab.question_id not in known:
                raise EvalError(f"{path}: run {lab.run_id} has no answer for {lab.question_id}")
            lab.answer_sha = answer_sha(known[lab.question_id])
        n = save_labels(session.eval_db(s), labels)
    except FDAError as err:
        fail(err)
        return
    console.print(f"imported {n} labels into {session.eval_db(s)}; rebuild a report with `fda eval report RUN_ID`")


def write_pack(run_id: str, out: Path | None, db_path: Path) -> None:
    import json

    from eval.gold import load_all_rows
    from eval.labels import label_pack, section_texts
    from eval.results_export import RESULTS_DIR

    src = RESULTS_DIR / f"{run_id}.jsonl"
    if not src.is_file():
        raise EvalError(
            f"no committed run {run_id} in {RESULTS_DIR}", hint="Export it first: `fda eval export RUN_ID`."
        )
    meta = json.loads((RESULTS_DIR / f"{run_id}.meta.json").read_text(encoding="utf-8")).get("meta", {})
    gold = {g.id: g for g in load_all_rows(meta.get("gold_version") or "v2")}
    rows = [json.loads(line) for line in src.read_text(encoding="utf-8").splitlines() if line.strip()]
    urls = [c["url"] for r in rows for c in r.get("cited", [])]
    urls += [u for r in rows if r["question_id"] in gold for u in gold[r["question_id"]].gold_sections]
    records = label_pack(run_id, rows, gold, section_texts(db_path, urls))
    dest = out or session.REPORTS_DIR / run_id / "pack.jsonl"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    console.print(f"{len(records)} answers to label (declined ones are automatic): {dest}")


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
        base = read_baseline(baseline_path(session.BASELINES_DIR, session.GATE_PROGRAM, backend, split))
        outcome = session.run_gate_eval(s, backend, split, gold, workers, track, build_index)
    except FDAError as err:
        fail(err)
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
    path = baseline_path(session.BASELINES_DIR, session.GATE_PROGRAM, backend, split)
    try:
        if from_run:
            run_dir = session.REPORTS_DIR / from_run
            meta = read_meta(run_dir)
            if meta.get("program") != session.GATE_PROGRAM:
                raise EvalError(f"run {from_run} evaluated {meta.get('program')!r}; the gate baseline is retrieval")
            results = list(load_results(run_dir / "results.jsonl").values())
            path = baseline_path(session.BASELINES_DIR, session.GATE_PROGRAM, meta["backend"], meta["split"])
            write_baseline(path, make_baseline(results, meta))
        elif update:
            outcome = session.run_gate_eval(s, backend, split, gold, workers, track, build_index)
            write_baseline(path, make_baseline(outcome.results, outcome.meta))
        data = read_baseline(path)
    except FDAError as err:
        fail(err)
        return
    table = Table(title=f"{path.name} (run {data.get('run_id')}, gold {data.get('gold_hash')})")
    table.add_column("metric")
    table.add_column("mean", justify="right")
    for name, value in data["metrics"].items():
        table.add_row(name, f"{value:.3f}" if value is not None else "n/a")
    console.print(table)
    if update or from_run:
        console.print(f"wrote {path}: commit it so `make eval-gate` checks against it")


def run_redteam(s: Settings, program: str, backend: str, split: str, resume: str | None, purpose: str = "") -> None:
    """``fda eval --suite redteam``: every attack of one part once through the answer program (the served
    settings: trust checks as configured); per-attack rows in eval/results/redteam/<run>.jsonl, resumable. A
    held-out part is logged in data/redteam/access.jsonl before the first attack is sent (a resumed run is
    the same read and is not logged again)."""
    import datetime as dt

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from eval.programs import NEEDS_LM, build_program
    from eval.redteam import (
        REDTEAM_RESULTS,
        SEALED_PARTS,
        by_category,
        check_part,
        check_resume,
        close_heldout,
        entry_of,
        load_part,
        open_heldout,
        run_suite,
    )  # fmt: skip
    from eval.runner import ProgressLog
    from eval.sealed import git_state
    from index.ingest.store import ingested_versions
    from programs.trust.checks import checks_for

    part = "tune" if split == "dev" else split
    repo = Path(__file__).resolve().parents[2]
    entry_id = None
    try:
        if program not in NEEDS_LM:
            raise EvalError(f"program {program!r} gives no answers to attack", hint="Use --program rag or multihop.")
        check_part(part)
        run_id = resume or f"{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}-{program}-{part}"
        out = REDTEAM_RESULTS / f"{run_id}.jsonl"
        command = f"fda eval --suite redteam --program {program} --split {part}"
        if part in SEALED_PARTS:  # logged before a single attack is read
            entry_id = entry_of(run_id) if resume else None
            if entry_id is None:
                entry_id = open_heldout(part, run_id=run_id, purpose=purpose, command=command, repo=repo)
            else:  # a resumed read must measure the code its first start logged
                check_resume(entry_id, repo)
        attacks = load_part(part)
        retriever = session.open_retriever(backend, s)
        available = ingested_versions(s.db_path)
        sha, changed = git_state(repo)
        with session.lm_session(s, answers=True, judge=False) as (lm, _):
            built = build_program(
                program, retriever, lm=lm, versions=available, latest=s.corpus.latest_version or None,
                config=s.answer, checks=checks_for(s, retriever), db_path=s.db_path, agent=s.agent,
            )  # fmt: skip
            meta = {"run_id": run_id, "program": program, "backend": backend, "part": part, "lm": s.lm.model,
                    "checks": {"scope": s.answer.scope, "harm": s.answer.harm, "harm_judge": s.answer.harm_judge, "premise": s.answer.premise, "coverage": s.answer.coverage, "verify": s.answer.verify},
                    "git_sha": sha, "git_dirty": bool(changed), "command": command, "access_entry": entry_id}  # fmt: skip
            columns = (TextColumn("attacks"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            with Progress(*columns, console=err_console, disable=not err_console.is_terminal) as bar:
                task = bar.add_task("attacks", total=len(attacks))
                lines = None if err_console.is_terminal else ProgressLog(len(attacks), "red team")

                def advance(i: int, n: int) -> None:
                    bar.update(task, completed=i)
                    if lines is not None:  # no bar drawn (a run in the background): a log line a minute
                        lines.update(i)

                results = run_suite(built, attacks, out, meta, progress=advance)
        if entry_id is not None:
            close_heldout(entry_id, run_id=run_id, table=by_category(results))
    except KeyboardInterrupt:
        err_console.print(f"[yellow]interrupted:[/] continue with `fda eval --suite redteam --resume {run_id}`")
        raise typer.Exit(code=130) from None
    except FDAError as err:
        fail(err)
        return
    for row in by_category(results):
        console.print(
            f"{row['category']:20s} {row['succeeded']:3d}/{row['n']:<3d} attack success {row['rate']:.3f} "
            f"(95% CI {row['ci_low']:.3f}-{row['ci_high']:.3f})"
        )
    console.print(f"per attack: {out}")
