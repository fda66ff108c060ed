"""Run a program over gold questions in parallel (bounded threads), scoring and streaming each result.

    results = run_questions(program, rows, ResultWriter(run_dir / "results.jsonl"), workers=4)

Every finished question is appended to ``results.jsonl`` by its worker before the next one starts, so
an interrupted run (Ctrl-C, crash) keeps what it finished. A question whose program raises is recorded
with its error and scored as a failure; a prediction that breaks the program contract stops the run
(it is a bug in the program, and every question would hit it).

A question whose LM call failed (the program's retrieval-only fallback, ``reason: lm_error: ...``) measures the
LM server, not the program: with several workers on two cores a long answer can wait past the LM client's read
timeout. Those are asked again once, one at a time, after the parallel pass; what still fails is counted
(``lm_failures``) and reported with the run.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed

from eval.contract import Program, ProgramOutput, produces_answers, read_prediction
from eval.gold import GoldQuestion
from eval.judge import AnswerJudge, JudgeResult, judge_question
from eval.results import QuestionResult, ResultWriter, slim
from eval.scoring import score_question
from fda.errors import EvalError

log = logging.getLogger(__name__)

VersionOf = Callable[[GoldQuestion], str | None]


def _no_version(_: GoldQuestion) -> str | None:
    return None


def evaluate_one(
    program: Program,
    gold: GoldQuestion,
    *,
    answers: bool,
    judge: AnswerJudge | None = None,
    version: str | None = None,
) -> QuestionResult:
    """Call the program once, time it, check the contract, judge and score the answer."""
    error: str | None = None
    start = time.perf_counter()
    try:
        pred = program(gold.question, version)
        latency = time.perf_counter() - start
        out = read_prediction(pred)
    except EvalError:
        raise
    except Exception as err:  # the program failed on this question: record it and go on
        latency = time.perf_counter() - start
        error = f"{type(err).__name__}: {str(err)[:500]}"
        log.warning("%s failed: %s", gold.id, error)
        out = ProgramOutput()
    verdict: JudgeResult | None = None
    judge_error: str | None = None
    if judge is not None and answers and error is None:
        try:
            verdict = judge_question(judge, gold, out)
        except Exception as err:  # judge LM down or unparseable: the question keeps its other metrics
            judge_error = f"{type(err).__name__}: {str(err)[:300]}"
            log.warning("judge failed on %s: %s", gold.id, judge_error)
    return QuestionResult(
        question_id=gold.id,
        type=gold.type.value,
        category=gold.category.value,
        split=gold.split,
        group=gold.dedupe_group,
        version=version,
        latency_s=round(latency, 4),
        error=error,
        output=slim(out),
        judge=verdict,
        judge_error=judge_error,
        metrics=score_question(gold, out, answers=answers, latency_s=latency, judge=verdict, failed=error is not None),
    )


class ProgressLog:
    """Progress as log lines, for a run whose stderr is not a terminal (no bar is drawn there: a run in the
    background, its output sent to a file): at most one line every ``every_s`` seconds, and one at the end.

        eval: 12 of 30 questions (1 error), 41 s a question, about 12 min left"""

    def __init__(
        self, total: int, label: str, every_s: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.total, self.label, self.every_s, self.clock = total, label, every_s, clock
        self.start = self.last = clock()

    def update(self, done: int, errors: int = 0) -> None:
        now = self.clock()
        if done < self.total and now - self.last < self.every_s:
            return
        self.last = now
        each = (now - self.start) / max(done, 1)
        left = each * (self.total - done)
        eta = f"about {left / 60:.0f} min left" if left >= 90 else f"about {left:.0f} s left"
        errs = f" ({errors} error{'s' if errors != 1 else ''})" if errors else ""
        log.info(
            "%s: %d of %d questions%s, %.0f s a question, %s",
            self.label,
            done,
            self.total,
            errs,
            each,
            eta if done < self.total else "done",
        )


def run_questions(
    program: Program,
    rows: Sequence[GoldQuestion],
    writer: ResultWriter,
    *,
    workers: int = 4,
    judge: AnswerJudge | None = None,
    version_of: VersionOf = _no_version,
    progress: bool = False,
    label: str = "eval",
) -> list[QuestionResult]:
    """Evaluate ``rows`` with at most ``workers`` threads; results come back in ``rows`` order."""
    from tqdm import tqdm

    answers = produces_answers(program)

    def work(gold: GoldQuestion) -> QuestionResult:
        result = evaluate_one(program, gold, answers=answers, judge=judge, version=version_of(gold))
        writer.add(result)
        return result

    done: dict[str, QuestionResult] = {}
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="eval")
    bar = tqdm(total=len(rows), desc=label, unit="q", disable=not progress, file=sys.stderr, dynamic_ncols=True)
    lines = None if progress else ProgressLog(len(rows), label)  # no bar drawn: say how far it got in the log
    errors = 0
    try:
        futures: dict[Future[QuestionResult], str] = {pool.submit(work, row): row.id for row in rows}
        for fut in as_completed(futures):
            result = fut.result()
            done[result.question_id] = result
            bar.update(1)
            if result.error:
                errors += 1
                bar.set_postfix_str(f"errors: {errors}")
            if lines is not None:
                lines.update(len(done), errors)
    finally:  # Ctrl-C or a contract breach: drop what has not started; finished rows are on disk
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
    again = [row for row in rows if done[row.id].output.lm_failed]
    if again and workers > 1:  # contention, most likely: once more, alone (the later row wins in results.jsonl)
        log.warning("%d answers failed at the LM with %d workers; asking them again one at a time", len(again), workers)
        for row in tqdm(again, desc=f"{label} (LM failures, again)", unit="q", disable=not progress, file=sys.stderr):
            done[row.id] = work(row)
    still = sum(1 for row in rows if done[row.id].output.lm_failed)
    if still:
        log.warning(
            "%d of %d answers are LM failures (retrieval-only fallbacks): see the run's lm_failures", still, len(rows)
        )
    return [done[row.id] for row in rows]
