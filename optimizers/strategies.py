"""The three optimizers, each ``(student, data, settings) -> compiled program`` with fixed seeds.

- bootstrap: random search over BootstrapFewShot candidates (shuffled train order, demo count drawn per
  candidate, as DSPy's BootstrapFewShotWithRandomSearch does), each scored on dev by the eval runner;
  the best dev score wins. Demos are capped per predictor (``demo_caps``): an answerer demo carries its
  whole sources, and a 4k-context local model fits one.
- mipro: MIPROv2 (``auto="light"``): instructions proposed by the prompt LM (the teacher, else the student)
  from the train data, plus bootstrapped demo sets, searched with Optuna on dev.
- gepa: GEPA: reflective instruction evolution on train with Pareto selection on dev; the reflection LM is
  the teacher (else the student); feedback comes from the metric's parts in words.

Programs carry their LM (built by the caller), so the teacher is a program built with the teacher LM.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import dspy

from fda.errors import CompileError
from optimizers.evaluate import Evaluation
from optimizers.metric import CompileMetric, FeedbackMetric

log = logging.getLogger(__name__)

OPTIMIZERS = ("bootstrap", "mipro", "gepa")
GEPA_MINIBATCH = 2  # examples per reflection: each shows whole sources, and small local models have 4k tokens

EvaluateFn = Callable[[dspy.Module, str], Evaluation]
ChildRun = Callable[[str], AbstractContextManager[Any]]


@dataclass(frozen=True)
class StrategyConfig:
    seed: int = 0
    max_demos: int = 3
    demo_caps: Mapping[str, int] = field(default_factory=lambda: {"answerer": 1})
    candidates: int = 4
    mipro_auto: Literal["light", "medium", "heavy"] = "light"
    mipro_minibatch_size: int = 10
    gepa_max_metric_calls: int = 60
    workers: int = 1


@dataclass
class StrategyResult:
    program: dspy.Module
    evaluation: Evaluation | None = None  # dev evaluation of ``program`` when the strategy already ran it
    candidates: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)


def _ignore(metrics: Mapping[str, float]) -> None:
    return None


@contextmanager
def no_child(name: str) -> Iterator[Callable[[Mapping[str, float]], None]]:
    """A ``ChildRun`` that tracks nothing (tests, or no MLflow)."""
    yield _ignore


def cap_demos(program: dspy.Module, caps: Mapping[str, int]) -> dict[str, int]:
    """Trim each predictor's demos to its cap (by full name, or its last dotted part); returns the counts."""
    counts: dict[str, int] = {}
    for name, predictor in program.named_predictors():
        cap = caps.get(name, caps.get(name.rsplit(".", 1)[-1]))
        if cap is not None:
            predictor.demos = list(predictor.demos)[:cap]
        counts[name] = len(predictor.demos)
    return counts


def run_bootstrap(
    student: dspy.Module,
    teacher: dspy.Module | None,
    trainset: Sequence[dspy.Example],
    *,
    metric: CompileMetric,
    cfg: StrategyConfig,
    evaluate_fn: EvaluateFn,
    child_run: ChildRun = no_child,
) -> StrategyResult:
    if cfg.max_demos < 1:
        raise CompileError("bootstrap needs max_demos >= 1", hint="Set FDA_COMPILE__MAX_DEMOS.")
    best: tuple[float, int, dspy.Module, Evaluation] | None = None
    tried: list[dict[str, Any]] = []
    for i in range(cfg.candidates):
        rng = random.Random(cfg.seed + i)
        order = list(trainset)
        size = cfg.max_demos
        if i > 0:  # candidate 0: train order and the full demo budget; then shuffled order, random size
            rng.shuffle(order)
            size = rng.randint(1, cfg.max_demos)
        with child_run(f"bootstrap-{i}") as log_child:
            from dspy.teleprompt import BootstrapFewShot

            optimizer = BootstrapFewShot(metric=metric, max_bootstrapped_demos=size, max_labeled_demos=0, max_rounds=1)
            compiled = optimizer.compile(student, teacher=teacher, trainset=order)
            demos = cap_demos(compiled, cfg.demo_caps)
            record: dict[str, Any] = {"candidate": i, "seed": cfg.seed + i, "max_demos": size, "demos": demos}
            if not any(demos.values()):
                record["skipped"] = "no trace passed the threshold"
                log.info("bootstrap candidate %d: no demo passed the threshold; skipped", i)
                tried.append(record)
                continue
            evaluation = evaluate_fn(compiled, f"dev: bootstrap {i + 1}/{cfg.candidates}")
            record["dev_score"] = evaluation.score
            log_child({"dev.score": evaluation.score, "demos": float(sum(demos.values()))})
            tried.append(record)
            log.info("bootstrap candidate %d: %s demos, dev score %.3f", i, demos, evaluation.score)
            if best is None or evaluation.score > best[0]:  # ties keep the earlier candidate
                best = (evaluation.score, i, compiled, evaluation)
    if best is None:
        raise CompileError(
            f"no bootstrapped trace reached the threshold {metric.threshold} on {len(trainset)} train questions",
            hint="Lower FDA_COMPILE__THRESHOLD, train on more questions, or bootstrap with a stronger --teacher-lm.",
        )
    return StrategyResult(best[2], best[3], tried, {"best_candidate": best[1]})


def run_mipro(
    student: dspy.Module,
    teacher: dspy.Module | None,
    trainset: Sequence[dspy.Example],
    devset: Sequence[dspy.Example],
    *,
    metric: CompileMetric,
    cfg: StrategyConfig,
    task_lm: Any,
    prompt_lm: Any,
    child_run: ChildRun = no_child,
) -> StrategyResult:
    from dspy.teleprompt import MIPROv2

    demos = min([cfg.max_demos, *cfg.demo_caps.values()])  # one budget for every predictor: the smallest cap
    optimizer = MIPROv2(
        metric=metric, prompt_model=prompt_lm, task_model=task_lm, auto=cfg.mipro_auto,
        max_bootstrapped_demos=demos, max_labeled_demos=0, num_threads=cfg.workers, seed=cfg.seed,
        verbose=False, track_stats=True,
    )  # fmt: skip
    with child_run("mipro"):
        compiled = optimizer.compile(
            student,
            trainset=list(trainset),
            valset=list(devset),
            teacher=teacher,
            minibatch_size=min(cfg.mipro_minibatch_size, len(devset)),
            # the program's source is long: describing it overflows a small local model's context
            program_aware_proposer=False,
        )
    trials = [
        {"trial": int(k), "full_eval_score": v.get("full_eval_score"), "minibatch_score": v.get("mb_score")}
        for k, v in sorted((getattr(compiled, "trial_logs", None) or {}).items())
    ]
    return StrategyResult(
        compiled, None, trials, {"demos_per_predictor": demos, "best_score": getattr(compiled, "score", None)}
    )


def run_gepa(
    student: dspy.Module,
    trainset: Sequence[dspy.Example],
    devset: Sequence[dspy.Example],
    *,
    metric: CompileMetric,
    cfg: StrategyConfig,
    reflection_lm: Any,
    log_dir: Path,
    child_run: ChildRun = no_child,
) -> StrategyResult:
    from dspy.teleprompt import GEPA

    optimizer = GEPA(
        metric=FeedbackMetric(metric), max_metric_calls=cfg.gepa_max_metric_calls, reflection_lm=reflection_lm,
        reflection_minibatch_size=GEPA_MINIBATCH, candidate_selection_strategy="pareto", use_merge=False,
        num_threads=cfg.workers, seed=cfg.seed, track_stats=True, log_dir=str(log_dir),
    )  # fmt: skip
    with child_run("gepa"):
        compiled = optimizer.compile(student, trainset=list(trainset), valset=list(devset))
    results = getattr(compiled, "detailed_results", None)
    scores = list(getattr(results, "val_aggregate_scores", []) or [])
    candidates = [{"candidate": i, "dev_score": s} for i, s in enumerate(scores)]
    return StrategyResult(compiled, None, candidates, {"best_idx": getattr(results, "best_idx", None)})
