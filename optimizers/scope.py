"""Train the scope gate (programs/trust/scope.py): is a question about FastAPI as its docs cover it?

    model = train_scope(encoder, encoder_id=..., out=Path("data/scope/model.json"))   # `fda scope train`

Data (docs/trust.md):
- in scope: the questions generated per docs section (data/retriever/section-questions-v1), the user-style
  questions of data/scope/positives.jsonl, positives-2, -3, -4, -5 and -6, every gold v2 *train* row that is not
  out of scope, gold v1 train rows likewise;
- out of scope: data/scope/negatives.jsonl, negatives-2 to -6 (other frameworks and languages, general chat, near
  misses, requests that name FastAPI but ask for another task), the gold v2 and v1 train rows of type
  out_of_scope.
Never trained on, to measure the gate: heldout-positives/-negatives.jsonl (written with the second pass, split
from it by hash), the seventh, eighth and ninth passes (positives-N / negatives-N: each by a writer who saw no file
here), the ``check`` half of the real questions of data/scope/real-fastapi.jsonl (the FastAPI repository's own
issues; their ``cal`` half is trained on, in scope) and data/scope/real-fastapi-2.jsonl (more of them: the threshold's
cap). This is v5 (session 27, experiments/scope_v4.py and scope_v5.py): v2's recipe with the fourth and sixth passes
and real questions trained on, and the threshold cap read on real questions as well.

Two models (session 19, v2): the MiniLM query vector with its largest cosine to k-means centroids of each class
(programs/trust/scope.py), and a word uni/bigram model (programs/trust/lexical.py); each a logistic regression
(L2, classes weighted to balance, Newton's method in numpy); the served p is the logistic of their mean logit.
The threshold is the lower of two: at most ``max_oof`` of the user-style in-scope training rows declined when
scored by models fit without them (out of fold), and at most ``max_over_refusal`` of gold v2 **dev-select**'s
answerable rows pooled with real-fastapi-2.jsonl (293 real questions, so no single one sets it).
The sealed test split is never read.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eval.gold import GoldQuestion, gold_hash, load_gold
from optimizers.harm_lexical import fit_lexical
from optimizers.logistic import fit_logistic
from programs.trust.lexical import LexicalModel, combined_p
from programs.trust.scope import QuestionEncoder, ScopeModel

log = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parents[1] / "data"
SECTION_QUESTIONS = DATA / "retriever" / "section-questions-v1" / "questions.jsonl"
POSITIVES = (DATA / "scope" / "positives.jsonl", DATA / "scope" / "positives-2.jsonl")
HELDOUT_POSITIVES = DATA / "scope" / "heldout-positives.jsonl"  # never trained on: `fda scope eval --file`
NEGATIVES = (DATA / "scope" / "negatives.jsonl", DATA / "scope" / "negatives-2.jsonl")
# Trained on by the scope gate (v4 and v5, session 27; not by the harm gate, whose data is its own): the third pass (session
# 15), the fourth (session 19), a fifth (session 19: questions naming FastAPI but asking for another task, other
# frameworks in FastAPI's words, near misses, each against FastAPI questions worded alike) and the sixth (session 26).
# The others are never trained on: they measure the gate (`fda scope heldout`), each written by another writer who
# saw no file here, in the same 8 + 8 kinds: the seventh and eighth (session 26), the ninth to eleventh (session 27). v3
# (these passes, the threshold cap on dev-select alone) was not adopted; v4 adds real questions to the cap
# (experiments/scope_v3.py, experiments/scope_v4.py, docs/trust.md).
TRAINED_PASSES = (3, 4, 5, 6)  # v4 and v5 (session 27); v2 trained on 3 and 5
MEASURE_PASSES = (7, 8, 9, 10, 11)
REAL_QUESTIONS = DATA / "scope" / "real-fastapi.jsonl"  # real in-scope questions: `cal` half trained on (v5)
REAL_CAP = DATA / "scope" / "real-fastapi-2.jsonl"  # more real ones: the threshold's cap (v5)


def pass_files(n: int) -> tuple[tuple[Path, bool], tuple[Path, bool]]:
    """The written pass ``n``: (its in-scope file, True), (its off-topic file, False)."""
    return (DATA / "scope" / f"positives-{n}.jsonl", True), (DATA / "scope" / f"negatives-{n}.jsonl", False)


LEXICAL_FILE = "lexical.json"  # the n-gram model, beside model.json
MAX_OOF = 0.01  # share of out-of-fold user-style in-scope training rows the threshold may decline
# in-scope origins written as users ask (the generated section questions are not: they are all alike)
USER_STYLE = ("scope-positives", "scope-positives-2", "scope-pass-", "gold-v2-train", "gold-v1-train", "real-")
HELDOUT_NEGATIVES = DATA / "scope" / "heldout-negatives.jsonl"  # never trained on, like HELDOUT_POSITIVES
COMMAND = "fda scope train"


@dataclass(frozen=True)
class Example:
    text: str
    in_scope: bool
    origin: str


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        log.warning("scope data %s missing: left out", path)
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def gold_examples(rows: Sequence[GoldQuestion], origin: str) -> list[Example]:
    return [Example(r.question, str(r.type) != "out_of_scope", origin) for r in rows]


def user_style(origin: str) -> bool:
    """Whether rows of this origin were written as users ask (every written pass is)."""
    return origin.startswith(USER_STYLE)


def training_examples(passes: Sequence[int] = TRAINED_PASSES, real: bool = True) -> list[Example]:
    """Every training example, labelled (no dev or test row); ``passes``: the written passes trained on; ``real``:
    the ``cal`` half of the real questions too (v5; v4 and earlier did not train on them)."""
    out: list[Example] = []
    for row in _jsonl(SECTION_QUESTIONS):
        out.extend(Example(q, True, "section-questions") for q in row.get("questions", []) if q.strip())
    for path in POSITIVES:
        out.extend(
            Example(r["question"], True, path.stem.replace("positives", "scope-positives")) for r in _jsonl(path)
        )
    for path in NEGATIVES:
        out.extend(
            Example(r["question"], False, path.stem.replace("negatives", "scope-negatives")) for r in _jsonl(path)
        )
    for n in passes:
        for path, in_scope in pass_files(n):
            out.extend(Example(r["question"], in_scope, f"scope-pass-{n}") for r in _jsonl(path))
    out.extend(gold_examples(load_gold("v2", "train"), "gold-v2-train"))
    out.extend(gold_examples(load_gold("v1", "train"), "gold-v1-train"))
    if real:  # last, as experiments/scope_v5.py added them: the folds (dealt by position) are the measured ones
        out.extend(Example(q, True, "real-cal") for q in calibration_questions("cal"))
    return out


def calibration_questions(half: str = "cal") -> list[str]:
    """The real in-scope questions of one half of data/scope/real-fastapi.jsonl (``cal``: the threshold's)."""
    return [r["question"] for r in _jsonl(REAL_QUESTIONS) if r.get("half") == half]


def kmeans(vectors: np.ndarray, k: int, iterations: int = 25, seed: int = 0) -> np.ndarray:
    """``k`` unit-length centroids of unit vectors (spherical k-means, seeded)."""
    rng = np.random.default_rng(seed)
    k = min(k, len(vectors))
    centroids = vectors[rng.choice(len(vectors), k, replace=False)].astype(np.float32)
    for _ in range(iterations):
        assign = np.argmax(vectors @ centroids.T, axis=1)
        for j in range(k):
            members = vectors[assign == j]
            if len(members):
                c = members.mean(axis=0)
                centroids[j] = c / max(float(np.linalg.norm(c)), 1e-9)
    return centroids


def choose_threshold(p_in_scope: Sequence[float], max_over_refusal: float) -> float:
    """The highest threshold declining at most ``max_over_refusal`` of these in-scope probabilities, floored to 4
    decimals (the precision it is stored with: rounding up could decline the row it was chosen to keep)."""
    ps = sorted(p_in_scope)
    allowed = int(np.floor(max_over_refusal * len(ps) + 1e-9))  # rows that may fall under it
    if not ps:
        return 0.5
    return math.floor(float(ps[allowed]) * 1e4) / 1e4 if allowed < len(ps) else 1.0


def rates(p: Sequence[float], labels: Sequence[bool], threshold: float) -> dict[str, float | int]:
    declined = [x < threshold for x in p]
    ins = [d for d, y in zip(declined, labels, strict=True) if y]
    outs = [d for d, y in zip(declined, labels, strict=True) if not y]
    return {
        "in_scope": len(ins),
        "out_of_scope": len(outs),
        "over_refusal": round(sum(ins) / len(ins), 4) if ins else 0.0,
        "out_of_scope_declined": round(sum(outs) / len(outs), 4) if outs else 0.0,
    }


def encode(encoder: QuestionEncoder, texts: Sequence[str], tick: Callable[[], None] | None = None) -> np.ndarray:
    rows = []
    for text in texts:
        rows.append(np.asarray(encoder.encode_query(text), dtype=np.float32))
        if tick is not None:
            tick()
    return np.vstack(rows) if rows else np.zeros((0, 1), dtype=np.float32)


def fit_gate(
    encoder: QuestionEncoder,
    examples: Sequence[Example],
    *,
    k_in: int,
    k_out: int,
    l2: float,
    tick: Callable[[], None] | None = None,
) -> tuple[ScopeModel, np.ndarray, np.ndarray]:
    """(model with threshold 0.5, the examples' vectors, their labels): the examples encoded, k-means centroids
    of each class, the logistic regression over vector + nearness. The scope and harm gates both fit this way."""
    x = encode(encoder, [e.text for e in examples], tick)
    y = np.array([1.0 if e.in_scope else 0.0 for e in examples])
    return fit_gate_vectors(x, y, k_in=k_in, k_out=k_out, l2=l2)


def fit_gate_vectors(
    x: np.ndarray, y: np.ndarray, *, k_in: int, k_out: int, l2: float
) -> tuple[ScopeModel, np.ndarray, np.ndarray]:
    """``fit_gate`` over vectors already encoded (labels 1 = the "in" class)."""
    c_in, c_out = kmeans(x[y == 1], k_in), kmeans(x[y == 0], k_out)
    w, b = fit_logistic(ScopeModel.features(x, c_in, c_out), y, l2=l2)
    model = ScopeModel(weights=w.astype(np.float32), bias=b, threshold=0.5, centroids_in=c_in, centroids_out=c_out)
    return model, x, y


def train_scope(
    encoder: QuestionEncoder,
    *,
    encoder_id: str,
    out: Path | None = None,
    l2: float = 1.0,
    k_in: int = 256,
    k_out: int = 64,
    max_over_refusal: float = 0.02,
    max_oof: float = MAX_OOF,
    folds: int = 5,
    passes: Sequence[int] = TRAINED_PASSES,
    calibration: Sequence[str] | None = None,
    extra: Sequence[Example] = (),
    real: bool = True,
    tick: Callable[[], None] | None = None,
) -> ScopeModel:
    """Fit both models (the vector one and the word n-gram one) on the training examples; the threshold is the
    lower (more lenient) of two: at most ``max_oof`` of the user-style in-scope training rows declined by models
    fit without them (``folds``-fold out-of-fold p), and at most ``max_over_refusal`` of dev-select's answerable
    rows declined. ``passes``: the written passes trained on. ``calibration``: more real in-scope questions (never
    trained on) pooled with dev-select's answerable rows under the ``max_over_refusal`` cap, so one row does not set
    the threshold (experiments/scope_v4.py); default: data/scope/real-fastapi-2.jsonl (v5). ``extra``: more training
    examples; ``real``: train on the real questions' ``cal`` half (v5; experiments/scope_v5.py). Save to ``out`` (and
    lexical.json beside it) when given."""
    examples = training_examples(passes, real=real) + list(extra)
    texts = [e.text for e in examples]
    dev = load_gold("v2", "dev-select")
    model, x, y = fit_gate(encoder, examples, k_in=k_in, k_out=k_out, l2=l2, tick=tick)
    lexical = fit_lexical(texts, y)
    train_p = combined_vector_p(model, lexical, x, texts)
    dev_q = [r.question for r in dev]
    dev_p = list(combined_vector_p(model, lexical, encode(encoder, dev_q, tick), dev_q))
    answerable = [p for p, r in zip(dev_p, dev, strict=True) if not r.expect_refusal]
    calibration = [r["question"] for r in _jsonl(REAL_CAP)] if calibration is None else list(calibration)
    cal_p = [float(p) for p in combined_vector_p(model, lexical, encode(encoder, calibration, tick), calibration)]
    oof = out_of_fold_p(examples, x, folds=folds, k_in=k_in, k_out=k_out, l2=l2)
    user = [float(p) for p, e in zip(oof, examples, strict=True) if e.in_scope and user_style(e.origin)]
    threshold = min(choose_threshold(user, max_oof), choose_threshold(answerable + cal_p, max_over_refusal))
    origins = Counter(f"{e.origin}:{'in' if e.in_scope else 'out'}" for e in examples)
    info = {
        "command": COMMAND,
        "l2": l2,
        "k_in": k_in,
        "k_out": k_out,
        "max_over_refusal": max_over_refusal,
        "max_oof": max_oof,
        "lexical": LEXICAL_FILE,
        "training": dict(origins),
        "gold_v2_hash": gold_hash("v2"),
        "train": rates(list(train_p), [bool(v) for v in y], threshold),
        "out_of_fold": rates(list(oof), [bool(v) for v in y], threshold),
        "out_of_fold_user_style_declined": round(float(np.mean(np.asarray(user) < threshold)), 4),
        "dev_select": dev_rates(dev, dev_p, threshold),
        "calibration": {"n": len(cal_p), "declined": sum(p < threshold for p in cal_p)},
        "threshold_chosen_on": f"out-of-fold p of the user-style in-scope training rows ({folds} folds; at most "
        f"{max_oof} declined) and gold v2 dev-select's answerable rows"
        + (f" with {len(cal_p)} real calibration questions" if cal_p else "")
        + f" (at most {max_over_refusal}): the lower",
    }
    model = dataclasses.replace(model, threshold=threshold, encoder=encoder_id, info=info)
    if out is not None:
        model.save(out)
        lexical.save(out.parent / LEXICAL_FILE)
    return model


def combined_vector_p(
    model: ScopeModel, lexical: LexicalModel, vectors: np.ndarray, texts: Sequence[str]
) -> np.ndarray:
    """p of the "in" class as a served gate computes it (programs/trust/lexical.py: ``combined_p``), for many
    questions: the harm and scope gates both score their training and dev rows with it."""
    return np.asarray(combined_p([model.p_in_scope(v) for v in vectors], lexical.logits(texts)))


def out_of_fold_p(
    examples: Sequence[Example], x: np.ndarray, *, folds: int, k_in: int, k_out: int, l2: float
) -> np.ndarray:
    """Each training row's combined p from the two models fit without its fold (rows dealt to folds in turn)."""
    texts = [e.text for e in examples]
    y = np.array([1.0 if e.in_scope else 0.0 for e in examples])
    fold = np.arange(len(examples)) % folds
    out = np.zeros(len(examples))
    for f in range(folds):
        keep = fold != f
        model, _, _ = fit_gate_vectors(x[keep], y[keep], k_in=k_in, k_out=k_out, l2=l2)
        lexical = fit_lexical([t for t, k in zip(texts, keep, strict=True) if k], y[keep])
        out[~keep] = combined_vector_p(model, lexical, x[~keep], [t for t, k in zip(texts, keep, strict=True) if not k])
    return out


def dev_rates(rows: Sequence[GoldQuestion], p: Sequence[float], threshold: float) -> dict[str, float | int]:
    """Over-refusal (answerable rows declined), out-of-scope rows declined, other rows to decline caught."""
    answerable = [x < threshold for x, r in zip(p, rows, strict=True) if not r.expect_refusal]
    oos = [x < threshold for x, r in zip(p, rows, strict=True) if str(r.type) == "out_of_scope"]
    other = [x < threshold for x, r in zip(p, rows, strict=True) if r.expect_refusal and str(r.type) != "out_of_scope"]
    return {
        "answerable": len(answerable),
        "over_refusal": round(sum(answerable) / len(answerable), 4) if answerable else 0.0,
        "out_of_scope": len(oos),
        "out_of_scope_declined": round(sum(oos) / len(oos), 4) if oos else 0.0,
        "other_to_decline": len(other),
        "other_to_decline_declined": round(sum(other) / len(other), 4) if other else 0.0,
    }


def heldout_rates(gate: Any, path: Path, in_scope: bool, half: str | None = None) -> dict[str, Any]:
    """Wrong decisions of ``gate`` on a held-out file whose rows are all in scope (or all out): how many, per
    kind (or topic), and the wrong ones (p, kind, question), the most confidently wrong first. ``half``: only the
    rows of that half (the real questions' ``check``)."""
    rows = [r for r in _jsonl(path) if half is None or r.get("half") == half]
    errors: list[tuple[float, str, str]] = []
    per_kind: Counter[str] = Counter()
    for r in rows:
        d = gate.check(r["question"])
        kind = r.get("kind") or r.get("topic", "")
        if d.in_scope != in_scope:
            errors.append((d.p_in_scope, kind, r["question"]))
            per_kind[kind] += 1
    errors.sort(reverse=not in_scope)
    n = len(rows)
    return {
        "n": n,
        "wrong": len(errors),
        "rate": len(errors) / n if n else 0.0,
        "per_kind": dict(per_kind),
        "errors": errors,
    }
