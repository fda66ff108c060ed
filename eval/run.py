"""One eval run end to end: run folder, questions (resumable), BM25 baseline, report, DuckDB, MLflow.

    fda eval --program retrieval --backend bm25 --split dev       # the CLI builds programs and calls execute()

Layout of ``eval/reports/<run-id>/``: meta.json (what ran), results.jsonl (streamed, one line per question),
baseline.jsonl (the BM25 retrieval baseline over the same questions), summary.md, summary.json, results.csv.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from eval.aggregate import summarize
from eval.contract import Program, produces_answers
from eval.gold import GoldQuestion
from eval.gold_check import missing_sections
from eval.judge import AnswerJudge
from eval.report import write_report
from eval.results import QuestionResult, ResultWriter, flat_row, load_results
from eval.runner import VersionOf, _no_version, run_questions
from eval.store import save_run
from eval.tracking import flat_metrics, log_run
from fda.errors import EvalError, GoldSetError

log = logging.getLogger(__name__)

META = "meta.json"
RESULTS = "results.jsonl"
BASELINE = "baseline.jsonl"
IDENTITY_KEYS = ("program", "backend", "split", "gold_version", "gold_hash")


@dataclass(frozen=True)
class Tracking:
    tracking_uri: str
    experiment: str
    artifact_location: str | None = None


@dataclass
class RunSpec:
    program: str
    backend: str
    split: str
    gold_version: str
    gold_hash: str
    corpus_hash: str = ""
    limit: int | None = None
    seed: int = 0  # the seeded stratified --limit subset
    lm_seed: int | None = None  # the LM's sampling seed (varies answers only with lm_temperature > 0)
    lm_temperature: float = 0.0
    lm_model: str | None = None  # the model that answered (lm.model; None for retrieval-only runs)
    lm_frequency_penalty: float | None = None  # lm.frequency_penalty sent with the answer model's calls (None: not)
    lm_dry_multiplier: float | None = None  # lm.dry_multiplier, likewise (local models only)
    lm_lenient_text: bool | None = None  # lm.lenient_text: local models' output grammar (None: runs before it existed)
    retrieval_doc_int8: bool | None = None  # dense index from int8 document vectors (retrieval.doc_int8 with onnx)
    workers: int = 4
    version_policy: str = "none"
    judge_model: str | None = None
    bootstrap_samples: int = 1000
    bootstrap_seed: int = 0
    types: list[str] | None = None  # only these question types (fda eval --types)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunOutcome:
    run_dir: Path
    meta: dict[str, Any]
    summary: dict[str, Any]
    results: list[QuestionResult]
    mlflow_run_id: str | None = None
    files: list[Path] = field(default_factory=list)


def new_run_id(spec: RunSpec, reports_dir: Path, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    base = f"{stamp}-{spec.program}-{spec.backend}-{spec.split}"
    run_id, n = base, 2
    while (reports_dir / run_id).exists():
        run_id, n = f"{base}-{n}", n + 1
    return run_id


def ensure_gold_in_corpus(rows: Sequence[GoldQuestion], db_path: Path) -> None:
    """Fail loudly when a gold section is not in the ingested corpus (metrics would silently read 0)."""
    missing = missing_sections(list(rows), db_path)
    if missing:
        shown = "; ".join(f"{qid}: {url}" for qid, url in missing[:5])
        raise GoldSetError(
            f"{len(missing)} gold section(s) are not in the ingested corpus ({shown}{' ...' if len(missing) > 5 else ''})",
            hint="Re-ingest (`fda ingest`) or fix the gold rows; `fda gold validate` lists them all.",
        )


def read_meta(run_dir: Path) -> dict[str, Any]:
    path = run_dir / META
    if not path.is_file():
        raise EvalError(f"no run at {run_dir} (missing {META})", hint="List runs with `ls eval/reports/`.")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def write_meta(run_dir: Path, meta: dict[str, Any]) -> None:
    (run_dir / META).write_text(json.dumps(meta, indent=1, default=str) + "\n", encoding="utf-8")


def check_resume(meta: dict[str, Any], spec: RunSpec) -> None:
    diff = [
        f"{k}: run has {meta.get(k)!r}, asked {getattr(spec, k)!r}"
        for k in IDENTITY_KEYS
        if meta.get(k) != getattr(spec, k)
    ]
    if diff:
        raise EvalError(
            f"cannot resume run {meta.get('run_id')}: " + "; ".join(diff),
            hint="Resume with the same --program/--backend/--split/--gold, or start a new run.",
        )


def _run_part(
    program: Program,
    rows: Sequence[GoldQuestion],
    path: Path,
    *,
    label: str,
    workers: int,
    judge: AnswerJudge | None,
    version_of: VersionOf,
    progress: bool,
) -> list[QuestionResult]:
    """Run the questions not finished yet (missing, failed, or answered retrieval-only because the LM call failed,
    in ``path``), return all in ``rows`` order."""
    finished = {q: r for q, r in load_results(path).items() if r.error is None and not r.output.lm_failed}
    todo = [row for row in rows if row.id not in finished]
    if finished:
        log.info("%s: %d of %d questions already finished", label, len(rows) - len(todo), len(rows))
    fresh = run_questions(
        program, todo, ResultWriter(path), workers=workers, judge=judge, version_of=version_of,
        progress=progress, label=label,
    )  # fmt: skip
    by_id = finished | {r.question_id: r for r in fresh}
    return [by_id[row.id] for row in rows]


def execute(
    spec: RunSpec,
    program: Program,
    rows: Sequence[GoldQuestion],
    *,
    run_dir: Path,
    eval_db: Path,
    baseline_program: Program | None = None,
    judge: AnswerJudge | None = None,
    version_of: VersionOf = _no_version,
    tracking: Tracking | None = None,
    progress: bool = False,
) -> RunOutcome:
    """Run (or resume, when ``run_dir`` holds a meta.json) and record one evaluation."""
    if not rows:
        raise EvalError("no gold questions selected", hint="Check --split, --limit and --gold.")
    started = time.perf_counter()
    if (run_dir / META).is_file():
        meta = read_meta(run_dir)
        check_resume(meta, spec)
    else:
        run_dir.mkdir(parents=True, exist_ok=True)
        from eval.sealed import git_state

        sha, changed = git_state(Path(__file__).resolve().parent.parent)
        meta = {
            "run_id": run_dir.name,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "git_sha": sha,
            "git_dirty": bool(changed),
            **{k: v for k, v in vars(spec).items() if k != "extra"},
            **spec.extra,
            "question_ids": [r.id for r in rows],
            "seconds": 0.0,
        }
    meta["status"] = "running"
    write_meta(run_dir, meta)
    ids = set(meta.get("question_ids") or [r.id for r in rows])
    rows = [r for r in rows if r.id in ids]

    _run_part(
        program, rows, run_dir / RESULTS, label=spec.program, judge=judge, workers=spec.workers,
        version_of=version_of, progress=progress,
    )  # fmt: skip
    if baseline_program is not None:
        _run_part(
            baseline_program, rows, run_dir / BASELINE, label="bm25 baseline", judge=None, workers=spec.workers,
            version_of=version_of, progress=progress,
        )  # fmt: skip
    meta.update(
        status="done",
        answers=produces_answers(program),
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        seconds=round(float(meta.get("seconds") or 0.0) + time.perf_counter() - started, 2),
    )
    write_meta(run_dir, meta)
    outcome = report_run(run_dir, eval_db)
    tracking_error: EvalError | None = None
    if tracking is not None:
        try:
            outcome.mlflow_run_id = track_run(outcome, tracking)
        except EvalError as err:  # raised below, once the run is stored in DuckDB too
            tracking_error = err
    if outcome.mlflow_run_id:
        outcome.meta["mlflow_run_id"] = outcome.mlflow_run_id
        write_meta(run_dir, outcome.meta)
    store_run(outcome, eval_db)
    if tracking_error is not None:
        raise tracking_error
    return outcome


def track_run(outcome: RunOutcome, tracking: Tracking) -> str:
    """Log params, metrics and the report files of a finished run to MLflow; returns the MLflow run id."""
    meta = outcome.meta
    params = (*IDENTITY_KEYS, "corpus_hash", "limit", "workers", "version_policy", "judge_model",
              "bootstrap_samples", "bootstrap_seed", "n_questions")  # fmt: skip
    return log_run(
        tracking_uri=tracking.tracking_uri,
        experiment=tracking.experiment,
        artifact_location=tracking.artifact_location,
        run_name=meta["run_id"],
        params={k: meta.get(k) for k in params},
        metrics=flat_metrics(outcome.summary),
        artifacts=[*outcome.files, outcome.run_dir / RESULTS, outcome.run_dir / META],
        tags={"fda.run_id": meta["run_id"], "fda.kind": "eval"},
    )


def store_run(outcome: RunOutcome, eval_db: Path) -> None:
    """The run and its per-question rows into the eval DuckDB (replacing an earlier copy)."""
    record = _run_record(outcome.meta, outcome.summary, outcome.run_dir, outcome.meta.get("mlflow_run_id"))
    save_run(eval_db, record, [flat_row(r) for r in outcome.results])


def report_run(run_dir: Path, eval_db: Path, n_samples: int | None = None, seed: int | None = None) -> RunOutcome:
    """(Re)build a run's summary and report files from its stored rows and the current labels.

    Used at the end of every run, and by ``fda eval report RUN_ID`` after labels were imported.
    """
    meta = read_meta(run_dir)
    ids = list(meta.get("question_ids") or [])
    stored = load_results(run_dir / RESULTS)
    results = [stored[q] for q in ids if q in stored]
    base_rows = load_results(run_dir / BASELINE)
    baseline = [base_rows[q] for q in ids if q in base_rows] or results
    summary = summarize(
        results, answers=bool(meta.get("answers", True)),
        n_samples=meta.get("bootstrap_samples", 1000) if n_samples is None else n_samples,
        seed=meta.get("bootstrap_seed", 0) if seed is None else seed,
        baseline=baseline, baseline_name="bm25", labels=_labels(eval_db), gold_first=_gold_first(meta),
    )  # fmt: skip
    meta.update(n_questions=len(results), n_errors=summary["n_errors"], lm_failures=summary["lm_failures"])
    write_meta(run_dir, meta)
    files = write_report(run_dir, meta, summary, results)
    return RunOutcome(run_dir, meta, summary, results, files=files)


def _gold_first(meta: dict[str, Any]) -> dict[str, str]:
    """Question id -> first gold section, for the worst-questions table (empty if the gold set moved)."""
    from eval.gold import load_gold

    try:
        return {g.id: g.gold_sections[0] for g in load_gold(meta["gold_version"]) if g.gold_sections}
    except (GoldSetError, KeyError):
        return {}


def _labels(eval_db: Path) -> pd.DataFrame | None:
    from eval.store import load_labels_frame

    try:
        return load_labels_frame(eval_db)
    except EvalError as err:  # the UI holds the store: report without agreement rather than fail the run
        log.warning("labels not read: %s", err)
        return None


def _run_record(meta: dict[str, Any], summary: dict[str, Any], run_dir: Path, mlflow_id: str | None) -> dict[str, Any]:
    return {
        "run_id": meta["run_id"],
        "started_at": meta.get("started_at"),
        "finished_at": meta.get("finished_at"),
        **{k: meta.get(k) for k in ("program", "backend", "split", "gold_version", "gold_hash", "corpus_hash")},
        "n_questions": summary["n_questions"],
        "n_errors": summary["n_errors"],
        "params": {k: v for k, v in meta.items() if k != "question_ids"},
        "metrics": flat_metrics(summary),
        "report_dir": str(run_dir),
        "mlflow_run_id": mlflow_id,
    }
