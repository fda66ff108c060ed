"""ops/bench/retrieval_rerank.py: the LM is asked once per question and candidate list (cached, failures not kept),
and the re-ordered retriever is scored like any backend."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from eval.retrieval_quality import evaluate
from fda.types import Passage
from ops.bench.retrieval_rerank import Reranked, cache_file, cache_key
from tests.ops.bench.test_retrieval_rewrite import BASE, ROWS, target
from tests.programs.test_answering import ByQuery

CORS = "How do I enable CORS?"
INNER = {CORS: ["intro", "use", "other"], ROWS[1].question.question: ["junk", "files"]}


def test_picks_are_cached_and_failures_retried(tmp_path: Path) -> None:
    cache = tmp_path / "rerank" / "m.json"
    asked: list[str] = []

    def pick(q: str, shown: Sequence[Passage]) -> list[object]:
        asked.append(q)
        if q.startswith("¿"):
            raise TimeoutError("LM timed out")
        return [2]

    r = Reranked(ByQuery(INNER), pick, cache, top=3)
    assert [p.chunk_id for p in r.search(CORS, k=2)] == ["use", "intro"]
    assert [p.chunk_id for p in r.search(ROWS[1].question.question)] == ["junk", "files"]  # failed: order kept
    assert r.failed == 1 and len(json.loads(cache.read_text())) == 1

    again = Reranked(ByQuery(INNER), pick, cache, top=3)
    assert [p.chunk_id for p in again.search(CORS)] == ["use", "intro", "other"]
    again.search(ROWS[1].question.question)
    assert asked == [CORS, ROWS[1].question.question, ROWS[1].question.question]  # CORS asked once
    assert not list(cache.parent.glob("*.tmp"))


def test_the_reranked_retriever_is_scored_like_a_backend(tmp_path: Path) -> None:
    rows = [target(CORS, f"{BASE}use"), target(ROWS[1].question.question, f"{BASE}files")]
    variants = {
        "as is": ByQuery(INNER),
        "reranked": Reranked(ByQuery(INNER), lambda q, shown: [len(shown)], tmp_path / "c.json", top=3),
    }
    df = evaluate(variants, {"dev": rows}).set_index("backend")
    assert df.loc["as is", "section R@1"] == 0.0
    assert df.loc["reranked", "section R@1"] == 0.5  # "files" (2 of 2) lifted, "other" (3 of 3) is not gold


def test_the_cache_is_named_by_model_top_and_prompt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = cache_file(tmp_path, "local:qwen2.5-coder-1.5b", 8)
    assert a != cache_file(tmp_path, "local:qwen2.5-coder-1.5b", 5) != cache_file(tmp_path, "openai/x", 8)
    assert ":" not in a.name and "/" not in a.name
    from signatures.rerank import RerankSections

    monkeypatch.setattr(RerankSections, "__doc__", "another prompt")
    assert cache_file(tmp_path, "local:qwen2.5-coder-1.5b", 8) != a


@pytest.mark.parametrize("args", [["--split", "test"], ["--split", "dev", "--split", "test"]])
def test_the_cli_never_measures_on_test(args: list[str]) -> None:
    from typer.testing import CliRunner

    from fda.cli.app import app

    result = CliRunner().invoke(app, ["bench", "retrieval-rerank", *args])
    assert result.exit_code == 2 and "test is for reports" in result.output


def test_the_cli_refuses_one_section() -> None:
    from typer.testing import CliRunner

    from fda.cli.app import app

    result = CliRunner().invoke(app, ["bench", "retrieval-rerank", "--top", "1"])
    assert result.exit_code == 2 and "--top" in result.output


def test_the_pick_cache_is_keyed_by_what_the_lm_was_shown() -> None:
    shown = ByQuery(INNER).search(CORS)
    edited = [shown[0].model_copy(update={"text": "the section was edited"}), *shown[1:]]
    assert cache_key(CORS, shown) == cache_key(CORS, list(shown))
    assert cache_key(CORS, shown) != cache_key(CORS, edited)  # same sections, new text: asked again
    assert cache_key(CORS, shown) != cache_key(CORS, shown[::-1])
    assert cache_key(CORS, shown) != cache_key(CORS + "?", shown)
