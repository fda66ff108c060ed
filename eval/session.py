"""Run assembly for ``fda eval``: settings + options -> retriever, LMs, gold rows, run spec -> a finished run.

    from eval.session import run_eval
    outcome = run_eval(get_settings(), program="retrieval", backend="bm25", split="dev", gold="v1",
                       limit=None, workers=None, track=False)

The CLI (fda/cli/eval.py) only parses options and prints; ``fda programs eval`` and ``fda compile``
(optimizers/session.py) reuse the pieces here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fda.errors import EvalError, IndexMissingError
from fda.settings import Settings, project_root

if TYPE_CHECKING:
    from eval.gold import GoldQuestion, SealedAccess
    from eval.run import RunOutcome, Tracking
    from index.retrieval.base import Retriever

REPORTS_DIR = project_root() / "eval" / "reports"
BASELINES_DIR = project_root() / "eval" / "baselines"
GATE_PROGRAM = "retrieval"
SPLITS = ("train", "dev", "test")


def eval_db(s: Settings) -> Path:
    return s.state_dir / "eval.duckdb"


def tracking_for(s: Settings, track: bool | None) -> Tracking | None:
    """MLflow tracking for an eval run, or None when tracking is off (settings, or ``--no-track``)."""
    from eval.run import Tracking
    from eval.tracking import default_artifact_location, default_tracking_uri

    if not (s.eval.track if track is None else track):
        return None
    return Tracking(
        tracking_uri=s.eval.tracking_uri or default_tracking_uri(s.state_dir),
        experiment=s.eval.experiment,
        artifact_location=s.eval.artifact_location or default_artifact_location(s.state_dir),
    )


def open_retriever(backend: str, s: Settings) -> Retriever:
    from index.retrieval.factory import open_retriever as open_backend

    return open_backend(backend, s)


def open_or_build(backend: str, s: Settings, build: bool) -> Retriever:
    """Open the backend; with ``build``, a missing index is built first (``index.retrieval.build``; seconds for bm25)."""
    try:
        return open_retriever(backend, s)
    except IndexMissingError:
        if not build:
            raise
    from index.retrieval.build import INDEXED, build_indexes
    from index.retrieval.layout import paths_for

    needed: list[str] = [backend] if backend in INDEXED else list(s.retrieval.build)
    build_indexes(s.retrieval, paths_for(s.retrieval, s.state_dir, s.db_path), needed, progress=sys.stderr.isatty())
    return open_retriever(backend, s)


@contextmanager
def lm_session(s: Settings, *, answers: bool, judge: bool) -> Iterator[tuple[Any | None, Any | None]]:
    """(answer LM, judge LM) from the LM factory (fda/lm/factory.py); local model servers stop on exit.

    The judge is the answer LM itself unless ``lm.judge_model`` names another (the factory's ``judge`` role).
    """
    if not (answers or judge):
        yield None, None
        return
    from fda.lm.factory import make_lm, runtime_from_settings

    with runtime_from_settings(s, progress=sys.stderr.isatty()) as runtime:
        answer = make_lm(s.lm, runtime=runtime) if answers else None
        grader = None
        if judge:
            grader = (
                answer if answer is not None and not s.lm.judge_model else make_lm(s.lm, runtime=runtime, role="judge")
            )
        yield answer, grader


def select_rows(
    gold: str,
    split: str,
    limit: int | None,
    seed: int = 0,
    access: SealedAccess | None = None,
    types: Sequence[str] | None = None,
) -> tuple[list[GoldQuestion], str]:
    """The split's gold rows (only ``types`` when given; a seeded stratified subset of ``limit`` rows, never the
    first N) and the gold set's hash. A sealed split raises unless ``access`` comes from eval.sealed.open_sealed."""
    from eval.gold import gold_hash, load_gold
    from eval.gold_split import stratified_subset

    names = splits_of(gold)
    if split not in names:
        raise EvalError(f"gold {gold} has no split {split!r}", hint=f"Use one of: {', '.join(names)}.")
    rows = load_gold(gold, split, access=access)  # type: ignore[arg-type]
    if types:
        known = {r.type.value for r in rows}
        unknown = sorted(set(types) - known)
        if unknown:
            raise EvalError(
                f"no {', '.join(unknown)} questions in {gold} {split}", hint=f"Types: {', '.join(sorted(known))}."
            )
        rows = [r for r in rows if r.type.value in types]
    return (stratified_subset(rows, limit, seed) if limit else rows), gold_hash(gold)


def splits_of(gold: str) -> tuple[str, ...]:
    """v1: train, dev, test (hash buckets); v2 and later: the stored splits of eval/gold.py."""
    from eval.gold import V2_SPLITS, manifest

    return V2_SPLITS if manifest(gold) else SPLITS


def run_eval(
    s: Settings,
    *,
    program: str,
    backend: str,
    split: str,
    gold: str,
    limit: int | None,
    workers: int | None,
    track: bool | None,
    resume: str | None = None,
    judge: bool | None = None,
    versions: str = "none",
    baseline: bool = True,
    build_index: bool = False,
    reports_dir: Path | None = None,
    seed: int = 0,
    access: SealedAccess | None = None,
    lm_seed: int | None = None,
    types: Sequence[str] | None = None,
) -> RunOutcome:
    """Everything a run needs, built from settings and options, then :func:`eval.run.execute`."""
    from eval.judge import AnswerJudge
    from eval.programs import NEEDS_LM, build_program, check_program
    from eval.run import RunSpec, ensure_gold_in_corpus, execute, new_run_id
    from index.ingest.pipeline import corpus_hash
    from index.ingest.store import ingested_versions
    from programs.trust.checks import checks_for

    check_program(program)
    if lm_seed is not None:  # the LM's sampling seed (matters only with lm.temperature > 0)
        s = s.model_copy(update={"lm": s.lm.model_copy(update={"seed": lm_seed})})
    use_judge = (s.eval.judge if judge is None else judge) and program in NEEDS_LM
    rows, ghash = select_rows(gold, split, limit, seed, access, types)
    ensure_gold_in_corpus(rows, s.db_path)
    available = ingested_versions(s.db_path)
    latest = s.corpus.latest_version or (max(available, key=version_key) if available else None)
    from fda.lm.factory import dry_multiplier

    spec = RunSpec(
        program=program,
        backend=backend,
        split=split,
        gold_version=gold,
        gold_hash=ghash,
        corpus_hash=corpus_hash(s.db_path),
        limit=limit,
        seed=seed,
        lm_seed=lm_seed,
        lm_temperature=s.lm.temperature,
        lm_model=s.lm.model if program in NEEDS_LM else None,
        lm_frequency_penalty=s.lm.frequency_penalty if program in NEEDS_LM else None,
        lm_dry_multiplier=dry_multiplier(s.lm) if program in NEEDS_LM else None,
        lm_lenient_text=s.lm.lenient_text if program in NEEDS_LM else None,
        retrieval_doc_int8=s.retrieval.onnx and s.retrieval.doc_int8,
        workers=workers or s.eval.workers,
        version_policy=versions,
        judge_model=(s.lm.judge_model or s.lm.model) if use_judge else None,
        bootstrap_samples=s.eval.bootstrap_samples,
        bootstrap_seed=s.eval.bootstrap_seed,
        types=list(types) if types else None,
    )
    retriever = open_or_build(backend, s, build_index)
    base = None
    if baseline and (program, backend) != ("retrieval", "bm25"):
        base = build_program("retrieval", retriever if backend == "bm25" else open_or_build("bm25", s, build_index))
    reports_dir = reports_dir or REPORTS_DIR
    if resume and not (reports_dir / resume).is_dir():
        raise EvalError(f"no run {resume!r} in {reports_dir}", hint="List runs with `ls eval/reports/`.")
    run_dir = reports_dir / (resume or new_run_id(spec, reports_dir))
    with lm_session(s, answers=program in NEEDS_LM, judge=use_judge) as (lm, judge_lm):
        checks = checks_for(s, retriever) if program in NEEDS_LM else None
        built = build_program(
            program,
            retriever,
            lm=lm,
            versions=available,
            latest=latest,
            config=s.answer,
            checks=checks,
            db_path=s.db_path,
            agent=s.agent,
        )
        return execute(
            spec,
            built,
            rows,
            run_dir=run_dir,
            eval_db=eval_db(s),
            baseline_program=base,
            judge=AnswerJudge(judge_lm) if judge_lm is not None else None,
            version_of=version_policy(versions, available, latest or ""),
            tracking=tracking_for(s, track),
            progress=sys.stderr.isatty(),
        )


def run_gate_eval(
    s: Settings, backend: str, split: str, gold: str, workers: int | None, track: bool | None, build_index: bool
) -> RunOutcome:
    """The run the regression gate compares (and ``fda eval baseline --update`` records): retrieval, whole split."""
    return run_eval(
        s, program=GATE_PROGRAM, backend=backend, split=split, gold=gold, limit=None, workers=workers, track=track,
        baseline=False, build_index=build_index,
    )  # fmt: skip


def version_key(tag: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in tag.split("."))


def version_policy(policy: str, available: list[str], latest: str) -> Callable[[GoldQuestion], str | None]:
    """Which docs version a gold question is asked in (``None``: the latest): none (as users ask), the row's
    own version, or target: where its gold lives, as the retrieval benches search it (eval/retrieval_quality.py)."""
    if policy == "none":
        return lambda gold: None
    if policy == "gold":
        return lambda gold: gold.fastapi_version if gold.fastapi_version in available else None
    if policy == "target":
        from eval.retrieval_quality import search_version

        def target(gold: GoldQuestion) -> str | None:
            version = search_version(gold, available, latest) if gold.gold_sections else latest
            return None if version == latest else version

        return target
    raise EvalError(f"unknown --versions {policy!r}", hint="Use none (ask as users do), gold or target.")
