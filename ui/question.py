"""One question of one run, everything the harness kept: the stored row, the full result from the run's
``results.jsonl`` (ranked passages with scores, citations, judge justification, usage) and the gold row."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from eval.gold import GoldQuestion, load_all_rows
from eval.metrics import page_of
from eval.results import QuestionResult, load_results
from fda.errors import GoldSetError

log = logging.getLogger(__name__)

RESULTS_FILE = "results.jsonl"  # eval.run.RESULTS: one JSON row per question in the run's report folder


@dataclass
class QuestionView:
    row: dict[str, Any]
    result: QuestionResult | None = None
    gold: GoldQuestion | None = None
    problems: list[str] = field(default_factory=list)


def clean_row(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row with NaN (DuckDB NULL read through pandas) turned back into None."""
    return {k: None if isinstance(v, float) and v != v else v for k, v in row.items()}


def gold_questions(gold_version: str | None) -> dict[str, GoldQuestion]:
    """Gold rows by id; empty (and logged) when the gold version is unknown here."""
    if not gold_version:
        return {}
    try:
        # every row, sealed ones too: this shows runs already made (a confirm run's rows were logged when read)
        return {q.id: q for q in load_all_rows(gold_version)}
    except GoldSetError as err:
        log.warning("gold %s not readable: %s", gold_version, err)
        return {}


def run_results_file(report_dir: str | None) -> Path | None:
    if not report_dir:
        return None
    path = Path(report_dir) / RESULTS_FILE
    return path if path.is_file() else None


def full_results(report_dir: str | None) -> dict[str, QuestionResult]:
    path = run_results_file(report_dir)
    return load_results(path) if path else {}


def question_view(
    row: dict[str, Any], run: dict[str, Any], gold: dict[str, GoldQuestion], results: dict[str, QuestionResult]
) -> QuestionView:
    """Stored row + gold row + full result (``results``: the run's results.jsonl), with what is missing said."""
    qid = str(row["question_id"])
    view = QuestionView(row=row, gold=gold.get(qid), result=results.get(qid))
    if view.gold is None:
        view.problems.append(f"gold question {qid} not found in gold set {run.get('gold_version')!r}")
    if view.result is None:
        view.problems.append(
            f"no {RESULTS_FILE} row under {run.get('report_dir')!r}: ranked passages, scores and the trace are "
            "only kept there (the run folder may have been moved or deleted)."
        )
    return view


def match_level(url: str, gold_sections: list[str]) -> str:
    """'section' when the URL#anchor is a gold section, 'page' when only its page is, else ''."""
    if url in gold_sections:
        return "section"
    if page_of(url) in {page_of(g) for g in gold_sections}:
        return "page"
    return ""


def passages_table(result: QuestionResult, gold_sections: list[str]) -> pd.DataFrame:
    cited = {c.chunk_id for c in result.output.citations}
    rows = [
        {
            "rank": rank,
            "score": p.score,
            "gold": match_level(p.url, gold_sections),
            "cited": p.chunk_id in cited,
            "title": p.title,
            "url": p.url,
            "snippet": p.text,
            "chunk_id": p.chunk_id,
        }
        for rank, p in enumerate(result.output.passages, start=1)
    ]
    return pd.DataFrame(rows, columns=["rank", "score", "gold", "cited", "title", "url", "snippet", "chunk_id"])


def citations_table(result: QuestionResult, gold_sections: list[str]) -> pd.DataFrame:
    """Each citation: was its chunk among the passages shown (valid), and is it a gold section or page."""
    shown = {p.chunk_id for p in result.output.passages}
    rows = [
        {
            "number": c.number,
            "valid": c.chunk_id in shown,
            "gold": match_level(c.url, gold_sections),
            "title": c.title,
            "url": c.url,
            "snippet": c.snippet,
        }
        for c in result.output.citations
    ]
    return pd.DataFrame(rows, columns=["number", "valid", "gold", "title", "url", "snippet"])


def metrics_of(row: dict[str, Any], names: tuple[str, ...]) -> pd.DataFrame:
    """The question's metrics that apply (n/a ones left out)."""
    out = []
    for name in names:
        value = row.get(name)
        if value is not None and not pd.isna(value):
            out.append({"metric": name, "value": float(value)})
    return pd.DataFrame(out, columns=["metric", "value"])
