"""v2 metrics as tables: word-boundary mentions, graded groups, refusal apart, facts, faithfulness, clusters."""

from __future__ import annotations

from typing import Any

import pytest

from eval import metrics as m
from eval.contract import ProgramOutput
from eval.faithfulness import cited_sentences, lexical_faithfulness, lexical_support
from eval.gold import GoldQuestion
from eval.judge import JudgeResult
from eval.retrieval_quality import graded_for, score_row
from eval.scoring import answer_scores, fact_scores
from eval.stats import bootstrap_ci, clustered_bootstrap_ci
from fda.types import Citation, Passage

A, B, C = "https://d.io/p#a", "https://d.io/p#b", "https://d.io/q#c"


@pytest.mark.parametrize(
    ("alt", "text", "hit"),
    [
        ("id", "inside the handler", False),
        ("id", "the `id` field", True),
        ("not", "note this", False),
        ("include_router", "call app.include_router(router)", True),
        ("Depends", "use depends()", True),
        ("", "anything", False),
    ],
)
def test_mentions_on_word_boundaries(alt: str, text: str, hit: bool) -> None:
    assert m.mentions(alt, text) is hit


def test_the_lifespan_wrong_answer_no_longer_passes_on_substrings() -> None:
    groups = [["not run", "does not"], ["sub-app"]]
    wrong = "Yes, they run for sub-apps too, not only for the main app"
    assert m.must_mention_recall(groups, wrong) == 0.0


def test_group_recall_and_graded_ndcg() -> None:
    groups = [[A, B], [C]]
    assert m.group_recall_at_k(groups, [B, "x#y"], 5) == 0.5
    assert m.group_recall_at_k(groups, [B, C], 5) == 1.0
    assert m.group_recall_at_k(groups, ["x#y", C], 1) == 0.0
    assert m.graded_ndcg_at_k({A: 2, B: 2}, [A, "x#1", B], 10) == pytest.approx(m.ndcg_at_k([A, B], [A, "x#1", B], 10))
    best = m.graded_ndcg_at_k({A: 2, C: 1}, [A, C], 10)
    worse = m.graded_ndcg_at_k({A: 2, C: 1}, [C, A], 10)
    assert best == pytest.approx(1.0) and worse < best


def test_graded_citations_and_refusal_apart() -> None:
    assert m.group_citation_recall([[A, B], [C]], [B]) == 0.5
    assert m.group_citation_recall([], [B]) is None
    assert m.graded_citation_precision({A: 2, C: 1}, [A, C, "z#z"]) == pytest.approx(2 / 3)
    assert m.graded_citation_precision({A: 2}, []) is None
    assert (m.refusal_recall(True, True), m.refusal_recall(True, False), m.refusal_recall(False, True)) == (
        1.0,
        0.0,
        None,
    )
    assert (m.over_refusal(False, True), m.over_refusal(False, False), m.over_refusal(True, True)) == (1.0, 0.0, None)


def gold(**over: Any) -> GoldQuestion:
    base: dict[str, Any] = {
        "id": "w-life-subapp",
        "question": "Do lifespan events run for a mounted sub-application?",
        "category": "background_lifespan",
        "type": "factoid",
        "gold_groups": [{"sections": [A, B], "grade": 2}, {"sections": [C], "grade": 1}],
        "facts": [
            {"claim": "lifespan events do NOT run for mounted sub-applications", "polarity": "must"},
            {"claim": "lifespan events run for mounted sub-applications too", "polarity": "must_not"},
        ],
        "must_mention": [["lifespan"]],
        "reference_answer": "No: only the main application's lifespan runs.",
        "source": {"kind": "written"},
    }
    return GoldQuestion.model_validate({**base, **over})


def test_v2_retrieval_uses_groups_and_v1_rows_keep_the_flat_definition() -> None:
    g = gold()
    graded = graded_for(g, g.gold_sections)
    assert graded is not None and graded.groups == ((A, B),)
    assert score_row(g.gold_sections, [B], graded)["section R@1"] == 1.0  # one alternative is enough
    assert score_row(g.gold_sections, [B])["section R@1"] == 0.5  # the flat v1 reading would halve it
    v1 = GoldQuestion.model_validate(
        {k: v for k, v in gold().model_dump().items() if k in ("id", "question", "category", "type")}
        | {"gold_sections": [A, B]}
    )
    assert graded_for(v1, v1.gold_sections) is None


@pytest.mark.parametrize(
    ("verdicts", "recall", "precision"),
    [
        (["stated", "absent"], 1.0, 1.0),
        (["absent", "absent"], 0.0, None),
        (["stated", "stated"], 1.0, 0.5),  # the right fact, plus the wrong claim
        (["contradicted", "stated"], 0.0, 0.0),
        (None, None, None),
        (["stated"], None, None),  # misaligned verdicts are not scored
    ],
)
def test_fact_scores(verdicts: list[str] | None, recall: float | None, precision: float | None) -> None:
    assert fact_scores(gold(), verdicts) == (recall, precision)


def passage(cid: str, url: str, text: str) -> Passage:
    return Passage(chunk_id=cid, url=url, text=text, version="0.141.1")


def output(answer: str, declined: bool = False, cite: bool = True) -> ProgramOutput:
    shown = [
        passage(
            "c1",
            A,
            "Lifespan events are only triggered for the main application, not for sub-applications mounted on it.",
        )
    ]
    cites = [Citation(number=1, chunk_id="c1", url=A, title="t", snippet="", version="0.141.1")] if cite else []
    return ProgramOutput(answer=answer, citations=cites, passages=shown, cannot_answer=declined)


def test_lexical_faithfulness_per_cited_sentence() -> None:
    good = output("Lifespan events are triggered only for the main application, not sub-applications [1].")
    invented = output("Use the @app.cache decorator with a ttl argument to memoise handlers [1].")
    mixed = output(
        "Lifespan events are only triggered for the main application [1]. Redis clusters shard keys by hash slot [1]."
    )
    assert lexical_faithfulness(good) == 1.0
    assert lexical_faithfulness(invented) == 0.0
    assert lexical_faithfulness(mixed) == 0.5
    assert lexical_faithfulness(output("No citations here.", cite=False)) is None
    code = output("```python\nredis = Redis()\n```\nLifespan events are only triggered for the main application [1].")
    assert [s for s, _ in cited_sentences(code)] == ["Lifespan events are only triggered for the main application ."]
    assert lexical_support("", "anything") == 1.0
    trailing = output("Lifespan events are only triggered for the main application. [1]")
    assert [s for s, _ in cited_sentences(trailing)] == ["Lifespan events are only triggered for the main application."]


def test_answer_score_rewards_right_content_and_right_decline() -> None:
    right = output("No: lifespan events only run for the main application, not for mounted sub-applications [1].")
    judge_ok = JudgeResult(verdict="correct", facts=["stated", "absent"], support=[True])
    s = answer_scores(gold(), right, judge_ok)
    assert s["answer_score"] == 1.0  # every must fact, the answer group cited
    near = right.model_copy(update={"citations": [right.citations[0].model_copy(update={"url": "https://d.io/p#z"})]})
    assert answer_scores(gold(), near, judge_ok)["answer_score"] == pytest.approx(0.75)  # right page, wrong section
    assert s["fact_recall"] == 1.0 and s["faithfulness_judge"] == 1.0 and s["over_refusal"] == 0.0
    wrong = answer_scores(gold(), right, JudgeResult(verdict="wrong", facts=["contradicted", "stated"]))
    assert wrong["answer_score"] == 0.0
    declined = answer_scores(gold(), output("I can't answer that from the docs.", declined=True, cite=False), None)
    assert declined["answer_score"] == 0.0 and declined["over_refusal"] == 1.0
    oos = gold(
        type="out_of_scope", category="out_of_scope", expect_refusal=True, gold_groups=[], facts=[], must_mention=[]
    )
    assert answer_scores(oos, output("I can't answer.", declined=True, cite=False), None)["answer_score"] == 1.0
    assert answer_scores(oos, right, None)["answer_score"] == 0.0
    injected = gold(forbidden=["PWNED-7731"])
    assert answer_scores(injected, output("PWNED-7731 lifespan [1]."), judge_ok)["answer_score"] == 0.0


def test_clustered_bootstrap_widens_for_correlated_rows_and_equals_plain_for_singletons() -> None:
    values = [1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0]
    plain = bootstrap_ci(values, n_samples=2000, seed=3)
    single = clustered_bootstrap_ci(values, list(range(8)), n_samples=2000, seed=3)
    assert single.mean == plain.mean and single.n == plain.n
    copies = values * 4  # each question four times (seeds): the same evidence, not four times as much
    naive = bootstrap_ci(copies, n_samples=2000, seed=3)
    clustered = clustered_bootstrap_ci(copies, list(range(8)) * 4, n_samples=2000, seed=3)
    assert clustered.mean == naive.mean
    assert clustered.half_width > 1.5 * naive.half_width  # type: ignore[operator]
    with pytest.raises(ValueError):
        clustered_bootstrap_ci([1.0], [1, 2])
