"""Run assembly for ``fda compile`` and ``fda programs eval``: settings + options -> LMs, retriever, gold
rows, tracking, registry -> a compiled and registered program, or an eval report of a registered version.

    from optimizers.session import compile_run
    outcome = compile_run(get_settings(), program="rag", optimizer="bootstrap")

The CLI (fda/cli/programs.py) only parses options and prints.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval import session as eval_session
from fda.errors import CompileError
from fda.settings import Settings

if TYPE_CHECKING:
    from eval.run import RunOutcome, Tracking
    from optimizers.compile import CompileOutcome
    from optimizers.registry import ProgramRegistry


@contextmanager
def open_lms(s: Settings, lm: str | None, teacher: str | None) -> Iterator[tuple[Any, Any | None, str, str | None]]:
    """(student LM, teacher LM or None, their model strings) from the LM factory (fda/lm/factory.py); local
    model servers stop on exit. The teacher is dropped when it is the student's model."""
    from fda.lm.factory import make_lm, runtime_from_settings

    student_model = lm or s.lm.model
    teacher_model = teacher or s.lm.teacher_model
    if teacher_model == student_model:
        teacher_model = None
    with runtime_from_settings(s, progress=sys.stderr.isatty()) as runtime:
        student = make_lm(s.lm, runtime=runtime, model=student_model)
        mentor = make_lm(s.lm, runtime=runtime, model=teacher_model, role="teacher") if teacher_model else None
        yield student, mentor, student_model, teacher_model


def tracking_of(s: Settings) -> Tracking:
    from eval.run import Tracking
    from eval.tracking import default_artifact_location
    from optimizers.serving import tracking_uri_of

    return Tracking(
        tracking_uri=tracking_uri_of(s),
        experiment=s.compile.experiment,
        artifact_location=s.eval.artifact_location or default_artifact_location(s.state_dir),
    )


def registry_of(s: Settings) -> ProgramRegistry:
    from optimizers.registry import ProgramRegistry
    from optimizers.serving import tracking_uri_of

    return ProgramRegistry(tracking_uri_of(s), prefix=s.compile.registry_prefix)


def compile_run(
    s: Settings,
    *,
    program: str,
    optimizer: str,
    lm: str | None = None,
    teacher_lm: str | None = None,
    backend: str | None = None,
    gold: str = "v1",
    limit_train: int | None = None,
    limit_dev: int | None = None,
    seed: int | None = None,
    build_index: bool = False,
    announce: Callable[[str], None] = lambda line: None,
) -> CompileOutcome:
    """Compile ``program`` on the gold train split, select on dev, register (and maybe promote) it."""
    from eval.gold import gold_hash
    from eval.run import ensure_gold_in_corpus
    from index.ingest.pipeline import corpus_hash
    from optimizers.compile import CompileSpec, compile_program, new_run_name
    from optimizers.examples import load_splits
    from optimizers.serving import program_versions
    from optimizers.shared import shared
    from optimizers.strategies import OPTIMIZERS
    from programs.factory import ANSWER_PROGRAMS, build_answer_program
    from programs.trust.checks import checks_for

    if program not in ANSWER_PROGRAMS or optimizer not in OPTIMIZERS:
        raise CompileError(f"unknown program {program!r} or optimizer {optimizer!r}",
                           hint=f"--program {'|'.join(ANSWER_PROGRAMS)}, --optimizer {'|'.join(OPTIMIZERS)}.")  # fmt: skip
    cfg = s.compile.model_copy(update={"seed": s.compile.seed if seed is None else seed})
    train, dev = load_splits(gold, limit_train=limit_train, limit_dev=limit_dev or cfg.limit_dev)
    ensure_gold_in_corpus([*train, *dev], s.db_path)
    retriever = shared(eval_session.open_or_build(backend or s.retrieval.backend, s, build_index))
    checks = checks_for(s, retriever)
    versions, latest = program_versions(s)
    work_dir = s.state_dir / "compile" / new_run_name(program, optimizer)
    tracking = tracking_of(s)
    with open_lms(s, lm, teacher_lm) as (student, teacher, student_model, teacher_model):
        spec = CompileSpec(
            program=program, optimizer=optimizer, gold_version=gold, gold_hash=gold_hash(gold),
            corpus_hash=corpus_hash(s.db_path), retriever=retriever.name, lm=student_model,
            teacher_lm=teacher_model, config=cfg,
        )  # fmt: skip
        announce(f"compiling {program} with {optimizer}: {len(train)} train, {len(dev)} dev questions, "
                 f"LM {student_model}{f', teacher {teacher_model}' if teacher_model else ''}, "
                 f"retriever {retriever.name}; MLflow {tracking.tracking_uri}")  # fmt: skip
        return compile_program(
            spec, train=train, dev=dev,
            build=lambda model: build_answer_program(program, retriever, lm=model, versions=versions, latest=latest, config=s.answer, checks=checks),
            student_lm=student, teacher_lm=teacher, tracking=tracking, work_dir=work_dir,
            progress=sys.stderr.isatty(),
        )  # fmt: skip


def evaluate_version(
    s: Settings,
    *,
    version: str,
    program: str,
    split: str,
    backend: str | None = None,
    gold: str = "v1",
    limit: int | None = None,
    workers: int | None = None,
    lm: str | None = None,
) -> RunOutcome:
    """An eval report (eval/reports/, the eval DuckDB, MLflow) of a registered version, 'champion' or
    'uncompiled', through the same runner as ``fda eval``."""
    from eval.gold import gold_hash
    from eval.run import RunSpec, ensure_gold_in_corpus, execute, new_run_id
    from index.ingest.pipeline import corpus_hash
    from optimizers.serving import load_version, program_versions
    from programs.factory import build_answer_program
    from programs.trust.checks import checks_for

    rows, _ = eval_session.select_rows(gold, split, limit)
    ensure_gold_in_corpus(rows, s.db_path)
    retriever = eval_session.open_or_build(backend or s.retrieval.backend, s, False)
    versions, latest = program_versions(s)
    registry = registry_of(s)
    number = registry.champion(program) if version == "champion" else None if version == "uncompiled" else version
    if version == "champion" and number is None:
        raise CompileError(f"{registry.model_name(program)} has no champion", hint="`fda programs list`.")
    tag = f"v{number}" if number else "uncompiled"
    spec = RunSpec(
        program=f"{program}@{tag}", backend=retriever.name, split=split, gold_version=gold,
        gold_hash=gold_hash(gold), corpus_hash=corpus_hash(s.db_path), limit=limit,
        workers=workers or s.compile.workers, extra={"program_version": f"{registry.model_name(program)}/{number}" if number else tag},
    )  # fmt: skip
    reports = eval_session.REPORTS_DIR
    with open_lms(s, lm, None) as (student, _, _, _):
        built = build_answer_program(
            program,
            retriever,
            lm=student,
            versions=versions,
            latest=latest,
            config=s.answer,
            checks=checks_for(s, retriever),
        )
        if number:
            with tempfile.TemporaryDirectory() as tmp:
                built = load_version(registry, program, number, built, corpus_hash=spec.corpus_hash,
                                     retriever=retriever.name, work_dir=Path(tmp))  # fmt: skip
        return execute(spec, built, rows, run_dir=reports / new_run_id(spec, reports),
                       eval_db=eval_session.eval_db(s), tracking=eval_session.tracking_for(s, None),
                       progress=sys.stderr.isatty())  # fmt: skip
