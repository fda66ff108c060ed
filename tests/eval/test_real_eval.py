"""The retrieval-only eval on a few real dev questions with the real BM25 backend (marker ``corpus``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.corpus


def test_retrieval_eval_on_real_corpus(real_store: tuple[Path, object], tmp_path: Path) -> None:
    pytest.importorskip("index.retrieval.factory", reason="no retrieval backends yet")
    from eval.session import run_eval
    from fda.settings import Settings

    db, _ = real_store
    settings = Settings(state_dir=db.parent, eval={"track": False, "bootstrap_samples": 200})  # type: ignore[arg-type]
    outcome = run_eval(
        settings, program="retrieval", backend="bm25", split="dev", gold="v1", limit=8, workers=2, track=False,
        build_index=True, reports_dir=tmp_path / "reports",
    )  # fmt: skip
    summary = json.loads((outcome.run_dir / "summary.json").read_text())
    assert summary["n_questions"] == 8 and summary["n_errors"] == 0
    head = summary["headline"]
    assert summary["means"]["recall_at_10_page"] > 0.4  # BM25 finds the right page for most how-to questions
    assert "combined_score" not in head and "citation_recall_section" not in head  # n/a for retrieval only
    assert summary["baseline"]["recall_at_5_section"] == head["recall_at_5_section"]["mean"]
    assert (db.parent / "eval.duckdb").is_file()
