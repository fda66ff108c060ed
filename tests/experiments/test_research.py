"""experiments/research/: the study's pure parts on hand-made rows (re-ranking candidates and their tuning,
cache replays, the judge-bias tables, cached LM outputs, the paired table)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eval.gold import Category, GoldQuestion, QType
from eval.retrieval_quality import Target
from experiments.research import caching, judge, rerank, rewrite
from experiments.research.tables import paired_table
from index.retrieval.fused import Pool
from index.retrieval.passages import Chunk

LATEST = "0.141.1"
SITE = "https://fastapi.tiangolo.com"


def chunk(path: str, anchor: str, title: str) -> Chunk:
    url = f"{SITE}/{path}/#{anchor}"
    return Chunk(f"{path}-{anchor}", f"{path}-{anchor}", url, (title, anchor), "text", LATEST, "docs")


# a how-to page that uses the feature on the way (BM25 and dense like it), and the tutorial about it
CHUNKS = [
    chunk("how-to/conditional-openapi", "use", "Conditional OpenAPI"),
    chunk("tutorial/cors", "use-corsmiddleware", "CORS (Cross-Origin Resource Sharing)"),
    chunk("deployment/docker", "build", "FastAPI in Containers - Docker"),
]
SIGNALS = np.array([[3.0, 0.9, 0.5, 0.1, 0.0], [2.0, 0.8, 0.6, 0.2, 0.0], [0.5, 0.1, 0.1, 0.0, 0.0]])


def make_row(
    gold: str = f"{SITE}/tutorial/cors/#use-corsmiddleware", qid: str = "q-cors", user: bool = False
) -> rerank.Row:
    source = {"kind": "user", "url": "https://stackoverflow.com/q/1"} if user else {"kind": "written"}
    q = GoldQuestion.model_validate(
        {
            "id": qid,
            "question": "cors error from my react app",
            "category": Category.security.value,
            "type": QType.howto.value,
            "gold_sections": [gold],
            "source": source,
        }
    )
    pool = Pool(list(CHUNKS), SIGNALS.copy())
    return rerank.Row(
        target=Target(q, LATEST, (gold,)),
        pool=pool,
        versions_asked=False,
        title_cos=np.array([0.1, 0.6, 0.0]),
        title_words=np.array([0.0, 1.0, 0.0]),
        kinds=[rerank.page_kind(c.url) for c in CHUNKS],
    )


def test_page_kinds_and_title_words() -> None:
    assert [rerank.page_kind(c.url) for c in CHUNKS] == ["how-to", "tutorial", "deployment"]
    assert rerank.page_kind(f"{SITE}/async/#in-a-hurry") == "learn" and rerank.page_kind(f"{SITE}/#fastapi") == "learn"
    assert rerank.title_overlap(rerank.words("how do lifespan events work"), "Lifespan Events") == 1.0
    assert rerank.title_overlap(rerank.words("run code at startup"), "Lifespan Events") == 0.0
    assert rerank.title_overlap(set(), "") == 0.0


def test_served_fused_ranks_the_how_to_first_and_each_lever_can_move_the_tutorial_up() -> None:
    row = make_row()
    served = rerank.Candidate("fused (served)")
    assert rerank.ranked_urls(row, served)[0].startswith(f"{SITE}/how-to/")
    assert "/tutorial/cors/" in rerank.ranked_urls(row, rerank.Candidate("t", title_words=2.0))[0]
    assert "/tutorial/cors/" in rerank.ranked_urls(row, rerank.Candidate("k", kind_prior={"how-to": -2.0}))[0]
    only_bm25_top = rerank.Candidate("b", weights=(0.0, 0.0, 1.0, 0.0, 0.0), page_weight=0.0, bm25_only=True)
    assert "/tutorial/cors/" in rerank.ranked_urls(row, only_bm25_top)[0]  # ColBERT's pick among BM25's


def test_miss_anatomy_names_the_kind_put_first() -> None:
    rows = [make_row(qid="q-a"), make_row(gold=f"{SITE}/how-to/conditional-openapi/#use", qid="q-b")]
    assert rerank.miss_kinds(rows, rerank.SERVED) == [{"top page": "how-to", "gold pages": "tutorial", "misses": 1}]


def test_tuning_on_train_finds_a_lever_that_helps_and_keeps_none_that_does_not() -> None:
    rows = [make_row(qid=f"q-{i}") for i in range(4)]
    served = rerank.Candidate("fused (served)")
    assert rerank.objective(rows, served) < 1.0
    kind = rerank.tune_kinds(rows, served)
    assert kind.kind_prior["how-to"] < 0 and rerank.objective(rows, kind) > rerank.objective(rows, served)
    # gold on the how-to page: the served order is already right, so no title weight is chosen
    right = [make_row(gold=f"{SITE}/how-to/conditional-openapi/#use", qid=f"r-{i}") for i in range(3)]
    assert rerank.tune_title(right, served) == served


def test_the_cross_encoder_reorders_only_the_chunks_it_scored() -> None:
    row = make_row()
    rerank.add_cross_encoder(
        [row], lambda q, ps: np.array([float("tutorial" in p.lower() or "cors" in p.lower()) for p in ps])
    )
    assert row.ce is not None and not np.isnan(row.ce).any()  # 3 chunks: all within the top CE_TOP
    assert "/tutorial/cors/" in rerank.ranked_urls(row, rerank.Candidate("ce", cross_encoder=4.0))[0]
    assert rerank.tune_cross_encoder([row]).cross_encoder > 0


def test_paired_table_reports_the_user_subset_and_zero_against_itself() -> None:
    scores = {
        "a": [{k: 1.0 for k in ("page Hit@1", "page R@1", "page R@5", "section R@5", "section nDCG@10")}] * 2,
        "b": [{k: 0.0 for k in ("page Hit@1", "page R@1", "page R@5", "section R@5", "section nDCG@10")}] * 2,
    }
    table = paired_table(scores, ["g1", "g2"], [True, False], "a")
    a_all = next(r for r in table if r["method"] == "a" and r["subset"] == "all")
    b_user = next(r for r in table if r["method"] == "b" and r["subset"] == "user")
    assert a_all["page Hit@1 vs a"] == (0.0, 0.0, 0.0) and b_user["n"] == 1 and b_user["page Hit@1 vs a"][0] == -1.0


def test_scored_methods_pairs_each_method_with_the_reference_per_question() -> None:
    from experiments.research.tables import scored_methods

    rows = [make_row(qid="q-a").target, make_row(qid="q-b", user=True).target]
    tutorial, how_to = CHUNKS[1].passage(1.0), CHUNKS[0].passage(1.0)
    ranked = {"served": [[how_to, tutorial]] * 2, "better": [[tutorial, how_to]] * 2}
    table, per_q = scored_methods(rows, ranked, "served", lambda m, t: {"seen": m})
    better = next(r for r in table if r["method"] == "better" and r["subset"] == "all")
    assert better["page Hit@1"] == 1.0 and better["page Hit@1 vs served"][0] == 1.0
    assert next(r for r in table if r["method"] == "better" and r["subset"] == "user")["n"] == 1
    assert [(r["method"], r["id"], r["user"], r["seen"]) for r in per_q] == [
        ("served", "q-a", False, "served"),
        ("served", "q-b", True, "served"),
        ("better", "q-a", False, "better"),
        ("better", "q-b", True, "better"),
    ]
    assert per_q[0]["page Hit@1"] == 0.0 and per_q[2]["page Hit@1"] == 1.0


def test_cache_verdicts_and_replays() -> None:
    q = caching.Query
    cors, cors2 = (
        q("How do I enable CORS?", frozenset({f"{SITE}/tutorial/cors/#use"})),
        q("how do i enable cors", frozenset({f"{SITE}/tutorial/cors/#x"})),
    )
    sibling = q("CORS wildcard origins?", frozenset({f"{SITE}/tutorial/cors/#wildcard"}))
    other = q("How do I enable CORS?!", frozenset({f"{SITE}/advanced/middleware/#x"}))
    assert caching.verdict(cors, cors2) == "same" and caching.verdict(sibling, cors) == "near"
    assert caching.verdict(q("a b", frozenset({"u"}), "0.68.0"), q("a c", frozenset({"u"}))) == "wrong"
    log = [cors, cors2, other]
    assert sum(caching.replay_keyed(log, caching.key_exact, 0).values()) == 0
    assert sum(caching.replay_keyed(log, caching.key_normalized, 0).values()) == 1
    assert sum(caching.replay_keyed(log, caching.key_words, 0).values()) == 2
    vectors = np.array([[1.0, 0.0], [1.0, 0.0], [0.6, 0.8]])
    assert sum(caching.replay_semantic(log, vectors, 0.99, 0).values()) == 1
    assert sum(caching.replay_semantic(log, vectors, 0.5, 0).values()) == 2
    summary = caching.summarize(caching.study({"log": log}, lambda texts: vectors))
    words = next(r for r in summary if r["key"] == "words")
    assert words["hit rate"] == pytest.approx(2 / 3) and words["harmful share of hits"] == 0.0


def test_judge_bias_tables() -> None:
    rows: list[dict[str, Any]] = [
        {
            "chars": 100 * (i + 1),
            "judge": "correct",
            "labels": {"a": "wrong" if i < 3 else "correct", "b": "wrong" if i < 3 else "correct"},
            "judge_facts": ["stated", "absent"],
            "label_facts": {"a": ["absent", "absent"], "b": ["stated", "absent"]},
        }
        for i in range(6)
    ]
    bins = judge.length_bias(rows, bins=2)
    assert [b["judge - labellers"] for b in bins] == [1.0, 0.0]  # lenient on the short answers only
    got = judge.length_correlation(rows)
    assert got is not None and got["rho"] == pytest.approx(-0.878, abs=0.001) and 0 < got["p"] < 0.05
    pos = judge.position_bias(rows)
    assert pos[0]["judge: stated"] == 1.0 and pos[0]["labellers: stated"] == 0.5 and pos[1]["judge: stated"] == 0.0
    assert judge.length_bias([]) == [] and judge.length_correlation(rows[:2]) is None


def test_lm_outputs_are_cached_blank_ones_dropped_and_a_failure_is_asked_again(tmp_path: Path) -> None:
    from ops.bench.retrieval_rewrite import rewrite_all

    gold = f"{SITE}/tutorial/cors/#use-corsmiddleware"
    rows = [make_row(qid="q-a").target, make_row(qid="q-b").target]
    rows[1] = Target(rows[1].question.model_copy(update={"question": "second"}), LATEST, (gold,))
    calls: list[str] = []

    def ask(q: str) -> list[str]:
        calls.append(q)
        if q == "second":
            raise TimeoutError("LM timed out")
        return ["CORSMiddleware", " "]

    cache = tmp_path / "c.json"
    got, failed = rewrite_all(rows, rewrite.non_blank(ask), cache)
    assert failed == 1 and got["second"] == ["second"] and got[rows[0].question.question][1:] == ["CORSMiddleware"]
    assert "second" not in json.loads(cache.read_text())
    calls.clear()
    rewrite_all(rows, rewrite.non_blank(ask), cache)
    assert calls == ["second"]  # the cached answer is not asked again; the failed one is


def test_the_command_needs_a_purpose_to_read_test_and_turns_errors_into_a_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from experiments.research import __main__ as cli
    from fda.errors import IndexMissingError

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["confirm"])
    assert exit_info.value.code == 2 and "--purpose" in capsys.readouterr().err

    def missing() -> None:
        raise IndexMissingError("no dense index", hint="Run fda index.")

    monkeypatch.setitem(cli.PARTS, "judge", missing)
    assert cli.main(["judge"]) == 1
    err = capsys.readouterr().err
    assert "no dense index" in err and "Run fda index." in err
