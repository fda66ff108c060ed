"""Dev scoring through the eval runner: per-question combined scores, parts, costs; a crash scores 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizers.evaluate import evaluate
from programs.factory import build_answer_program
from programs.trust.checks import TrustChecks
from tests.optimizers.conftest import DEV, TRAIN, ScriptedLM
from tests.programs.conftest import FakeRetriever


def test_scores_parts_and_usage(tmp_path: Path) -> None:
    program = build_answer_program(
        "rag", FakeRetriever(), lm=ScriptedLM(easy={g.question for g in TRAIN}), checks=TrustChecks(verify="off")
    )  # unverified: the scripted wrong answers ("See the docs [2].") reach the metric
    ev = evaluate(program, DEV, tmp_path / "dev.jsonl", label="dev")
    # three answers that state none of their facts earn 0 (eval.metrics.combined_score); one right refusal
    assert ev.scores == {DEV[0].id: 0.0, DEV[1].id: 0.0, DEV[2].id: 0.0, DEV[3].id: 1.0}
    assert ev.score == pytest.approx(0.25)
    assert ev.means["citations"] == 0.0 and ev.means["refusal"] == 1.0 and ev.means["must_mention"] == 0.0
    assert ev.usage == {"prompt_tokens": 70, "completion_tokens": 35, "lm_calls": 7}  # 3 x (route + answer) + 1 route
    assert (tmp_path / "dev.jsonl").read_text().count("\n") == 4  # the runner's per-question rows
    assert ev.metrics("dev")["dev.score"] == pytest.approx(0.25)


def test_a_question_that_crashes_scores_zero(tmp_path: Path) -> None:
    class Broken:
        def __call__(self, question: str, version: str | None = None) -> object:
            raise RuntimeError("boom")

    ev = evaluate(Broken(), DEV, tmp_path / "dev.jsonl", label="dev")
    assert ev.n_errors == 4 and ev.score == 0.0 and set(ev.scores.values()) == {0.0}
