import pytest
from dspy.utils import DummyLM

from eval.contract import ProgramOutput
from eval.judge import AnswerJudge, judge_applies, judge_question
from signatures.judge import JudgeAnswer
from tests.eval.conftest import gq


def test_signature_fields_all_have_descriptions() -> None:
    assert JudgeAnswer.__doc__ and "Rubric" in JudgeAnswer.__doc__
    for name, field in {**JudgeAnswer.input_fields, **JudgeAnswer.output_fields}.items():
        desc = (field.json_schema_extra or {}).get("desc", "")
        assert desc and not str(desc).startswith("${"), name


@pytest.mark.parametrize(("verdict", "score"), [("correct", 1.0), ("partly", 0.5), ("wrong", 0.0)])
def test_judge_uses_the_injected_lm(verdict: str, score: float) -> None:
    lm = DummyLM([{"justification": "covers CORSMiddleware", "verdict": verdict}])
    pred = AnswerJudge(lm)(question="How to enable CORS?", reference_answer="Use CORSMiddleware.", answer="x")
    assert (pred.verdict, pred.score) == (verdict, score)
    assert "CORSMiddleware" in pred.justification
    assert len(lm.history) == 1  # the injected LM was called, not a global one


def test_judge_question_declined_answer_is_wrong_without_an_lm_call() -> None:
    lm = DummyLM([])  # any call would fail: nothing scripted
    out = ProgramOutput(answer="I can't answer that from the docs.", cannot_answer=True)
    res = judge_question(AnswerJudge(lm), gq("q-cors"), out)
    assert res is not None and res.verdict == "wrong" and res.score == 0.0
    assert lm.history == []


def test_judge_does_not_apply_to_expected_refusals() -> None:
    oos = gq("q-oos", type="out_of_scope", category="out_of_scope", gold_sections=[], expect_refusal=True)
    assert not judge_applies(oos)
    assert judge_question(AnswerJudge(DummyLM([])), oos, ProgramOutput(answer="no")) is None


def test_judge_grades_a_real_answer() -> None:
    lm = DummyLM([{"justification": "misses allow_origins", "verdict": "partly"}])
    res = judge_question(AnswerJudge(lm), gq("q-cors"), ProgramOutput(answer="Use CORSMiddleware."))
    assert res is not None and res.verdict == "partly" and res.score == 0.5
