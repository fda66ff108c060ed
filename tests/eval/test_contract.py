import dspy
import pytest

from eval.contract import produces_answers, read_prediction, usage_of
from eval.retrieval_program import RetrievalProgram
from fda.errors import EvalError
from tests.eval.conftest import BG, CORS, ScriptedRetriever, passage

FIELDS = {
    "answer": "a",
    "citations": [],
    "passages": [],
    "cannot_answer": False,
    "refused": False,
    "invalid_citations": 0,
    "fallback": False,
}


def test_read_prediction_types_the_fields() -> None:
    out = read_prediction(dspy.Prediction(**(FIELDS | {"passages": [passage(CORS)], "refused": True})))
    assert out.passages[0].url == CORS
    assert out.declined and out.refused
    assert out.usage is None  # no usage reported and no DSPy tracking


def test_missing_fields_are_named() -> None:
    partial = {k: v for k, v in FIELDS.items() if k not in ("passages", "fallback")}
    with pytest.raises(EvalError, match="lacks passages, fallback"):
        read_prediction(dspy.Prediction(**partial))


def test_wrong_types_break_the_contract() -> None:
    with pytest.raises(EvalError, match="breaks the contract"):
        read_prediction(dspy.Prediction(**(FIELDS | {"passages": ["not a passage"]})))


class _Tracked(dspy.Prediction):
    def get_lm_usage(self) -> dict[str, dict[str, int]]:
        return {"m1": {"prompt_tokens": 10, "completion_tokens": 2}, "m2": {"prompt_tokens": 5, "completion_tokens": 1}}


@pytest.mark.parametrize(
    ("pred", "expected"),
    [
        (dspy.Prediction(usage={"prompt_tokens": 7, "completion_tokens": 3, "lm_calls": 1}), (7, 3, 1)),
        (dspy.Prediction(usage={"prompt_tokens": 7}), (7, 0, 0)),
        (_Tracked(), (15, 3, 0)),  # DSPy's usage tracker when the program reports nothing itself
        (dspy.Prediction(), None),
    ],
)
def test_usage_of(pred: dspy.Prediction, expected: tuple[int, int, int] | None) -> None:
    got = usage_of(pred)
    assert (None if got is None else (got["prompt_tokens"], got["completion_tokens"], got["lm_calls"])) == expected


def test_retrieval_program_satisfies_the_contract() -> None:
    retriever = ScriptedRetriever({"q?": [CORS, BG]})
    program = RetrievalProgram(retriever, k=1)
    out = read_prediction(program("q?", None))
    assert [p.url for p in out.passages] == [CORS]  # k is passed on
    assert out.answer == "" and out.citations == [] and not out.declined
    assert produces_answers(program) is False
    assert produces_answers(object()) is True
