from pathlib import Path

import pytest

from eval.aggregate import agreement, summarize
from eval.contract import ProgramOutput
from eval.judge import JudgeResult
from eval.labels import HumanLabel, answer_sha, load_labels, write_template
from eval.results import QuestionResult
from eval.store import load_labels_frame, save_labels
from fda.errors import EvalError

CSV = """run_id,question_id,answer_label,citations_ok,note,labeller
r1,q1,correct,yes,,ann
r1,q2,Partly,no,misses a step,ann
r1,q3,wrong,,,bob
"""


def test_load_labels_csv(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text(CSV)
    labels = load_labels(path)
    assert [(lab.question_id, lab.answer_label, lab.citations_ok) for lab in labels] == [
        ("q1", "correct", True),
        ("q2", "partly", False),  # case-insensitive
        ("q3", "wrong", None),  # blank: not judged
    ]
    assert labels[1].note == "misses a step"


def test_load_labels_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text(
        '{"run_id": "r1", "question_id": "q1", "answer_label": "correct", "citations_ok": true, "labeller": "ann"}\n'
    )
    assert load_labels(path)[0].citations_ok is True


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (
            "run_id,question_id,answer_label,citations_ok,note,labeller\nr1,q1,correct,yes,,ann\nr1,q2,great,yes,,ann\n",
            3,
        ),
        ("run_id,question_id,answer_label,citations_ok,note,labeller\nr1,q1,correct,maybe,,ann\n", 2),
        ("run_id,question_id,answer_label,citations_ok,note,labeller\nr1,q1,correct,yes,,\n", 2),  # no labeller
    ],
)
def test_bad_label_rows_name_file_and_line(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "labels.csv"
    path.write_text(text)
    with pytest.raises(EvalError, match=rf"labels.csv:{line}: invalid label"):
        load_labels(path)


def test_unsupported_file_type(tmp_path: Path) -> None:
    path = tmp_path / "labels.txt"
    path.write_text("x")
    with pytest.raises(EvalError, match=r"\.csv or \.jsonl"):
        load_labels(path)


def _res(qid: str, answer: str, verdict: str | None, precision: float | None) -> QuestionResult:
    return QuestionResult(
        question_id=qid,
        type="howto",
        category="routing",
        split="dev",
        output=ProgramOutput(answer=answer),
        judge=JudgeResult(verdict=verdict) if verdict else None,
        metrics={"citation_precision_section": precision, "combined_score": 0.5, "latency_s": 0.1},
    )


def test_labels_in_duckdb_and_agreement_in_the_summary(tmp_path: Path) -> None:
    db = tmp_path / "eval.duckdb"
    results = [
        _res("q1", "A1", "correct", 1.0),
        _res("q2", "A2", "partly", 0.5),
        _res("q3", "A3", "wrong", 1.0),
        _res("q4", "A4", "correct", None),
    ]
    labels = [
        HumanLabel(
            run_id="r1",
            question_id="q1",
            answer_label="correct",
            citations_ok=True,
            labeller="ann",
            answer_sha=answer_sha("A1"),
        ),
        HumanLabel(
            run_id="r1",
            question_id="q2",
            answer_label="wrong",
            citations_ok=False,
            labeller="ann",
            answer_sha=answer_sha("A2"),
        ),
        HumanLabel(
            run_id="r1",
            question_id="q3",
            answer_label="wrong",
            citations_ok=False,
            labeller="ann",
            answer_sha=answer_sha("A3"),
        ),
        # labelled a different answer text than this run gave: not paired
        HumanLabel(run_id="r0", question_id="q4", answer_label="wrong", labeller="ann", answer_sha=answer_sha("old")),
    ]
    assert save_labels(db, labels) == 4
    assert save_labels(db, labels[:1]) == 1  # re-import replaces, does not duplicate
    frame = load_labels_frame(db)
    assert frame is not None and len(frame) == 4
    agree = agreement(results, frame)
    assert agree is not None
    assert agree["n_judge"] == 3
    # judge: correct, partly, wrong vs human: correct, wrong, wrong -> p_o 2/3, p_e (1*1 + 1*0 + 1*2)/9
    assert agree["kappa_judge_human"] == pytest.approx((2 / 3 - 3 / 9) / (1 - 3 / 9))
    assert agree["n_citations"] == 3  # auto yes, no, yes vs human yes, no, no
    assert agree["kappa_citations_human"] == pytest.approx((2 / 3 - 4 / 9) / (1 - 4 / 9))
    summary = summarize(results, answers=True, n_samples=50, labels=frame)
    assert summary["agreement"] == agree


def test_no_labels_no_agreement(tmp_path: Path) -> None:
    assert load_labels_frame(tmp_path / "missing.duckdb") is None
    assert agreement([_res("q1", "A", "correct", 1.0)], None) is None


def test_write_template(tmp_path: Path) -> None:
    out = write_template(
        tmp_path / "t.csv", "r1", [{"question_id": "q1", "question": "Q?", "answer": "A, with comma", "cited": ""}]
    )
    text = out.read_text()
    assert text.splitlines()[0] == "run_id,question_id,question,answer,cited,answer_label,citations_ok,note,labeller"
    assert '"A, with comma"' in text


def test_label_pack_holds_what_a_labeller_reads() -> None:
    from eval.gold import Fact, GoldQuestion
    from eval.labels import answer_sha, label_pack

    gold = GoldQuestion.model_validate(
        {
            "id": "cors-q1",
            "question": "How do I enable CORS?",
            "category": "middleware",
            "type": "howto",
            "gold_sections": ["https://x/cors#a", "https://x/cors#b"],
            "reference_answer": "Add CORSMiddleware.",
            "facts": [Fact(claim="CORSMiddleware is added with app.add_middleware", polarity="must")],
        }
    )
    rows = [
        {
            "question_id": "cors-q1",
            "answer": "Add it [1].",
            "declined": False,
            "cited": [{"number": 1, "url": "https://x/cors#a"}],
        },
        {"question_id": "cors-q1", "answer": "I can't answer that.", "declined": True, "cited": []},
        {"question_id": "unknown", "answer": "x", "declined": False, "cited": []},
    ]
    texts = {"https://x/cors#a": "Use CORSMiddleware.", "https://x/cors#b": "Allowed origins."}
    pack = label_pack("run-1", rows, {"cors-q1": gold}, texts)
    assert len(pack) == 1  # the declined answer is automatic; an unknown question is skipped
    rec = pack[0]
    assert rec["answer_sha"] == answer_sha("Add it [1].") and rec["facts"][0]["polarity"] == "must"
    assert rec["cited"] == [{"number": 1, "url": "https://x/cors#a", "text": "Use CORSMiddleware."}]
    assert rec["gold_sections"] == {"https://x/cors#b": "Allowed origins."}  # the cited one is not repeated
