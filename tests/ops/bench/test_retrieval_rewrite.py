"""ops/bench/retrieval_rewrite.py: the router is asked once per question (cached, resumable, failures not kept),
each strategy is a retriever the quality bench can score, and the CLI never measures on test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.gold import Category, GoldQuestion, QType
from eval.retrieval_quality import Target, evaluate
from ops.bench.retrieval_rewrite import STRATEGIES, Rewritten, cache_file, rewrite_all
from tests.programs.test_answering import ByQuery

BASE = "https://fastapi.tiangolo.com/x/#"


def target(question: str, gold: str) -> Target:
    q = GoldQuestion(
        id="q-" + gold.rsplit("#", 1)[1],
        question=question,
        category=Category.security,
        type=QType.howto,
        gold_sections=[gold],
    )
    return Target(q, "1", (gold,))


ROWS = [target("How do I enable CORS?", f"{BASE}use"), target("¿Cómo subo un archivo con FastAPI?", f"{BASE}files")]


def test_the_router_is_asked_once_and_an_interrupted_run_resumes(tmp_path: Path) -> None:
    cache = tmp_path / "rewrites" / "m.json"
    asked: list[str] = []

    def router(q: str) -> list[str]:
        asked.append(q)
        if q.startswith("¿"):
            raise TimeoutError("LM timed out")
        return [q, "CORSMiddleware", "CORSMiddleware"]

    ticks: list[int] = []
    got, failed = rewrite_all(ROWS, router, cache, lambda: ticks.append(1))
    assert failed == 1 and len(ticks) == 2
    assert got["How do I enable CORS?"] == ["How do I enable CORS?", "CORSMiddleware"]  # question first, no repeats
    assert got[ROWS[1].question.question] == [ROWS[1].question.question]  # the failure: searched alone ...
    assert list(json.loads(cache.read_text())) == ["How do I enable CORS?"]  # ... and not cached

    again, failed = rewrite_all(ROWS, lambda q: [q, "UploadFile"], cache)
    assert failed == 0 and asked == ["How do I enable CORS?", ROWS[1].question.question]  # CORS not asked twice
    assert again[ROWS[1].question.question][1:] == ["UploadFile"]
    assert not list(cache.parent.glob("*.tmp"))


def test_the_cache_is_named_by_model_and_router_prompt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = cache_file(tmp_path, "local:qwen2.5-coder-1.5b"), cache_file(tmp_path, "openai/gpt-4o-mini")
    assert a != b and a.parent == tmp_path and "/" not in a.name and ":" not in a.name
    from signatures.rewrite import RewriteQuery

    monkeypatch.setattr(RewriteQuery, "__doc__", "another prompt")
    assert cache_file(tmp_path, "local:qwen2.5-coder-1.5b") != a


def test_each_strategy_is_scored_like_a_backend() -> None:
    cors, files = ROWS[0].question.question, ROWS[1].question.question
    inner = ByQuery(
        {
            cors: ["intro", "use"],
            "CORSMiddleware": ["use", "intro"],
            files: ["junk"],
            "UploadFile": ["files"],
        }
    )
    queries = {cors: [cors, "CORSMiddleware"], files: [files, "UploadFile"]}
    variants = {name: Rewritten(inner, queries, strategy, name) for name, strategy in STRATEGIES.items()}
    df = evaluate(variants, {"dev": ROWS}).set_index("backend")
    # the question alone misses the Spanish row and ranks the intro first for CORS ...
    assert df.loc["question", "section R@1"] == 0.0
    # ... the programs keep the question's top results for English and translate the rest
    assert df.loc["programs (top 5 + rrf)", "section R@1"] == 0.5
    assert df.loc["programs (top 5 + rrf)", "section R@5"] == 1.0


@pytest.mark.parametrize("args", [["--split", "test"], ["--split", "dev", "--split", "test"]])
def test_the_cli_never_measures_on_test(args: list[str]) -> None:
    from typer.testing import CliRunner

    from fda.cli.app import app

    result = CliRunner().invoke(app, ["bench", "retrieval-rewrite", *args])
    assert result.exit_code == 2 and "test is for reports" in result.output
