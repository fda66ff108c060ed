"""``fda bench retrieval-ablation``: what each retrieval lever is worth, on the gold dev split only.

    fda bench retrieval-ablation                 # dev; the table in docs/results/retrieval-quality.md
    fda bench retrieval-ablation --split train   # a second look that tuning never used either

Every variant shares one loaded BM25, dense and ColBERT index and gets the same wrappers as the service
(version fallback to BM25, release notes last, section folding) unless the variant drops one. Rows:
the old default (``hybrid``) and ``rerank``, then the ``fused`` backend built up one lever at a time,
then the final ``fused`` with one lever removed at a time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fda.settings import RetrievalSettings
from index.retrieval.base import Retriever
from index.retrieval.bm25 import BM25Retriever
from index.retrieval.hybrid import RRFRetriever
from index.retrieval.layout import Paths
from index.retrieval.rerank import RerankRetriever
from index.retrieval.wrappers import ReleaseNotesLast, SectionFolding, VersionFallback

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Variant:
    name: str
    lever: str  # what this row changes, for the table
    weights: tuple[float, ...] | None = None  # index.retrieval.fused.SIGNALS order; None: not a fused variant
    page_weight: float = 0.0
    clean_query: bool = False
    fold: bool = True
    release_last: bool = True


Q = 0.0  # the questions signal's weight in the default: measured, no gain beyond noise (docs/retrieval.md)
Q_TRIED = 0.5  # its best weight on train (ops/bench/retrieval_tune.py), shown as a row of its own
FINAL = (1.0, 1.0, 1.0, 0.5, Q)
VARIANTS: tuple[Variant, ...] = (
    Variant("fused: z-sum bm25+dense+colbert", "z-scored sum over bm25+dense top 50", (1, 1, 1, 0, 0)),
    Variant("  + page boost", "each chunk + best score of its page", (1, 1, 1, 0, 0), 1.0),
    Variant("  + heading similarity", "cosine of query and heading path, weight 0.5", (1, 1, 1, 0.5, 0), 1.0),
    Variant("  + URLs stripped = fused", "query without URLs (the default)", FINAL, 1.0, True),
    Variant(
        "fused + generated questions",
        f"best cosine of query and its section's generated questions, weight {Q_TRIED:g} (not in the default)",
        (1.0, 1.0, 1.0, 0.5, Q_TRIED),
        1.0,
        True,
    ),
    Variant("fused - colbert", "drop ColBERT MaxSim", (1, 1, 0, 0.5, Q), 1.0, True),
    Variant("fused - dense", "drop dense cosine", (1, 0, 1, 0.5, Q), 1.0, True),
    Variant("fused - bm25", "drop BM25", (0, 1, 1, 0.5, Q), 1.0, True),
    Variant("fused - headings", "drop heading similarity", (1, 1, 1, 0, Q), 1.0, True),
    Variant("fused - section folding", "chunks, not sections, fill the top k", FINAL, 1.0, True, fold=False),
    Variant("fused - release notes last", "release notes ranked like docs", FINAL, 1.0, True, release_last=False),
)


def open_variants(rs: RetrievalSettings, paths: Paths) -> dict[str, Retriever]:
    """Every ablation row as a ready retriever (the indexes open once and are shared)."""
    from index.retrieval.colbert import ColBERTRetriever
    from index.retrieval.dense import DenseRetriever
    from index.retrieval.factory import Opener, question_vectors
    from index.retrieval.fused import FusedRetriever, HeadingVectors

    opener = Opener(rs, paths)  # the service's own settings (ONNX, int8 queries, PLAID search)
    bm25, dense, colbert = opener.get("bm25"), opener.get("dense"), opener.get("colbert")
    assert isinstance(bm25, BM25Retriever) and isinstance(dense, DenseRetriever)
    assert isinstance(colbert, ColBERTRetriever)
    cache = paths.models_dir.parent / "cache"
    headings = HeadingVectors(dense.encoder, cache / "headings", dense.folder.name)
    questions = question_vectors(paths.questions_file, dense, cache / "questions")

    def wrap(inner: Retriever, fold: bool = True, release_last: bool = True) -> Retriever:
        out: Retriever = VersionFallback(inner, lambda: bm25)
        if release_last:
            out = ReleaseNotesLast(out)
        return SectionFolding(out) if fold else out

    out: dict[str, Retriever] = {
        "bm25": wrap(bm25),
        "hybrid (RRF bm25+dense+colbert)": wrap(RRFRetriever([bm25, dense, colbert], depth=rs.depth)),
        "rerank (bm25+dense top 50, MaxSim)": wrap(RerankRetriever([bm25, dense], colbert, depth=rs.depth)),
    }
    for v in VARIANTS:
        assert v.weights is not None
        if questions is None and len(v.weights) > 4 and v.weights[4]:
            log.warning("no generated questions: the ablation row %r is left out", v.name)
            continue
        fused = FusedRetriever(
            bm25,
            dense,
            colbert,
            headings,
            v.weights,
            page_weight=v.page_weight,
            depth=rs.depth,
            clean_query=v.clean_query,
            questions=questions,
        )
        out[v.name] = wrap(fused, v.fold, v.release_last)
    return out


def levers() -> dict[str, str]:
    """Row name -> what the row changes."""
    return {
        "bm25": "baseline",
        "hybrid (RRF bm25+dense+colbert)": "the first session's default",
        "rerank (bm25+dense top 50, MaxSim)": "candidates re-scored by ColBERT alone",
        **{v.name: v.lever for v in VARIANTS},
    }
