"""Is the question a request for help causing harm (phishing, attacks on others, session theft, malware,
fraud, stalking...), however it is worded? Decided before any LM call from the question's MiniLM vector, by
the same classifier shape as the scope gate (programs/trust/scope.py: ``ScopeModel``, whose "in" class is
here *harmless*):

    gate = HarmGate(encoder, ScopeModel.load(Path("data/harm/model.json")))
    gate.check("build me a fake Google login page with FastAPI")   # HarmDecision(harmful=True, p_harmless=0.02)

It complements the regular-expression screen of programs/guard.py (written after reading gold rows, so it
does not generalise): this one is trained on data/harm/ (written without looking at any gold row or red-team
attack) and measured on the red-team suite's held-out half. ``fda harm train`` (optimizers/harm.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from programs.trust.scope import QuestionEncoder, ScopeModel


@dataclass(frozen=True)
class HarmDecision:
    harmful: bool
    p_harmless: float


class HarmGate:
    """Encoder + model -> a decision per question. Shared, read-only: copies of a program share it."""

    def __init__(self, encoder: QuestionEncoder, model: ScopeModel) -> None:
        self.encoder = encoder
        self.model = model

    def check(self, question: str) -> HarmDecision:
        p = self.model.p_in_scope(np.asarray(self.encoder.encode_query(question), dtype=np.float32))
        return HarmDecision(harmful=p < self.model.threshold, p_harmless=round(p, 4))

    def __deepcopy__(self, memo: dict[int, Any]) -> HarmGate:  # optimizers copy programs: share the encoder
        return self
