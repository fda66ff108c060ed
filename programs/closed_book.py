"""ClosedBook: the model alone, no retrieval: the "prompt-only" baseline of the fine-tuning comparison (issue #25,
docs/finetune.md). It is measured, not served: without sources nothing can be cited or checked against the docs.

    pred = ClosedBook(lm=lm)(question="How do I enable CORS?")

The same screen and trust checks as the answer programs run first (a refused question never reaches the LM), so
its refusal numbers compare with theirs; the answer carries no citation.
"""

from __future__ import annotations

import logging
from typing import Any

import dspy

from fda.lm.adapter import lm_scope
from programs.answering import cannot_answer, check_before, drop_broken_tail, fallback, result
from programs.trust.checks import TrustChecks
from programs.usage import tracked
from signatures.answer import ClosedBookAnswer

log = logging.getLogger(__name__)


class ClosedBook(dspy.Module):
    def __init__(
        self, lm: Any | None = None, checks: TrustChecks | None = None, max_question_chars: int = 2000
    ) -> None:
        super().__init__()
        self.lm = lm
        self.checks = checks or TrustChecks()
        self.max_question_chars = max_question_chars
        self.answerer = dspy.Predict(ClosedBookAnswer)

    def forward(self, question: str, version: str | None = None) -> dspy.Prediction:
        with tracked() as usage:
            pred = self._answer(question)
        pred.usage = usage()
        return pred

    def _answer(self, question: str) -> dspy.Prediction:
        screened, early = check_before(question, self.max_question_chars, self.checks, self.lm)
        if early is not None:
            return early
        with lm_scope(self.lm):
            for attempt in (1, 2):
                try:
                    out = self.answerer(question=screened.question)
                    break
                except dspy.AdapterParseError as err:
                    log.warning("unparseable closed-book answer (attempt %d): %s", attempt, str(err)[:200])
                except Exception as err:  # the LM is down or timed out
                    return fallback([], [screened.question], f"lm_error: {type(err).__name__}")
            else:
                return cannot_answer([], [screened.question], "malformed LM output")
        text = drop_broken_tail(str(out.answer or "")).strip()
        if bool(out.cannot_answer) or not text:
            return cannot_answer([], [screened.question], "model: cannot answer", text or "I can't answer that.")
        return result(answer=text, queries=[screened.question])
