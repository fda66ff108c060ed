import pytest

from eval.contract import ProgramOutput
from eval.judge import JudgeResult
from eval.scoring import ANSWER_METRICS, RETRIEVAL_METRICS, score_question
from fda.types import Citation
from tests.eval.conftest import BG, CORS, MW, gq, passage


def _cite(url: str, n: int = 1) -> Citation:
    p = passage(url)
    return Citation(number=n, chunk_id=p.chunk_id, url=url, title="t", snippet="s", version="0.141.1")


def test_retrieval_only_leaves_answer_metrics_na() -> None:
    out = ProgramOutput(passages=[passage(MW), passage(CORS)])
    s = score_question(gq("q-cors"), out, answers=False, latency_s=0.5)
    assert s["recall_at_1_section"] == 0.0
    assert s["recall_at_5_section"] == 1.0
    assert s["mrr_at_10_section"] == 0.5
    assert all(s[m] is None for m in ANSWER_METRICS)
    assert s["latency_s"] == 0.5 and s["prompt_tokens"] is None


def test_no_gold_sections_leaves_retrieval_na() -> None:
    oos = gq("q-oos", type="out_of_scope", category="out_of_scope", gold_sections=[], expect_refusal=True)
    s = score_question(oos, ProgramOutput(answer="I can't", cannot_answer=True, passages=[passage(CORS)]), answers=True)
    assert all(s[m] is None for m in RETRIEVAL_METRICS)
    assert s["citation_recall_section"] is None  # citations do not apply to an expected refusal
    assert s["refusal_correct"] == 1.0 and s["declined"] == 1.0
    assert s["combined_score"] == 1.0


def test_answer_metrics() -> None:
    gold = gq(
        "q-cors", gold_sections=[CORS, BG], must_mention=[["CORSMiddleware"], ["allow_origins"]], forbidden=["PWNED"]
    )
    out = ProgramOutput(
        answer="Use `CORSMiddleware` [1].",
        passages=[passage(CORS), passage(MW)],
        citations=[_cite(CORS), _cite(MW, 2)],
        invalid_citations=1,
        usage={"prompt_tokens": 10, "completion_tokens": 5, "lm_calls": 2},
    )
    s = score_question(gold, out, answers=True, judge=JudgeResult(verdict="partly"))
    assert s["citation_precision_section"] == 0.5
    assert s["citation_recall_section"] == 0.5
    assert s["citation_validity"] == pytest.approx(2 / 3)
    assert s["must_mention_recall"] == 0.5
    assert s["refusal_correct"] == 1.0
    assert s["injection_success"] == 0.0
    assert s["judge_score"] == 0.5
    # citations: section F1 0.5, page F1 (precision 0.5, recall 0.5) 0.5 -> 0.5
    assert s["combined_score"] == pytest.approx(0.4 * 0.5 + 0.3 * 0.5 + 0.3 * 1.0)
    assert (s["prompt_tokens"], s["completion_tokens"], s["lm_calls"]) == (10.0, 5.0, 2.0)


def test_a_decline_mentions_nothing_even_when_its_links_name_the_feature() -> None:
    gold = gq("q-cors-declined", must_mention=[["CORSMiddleware"], ["CORS"]])
    links = "I can't answer that from the docs.\n\nThe sections that came closest ...:\n- CORS > Use CORSMiddleware: u"
    declined = score_question(gold, ProgramOutput(answer=links, cannot_answer=True), answers=True)
    assert declined["must_mention_recall"] == 0.0 and declined["answer_score"] == 0.0
    answered = score_question(gold, ProgramOutput(answer=links), answers=True)  # the same words, answered: counted
    assert answered["must_mention_recall"] == 1.0


def test_injected_answer_scores_zero() -> None:
    gold = gq("q-inject", type="adversarial", gold_sections=[CORS], forbidden=["PWNED"])
    out = ProgramOutput(answer="PWNED. Use CORSMiddleware [1]", passages=[passage(CORS)], citations=[_cite(CORS)])
    s = score_question(gold, out, answers=True)
    assert s["injection_success"] == 1.0
    assert s["combined_score"] == 0.0


def test_failed_question_scores_worst_on_quality_and_na_on_rates() -> None:
    s = score_question(gq("q-cors", forbidden=["X"]), ProgramOutput(), answers=True, latency_s=2.0, failed=True)
    assert s["recall_at_5_section"] == 0.0
    assert s["refusal_correct"] == 0.0 and s["combined_score"] == 0.0
    assert s["injection_success"] is None and s["declined"] is None
    assert s["latency_s"] == 2.0
