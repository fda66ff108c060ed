"""One compile run end to end: split guard, uncompiled baseline on dev, optimizer, dev score, champion
comparison, artifacts (JSON state + manifest), MLflow run, registered version, promotion.

    outcome = compile_program(spec, train=train, dev=dev, build=build, student_lm=lm, teacher_lm=None,
                              tracking=tracking, work_dir=state_dir / "compile" / name)

Only train and dev rows come in (``check_split`` refuses anything else, test above all). A crash anywhere
marks the MLflow run FAILED before re-raising, and nothing is registered or promoted: registration and
promotion are the last steps. The LM is never logged as an object, only its model string.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dspy

from eval.gold import GoldQuestion
from eval.run import Tracking
from fda.errors import CompileError, ManifestMismatchError
from fda.settings import CompileSettings
from optimizers import mlrun
from optimizers.cost import CostMeter
from optimizers.evaluate import Evaluation, evaluate
from optimizers.examples import check_split, to_example
from optimizers.manifest import DEV_SCORES, MANIFEST, PROGRAM, build_manifest, write_json
from optimizers.metric import CompileMetric
from optimizers.promotion import Decision, decide
from optimizers.registry import CHALLENGER, ProgramRegistry
from optimizers.strategies import OPTIMIZERS, StrategyConfig, StrategyResult, run_bootstrap, run_gepa, run_mipro

log = logging.getLogger(__name__)

Builder = Callable[[Any], dspy.Module]  # LM -> a fresh, uncompiled program that carries it


@dataclass
class CompileSpec:
    program: str
    optimizer: str
    gold_version: str
    gold_hash: str
    corpus_hash: str
    retriever: str
    lm: str  # model string only
    teacher_lm: str | None = None
    config: CompileSettings = field(default_factory=CompileSettings)

    def params(self, n_train: int, n_dev: int) -> dict[str, Any]:
        cfg = self.config
        return {
            "program": self.program, "optimizer": self.optimizer, "gold_version": self.gold_version,
            "gold_hash": self.gold_hash, "corpus_hash": self.corpus_hash, "retriever": self.retriever,
            "lm": self.lm, "teacher_lm": self.teacher_lm or "", "seed": cfg.seed, "n_train": n_train,
            "n_dev": n_dev, "threshold": cfg.threshold, "max_demos": cfg.max_demos, "demo_caps": cfg.demo_caps,
            "candidates": cfg.candidates, "mipro_auto": cfg.mipro_auto,
            "gepa_max_metric_calls": cfg.gepa_max_metric_calls, "dspy_version": dspy.__version__,
        }  # fmt: skip


@dataclass
class CompileOutcome:
    run_id: str
    version: str
    promoted: bool
    decision: Decision
    baseline: Evaluation
    incumbent: Evaluation
    compiled: Evaluation
    cost: dict[str, float]
    program: dspy.Module
    work_dir: Path
    incumbent_name: str = "uncompiled"
    candidates: list[dict[str, Any]] = field(default_factory=list)


def strategy_config(cfg: CompileSettings) -> StrategyConfig:
    return StrategyConfig(
        seed=cfg.seed, max_demos=cfg.max_demos, demo_caps=dict(cfg.demo_caps), candidates=cfg.candidates,
        mipro_auto=cfg.mipro_auto, mipro_minibatch_size=cfg.mipro_minibatch_size,
        gepa_max_metric_calls=cfg.gepa_max_metric_calls, workers=cfg.workers,
    )  # fmt: skip


def compile_program(
    spec: CompileSpec,
    *,
    train: Sequence[GoldQuestion],
    dev: Sequence[GoldQuestion],
    build: Builder,
    student_lm: Any,
    teacher_lm: Any | None,
    tracking: Tracking,
    work_dir: Path,
    progress: bool = False,
) -> CompileOutcome:
    if spec.optimizer not in OPTIMIZERS:
        raise CompileError(f"unknown optimizer {spec.optimizer!r}", hint=f"Use one of: {', '.join(OPTIMIZERS)}.")
    # the selection split is v1's dev or v2's dev-select (stored per row); check_split refuses any mix
    select = "dev-select" if dev and dev[0].assigned_split else "dev"
    for rows, split in ((train, "train"), (dev, select)):
        if not rows:
            raise CompileError(f"the {split} split is empty", hint="Check --gold, --limit-train and --limit-dev.")
        check_split(rows, split)  # type: ignore[arg-type]
    cfg = spec.config
    work_dir.mkdir(parents=True, exist_ok=True)
    registry = ProgramRegistry(tracking.tracking_uri, prefix=cfg.registry_prefix)
    metric = CompileMetric(threshold=cfg.threshold)
    meter = CostMeter()
    meter.attach(student_lm, teacher_lm)
    tags = {"fda.kind": "compile", "fda.program": spec.program, "fda.optimizer": spec.optimizer}
    run_name = work_dir.name
    try:
        with mlrun.compile_run(tracking.tracking_uri, tracking.experiment, tracking.artifact_location, run_name,
                               tags) as run_id:  # fmt: skip
            mlrun.log_params(spec.params(len(train), len(dev)))
            return _run(spec, run_id, registry, metric, meter, train, dev, build, student_lm, teacher_lm,
                        work_dir, progress)  # fmt: skip
    finally:
        meter.detach(student_lm, teacher_lm)


def _run(
    spec: CompileSpec,
    run_id: str,
    registry: ProgramRegistry,
    metric: CompileMetric,
    meter: CostMeter,
    train: Sequence[GoldQuestion],
    dev: Sequence[GoldQuestion],
    build: Builder,
    student_lm: Any,
    teacher_lm: Any | None,
    work_dir: Path,
    progress: bool,
) -> CompileOutcome:
    cfg = spec.config
    started = time.perf_counter()

    def dev_eval(program: dspy.Module, label: str) -> Evaluation:
        slug = label.replace("dev: ", "").replace(" ", "-").replace("/", "of")
        return evaluate(program, dev, work_dir / f"dev-{slug}.jsonl", label=label, workers=cfg.workers,
                        progress=progress, weights=metric.weights)  # fmt: skip

    with mlrun.autolog(cfg.autolog, cfg.log_traces):
        baseline = dev_eval(build(student_lm), "dev: uncompiled")
        mlrun.log_metrics(baseline.metrics("baseline.dev"))
        log.info("uncompiled %s on dev: %.3f (%d questions)", spec.program, baseline.score, len(dev))
        result = _optimize(spec, metric, build, student_lm, teacher_lm, train, dev, dev_eval, work_dir)
        compiled = result.evaluation or dev_eval(result.program, f"dev: {spec.optimizer}")
    incumbent, incumbent_name = _incumbent(spec, registry, build, student_lm, baseline, dev_eval)
    compile_seconds = time.perf_counter() - started  # the whole command: baseline, optimizer, dev scores
    decision = decide(
        compiled.scores, incumbent.scores, tolerance=cfg.promote_tolerance, paired_ci=cfg.promote_paired_ci,
        min_pairs=cfg.promote_min_pairs, seed=cfg.seed, incumbent_name=incumbent_name,
    )  # fmt: skip
    cost = {**{f"compile.{k}": float(v) for k, v in meter.totals().items()}, "compile.seconds": compile_seconds}
    mlrun.log_metrics({**compiled.metrics("dev"), **incumbent.metrics("incumbent.dev"), **cost,
                       "promotion.delta": decision.delta or 0.0, "promotion.n_pairs": float(decision.n_pairs)})  # fmt: skip
    folder = _write_artifacts(spec, run_id, result, baseline, compiled, incumbent, decision, cost, train, dev, work_dir)
    import mlflow

    mlflow.log_artifacts(str(folder), artifact_path="program")
    for path in sorted(work_dir.glob("dev-*.jsonl")):
        mlflow.log_artifact(str(path), artifact_path="dev")
    # registry last: a crash above leaves no version, and only a finished comparison promotes
    version = registry.register(
        spec.program, run_id, tags={"optimizer": spec.optimizer, "dev_score": f"{compiled.score:.4f}"}
    )
    registry.set_alias(spec.program, CHALLENGER, version)
    if decision.promote:
        registry.promote(spec.program, version, decision.reason)
    mlflow.set_tags({"fda.version": version, "fda.promoted": str(decision.promote), "fda.decision": decision.reason})
    log.info("%s version %s: %s", registry.model_name(spec.program), version,
             ("promoted: " if decision.promote else "not promoted: ") + decision.reason)  # fmt: skip
    return CompileOutcome(run_id, version, decision.promote, decision, baseline, incumbent, compiled, cost,
                          result.program, work_dir, incumbent_name, result.candidates)  # fmt: skip


def _optimize(
    spec: CompileSpec,
    metric: CompileMetric,
    build: Builder,
    student_lm: Any,
    teacher_lm: Any | None,
    train: Sequence[GoldQuestion],
    dev: Sequence[GoldQuestion],
    dev_eval: Callable[[dspy.Module, str], Evaluation],
    work_dir: Path,
) -> StrategyResult:
    cfg = strategy_config(spec.config)
    trainset = [to_example(g) for g in train]
    devset = [to_example(g) for g in dev]
    student = build(student_lm)
    teacher = build(teacher_lm) if teacher_lm is not None else None
    if spec.optimizer == "bootstrap":
        return run_bootstrap(student, teacher, trainset, metric=metric, cfg=cfg, evaluate_fn=dev_eval,
                             child_run=mlrun.child_run)  # fmt: skip
    if spec.optimizer == "mipro":
        return run_mipro(student, teacher, trainset, devset, metric=metric, cfg=cfg, task_lm=student_lm,
                         prompt_lm=teacher_lm or student_lm, child_run=mlrun.child_run)  # fmt: skip
    return run_gepa(student, trainset, devset, metric=metric, cfg=cfg, reflection_lm=teacher_lm or student_lm,
                    log_dir=work_dir / "gepa", child_run=mlrun.child_run)  # fmt: skip


def _incumbent(
    spec: CompileSpec,
    registry: ProgramRegistry,
    build: Builder,
    student_lm: Any,
    baseline: Evaluation,
    dev_eval: Callable[[dspy.Module, str], Evaluation],
) -> tuple[Evaluation, str]:
    """What serves now, scored on this dev set with this LM: the champion, or the uncompiled program when
    there is none (or it cannot be served over this index, so the service would fall back anyway)."""
    from optimizers.serving import load_version

    version = registry.champion(spec.program)
    if version is None:
        return baseline, "uncompiled program"
    try:
        program = load_version(registry, spec.program, version, build(student_lm), corpus_hash=spec.corpus_hash,
                               retriever=spec.retriever)  # fmt: skip
    except ManifestMismatchError as err:
        log.warning("champion version %s cannot serve here (%s): comparing with the uncompiled program", version, err)
        return baseline, "uncompiled program"
    return dev_eval(program, f"dev: champion v{version}"), f"champion v{version}"


def _write_artifacts(
    spec: CompileSpec,
    run_id: str,
    result: StrategyResult,
    baseline: Evaluation,
    compiled: Evaluation,
    incumbent: Evaluation,
    decision: Decision,
    cost: dict[str, float],
    train: Sequence[GoldQuestion],
    dev: Sequence[GoldQuestion],
    work_dir: Path,
) -> Path:
    folder = work_dir / "program"
    folder.mkdir(parents=True, exist_ok=True)
    result.program.save(str(folder / PROGRAM))  # JSON state: demos and instructions, never a pickle or an LM
    scores = {
        "dev": compiled.means, "baseline_dev": baseline.means, "incumbent_dev": incumbent.means,
        "decision": decision.as_dict(), "cost": cost, "dev_usage": compiled.usage,
    }  # fmt: skip
    manifest = build_manifest(
        program=spec.program, program_module=result.program, optimizer=spec.optimizer,
        gold_version=spec.gold_version, gold_hash=spec.gold_hash, corpus_hash=spec.corpus_hash,
        retriever=spec.retriever, lm=spec.lm, teacher_lm=spec.teacher_lm, seed=spec.config.seed,
        settings=spec.config.model_dump(), scores=scores, train_ids=[g.id for g in train],
        dev_ids=[g.id for g in dev], run_id=run_id,
    )  # fmt: skip
    write_json(folder / MANIFEST, manifest)
    write_json(folder / DEV_SCORES, {"compiled": compiled.scores, "baseline": baseline.scores,
                                     "incumbent": incumbent.scores})  # fmt: skip
    write_json(folder / "candidates.json", {"candidates": result.candidates, "info": result.info})
    return folder


def new_run_name(program: str, optimizer: str, now: datetime | None = None) -> str:
    return f"{(now or datetime.now(UTC)).strftime('%Y%m%d-%H%M%S')}-{program}-{optimizer}"
