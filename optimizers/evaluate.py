"""Score a program on gold rows with the eval runner (eval/runner.py) and the compile metric's parts.

    res = evaluate(program, dev_rows, run_dir / "dev-baseline.jsonl", label="dev: uncompiled")
    res.score, res.scores["q-id"], res.means["citations"], res.usage["lm_calls"]

The per-question rows stream to ``path`` (the runner's results.jsonl format), so every candidate's answers
can be read back and logged. A question whose program raised scores 0.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.contract import Program
from eval.gold import GoldQuestion
from eval.results import QuestionResult, ResultWriter
from eval.runner import run_questions
from optimizers.metric import WEIGHTS, Parts, parts_of

PART_NAMES = ("citations", "must_mention", "refusal", "injected")
USAGE_KEYS = ("prompt_tokens", "completion_tokens", "lm_calls")


@dataclass
class Evaluation:
    label: str
    scores: dict[str, float]  # question id -> combined score
    means: dict[str, float | None]  # combined score and each part (mean over questions where it applies)
    usage: dict[str, int]
    seconds: float
    n_errors: int
    results: list[QuestionResult] = field(default_factory=list)

    @property
    def score(self) -> float:
        return float(self.means["score"] or 0.0)

    def metrics(self, prefix: str) -> dict[str, float]:
        """Flat MLflow metrics: ``<prefix>.score``, ``<prefix>.citations``, ..., costs."""
        out = {f"{prefix}.{k}": float(v) for k, v in self.means.items() if v is not None}
        out.update({f"{prefix}.{k}": float(v) for k, v in self.usage.items()})
        out[f"{prefix}.seconds"] = self.seconds
        out[f"{prefix}.n_errors"] = float(self.n_errors)
        return out


def question_parts(gold: GoldQuestion, result: QuestionResult, weights: Mapping[str, float] = WEIGHTS) -> Parts:
    if result.error is not None:
        return Parts(None, None, 0.0, None, 0, False, 0.0)
    return parts_of(gold, result.output, weights)


def summarize(
    label: str,
    rows: Sequence[GoldQuestion],
    results: Sequence[QuestionResult],
    seconds: float,
    weights: Mapping[str, float] = WEIGHTS,
) -> Evaluation:
    parts = {g.id: question_parts(g, r, weights) for g, r in zip(rows, results, strict=True)}
    means: dict[str, float | None] = {"score": _mean([p.score for p in parts.values()])}
    for name in PART_NAMES:
        means[name] = _mean([getattr(p, name) for p in parts.values()])
    means["invalid_citations"] = _mean([float(p.invalid_citations) for p in parts.values()])
    means["fallback"] = _mean([1.0 if p.fallback else 0.0 for p in parts.values()])
    usage = dict.fromkeys(USAGE_KEYS, 0)
    for r in results:
        for key in USAGE_KEYS:
            usage[key] += int((r.output.usage or {}).get(key) or 0)
    return Evaluation(
        label=label,
        scores={qid: p.score for qid, p in parts.items()},
        means=means,
        usage=usage,
        seconds=round(seconds, 2),
        n_errors=sum(1 for r in results if r.error),
        results=list(results),
    )


def evaluate(
    program: Program,
    rows: Sequence[GoldQuestion],
    path: Path,
    *,
    label: str,
    workers: int = 1,
    progress: bool = False,
    weights: Mapping[str, float] = WEIGHTS,
) -> Evaluation:
    start = time.perf_counter()
    results = run_questions(program, rows, ResultWriter(path), workers=workers, progress=progress, label=label)
    return summarize(label, rows, results, time.perf_counter() - start, weights)


def _mean(values: Sequence[Any]) -> float | None:
    xs = [float(v) for v in values if v is not None]
    return sum(xs) / len(xs) if xs else None
