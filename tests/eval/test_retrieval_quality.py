from __future__ import annotations

import pytest

from eval.gold import Category, GoldQuestion, QType
from eval.retrieval_quality import CEILING, by_type, ceiling, evaluate, score_row, targets, version_of
from fda.types import Passage
from ops.bench.retrieval_latency import percentile

LATEST = "0.141.1"
KNOWN = ["0.100.0", "0.141.1", "0.68.0"]
SITE = "https://fastapi.tiangolo.com/advanced/events/#lifespan"
OLD = "https://github.com/fastapi/fastapi/blob/0.68.0/docs/en/docs/advanced/events.md#startup-event"


def _row(qid: str, gold: list[str], version: str | None = None, refusal: bool = False) -> GoldQuestion:
    qtype = QType.out_of_scope if refusal else (QType.version if version else QType.howto)
    return GoldQuestion(
        id=qid,
        question="How?",
        category=Category.background_lifespan,
        type=qtype,
        gold_sections=gold,
        expect_refusal=refusal,
        fastapi_version=version,
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (SITE, LATEST),
        (OLD, "0.68.0"),
        ("https://github.com/fastapi/fastapi/blob/0.100.0/docs/en/docs/x.md#a", "0.100.0"),
    ],
)
def test_version_of(url: str, expected: str) -> None:
    assert version_of(url, LATEST) == expected


@pytest.mark.parametrize(
    ("row", "version", "gold"),
    [
        (_row("aaa", [SITE]), LATEST, (SITE,)),
        (_row("bbb", [OLD, SITE], "0.68.0"), "0.68.0", (OLD,)),  # searched in 0.68.0, latest gold left out
        (_row("ccc", [SITE, OLD]), "0.68.0", (OLD,)),  # no fastapi_version: the permalinks decide
        (_row("ddd", [SITE], "0.68.0"), LATEST, (SITE,)),  # gold only on the site: latest
        (
            _row("eee", ["https://github.com/fastapi/fastapi/blob/0.1.0/x.md#a"]),
            LATEST,
            ("https://github.com/fastapi/fastapi/blob/0.1.0/x.md#a",),
        ),
    ],
)
def test_targets_pick_the_version_the_gold_lives_in(row: GoldQuestion, version: str, gold: tuple[str, ...]) -> None:
    (t,) = targets([row], KNOWN, LATEST)
    assert (t.version, t.gold) == (version, gold)


def test_targets_skip_refusals_and_rows_without_gold() -> None:
    assert targets([_row("fff", [], refusal=True)], KNOWN, LATEST) == []


def test_score_row_page_and_section_levels() -> None:
    m = score_row([SITE, "https://x/b/#c"], ["https://fastapi.tiangolo.com/advanced/events/#other", SITE])
    assert m["page R@1"] == 0.5 and m["page Hit@1"] == 1.0
    assert m["section R@1"] == 0.0 and m["section R@5"] == 0.5 and m["section MRR@10"] == 0.5


class _Fixed:
    name = "fixed"

    def search(self, query: str, k: int = 10, version: str | None = None) -> list[Passage]:
        return [Passage(chunk_id="c", url=SITE, text="t", version=version or LATEST)]


def test_evaluate_one_row_per_backend_and_split() -> None:
    split_targets = {"dev": targets([_row("aaa", [SITE])], KNOWN, LATEST), "test": []}
    df = evaluate({"fixed": _Fixed()}, split_targets)
    assert list(df["split"]) == ["dev", "test"]
    assert df.iloc[0]["section R@1"] == 1.0 and df.iloc[0]["n"] == 1


class _Nothing:
    name = "nothing"

    def search(self, query: str, k: int = 10, version: str | None = None) -> list[Passage]:
        return []


def test_per_type_breakdown_has_one_row_per_type_and_a_column_per_backend() -> None:
    rows = [_row("aaa", [SITE]), _row("bbb", [SITE]), _row("ccc", [OLD], "0.68.0")]
    per_row: list[dict[str, object]] = []
    evaluate({"fixed": _Fixed(), "nothing": _Nothing()}, {"dev": targets(rows, KNOWN, LATEST)}, per_row=per_row)
    assert len(per_row) == 6 and {r["type"] for r in per_row} == {"howto", "version"}
    table = by_type(per_row, "dev", ["page Hit@1", "section R@5"]).set_index("type")
    assert list(table.columns) == ["n", "fixed", "nothing"]
    assert table.loc["howto", "n"] == 2 and table.loc["version", "n"] == 1
    # _Fixed always answers SITE: right for the how-to rows, wrong page for the 0.68.0 one
    assert table.loc["howto", "fixed"] == "1.00 / 1.00" and table.loc["version", "fixed"] == "0.00 / 0.00"
    assert table.loc["howto", "nothing"] == "0.00 / 0.00"
    assert by_type(per_row, "test", ["page Hit@1"]).empty


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1.0, 2.0, 3.0, 4.0], 50, 2.0),
        ([1.0, 2.0, 3.0, 4.0], 95, 4.0),
        (list(map(float, range(1, 101))), 95, 95.0),
        ([5.0], 95, 5.0),
    ],
)
def test_percentile_nearest_rank(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == expected


def test_ceiling_caps_recall_at_1_for_rows_with_several_gold_items() -> None:
    two_pages = _row("aaa", [SITE, "https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware"])
    one = _row("bbb", [SITE])
    df = ceiling({"dev": targets([two_pages, one], KNOWN, LATEST)})
    row = df.iloc[0]
    assert row["backend"] == CEILING and row["n"] == 2
    assert row["page R@1"] == 0.75  # (1/2 + 1) / 2: one slot cannot hold two gold pages
    assert row["page Hit@1"] == 1.0 and row["page R@5"] == 1.0 and row["section R@5"] == 1.0


def test_fda_eval_and_the_bench_score_retrieval_with_one_definition() -> None:
    """eval/scoring.py's retrieval metrics are the bench's score_row on the same gold list, renamed."""
    from eval.retrieval_quality import EVAL_NAMES, gold_for
    from eval.scoring import RETRIEVAL_METRICS, retrieval_scores
    from tests.eval.conftest import gq

    old = "https://github.com/fastapi/fastapi/blob/0.100.0/docs/en/docs/tutorial/cors.md#use-corsmiddleware"
    new = "https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware"
    row = gq("qq1", gold_sections=[new, old])
    ranked_old = [old.replace("#use-corsmiddleware", "#cors"), old]
    ranked_new = ["https://fastapi.tiangolo.com/tutorial/middleware/#x", new]
    for ranked in (ranked_old, ranked_new, []):
        bench = score_row(gold_for(row.gold_sections, ranked), ranked)
        assert retrieval_scores(row, ranked) == {EVAL_NAMES[k]: v for k, v in bench.items() if k in EVAL_NAMES}
    assert gold_for(row.gold_sections, ranked_old) == (old,)  # only the version searched counts
    assert retrieval_scores(row, ranked_old)["recall_at_5_section"] == 1.0
    refusal = gq("qq2", type="adversarial", gold_sections=[new], expect_refusal=True)
    assert retrieval_scores(refusal, ranked_new) == dict.fromkeys(RETRIEVAL_METRICS)


def test_the_target_version_policy_asks_where_the_gold_lives() -> None:
    from eval.session import version_policy
    from tests.eval.conftest import gq

    old = "https://github.com/fastapi/fastapi/blob/0.100.0/docs/en/docs/tutorial/cors.md#cors"
    policy = version_policy("target", ["0.100.0", "0.141.1"], "0.141.1")
    assert policy(gq("qa1", gold_sections=[old])) == "0.100.0"
    assert policy(gq("qb1", gold_sections=["https://fastapi.tiangolo.com/tutorial/cors/#cors"])) is None  # latest
    assert policy(gq("qc1", type="out_of_scope", gold_sections=[], expect_refusal=True)) is None
