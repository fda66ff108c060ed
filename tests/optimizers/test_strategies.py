"""The optimizers offline with the scripted DummyLM (no MLflow): MIPROv2 and GEPA run end to end,
bootstrap random search is seeded, and a bootstrap that finds no good trace says so."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import dspy
import pytest

from fda.errors import CompileError
from optimizers.evaluate import Evaluation, evaluate
from optimizers.examples import to_example
from optimizers.metric import CompileMetric
from optimizers.strategies import StrategyConfig, run_bootstrap, run_gepa, run_mipro
from programs.factory import build_answer_program
from tests.optimizers.conftest import DEV, TRAIN, ScriptedLM
from tests.programs.conftest import FakeRetriever

CFG = StrategyConfig(seed=0, max_demos=2, candidates=2, mipro_minibatch_size=2, gepa_max_metric_calls=16)


def program(lm: ScriptedLM) -> dspy.Module:
    return build_answer_program("rag", FakeRetriever(), lm=lm)


def dev_eval(tmp_path: Path) -> Callable[[dspy.Module, str], Evaluation]:
    def run(prog: dspy.Module, label: str) -> Evaluation:
        return evaluate(prog, DEV, tmp_path / f"{label.replace(' ', '-').replace('/', '_')}.jsonl", label=label)

    return run


def test_mipro_compiles_offline_and_adds_capped_demos(tmp_path: Path) -> None:
    lm = ScriptedLM(easy={g.question for g in TRAIN})
    result = run_mipro(
        program(lm), None, [to_example(g) for g in TRAIN], [to_example(g) for g in DEV],
        metric=CompileMetric(), cfg=CFG, task_lm=lm, prompt_lm=lm,
    )  # fmt: skip
    demos = {name: len(p.demos) for name, p in result.program.named_predictors()}
    assert demos["answerer"] == 1  # one demo budget for all predictors: the smallest cap
    assert result.candidates and result.info["demos_per_predictor"] == 1
    assert dev_eval(tmp_path)(result.program, "mipro").score == pytest.approx(1.0)


def test_gepa_runs_offline_within_its_budget(tmp_path: Path) -> None:
    lm = ScriptedLM(easy={g.question for g in TRAIN})
    result = run_gepa(
        program(lm), [to_example(g) for g in TRAIN], [to_example(g) for g in DEV],
        metric=CompileMetric(), cfg=CFG, reflection_lm=lm, log_dir=tmp_path / "gepa",
    )  # fmt: skip
    assert result.candidates and result.candidates[0]["dev_score"] == pytest.approx((0.0 * 3 + 1.0) / 4)
    assert {name for name, _ in result.program.named_predictors()} == {"rewriter.route", "answerer"}


def test_bootstrap_candidates_are_seeded(tmp_path: Path) -> None:
    runs = []
    for _ in range(2):
        lm = ScriptedLM(easy={g.question for g in TRAIN})
        result = run_bootstrap(
            program(lm), None, [to_example(g) for g in TRAIN],
            metric=CompileMetric(), cfg=CFG, evaluate_fn=dev_eval(tmp_path),
        )  # fmt: skip
        runs.append(result)
    assert [c["max_demos"] for c in runs[0].candidates] == [c["max_demos"] for c in runs[1].candidates]
    first, second = (r.program.rewriter.route.demos for r in runs)
    assert [d["question"] for d in first] == [d["question"] for d in second]
    assert runs[0].info["best_candidate"] == 0 and runs[0].evaluation is not None


def test_bootstrap_without_a_good_trace_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CompileError, match="no bootstrapped trace reached the threshold"):
        run_bootstrap(
            program(ScriptedLM()), None, [to_example(g) for g in DEV if "recipe" not in g.question],
            metric=CompileMetric(threshold=0.9), cfg=CFG, evaluate_fn=dev_eval(tmp_path),
        )  # fmt: skip
