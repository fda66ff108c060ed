"""ops/bench/retrieval_tune.py: re-ranking stored signals per weight setting, release notes last, the grid search."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from eval.gold import Category, GoldQuestion, QType
from eval.retrieval_quality import Target
from index.retrieval.fused import Pool, rank
from index.retrieval.passages import Chunk
from ops.bench.retrieval_tune import Collected, Setting, collect, grid, ranked, score, tune

LATEST = "0.141.1"
BASE = "https://fastapi.tiangolo.com"


def chunk(page: str, anchor: str, kind: str = "docs") -> Chunk:
    url = f"{BASE}/{page}/#{anchor}"
    return Chunk(f"{page}-{anchor}", f"{page}-{anchor}", url, (page, anchor), "text", LATEST, kind)


CHUNKS = [chunk("cors", "intro"), chunk("cors", "use"), chunk("middleware", "create"), chunk("release", "x", "release")]
# columns bm25, dense, colbert, headings, questions: bm25 likes middleware, dense and colbert like cors#use
SIGNALS = np.array(
    [
        [1.0, 0.2, 0.1, 0.0, 0.3],
        [0.5, 0.9, 0.9, 0.1, 0.8],
        [3.0, 0.1, 0.0, 0.0, 0.1],
        [2.0, 0.5, 0.5, 0.9, 0.0],
    ]
)


def row(gold: str, question: str = "How do I enable CORS?", version: str = LATEST) -> Collected:
    q = GoldQuestion(id="q-cors", question=question, category=Category.security, type=QType.howto, gold_sections=[gold])
    return Collected(Target(q, version, (gold,)), Pool(list(CHUNKS), SIGNALS.copy()), "version" in question)


def test_rank_follows_the_weights() -> None:
    pool = Pool(list(CHUNKS), SIGNALS.copy())
    assert rank(pool, (1, 0, 0, 0, 0), 0.0)[0].url.endswith("middleware/#create")
    assert rank(pool, (0, 1, 1, 0, 0), 0.0)[0].url.endswith("cors/#use")
    assert rank(Pool([], np.zeros((0, 5))), (1, 1, 1, 1, 1), 1.0) == []


def test_page_boost_lifts_the_sibling_section() -> None:
    pool = Pool(list(CHUNKS), SIGNALS.copy())
    without = [p.url for p in rank(pool, (0, 1, 1, 0, 0), 0.0)]
    boosted = [p.url for p in rank(pool, (0, 1, 1, 0, 0), 2.0)]
    assert boosted.index(f"{BASE}/cors/#intro") < without.index(f"{BASE}/cors/#intro")


def test_release_notes_go_last_unless_the_question_asks_about_versions() -> None:
    heading_only = Setting((0, 0, 0, 1, 0), 0.0)
    assert ranked(row(f"{BASE}/cors/#use"), heading_only)[-1].kind == "release"
    asks = row(f"{BASE}/cors/#use", question="Which version added CORS?")
    assert ranked(asks, heading_only)[0].kind == "release"


def test_the_questions_column_ranks_on_its_own() -> None:
    pool = Pool(list(CHUNKS), SIGNALS.copy())
    assert rank(pool, (0, 0, 0, 0, 1), 0.0)[0].url.endswith("cors/#use")


def test_score_and_tune_prefer_the_setting_that_ranks_gold_first() -> None:
    rows = [row(f"{BASE}/cors/#use")]
    good, bad = Setting((0, 1, 1, 0, 0), 0.0), Setting((1, 0, 0, 0, 0), 0.0)
    assert score(rows, good)["section R@1"] == 1.0 and score(rows, bad)["section R@1"] == 0.0
    df = tune(rows, [bad, good])
    assert df["_setting"][0] == good and df["objective"][0] == pytest.approx(1.0)


def test_grid_skips_all_zero_weights() -> None:
    settings = grid(bm25=(0, 1), dense=(0, 1), colbert=(0,), headings=(0,), questions=(0,), page=(0, 1))
    assert len(settings) == 6 and all(any(s.weights) for s in settings)
    assert len(grid()) == 4 * 5 * 5 * 4 * 4 * 5 - 5


class FakeFused:
    def __init__(self) -> None:
        self.asked: list[Any] = []

    def pool(self, query: str, version: str | None = None) -> Pool:
        self.asked.append((query, version))
        return Pool(list(CHUNKS), SIGNALS.copy())


def test_collect_keeps_the_rows_searched_in_the_latest_docs() -> None:
    fused = FakeFused()
    rows = [row(f"{BASE}/cors/#use").target, row(f"{BASE}/cors/#use", version="0.68.0").target]
    got = collect(fused, rows, LATEST)  # type: ignore[arg-type]
    assert len(got) == 1 and fused.asked == [("How do I enable CORS?", LATEST)]


@pytest.mark.parametrize("args", [["--tune", "test"], ["--check", "test"], ["--tune", "dev", "--check", "dev"]])
def test_the_cli_never_tunes_or_checks_on_test_nor_on_one_split_twice(args: list[str]) -> None:
    from typer.testing import CliRunner

    from fda.cli.app import app

    result = CliRunner().invoke(app, ["bench", "retrieval-tune", *args])
    assert result.exit_code == 2 and "two different splits of train and dev" in result.output
