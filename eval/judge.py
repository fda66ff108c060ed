"""LLM-as-judge: grade an answer against the gold reference answer with a rubric (signatures/judge.py).

    judge = AnswerJudge(lm=dspy.LM("openai/qwen", api_base="http://127.0.0.1:8080/v1", api_key="x"))
    judge(question=q, reference_answer=ref, answer=a).verdict     # correct | partly | wrong

The judge LM is injected and applied with ``dspy.context``; the programs' own LM is never reused
implicitly. Verdicts share the human label scale, so judge-human agreement is a plain Cohen's kappa.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from typing import Any

import dspy
from pydantic import BaseModel

from eval.contract import ProgramOutput
from eval.gold import GoldQuestion
from signatures.judge import JudgeAnswer

log = logging.getLogger(__name__)

VERDICT_SCORE: dict[str, float] = {"correct": 1.0, "partly": 0.5, "wrong": 0.0}


class JudgeResult(BaseModel):
    verdict: str
    justification: str = ""

    @property
    def score(self) -> float:
        return VERDICT_SCORE[self.verdict]


class AnswerJudge(dspy.Module):
    def __init__(self, lm: Any | None = None) -> None:
        super().__init__()
        self.lm = lm
        self.grade = dspy.Predict(JudgeAnswer)

    def forward(self, question: str, reference_answer: str, answer: str) -> dspy.Prediction:
        with dspy.context(lm=self.lm) if self.lm is not None else nullcontext():
            out = self.grade(question=question, reference_answer=reference_answer, answer=answer)
        verdict = str(out.verdict).strip().lower()
        if verdict not in VERDICT_SCORE:
            raise ValueError(f"judge verdict {verdict!r} is not one of {sorted(VERDICT_SCORE)}")
        return dspy.Prediction(verdict=verdict, score=VERDICT_SCORE[verdict], justification=str(out.justification))


def judge_applies(gold: GoldQuestion) -> bool:
    """The judge grades answerable questions that have a reference answer; refusals are scored apart."""
    return not gold.expect_refusal and bool(gold.reference_answer.strip())


def judge_question(judge: AnswerJudge, gold: GoldQuestion, out: ProgramOutput) -> JudgeResult | None:
    """Verdict for one answer; declining an answerable question is ``wrong`` without an LM call."""
    if not judge_applies(gold):
        return None
    if out.declined or not out.answer.strip():
        return JudgeResult(verdict="wrong", justification="declined or empty answer to an answerable question")
    pred = judge(question=gold.question, reference_answer=gold.reference_answer, answer=out.answer)
    return JudgeResult(verdict=pred.verdict, justification=pred.justification)
