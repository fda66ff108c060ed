"""``fda bench retrieval-rewrite``: does LM query rewriting help retrieval? One lever, measured on train/dev.

    fda bench retrieval-rewrite --model local:qwen2.5-coder-1.5b      # train + dev, the fused backend
    fda bench retrieval-rewrite --model openai/gpt-4o-mini --split dev -b bm25

The programs' router (programs/rewriter.py, signatures/rewrite.py) turns a question into 1-3 search queries
in the docs' words; the programs then search the question *and* each query and combine the lists
(``programs.answering.retrieve_all``). This bench asks the router once per gold
question (cached under ``state/cache/rewrites/``, keyed by the model and the router's prompt), then scores the
same retriever several ways with the retrieval-quality metrics (eval/retrieval_quality.py):

- ``question``: the question alone (what the embedded models do with ``answer.rewrite=auto``);
- ``rrf, every list``: the question's and every query's lists fused as equals (the programs until session 4);
- ``question top N + rrf``: the question's own top N kept first, the fused list after it; the programs
  now do this with N = 5, and search only the rewrites for a question not in English;
- ``one expanded query``: a single search for the question followed by the queries.

Test is never used here: this measures a choice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from eval.retrieval_quality import Target
from fda.types import Passage
from index.retrieval.base import Retriever
from ops.bench.lm_levers import cache_path, load_cache, save_cache

Queries = Mapping[str, Sequence[str]]  # question -> [question, *rewrites] (the router's output)
Strategy = Callable[[Retriever, Sequence[str], int, "str | None"], list[Passage]]


def _question(r: Retriever, queries: Sequence[str], k: int, version: str | None) -> list[Passage]:
    return r.search(queries[0], k=k, version=version)


def _programs(r: Retriever, queries: Sequence[str], k: int, version: str | None) -> list[Passage]:
    from programs.answering import retrieve_all

    return retrieve_all(r, queries, k, version)


def _rrf_all(r: Retriever, queries: Sequence[str], k: int, version: str | None) -> list[Passage]:
    from programs.fusion import rrf

    return rrf([r.search(q, k=k, version=version) for q in queries], limit=k)


def _head_then_rrf(n: int) -> Strategy:
    def strategy(r: Retriever, queries: Sequence[str], k: int, version: str | None) -> list[Passage]:
        from programs.answering import retrieve_all

        return retrieve_all(r, queries, k, version, question_first=n)

    return strategy


def _expanded(r: Retriever, queries: Sequence[str], k: int, version: str | None) -> list[Passage]:
    return r.search(" ".join(dict.fromkeys(queries)), k=k, version=version)


STRATEGIES: dict[str, Strategy] = {
    "question": _question,
    "rrf, every list": _rrf_all,
    "question top 1 + rrf": _head_then_rrf(1),
    "question top 3 + rrf": _head_then_rrf(3),
    "programs (top 5 + rrf)": _programs,
    "one expanded query": _expanded,
}
SHOWN = ["page R@1", "page R@5", "page R@10", "section R@1", "section R@5", "section R@10", "page Hit@1"]


@dataclass
class Rewritten:
    """A ``Retriever`` that searches each question through ``strategy`` with its precomputed queries, so
    ``eval.retrieval_quality.evaluate`` scores it like any backend."""

    inner: Retriever
    queries: Queries
    strategy: Strategy
    name: str = "rewritten"

    def search(self, query: str, k: int = 10, version: str | None = None) -> list[Passage]:
        return self.strategy(self.inner, list(self.queries.get(query) or [query]), k, version)


def cache_file(cache_dir: Path, model: str) -> Path:
    """One JSON file per model and router prompt: a changed signature or its examples asks again."""
    from signatures.rewrite import SEED_EXAMPLES, RewriteQuery

    return cache_path(cache_dir, model, [RewriteQuery.__doc__, repr(RewriteQuery.fields), SEED_EXAMPLES])


def rewrite_all(
    rows: Sequence[Target],
    rewrite: Callable[[str], Sequence[str]],
    cache: Path,
    progress: Callable[[], None] | None = None,
) -> tuple[dict[str, list[str]], int]:
    """[question, *queries] for each row's question, asked once and kept in ``cache`` (written after each
    answer, so an interrupted run resumes). A failed call keeps the question alone and is not cached.
    Returns the map and how many calls failed."""
    done: dict[str, list[str]] = load_cache(cache)
    out: dict[str, list[str]] = {}
    failed = 0
    for t in rows:
        q = t.question.question
        if q not in done:
            try:
                done[q] = list(dict.fromkeys([q, *rewrite(q)]))
            except Exception:
                failed += 1
                out[q] = [q]
                if progress is not None:
                    progress()
                continue
            save_cache(cache, done)
        out[q] = done[q]
        if progress is not None:
            progress()
    return out, failed
