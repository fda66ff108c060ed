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
import itertools
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fda.errors import ConfigError
from programs.trust.scope import QuestionEncoder, ScopeModel

_WORD = re.compile(r"[a-z0-9_']+")
# Words that say how a request is phrased, not what it asks for: the harmful training rows are mostly commands
# to the assistant ("write me ...", "give me ..."), the harmless ones "how do I" questions, so without this list
# the model learned "you", "me", "so" as signs of harm and refused "Can you show me how to add CORS?" (a review
# of session 18). Their bigrams are dropped too; "their account" against "my account" keeps its pronouns.
PHRASING = frozenset(  # a word list reads best as words
    "a an the and or but so that this it its is are was be to of in on for with as at by from i me my "  # noqa: SIM905
    "you your we us can could would will please show give write tell make need want help how what do "
    "does did just also then".split()
)


def ngrams(text: str) -> list[str]:
    """Lower-cased word unigrams and bigrams (the lexical model's features), without phrasing-only words
    (``PHRASING``) and the bigrams made only of them."""
    words = _WORD.findall(text.lower())
    grams = [w for w in words if w not in PHRASING]
    return grams + [f"{a} {b}" for a, b in itertools.pairwise(words) if not (a in PHRASING and b in PHRASING)]


@dataclass(frozen=True)
class LexicalModel:
    """Logistic regression over binary word uni/bigram features scaled to unit length: ``logits(texts)`` > 0
    reads harmless. What a sentence vector blurs ("their bank" against "my bank", "without them knowing") a bag
    of n-grams keeps. Fit by optimizers/harm_lexical.py, stored beside the vector model (``lexical.json``)."""

    vocab: dict[str, int]
    weights: np.ndarray
    bias: float

    def features(self, texts: Sequence[str]) -> np.ndarray:
        x = np.zeros((len(texts), len(self.vocab)), dtype=np.float32)
        for i, text in enumerate(texts):
            idx = sorted({self.vocab[g] for g in ngrams(text) if g in self.vocab})
            if idx:
                x[i, idx] = 1.0 / math.sqrt(len(idx))
        return x

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        return self.features(texts) @ self.weights.astype(np.float32) + self.bias

    def save(self, path: Path) -> None:
        terms = sorted(self.vocab, key=self.vocab.__getitem__)
        body = {"terms": terms, "weights": [round(float(w), 5) for w in self.weights], "bias": round(self.bias, 6)}
        path.write_text(json.dumps(body) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LexicalModel:
        hint = "Restore it from git (`git checkout -- data/harm/`), or run `fda harm train`."
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
            terms, weights = list(body["terms"]), np.asarray(body["weights"], dtype=np.float32)
            if len(terms) != weights.shape[0]:
                raise ValueError(f"{len(terms)} terms but {weights.shape[0]} weights")
            return cls(vocab={t: i for i, t in enumerate(terms)}, weights=weights, bias=float(body["bias"]))
        except FileNotFoundError as err:
            raise ConfigError(f"no lexical harm model at {path}", hint=hint) from err
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise ConfigError(f"the lexical harm model {path} is unreadable: {err}", hint=hint) from err


def logit(p: Any) -> Any:
    """log(p / (1 - p)), p clipped to [1e-6, 1 - 1e-6]; numbers or arrays."""
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.log(q / (1 - q))


def combined_p(p_vector: Any, lexical_logit: Any) -> Any:
    """p(harmless) from both models: the logistic of the mean of the vector model's logit and the n-gram model's.
    Serving (``HarmGate``) and training (optimizers/harm.py) both use this one function."""
    z = (logit(p_vector) + np.asarray(lexical_logit, dtype=np.float64)) / 2
    return 1 / (1 + np.exp(-np.clip(z, -50, 50)))


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
        p = self.model.p_in_scope(np.asarray(self.encoder.encode_query(text), dtype=np.float32))
        if self.lexical is None:
            return p
        return float(combined_p(p, self.lexical.logits([text])[0]))

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
