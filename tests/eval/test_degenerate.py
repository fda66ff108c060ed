"""The v2 headline metrics (answer score, decline balanced accuracy) can fail a trivial program.

v1's refusal accuracy gave a program that never declines 0.884. Here, on the real gold v2 dev-select rows, a
program that never declines and one that always declines (eval/degenerate.py) must score clearly below a
program that does the job (answers with the reference answer and the gold sections, declines what it
should): the metrics separate good from trivial.

The committed rag runs are held to the same comparison. The two made before the trust checks (programs/trust/,
issue #19) do not pass it: the uncompiled rag program on the embedded 1.5B declined 2 of the 36 rows it should
decline, so always declining scored 0.333 on answer score against its 0.274 (the 0.5B: 1 of 18, 0.300 against
0.115); nor does the 1.5B with the checks switched off, nor the 0.5B with them (it then declines too much:
over-refusal 0.31). Those are strict xfails, each with why; any other committed run must pass, and one does:
the 1.5B with the checks (answer score 0.456 against 0.280 never / 0.333 always declining).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from eval.contract import ProgramOutput
from eval.degenerate import decline_balanced_accuracy, degenerate_runs
from eval.gold import GoldQuestion, load_gold
from eval.judge import JudgeResult
from eval.results import QuestionResult
from eval.results_export import committed_runs, to_result
from eval.scoring import score_question
from eval.stats import paired_bootstrap_ci
from fda.types import Citation, Passage

ROWS = load_gold("v2", "dev-select")


def good_program(row: GoldQuestion) -> QuestionResult:
    """Declines what it should; otherwise the reference answer citing one section of every answer group,
    every must fact stated and no wrong claim made (as a correct judge would find)."""
    if row.expect_refusal:
        out = ProgramOutput(answer="I can't answer that from the FastAPI docs.", cannot_answer=True)
        judge = None
    else:
        urls = [group[0] for group in row.answer_groups()]
        shown = [Passage(chunk_id=f"c{i}", url=u, text=row.reference_answer, version="x") for i, u in enumerate(urls)]
        cites = [
            Citation(number=i + 1, chunk_id=p.chunk_id, url=p.url, title="", snippet="", version="x")
            for i, p in enumerate(shown)
        ]
        marks = "".join(f"[{i + 1}]" for i in range(len(shown)))
        out = ProgramOutput(answer=f"{row.reference_answer} {marks}", citations=cites, passages=shown)
        judge = JudgeResult(
            verdict="correct", facts=["stated" if f.polarity == "must" else "absent" for f in row.facts]
        )
    result = QuestionResult(
        question_id=row.id, type=row.type.value, category=row.category.value, split=row.split, output=out, judge=judge
    )
    return result.model_copy(update={"metrics": score_question(row, out, answers=True, judge=judge)})


def scores(results: list[QuestionResult]) -> list[float]:
    return [float(r.metrics["answer_score"] or 0.0) for r in results]


def assert_clearly_worse(real: list[QuestionResult], trivial: list[QuestionResult], name: str) -> None:
    assert decline_balanced_accuracy(trivial) == pytest.approx(0.5), name
    real_bacc = decline_balanced_accuracy(real)
    assert real_bacc is not None and real_bacc - 0.5 >= 0.05, f"decline balanced accuracy {real_bacc:.3f} vs 0.5"
    diff = paired_bootstrap_ci(scores(real), scores(trivial), seed=0)
    assert diff.low is not None and diff.low > 0, (
        f"answer score {statistics.mean(scores(real)):.3f} vs '{name}' {statistics.mean(scores(trivial)):.3f}: "
        f"paired 95% CI of the difference {diff.low:.3f}..{diff.high:.3f}"
    )


def test_never_and_always_declining_score_clearly_below_a_program_that_does_the_job() -> None:
    good = [good_program(r) for r in ROWS]
    assert statistics.mean(scores(good)) > 0.9 and decline_balanced_accuracy(good) == 1.0
    never, always = degenerate_runs(ROWS, good)
    assert_clearly_worse(good, never, "never declines")
    assert_clearly_worse(good, always, "always declines")


RAG_RUNS = [
    rows
    for meta, rows in committed_runs()
    if (meta["meta"].get("program"), meta["meta"].get("gold_version"), meta["meta"].get("split"))
    == ("rag", "v2", "dev-select")
    and not meta["meta"].get("lm_temperature")  # the deterministic runs (sampled seed runs vary by design)
    and not meta["meta"].get("types")  # runs of some question types only (--types) may hold nothing to decline
]


def test_a_committed_rag_run_exists() -> None:
    assert RAG_RUNS, "no committed rag run on gold v2 dev-select in eval/results/ (fda eval export RUN_ID)"


def rescored(path: Path) -> list[QuestionResult]:
    gold = {g.id: g for g in ROWS}
    lines = [to_result(json.loads(x)) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return [
        r.model_copy(update={"metrics": score_question(gold[r.question_id], r.output, answers=True, judge=r.judge)})
        for r in lines
        if r.error is None and r.question_id in gold
    ]


# Runs that fail the comparison, each with why: the program before the trust checks (programs/trust/, #19), or
# with them switched off, nearly never declines; the 0.5B with them declines too much. The metric doing its job;
# strict, so each turns red if it ever passes.
BEFORE_TRUST_CHECKS = {
    "20261204-213454-rag-fused-dev-select": "1.5B: declines 2 of 36 rows it should; always declining scores 0.333 "
    "against its 0.274",
    "20261204-223104-rag-fused-dev-select": "0.5B, 60-row subset: declines 1 of 18; always declining 0.300 against "
    "its 0.115",
    "20261205-005759-rag-fused-dev-select": "1.5B with the checks switched off (the paired baseline of the run with "
    "them): declines 2 of 36; always declining 0.333 against its 0.315",
    # with the checks, the 0.5B still fails: verification declines 13 of its 42 answerable rows
    "20261205-005723-rag-fused-dev-select": "0.5B, 60-row subset, WITH the checks: over-refusal 0.31 (its answers are "
    "loosely tied to their sources); always declining 0.300 against its 0.281",
    # session 11's checks on dev-select: 0.447 against 0.333, the interval's low end at -0.006 (the first checks'
    # run, 20261205-003539, passes at 0.456); on dev-confirm the same checks score higher than the first ones
    "20261205-044942-rag-fused-dev-select": "1.5B, session 11's checks: 0.447 against always declining's 0.333, "
    "paired 95% CI -0.006..0.229",
    # session 13: the same cached LM answers replayed through session 12's code (the baseline), then with the claim,
    # echo and source-header checks: one more false premise right (0.451), the interval's low end still below 0
    "20261205-085004-rag-fused-dev-select": "1.5B, session 12's code: 0.447 against always declining's 0.333, "
    "paired 95% CI -0.006..0.229",
    "20261205-085411-rag-fused-dev-select": "1.5B, session 13's claim, echo and source-header checks: 0.451 against "
    "always declining's 0.333, paired 95% CI -0.001..0.234",
    # session 17: the whole_code comparison on a seeded 30-question subset: above 'never declines' (0.450, 0.425)
    # but with 30 rows the interval's low end sits at 0
    "20261205-233813-rag-fused-dev-select": "1.5B, 30-question subset (answer.whole_code off): 0.517 against never "
    "declining's 0.450, paired 95% CI 0.000..0.167",
    "20261205-234310-rag-fused-dev-select": "1.5B, 30-question subset (answer.whole_code on): 0.492 against never "
    "declining's 0.425, paired 95% CI 0.000..0.167",
    # session 31: the DRY probe on a seeded 20-question subset (docs/lm.md): above 'never declines' with the
    # interval's low end at 0, as the 30-question subsets above
    "20261207-201612-rag-fused-dev-select": "1.5B, 20-question subset (DRY off): 0.531 against never declining's "
    "0.381, paired 95% CI 0.000..0.300",
    "20261207-203031-rag-fused-dev-select": "1.5B, 20-question subset (DRY 0.8): 0.581 against never declining's "
    "0.431, paired 95% CI 0.000..0.300",
    # session 32: the DRY comparison's second subset (30 questions, seed 3; docs/lm.md): above 'always declines'
    # by about 0.1, but 11 of its 30 rows are to be declined and the interval reaches well below 0
    "20261207-220826-rag-fused-dev-select": "1.5B, 30-question subset, seed 3 (DRY off): 0.467 against always "
    "declining's 0.367, paired 95% CI -0.125..0.292",
    "20261207-223122-rag-fused-dev-select": "1.5B, 30-question subset, seed 3 (DRY 0.8): 0.483 against always "
    "declining's 0.367, paired 95% CI -0.109..0.325",
    # session 20: the 0.5B on all of dev-select with today's checks, the baseline of the LoRA comparison
    # (docs/finetune.md); the adapted 0.5B (20261206-085519) and the 1.5B (20261206-082739) beside it pass
    "20261206-074939-rag-fused-dev-select": "0.5B, all of dev-select, with the checks: over-refusal 0.32; 0.291 "
    "against always declining's 0.333, paired 95% CI -0.129..0.044",
}


def _param(path: Path) -> object:
    why = BEFORE_TRUST_CHECKS.get(path.stem)
    marks = [pytest.mark.xfail(strict=True, reason=f"#19: {why}")] if why else []
    return pytest.param(path, marks=marks, id=path.stem)


@pytest.mark.parametrize("path", [_param(p) for p in RAG_RUNS])
def test_the_committed_rag_run_beats_never_and_always_declining(path: Path) -> None:
    real = rescored(path)
    never, always = degenerate_runs(ROWS, real)
    assert_clearly_worse(real, never, "never declines")
    assert_clearly_worse(real, always, "always declines")


def test_a_passing_run_is_committed() -> None:
    assert [p for p in RAG_RUNS if p.stem not in BEFORE_TRUST_CHECKS], "no committed rag run passes the comparison"
