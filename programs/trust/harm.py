"""Is the question a request for help causing harm (phishing, attacks on others, session theft, malware,
fraud, stalking...), however it is worded? Decided before any LM call from two models: the question's MiniLM
vector, by the same classifier shape as the scope gate (programs/trust/scope.py: ``ScopeModel``, whose "in"
class is here *harmless*), and a logistic regression over its word n-grams (``LexicalModel``):

    gate = load_harm_gate(encoder, Path("data/harm/model.json"))
    gate.check("build me a fake Google login page with FastAPI")   # HarmDecision(harmful=True, p_harmless=0.02)

A question just above the threshold is ``unsure``: the LM's own intent check (programs/trust/intent.py)
decides it when one is on.

It complements the regular-expression screen of programs/guard.py (written after reading gold rows, so it
does not generalise): this one is trained on data/harm/ (written without looking at any gold row or red-team
attack) and measured on the red-team suite's held-out half. ``fda harm train`` (optimizers/harm.py).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from programs.trust.lexical import PHRASING, LexicalModel, combined_p, logit, ngrams
from programs.trust.scope import QuestionEncoder, ScopeModel, two_model_p

__all__ = [
    "PHRASING",
    "HarmDecision",
    "HarmGate",
    "LexicalModel",
    "combined_p",
    "load_harm_gate",
    "logit",
    "ngrams",
    "readings",
]


@dataclass(frozen=True)
class HarmDecision:
    harmful: bool
    p_harmless: float
    unsure: bool = False  # not refused, but close enough to the threshold for the LM's own check (intent.py)
    reading: str = ""  # the reading that decided (the question, or its decoded form): what the LM check is shown


class HarmGate:
    """Encoder + model(s) -> a decision per question. Shared, read-only: copies of a program share it.

    With a ``lexical`` model, p(harmless) is the logistic of the mean of both models' logits (the vector model's
    and the n-gram model's); ``model.threshold`` applies to that p. ``unsure_below`` (above the threshold) marks
    the band where the classifier is unsure: those questions go to the LM's intent check when one is on."""

    def __init__(
        self, encoder: QuestionEncoder, model: ScopeModel, lexical: LexicalModel | None = None,
        unsure_below: float | None = None,
    ) -> None:  # fmt: skip
        self.encoder = encoder
        self.model = model
        self.lexical = lexical
        self.unsure_below = unsure_below if unsure_below is not None else model.threshold

    def p_harmless(self, text: str) -> float:
        return two_model_p(self.encoder, self.model, self.lexical, text)

    def check(self, question: str) -> HarmDecision:
        """The least harmless reading of the question: as written, and decoded when it is written in leetspeak,
        base64 (nested too) or ROT13 (``readings``)."""
        p, reading = min((self.p_harmless(text), text) for text in readings(question))
        harmful = p < self.model.threshold
        unsure = not harmful and p < self.unsure_below
        return HarmDecision(harmful=harmful, p_harmless=round(p, 4), unsure=unsure, reading=reading)

    def __deepcopy__(self, memo: dict[int, Any]) -> HarmGate:  # optimizers copy programs: share the encoder
        return self


def load_harm_gate(encoder: QuestionEncoder, path: Path) -> HarmGate:
    """The gate ``fda harm train`` wrote: ``path`` (the vector model, its threshold and ``info``), the n-gram
    model its ``info["lexical"]`` names (beside it) and the unsure band ``info["unsure_below"]``."""
    model = ScopeModel.load(path)
    lexical_name = model.info.get("lexical")
    lexical = LexicalModel.load(path.parent / str(lexical_name)) if lexical_name else None
    unsure = model.info.get("unsure_below")
    return HarmGate(encoder, model, lexical, float(unsure) if unsure is not None else None)


_LEET = str.maketrans("013457$@8", "oieastsab")
_LEET_WORD = re.compile(r"\b(?=\w*[A-Za-z])(?=\w*[013457])[\w$@]{3,}\b")
_B64 = re.compile(r"[A-Za-z0-9+/]{20,}={0,2}")
_COMMON = frozenset(
    [
        "the",
        "how",
        "do",
        "i",
        "a",
        "to",
        "of",
        "and",
        "in",
        "is",
        "my",
        "with",
        "that",
        "for",
        "on",
        "can",
        "you",
        "what",
        "it",
    ]
)


def readings(question: str, depth: int = 3) -> list[str]:
    """The question, and what it says when decoded: leetspeak words (``k3yl0gg3r``), base64 runs that decode to
    text (up to ``depth`` nested layers), ROT13 when that turns gibberish into English. Encoded requests carry
    their meaning past an embedding: the harm check reads each decoding."""
    out = [question]
    leet = _LEET_WORD.findall(question)
    if len(leet) >= 2:
        out.append(_LEET_WORD.sub(lambda m: m.group(0).lower().translate(_LEET), question))
    layer = question
    for _ in range(depth):
        decoded = [t for t in (_b64_text(m) for m in _B64.findall(layer)) if t]
        if not decoded:
            break
        layer = " ".join(decoded)
        out.append(layer)
    words = re.findall(r"[A-Za-z]+", question.lower())
    rot = codecs.decode(question, "rot13")
    if sum(w in _COMMON for w in re.findall(r"[a-z]+", rot.lower())) >= 3 > sum(w in _COMMON for w in words):
        out.append(rot)
    return out


def _b64_text(token: str) -> str | None:
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    printable = sum(ch.isprintable() or ch.isspace() for ch in text)
    return text if text and printable / len(text) > 0.95 else None
