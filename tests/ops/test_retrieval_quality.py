from __future__ import annotations

import pytest

from eval.gold import Category, GoldQuestion, QType
from fda.types import Passage
from ops.bench_retrieval import percentile
from ops.retrieval_quality import CEILING, ceiling, evaluate, score_row, targets, version_of

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
