"""LLM-as-judge: grade an answer against the gold reference answer (signatures/judge.py), check each gold
fact against it, and check each cited sentence against the passage it cites.

    judge = AnswerJudge(lm=dspy.LM("openai/qwen", api_base="http://127.0.0.1:8080/v1", api_key="x"))
    judge(question=q, reference_answer=ref, answer=a).verdict     # correct | partly | wrong
    judge_question(judge, gold_row, program_output)               # JudgeResult: verdict, facts, support

The judge LM is injected and applied with ``dspy.context``; the programs' own LM is never reused
implicitly. Verdicts share the human label scale, so judge-human agreement is a plain Cohen's kappa.
Verdicts decided without an LM call (a declined answer to an answerable question is ``wrong``) are
marked ``automatic`` and left out of every agreement number: they would inflate it.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from typing import Any

import dspy
from pydantic import BaseModel

from eval.contract import ProgramOutput
from eval.faithfulness import cited_sentences
from eval.gold import GoldQuestion
from signatures.judge import CheckFact, CheckSupport, JudgeAnswer

log = logging.getLogger(__name__)

VERDICT_SCORE: dict[str, float] = {"correct": 1.0, "partly": 0.5, "wrong": 0.0}
FACT_VERDICTS = ("stated", "contradicted", "absent")
MAX_SUPPORT_CHECKS = 3  # cited sentences checked per answer (the first ones): bounds the judge's cost
PASSAGE_CHARS = 2400


class JudgeResult(BaseModel):
    verdict: str | None = None
    justification: str = ""
    automatic: bool = False
    facts: list[str] | None = None  # one of FACT_VERDICTS per gold fact, in the row's order
    support: list[bool] | None = None  # per cited sentence (the first MAX_SUPPORT_CHECKS)

    @property
    def score(self) -> float | None:
        return VERDICT_SCORE[self.verdict] if self.verdict else None


class AnswerJudge(dspy.Module):
    def __init__(self, lm: Any | None = None, facts: bool = True, support: bool = True) -> None:
        super().__init__()
        self.lm = lm
        self.check_facts = facts
        self.check_support = support
        self.grade = dspy.Predict(JudgeAnswer)
        self.fact = dspy.Predict(CheckFact)
        self.supports = dspy.Predict(CheckSupport)

    def _ctx(self) -> Any:
        return dspy.context(lm=self.lm) if self.lm is not None else nullcontext()

    def forward(self, question: str, reference_answer: str, answer: str) -> dspy.Prediction:
        with self._ctx():
            out = self.grade(question=question, reference_answer=reference_answer, answer=answer)
        verdict = str(out.verdict).strip().lower()
        if verdict not in VERDICT_SCORE:
            raise ValueError(f"judge verdict {verdict!r} is not one of {sorted(VERDICT_SCORE)}")
        return dspy.Prediction(verdict=verdict, score=VERDICT_SCORE[verdict], justification=str(out.justification))

    def fact_verdict(self, answer: str, claim: str) -> str:
        with self._ctx():
            verdict = str(self.fact(answer=answer, claim=claim).verdict).strip().lower()
        if verdict not in FACT_VERDICTS:
            raise ValueError(f"fact verdict {verdict!r} is not one of {FACT_VERDICTS}")
        return verdict

    def supported(self, sentence: str, passage: str) -> bool:
        with self._ctx():
            return bool(self.supports(sentence=sentence, passage=passage[:PASSAGE_CHARS]).supported)


def judge_applies(gold: GoldQuestion) -> bool:
    """The judge grades answerable questions that have a reference answer; refusals are scored apart."""
    return not gold.expect_refusal and bool(gold.reference_answer.strip())


def declined_verdict(gold: GoldQuestion) -> JudgeResult:
    """What a declined (or empty) answer gets without an LM call: ``wrong`` where the judge applies, every
    fact absent; marked ``automatic`` so agreement numbers leave it out."""
    return JudgeResult(
        verdict="wrong" if judge_applies(gold) else None,
        justification="declined or empty answer",
        automatic=True,
        facts=["absent"] * len(gold.facts) if gold.facts else None,
    )


def judge_question(judge: AnswerJudge, gold: GoldQuestion, out: ProgramOutput) -> JudgeResult | None:
    """Verdict, fact verdicts and support checks for one answer (``None`` when nothing applies).

    Declined or empty answers need no LM: ``wrong`` (automatic) on an answerable row, every fact absent."""
    answered = not out.declined and bool(out.answer.strip())
    if not answered:
        if not judge_applies(gold) and not gold.facts:
            return None
        return declined_verdict(gold)
    result = JudgeResult()
    if judge_applies(gold):
        pred = judge(question=gold.question, reference_answer=gold.reference_answer, answer=out.answer)
        result.verdict, result.justification = pred.verdict, pred.justification
    if gold.facts and getattr(judge, "check_facts", False):
        result.facts = [judge.fact_verdict(out.answer, f.claim) for f in gold.facts]
    if getattr(judge, "check_support", False):
        pairs = cited_sentences(out)[:MAX_SUPPORT_CHECKS]
        result.support = [judge.supported(s, p) for s, p in pairs] if pairs else None
    if result.verdict is None and result.facts is None and result.support is None:
        return None
    return result
