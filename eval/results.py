"""Per-question results: one JSON object a line in ``results.jsonl``, appended as each question finishes.

The file is append-only and the last row of a question wins, so an interrupted run keeps every finished
question and ``--resume`` re-runs only the missing (and failed) ones. A torn last line is skipped.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from eval.contract import ProgramOutput
from eval.judge import JudgeResult

log = logging.getLogger(__name__)

SNIPPET_CHARS = 300  # passage text kept per result: enough to eyeball, small enough to keep files light
KEEP_PASSAGES = 10


class QuestionResult(BaseModel):
    question_id: str
    type: str
    category: str
    split: str
    group: str | None = None  # near-duplicate group (v2): the unit the clustered bootstrap resamples
    version: str | None = None
    latency_s: float = 0.0
    error: str | None = None
    output: ProgramOutput = Field(default_factory=ProgramOutput)
    judge: JudgeResult | None = None
    judge_error: str | None = None
    metrics: dict[str, float | None] = Field(default_factory=dict)


def slim(out: ProgramOutput) -> ProgramOutput:
    """Top passages only, with their text cut to a snippet."""
    passages = [p.model_copy(update={"text": p.text[:SNIPPET_CHARS]}) for p in out.passages[:KEEP_PASSAGES]]
    return out.model_copy(update={"passages": passages})


class ResultWriter:
    """Thread-safe appender: each row is written and flushed as soon as it is added."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def add(self, result: QuestionResult) -> None:
        line = result.model_dump_json() + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()


def load_results(path: Path) -> dict[str, QuestionResult]:
    """Rows by question id (last one wins); a torn or unreadable line is skipped with a warning."""
    out: dict[str, QuestionResult] = {}
    if not path.is_file():
        return out
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = QuestionResult.model_validate(json.loads(line))
        except (json.JSONDecodeError, ValidationError) as err:
            log.warning("%s:%d: skipped an unreadable result row (%s)", path, lineno, str(err).splitlines()[0])
            continue
        out[row.question_id] = row
    return out


def flat_row(result: QuestionResult) -> dict[str, Any]:
    """One table row: ids, outcome flags, metrics (``declined`` and ``fallback`` among them, as 0/1),
    a few readable fields (for CSV and DuckDB)."""
    out = result.output
    return {
        "question_id": result.question_id,
        "type": result.type,
        "category": result.category,
        "split": result.split,
        "group": result.group or result.question_id,
        "version": result.version,
        "error": result.error,
        "refused": out.refused,
        "cannot_answer": out.cannot_answer,
        "invalid_citations": out.invalid_citations,
        "n_citations": len(out.citations),
        "judge_verdict": result.judge.verdict if result.judge else None,
        **result.metrics,
        "top_passage": out.passages[0].url if out.passages else None,
        "cited": " ".join(c.url for c in out.citations),
        "answer": out.answer,
    }
