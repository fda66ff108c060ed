"""A word uni/bigram logistic regression beside a gate's sentence-vector model, and how the two are combined.
The harm gate (programs/trust/harm.py) and the scope gate (programs/trust/scope.py) both use it:

    lexical = LexicalModel.load(Path("data/scope/lexical.json"), gate="scope")
    p = combined_p(vector_model.p_in_scope(v), lexical.logits([question])[0])   # mean of the two logits

numpy only at serve time; fit by optimizers/harm_lexical.py.
"""

from __future__ import annotations

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
    reads as the "in" class (harmless for the harm gate, in scope for the scope gate). What a sentence vector
    blurs ("their bank" against "my bank", "without them knowing", "in Django" against "in FastAPI") a bag of
    n-grams keeps. Fit by optimizers/harm_lexical.py, stored beside the vector model (``lexical.json``)."""

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
    def load(cls, path: Path, gate: str = "harm") -> LexicalModel:
        """``gate`` names the gate in errors (harm | scope): its folder and the command that writes it."""
        hint = f"Restore it from git (`git checkout -- data/{gate}/`), or run `fda {gate} train`."
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
            terms, weights = list(body["terms"]), np.asarray(body["weights"], dtype=np.float32)
            if len(terms) != weights.shape[0]:
                raise ValueError(f"{len(terms)} terms but {weights.shape[0]} weights")
            return cls(vocab={t: i for i, t in enumerate(terms)}, weights=weights, bias=float(body["bias"]))
        except FileNotFoundError as err:
            raise ConfigError(f"no lexical {gate} model at {path}", hint=hint) from err
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise ConfigError(f"the lexical {gate} model {path} is unreadable: {err}", hint=hint) from err


def logit(p: Any) -> Any:
    """log(p / (1 - p)), p clipped to [1e-6, 1 - 1e-6]; numbers or arrays."""
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.log(q / (1 - q))


def combined_p(p_vector: Any, lexical_logit: Any) -> Any:
    """p("in" class: harmless, in scope) from both models: the logistic of the mean of the vector model's logit
    and the n-gram model's. Serving (``HarmGate``, ``ScopeGate``) and training (optimizers/harm.py, scope.py) all
    use this one function."""
    z = (logit(p_vector) + np.asarray(lexical_logit, dtype=np.float64)) / 2
    return 1 / (1 + np.exp(-np.clip(z, -50, 50)))
