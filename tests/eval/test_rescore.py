"""fda eval rescore: fresh scores from stored outputs against the current gold (eval/rescore.py)."""

from __future__ import annotations

import pytest

from eval import rescore
from eval.contract import ProgramOutput
from eval.gold import GoldQuestion
from eval.judge import JudgeResult
from eval.results import QuestionResult
from fda.errors import EvalError
from fda.types import Citation, Passage

A, B = "https://d.io/p#a", "https://d.io/p#b"


def gold(groups: list[list[str]], facts: int = 1) -> GoldQuestion:
    return GoldQuestion.model_validate(
        {
            "id": "w-q", "question": "How?", "category": "routing", "type": "howto",
            "gold_groups": [{"sections": g} for g in groups],
            "facts": [{"claim": f"claim number {i}", "polarity": "must"} for i in range(facts)],
            "source": {"kind": "written"},
        }
    )  # fmt: skip


def result() -> QuestionResult:
    out = ProgramOutput(
        answer="Do it like this [1].",
        citations=[Citation(number=1, chunk_id="c", url=B, title="", snippet="", version="x")],
        passages=[Passage(chunk_id="c", url=B, text="snippet", version="x")],
    )
    judge = JudgeResult(verdict="correct", facts=["stated"])
    return QuestionResult(
        question_id="w-q", type="howto", category="routing", split="train", output=out, judge=judge,
        metrics={"faithfulness_lexical": 0.25, "recall_at_1_section": 0.0},
    )  # fmt: skip


def test_pooled_alternative_turns_a_miss_into_a_hit_and_keeps_lexical_faithfulness(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rescore, "load_all_rows", lambda version: [gold([[A, B]])])
    (fresh,) = rescore.rescore_results({"w-q": result()}, "v9", answers=True)
    assert fresh.metrics["recall_at_1_section"] == 1.0
    assert fresh.metrics["citation_group_recall"] == 1.0 and fresh.metrics["fact_recall"] == 1.0
    assert fresh.metrics["faithfulness_lexical"] == 0.25  # kept: stored passages are snippets


def test_changed_facts_drop_the_verdicts_and_missing_rows_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rescore, "load_all_rows", lambda version: [gold([[A]], facts=2)])
    (fresh,) = rescore.rescore_results({"w-q": result()}, "v9", answers=True)
    assert fresh.judge is not None and fresh.judge.facts is None and fresh.metrics["fact_recall"] is None
    monkeypatch.setattr(rescore, "load_all_rows", lambda version: [])
    with pytest.raises(EvalError, match="no longer in gold"):
        rescore.rescore_results({"w-q": result()}, "v9", answers=True)


def test_full_chunk_texts_replace_the_stored_snippets_for_lexical_faithfulness(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rescore, "load_all_rows", lambda version: [gold([[A, B]])])
    res = result()
    res = res.model_copy(
        update={"output": res.output.model_copy(update={"answer": "Mount the router under a prefix. [1]"})}
    )
    (kept,) = rescore.rescore_results({"w-q": res}, "v9", answers=True)
    assert kept.metrics["faithfulness_lexical"] == 0.25  # no store: the run's value
    full = {"c": "Include the router with include_router and mount it under a prefix."}
    (fresh,) = rescore.rescore_results({"w-q": res}, "v9", answers=True, texts=full)
    assert fresh.metrics["faithfulness_lexical"] == 1.0
