"""ops/bench/answer.py: percentiles, the summary row, and a question timed through the real streaming path
with DummyLM (no model, no timing asserts)."""

from __future__ import annotations

from pathlib import Path

import dspy
import pytest
from dspy.utils import DummyLM

from eval.gold import GoldQuestion
from ops.bench.answer import AnswerTiming, percentile, run_model, summarize
from programs.cited_rag import CitedRAG
from tests.programs.conftest import FakeRetriever


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [([], 50, None), ([3.0], 95, 3.0), ([1.0, 2.0, 3.0, 4.0], 50, 2.5), ([1.0, 2.0, 3.0, 4.0, 5.0], 95, 4.8)],
)
def test_percentile(values: list[float], q: float, expected: float | None) -> None:
    assert percentile(values, q) == (pytest.approx(expected) if expected is not None else None)


def row(qid: str, latency: float, calls: int = 2, ttft: float | None = 1.0, error: str | None = None) -> AnswerTiming:
    return AnswerTiming(qid, "howto", latency, ttft, 100, 10, calls, False, False, error, {"combined_score": 0.5})


def test_summary_leaves_out_errors_and_lm_free_refusals_from_latency() -> None:
    rows = [row("a", 2.0), row("b", 4.0, ttft=None), row("c", 0.01, calls=0), row("d", 99.0, error="Timeout")]
    got = summarize("m", rows)
    assert got["questions"] == 4 and got["errors"] == 1
    assert got["p50 s"] == pytest.approx(3.0)  # a and b: not the LM-free refusal, not the failure
    assert got["streamed"] == 1 and got["TTFT p50 s"] == pytest.approx(1.0)
    assert got["combined"] == pytest.approx(0.5)


def gold(qid: str, question: str) -> GoldQuestion:
    return GoldQuestion.model_validate(
        {
            "id": qid,
            "question": question,
            "category": "middleware",
            "type": "howto",
            "gold_sections": ["https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware"],
            "must_mention": [["CORSMiddleware"]],
        }
    )


def test_a_question_through_the_streaming_path_is_timed_and_scored(tmp_path: Path) -> None:
    lm = DummyLM(
        [
            {"search_queries": ["CORSMiddleware"], "decision": "answer"},
            {"cited": [1], "answer": "Add CORSMiddleware to the app [1].", "cannot_answer": False},
        ]
    )
    with dspy.context(lm=lm):
        rows = run_model("dummy", CitedRAG(FakeRetriever(), k=3), [gold("q-cors", "How do I enable CORS?")], tmp_path)
    (only,) = rows
    assert only.error is None and only.lm_calls == 2 and not only.declined
    assert only.scores["combined_score"] == pytest.approx(1.0)
    assert (tmp_path / "dummy.jsonl").read_text().count("q-cors") == 1


def test_an_unknown_split_is_refused_before_anything_starts() -> None:
    from typer.testing import CliRunner

    from fda.cli.app import app

    result = CliRunner().invoke(app, ["bench", "answer", "--split", "nope", "--models", "local:smollm2-135m"])
    assert result.exit_code == 2 and "nope" in result.output
