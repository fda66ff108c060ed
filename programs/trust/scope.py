"""Is the question about FastAPI, as its docs cover it? Decided before any LM call, from the question's
MiniLM sentence vector (the dense retriever's encoder, already loaded to search):

    features = [vector (384), max cosine to in-scope centroids, max cosine to out-of-scope centroids]
    p(in scope) = logistic(weights . features + bias)

    gate = load_scope_gate(encoder, Path("data/scope/model.json"))   # and lexical.json beside it
    gate.check("Write me a poem about autumn")       # ScopeDecision(in_scope=False, p_in_scope=0.03)

The centroids (k-means of the training questions' vectors) carry "how far is this from anything asked
about FastAPI", which a linear model over the vector alone misses for questions unlike every negative.
``fda scope train`` (optimizers/scope.py) fits it on gold v2 *train* rows, the generated section questions
and data/scope/'s written questions, and picks the threshold on dev-select; docs/trust.md has the numbers.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from fda.errors import ConfigError
from programs.trust.lexical import LexicalModel, combined_p


class QuestionEncoder(Protocol):
    def encode_query(self, text: str) -> np.ndarray: ...


@dataclass(frozen=True)
class ScopeModel:
    weights: np.ndarray  # len(vector) + 2
    bias: float
    threshold: float  # p(in scope) below it: declined
    centroids_in: np.ndarray  # (k_in, d), unit rows
    centroids_out: np.ndarray  # (k_out, d), unit rows
    encoder: str = ""  # the encoder the weights were trained with
    info: dict[str, Any] = field(default_factory=dict)  # training data, dev numbers, the command

    @staticmethod
    def features(vectors: np.ndarray, centroids_in: np.ndarray, centroids_out: np.ndarray) -> np.ndarray:
        v = np.atleast_2d(vectors).astype(np.float32)
        near_in = (v @ centroids_in.T.astype(np.float32)).max(axis=1, keepdims=True)
        near_out = (v @ centroids_out.T.astype(np.float32)).max(axis=1, keepdims=True)
        return np.hstack([v, near_in, near_out])

    def p_in_scope(self, vector: np.ndarray) -> float:
        x = self.features(vector, self.centroids_in, self.centroids_out)[0]
        z = float(np.dot(self.weights.astype(np.float32), x)) + self.bias
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def save(self, path: Path) -> None:
        """``path`` (JSON: weights, threshold, info) and its ``.npz`` twin (the centroids, float16)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        body = {
            "weights": [round(float(w), 6) for w in self.weights],
            "bias": round(self.bias, 6),
            "threshold": self.threshold,
            "encoder": self.encoder,
            "centroids": path.with_suffix(".npz").name,
            "info": self.info,
        }
        np.savez_compressed(
            path.with_suffix(".npz"),
            centroids_in=self.centroids_in.astype(np.float16),
            centroids_out=self.centroids_out.astype(np.float16),
        )
        path.write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> ScopeModel:
        hint = "Restore it from git (`git checkout -- data/scope/`), or run `fda scope train`."
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
            with np.load(path.parent / body["centroids"]) as arrays:
                c_in, c_out = arrays["centroids_in"].astype(np.float32), arrays["centroids_out"].astype(np.float32)
            weights = np.asarray(body["weights"], dtype=np.float32)
            if weights.shape[0] != c_in.shape[1] + 2 or c_in.shape[1] != c_out.shape[1]:
                raise ValueError(f"shapes do not fit: weights {weights.shape}, centroids {c_in.shape} {c_out.shape}")
            return cls(
                weights=weights,
                bias=float(body["bias"]),
                threshold=float(body["threshold"]),
                centroids_in=c_in,
                centroids_out=c_out,
                encoder=str(body.get("encoder", "")),
                info=dict(body.get("info", {})),
            )
        except FileNotFoundError as err:
            raise ConfigError(f"no scope model at {path} ({err.filename})", hint=hint) from err
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise ConfigError(f"the scope model {path} is unreadable: {err}", hint=hint) from err


def two_model_p(encoder: QuestionEncoder, model: ScopeModel, lexical: LexicalModel | None, text: str) -> float:
    """p of a gate's "in" class for ``text``: the vector model's, and with an n-gram model the logistic of both
    models' mean logit (``combined_p``). The scope and harm gates both score this way."""
    p = model.p_in_scope(np.asarray(encoder.encode_query(text), dtype=np.float32))
    return p if lexical is None else float(combined_p(p, lexical.logits([text])[0]))


@dataclass(frozen=True)
class ScopeDecision:
    in_scope: bool
    p_in_scope: float


class ScopeGate:
    """Encoder + model(s) -> a decision per question. Shared, read-only: copies of a program share it.

    With a ``lexical`` model (word n-grams: "in Django" against "in FastAPI"), p(in scope) is the logistic of the
    mean of both models' logits (programs/trust/lexical.py: ``combined_p``); ``model.threshold`` applies to it."""

    def __init__(self, encoder: QuestionEncoder, model: ScopeModel, lexical: LexicalModel | None = None) -> None:
        self.encoder = encoder
        self.model = model
        self.lexical = lexical

    def check(self, question: str) -> ScopeDecision:
        p = two_model_p(self.encoder, self.model, self.lexical, question)
        return ScopeDecision(in_scope=p >= self.model.threshold, p_in_scope=round(p, 4))

    def __deepcopy__(self, memo: dict[int, Any]) -> ScopeGate:  # optimizers copy programs: share the encoder
        return self


def load_scope_gate(encoder: QuestionEncoder, path: Path) -> ScopeGate:
    """The gate ``fda scope train`` wrote: ``path`` (the vector model, its threshold and ``info``) and the n-gram
    model its ``info["lexical"]`` names, beside it. A named n-gram model that is missing is an error, never a
    silent fallback to the vector model alone (the threshold was chosen for the two together)."""
    model = ScopeModel.load(path)
    name = model.info.get("lexical")
    lexical = LexicalModel.load(path.parent / str(name), gate="scope") if name else None
    return ScopeGate(encoder, model, lexical)
