import json
from pathlib import Path

import dspy
import pytest

from eval.gold import GoldQuestion
from eval.results import ResultWriter, load_results
from eval.runner import run_questions
from fda.errors import EvalError
from tests.eval.conftest import ScriptedProgram


def test_runs_in_parallel_and_streams_every_result(
    tmp_path: Path, gold_rows: list[GoldQuestion], good_program: ScriptedProgram
) -> None:
    path = tmp_path / "results.jsonl"
    results = run_questions(good_program, gold_rows, ResultWriter(path), workers=3)
    assert [r.question_id for r in results] == [g.id for g in gold_rows]  # input order kept
    assert len(path.read_text().splitlines()) == len(gold_rows)
    assert set(load_results(path)) == {g.id for g in gold_rows}
    by_id = {r.question_id: r for r in results}
    assert by_id["q-cors"].metrics["must_mention_recall"] == 1.0
    assert by_id["q-oos"].metrics["refusal_correct"] == 1.0
    assert by_id["q-cors"].metrics["completion_tokens"] == 20.0
    assert all(r.latency_s >= 0 for r in results)


def test_a_failing_question_is_recorded_and_the_run_goes_on(tmp_path: Path, gold_rows: list[GoldQuestion]) -> None:
    def boom() -> None:
        raise RuntimeError("LM exploded")

    program = ScriptedProgram({"question q-bg?": boom})
    results = run_questions(program, gold_rows, ResultWriter(tmp_path / "r.jsonl"), workers=2)
    failed = {r.question_id: r for r in results if r.error}
    assert list(failed) == ["q-bg"]
    assert "RuntimeError: LM exploded" in (failed["q-bg"].error or "")
    assert failed["q-bg"].metrics["recall_at_5_section"] == 0.0


def test_a_broken_contract_stops_the_run(tmp_path: Path, gold_rows: list[GoldQuestion]) -> None:
    def program(question: str, version: str | None = None) -> dspy.Prediction:
        return dspy.Prediction(answer="only an answer")

    with pytest.raises(EvalError, match="lacks"):
        run_questions(program, gold_rows, ResultWriter(tmp_path / "r.jsonl"), workers=2)


def test_an_interrupted_run_keeps_what_it_finished(tmp_path: Path, gold_rows: list[GoldQuestion]) -> None:
    def interrupt() -> None:
        raise KeyboardInterrupt

    program = ScriptedProgram({"question q-inject?": interrupt})
    path = tmp_path / "r.jsonl"
    with pytest.raises(KeyboardInterrupt):
        run_questions(program, gold_rows[:3], ResultWriter(path), workers=1)  # one worker: q-cors, q-bg first
    assert set(load_results(path)) == {"q-cors", "q-bg"}


def test_version_of_is_passed_to_the_program(tmp_path: Path, gold_rows: list[GoldQuestion]) -> None:
    seen: list[str | None] = []

    def program(question: str, version: str | None = None) -> dspy.Prediction:
        seen.append(version)
        return dspy.Prediction(
            answer="",
            citations=[],
            passages=[],
            cannot_answer=False,
            refused=False,
            invalid_citations=0,
            fallback=False,
        )

    results = run_questions(program, gold_rows[:2], ResultWriter(tmp_path / "r.jsonl"), version_of=lambda g: "0.68.0")
    assert seen == ["0.68.0", "0.68.0"]
    assert results[0].version == "0.68.0"


def test_a_torn_last_line_is_skipped(
    tmp_path: Path, gold_rows: list[GoldQuestion], good_program: ScriptedProgram
) -> None:
    path = tmp_path / "r.jsonl"
    run_questions(good_program, gold_rows[:2], ResultWriter(path))
    with path.open("a") as fh:
        fh.write(json.dumps({"question_id": "q-x"})[:10])  # a crash mid-write
    assert set(load_results(path)) == {"q-cors", "q-bg"}


class LoadedLM:
    """A program whose LM call fails (retrieval-only fallback) for ``fail_first`` calls of one question, as an LM
    server does when several workers' answers wait past its read timeout."""

    def __init__(self, inner: ScriptedProgram, question: str, fail_first: int) -> None:
        self.inner, self.question, self.left = inner, question, fail_first

    def __call__(self, question: str, version: str | None = None) -> dspy.Prediction:
        pred = self.inner(question, version)
        if question == self.question and self.left > 0:
            self.left -= 1
            pred.fallback, pred.reason = True, "lm_error: LMTransportError: read timed out"
        return pred


def test_lm_failures_are_asked_again_alone_and_the_answer_wins(
    tmp_path: Path, gold_rows: list[GoldQuestion], good_program: ScriptedProgram
) -> None:
    path = tmp_path / "r.jsonl"
    program = LoadedLM(good_program, "question q-cors?", fail_first=1)
    results = run_questions(program, gold_rows, ResultWriter(path), workers=2)
    cors = next(r for r in results if r.question_id == "q-cors")
    assert not cors.output.lm_failed and cors.metrics["must_mention_recall"] == 1.0
    assert good_program.calls.count("question q-cors?") == 2
    assert not load_results(path)["q-cors"].output.lm_failed  # the later row wins on disk too


def test_lm_failures_that_stay_are_counted(
    tmp_path: Path, gold_rows: list[GoldQuestion], good_program: ScriptedProgram
) -> None:
    from eval.aggregate import summarize

    program = LoadedLM(good_program, "question q-cors?", fail_first=5)
    results = run_questions(program, gold_rows, ResultWriter(tmp_path / "r.jsonl"), workers=2)
    assert good_program.calls.count("question q-cors?") == 2  # asked again once, not forever
    assert summarize(results, answers=True, n_samples=50)["lm_failures"] == 1


def test_without_a_bar_progress_goes_to_the_log_at_most_once_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    """A run in the background (stderr not a terminal) says how far it got: a line a minute and one at the end."""
    import logging

    from eval.runner import ProgressLog

    now = [0.0]
    lines = ProgressLog(total=30, label="eval", every_s=60.0, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="eval.runner"):
        for done, t in ((1, 40.0), (2, 80.0), (3, 100.0), (4, 160.0)):
            now[0] = t
            lines.update(done, errors=1 if done == 4 else 0)
        now[0] = 1200.0
        lines.update(30)
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "eval: 2 of 30 questions, 40 s a question, about 19 min left",
        "eval: 4 of 30 questions (1 error), 40 s a question, about 17 min left",
        "eval: 30 of 30 questions, 40 s a question, done",
    ]
