"""The query-rewriting study of docs/research/: the question alone, the router's LM rewrites, a HyDE passage,
and multi-query fusion, each searched with the served ``fused`` retriever on gold v2 dev-select.

    python -m experiments.research rewrite     # one LM call per question and method, cached (resumable)

Rewrites come from the programs' own router (programs/rewriter.py, signatures/rewrite.py: 1-3 queries); the
HyDE passage from signatures/hyde.py. Strategies over the same cached LM outputs:

- ``question``: no rewriting (the served default for the embedded models, ``answer.rewrite=auto``);
- ``rewrites, rrf``: the question's and every rewrite's lists fused as equals (multi-query fusion);
- ``question top 5 + rewrites``: what the programs do when rewriting is on (``retrieve_all``);
- ``hyde``: the hypothetical passage searched alone;
- ``question + hyde, rrf``: the question's list and the passage's fused;
- ``question top 5 + hyde``.

The LM runs at temperature 0 (greedy), so one run is the configuration's only outcome: no seeds to vary.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from eval.retrieval_quality import Target
from fda.types import Passage
from index.retrieval.base import Retriever
from ops.bench.lm_levers import cache_path, load_cache, save_cache
from ops.bench.retrieval_rewrite import STRATEGIES, Strategy


def hyde_cache_file(cache_dir: Path, model: str) -> Path:
    from signatures.hyde import HypotheticalPassage

    return cache_path(cache_dir, model, [HypotheticalPassage.__doc__, repr(HypotheticalPassage.fields)], "-hyde")


def ask_all(
    rows: Sequence[Target], ask: Callable[[str], Sequence[str]], cache: Path, progress: Callable[[], None] | None = None
) -> tuple[dict[str, list[str]], int]:
    """[question, *LM outputs] per row, cached after each answer (an interrupted run resumes); a failed call keeps
    the question alone, uncached. Returns the map and the number of failures."""
    done: dict[str, list[str]] = load_cache(cache)
    out: dict[str, list[str]] = {}
    failed = 0
    for t in rows:
        q = t.question.question
        if q not in done:
            try:
                done[q] = list(dict.fromkeys([q, *[x for x in ask(q) if x.strip()]]))
                save_cache(cache, done)
            except Exception:
                failed += 1
        out[q] = done.get(q, [q])
        if progress is not None:
            progress()
    return out, failed


STUDY: dict[str, tuple[str, Strategy]] = {
    "question": ("rewrites", STRATEGIES["question"]),
    "rewrites, rrf": ("rewrites", STRATEGIES["rrf, every list"]),
    "question top 5 + rewrites": ("rewrites", STRATEGIES["programs (top 5 + rrf)"]),
    "hyde": ("hyde", lambda r, qs, k, v: r.search(qs[-1], k=k, version=v)),
    "question + hyde, rrf": ("hyde", STRATEGIES["rrf, every list"]),
    "question top 5 + hyde": ("hyde", STRATEGIES["programs (top 5 + rrf)"]),
}


def search_all(
    retriever: Retriever, queries: dict[str, dict[str, list[str]]], rows: Sequence[Target], k: int = 50
) -> dict[str, list[list[Passage]]]:
    """Each strategy's ranked list for every row (``queries[source][question]``: [question, *outputs])."""
    out: dict[str, list[list[Passage]]] = {}
    for name, (source, strategy) in STUDY.items():
        out[name] = [
            strategy(retriever, queries[source].get(t.question.question) or [t.question.question], k, t.version)
            for t in rows
        ]
    return out
