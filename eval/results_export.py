"""Committed per-question results: a run's rows (slimmed) and its meta, under eval/results/, so every number
quoted in README and docs can be checked without re-running, and a fresh clone's UI shows real runs.

    fda eval export RUN_ID                  # eval/reports/RUN_ID -> eval/results/RUN_ID.jsonl + .meta.json
    import_committed(eval_db)               # every committed run not yet in eval.duckdb (the UI calls it)

A committed row keeps the answer, the cited and the top-10 retrieved URLs, the judge's verdicts and every
metric; passage texts are cut to their URLs (the corpus at the run's corpus hash has them).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from eval.results import QuestionResult, load_results
from fda.errors import EvalError
from fda.settings import project_root

log = logging.getLogger(__name__)

RESULTS_DIR = project_root() / "eval" / "results"
META_SUFFIX = ".meta.json"
TOP_PASSAGES = 10


def slim_row(result: QuestionResult) -> dict[str, Any]:
    out = result.output
    return {
        "question_id": result.question_id,
        "type": result.type,
        "category": result.category,
        "split": result.split,
        "group": result.group,
        "version": result.version,
        "error": result.error,
        "latency_s": result.latency_s,
        "answer": out.answer,
        "declined": out.declined,
        "refused": out.refused,
        "cannot_answer": out.cannot_answer,
        "fallback": out.fallback,
        "invalid_citations": out.invalid_citations,
        "cited": [{"number": c.number, "url": c.url, "chunk_id": c.chunk_id} for c in out.citations],
        "retrieved": [p.url for p in out.passages[:TOP_PASSAGES]],
        "usage": out.usage,
        "reason": out.reason,
        "verification": out.verification,
        **({"stop_reason": out.stop_reason, "trajectory": out.trajectory} if out.trajectory is not None else {}),
        "judge": result.judge.model_dump() if result.judge else None,
        "judge_error": result.judge_error,
        "metrics": {k: v for k, v in result.metrics.items() if v is not None},
    }


def export_run(run_dir: Path, dest: Path | None = None) -> Path:
    """Write ``<run_id>.jsonl`` (one slim row per question, in the run's order) and ``<run_id>.meta.json``."""
    from eval.run import read_meta

    dest = dest or RESULTS_DIR
    meta = read_meta(run_dir)
    stored = load_results(run_dir / "results.jsonl")
    ids = list(meta.get("question_ids") or stored)
    rows = [slim_row(stored[q]) for q in ids if q in stored]
    if not rows:
        raise EvalError(f"run {run_dir.name} has no results to export")
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / f"{run_dir.name}.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    summary_path = run_dir / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else {}
    keep = {k: v for k, v in meta.items() if k != "question_ids"}
    (dest / f"{run_dir.name}{META_SUFFIX}").write_text(
        json.dumps({"meta": keep, "headline": summary.get("headline", {})}, indent=1, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    return path


def to_result(row: dict[str, Any]) -> QuestionResult:
    """A committed row back as a QuestionResult (passages as URL-only stubs) for the eval store and the UI."""
    from eval.contract import ProgramOutput
    from fda.types import Citation, Passage

    version = row.get("version") or ""
    out = ProgramOutput(
        answer=row.get("answer", ""),
        citations=[
            Citation(number=c["number"], chunk_id=c["chunk_id"], url=c["url"], title="", snippet="", version=version)
            for c in row.get("cited", [])
        ],
        passages=[Passage(chunk_id=f"url:{u}", url=u, text="", version=version) for u in row.get("retrieved", [])],
        cannot_answer=row.get("cannot_answer", False),
        refused=row.get("refused", False),
        invalid_citations=row.get("invalid_citations", 0),
        fallback=row.get("fallback", False),
        usage=row.get("usage"),
        reason=row.get("reason") or "",
        verification=row.get("verification"),
    )
    return QuestionResult.model_validate(
        {
            **{k: row.get(k) for k in ("question_id", "type", "category", "split", "group", "version", "error")},
            "latency_s": row.get("latency_s", 0.0),
            "output": out,
            "judge": row.get("judge"),
            "judge_error": row.get("judge_error"),
            "metrics": row.get("metrics", {}),
        }
    )


def committed_runs(src: Path | None = None) -> list[tuple[dict[str, Any], Path]]:
    """(meta, rows file) of every committed run with both files, oldest first."""
    src = src or RESULTS_DIR
    out = []
    for meta_path in sorted(src.glob(f"*{META_SUFFIX}")):
        rows = meta_path.with_name(meta_path.name.removesuffix(META_SUFFIX) + ".jsonl")
        if rows.is_file():
            out.append((json.loads(meta_path.read_text(encoding="utf-8")), rows))
    return out


def import_committed(eval_db: Path, src: Path | None = None) -> list[str]:
    """Store every committed run that the eval DuckDB lacks (the summary is recomputed from the rows)."""
    from eval.aggregate import summarize
    from eval.run import RunOutcome, store_run
    from eval.store import stored_run_ids

    known = stored_run_ids(eval_db)
    added = []
    for record, rows_path in committed_runs(src):
        meta = dict(record["meta"])
        run_id = str(meta.get("run_id") or rows_path.stem)
        if run_id in known:
            continue
        lines = [json.loads(x) for x in rows_path.read_text(encoding="utf-8").splitlines() if x.strip()]
        results = [to_result(r) for r in lines]
        summary = summarize(
            results, answers=bool(meta.get("answers", True)), n_samples=int(meta.get("bootstrap_samples", 1000)),
            seed=int(meta.get("bootstrap_seed", 0)), baseline=results, baseline_name="bm25", labels=None,
            gold_first={},
        )  # fmt: skip
        meta.update(run_id=run_id, committed=True, n_questions=len(results))
        store_run(RunOutcome(rows_path.parent, meta, summary, results), eval_db)
        added.append(run_id)
        log.info("imported committed run %s (%d questions)", run_id, len(results))
    return added
