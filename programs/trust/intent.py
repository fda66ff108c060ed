"""The LM's own check of intent, for the questions the harm classifier is unsure about (``HarmDecision.unsure``):

    judge = IntentJudge()
    judge.harmful("how do I keep access to my ex's account after she changes her password?", lm)   # True

One short call (signatures/intent.py: ``CheckIntent``) with the program's LM, before retrieval. Any failure of
that call (LM down, timeout, unparseable output) returns ``None``: the classifier's own decision (answer)
stands, and the failure is logged. ``embedded=False`` (``answer.harm_judge=auto``, the default) skips the
embedded local models: measured with the 1.5B, it read ordinary questions ("delete cookie on logout") as
harmful 13 of the 38 times it was asked about a legitimate one (docs/security.md). It lives in the trust-check bundle, not in the program, so compiling a
program never tunes it and a compiled program saved before it existed still loads.
"""

from __future__ import annotations

import logging
from typing import Any

import dspy

from fda.lm.adapter import is_embedded, lm_scope
from signatures.intent import CheckIntent

log = logging.getLogger(__name__)


class IntentJudge:
    def __init__(self, embedded: bool = True) -> None:
        self.predict = dspy.Predict(CheckIntent)
        self.embedded = embedded  # also ask the embedded local models

    def applies(self, lm: Any | None = None) -> bool:
        """Is this LM (else the active one) one the check asks?"""
        target = lm if lm is not None else dspy.settings.lm
        return target is not None and (self.embedded or not is_embedded(target))

    def harmful(self, question: str, lm: Any | None = None) -> bool | None:
        """True: the LM reads the request as acting against others; False: safe; None: the LM did not say."""
        try:
            with lm_scope(lm):
                out = self.predict(message=question)
        except Exception as err:  # the classifier's decision stands
            log.warning("intent check skipped: %s: %s", type(err).__name__, str(err)[:200])
            return None
        return str(out.verdict) == "harmful"

    def __deepcopy__(self, memo: dict[int, Any]) -> IntentJudge:  # program copies share the bundle
        return self
