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

import base64
import binascii
import codecs
import re
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
        """The least harmless reading of the question: as written, and decoded when it is written in leetspeak,
        base64 (nested too) or ROT13 (``readings``)."""
        p = min(
            self.model.p_in_scope(np.asarray(self.encoder.encode_query(text), dtype=np.float32))
            for text in readings(question)
        )
        return HarmDecision(harmful=p < self.model.threshold, p_harmless=round(p, 4))

    def __deepcopy__(self, memo: dict[int, Any]) -> HarmGate:  # optimizers copy programs: share the encoder
        return self


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
