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
from ops.bench.lm_levers import cache_path
from ops.bench.retrieval_rewrite import STRATEGIES, Strategy


def hyde_cache_file(cache_dir: Path, model: str) -> Path:
    from signatures.hyde import HypotheticalPassage

    return cache_path(cache_dir, model, [HypotheticalPassage.__doc__, repr(HypotheticalPassage.fields)], "-hyde")


def non_blank(ask: Callable[[str], Sequence[str]]) -> Callable[[str], list[str]]:
    """``ask`` with empty outputs dropped (a blank query would be searched as nothing); for
    ``ops.bench.retrieval_rewrite.rewrite_all``, which caches the outputs and counts failed calls."""
    return lambda q: [x for x in ask(q) if x.strip()]


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
