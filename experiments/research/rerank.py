"""The re-ranking study of docs/research/: what puts the page *about* a topic first on real user questions.

    python -m experiments.research rerank            # part of `make research`

On real user questions the top result is often a page that uses the feature on the way to something else (a
how-to or deployment page) while the tutorial page about it ranks second or third. Candidates, each a re-ranking
of the same candidate pool (``FusedRetriever.pool``: BM25's top 50 and dense's top 50 with every raw signal):

- ``bm25`` and ``fused`` (the served default, "none" for the study): the baselines;
- ``colbert over bm25``: BM25's top 50 re-scored by ColBERT MaxSim alone (the ``rerank`` backend's idea);
- ``+ page title``: the cosine of the query and the page's title (its first heading), z-scored, added;
- ``+ title words``: the share of the page title's content words found in the query;
- ``+ page kind``: an additive prior per kind of page (tutorial, advanced, how-to, deployment, reference, ...);
- ``+ title + kind``: both.

Every weight and prior is chosen on gold v2 **train** (a small grid, coordinate ascent for the priors, objective
the mean of page Hit@1 and section R@5), then scored on **dev-select**; the LM re-ranker is measured by
``fda bench retrieval-rerank`` (docs/retrieval.md) and is not repeated here. dev-confirm and the sealed test
are read only for a candidate that is shipped. Per-question rows go to eval/results/research/.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from eval.retrieval_quality import DEPTH, Target, score_row
from experiments.research.tables import SHOWN
from index.retrieval.fused import FusedRetriever, Pool
from index.retrieval.score_fusion import page_boost, strip_urls, weighted_sum, zscore
from index.retrieval.wrappers import asks_about_versions, release_notes_after

CE_TOP = 20  # chunks of the served ranking the cross-encoder re-scores
SITE = "https://fastapi.tiangolo.com/"
KINDS = ("tutorial", "advanced", "how-to", "deployment", "reference", "release-notes", "learn")
FUSED_WEIGHTS = (1.0, 1.0, 1.0, 0.5, 0.0)  # the served default (fda.settings: retrieval.fused_weights)
OBJECTIVE = ("page Hit@1", "section R@5")
_WORD = re.compile(r"[a-z][a-z0-9]+")
_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "from",
        "into",
        "your",
        "you",
        "how",
        "what",
        "use",
        "using",
        "are",
        "can",
        "does",
        "not",
        "this",
        "that",
        "when",
        "why",
        "its",
        "all",
        "about",
        "more",
        "other",
        "first",
    ]
)


def page_kind(url: str) -> str:
    """The docs area a URL belongs to: its first path segment on the published site; the small "learn" pages
    (async, Python types, features, alternatives, ...) and the home page share one kind."""
    path = url.split("#", 1)[0].removeprefix(SITE)
    head = path.split("/", 1)[0]
    return head if head in KINDS else "learn"


def words(text: str) -> set[str]:
    """Lower-case content words with a crude plural strip (``Events`` and ``event`` meet)."""
    return {w.removesuffix("s") for w in _WORD.findall(text.lower()) if w not in _STOP}


def title_overlap(query_words: set[str], title: str) -> float:
    """Share of the page title's content words that the query contains (0 for a title without any)."""
    t = words(title)
    return len(t & query_words) / len(t) if t else 0.0


@dataclass
class Row:
    """One question's candidate pool with the extra per-candidate features the study adds."""

    target: Target
    pool: Pool
    versions_asked: bool
    title_cos: np.ndarray
    title_words: np.ndarray
    kinds: list[str]
    ce: np.ndarray | None = None  # cross-encoder logits of the served ranking's top chunks, NaN elsewhere

    @property
    def qid(self) -> str:
        return self.target.question.id

    @property
    def cluster(self) -> str:
        return self.target.question.group or self.target.question.id

    @property
    def user(self) -> bool:
        from experiments.research.tables import is_user

        return is_user(self.target.question)


@dataclass(frozen=True)
class Candidate:
    name: str
    weights: tuple[float, ...] = FUSED_WEIGHTS  # index.retrieval.fused.SIGNALS order
    page_weight: float = 1.0
    title_cos: float = 0.0
    title_words: float = 0.0
    kind_prior: Mapping[str, float] = field(default_factory=dict)
    bm25_only: bool = False  # rank only BM25's own top 50 first (the re-ranker's candidate set)
    cross_encoder: float = 0.0  # weight of the cross-encoder's z-scored logit over the chunks it scored

    def describe(self) -> str:
        parts = [f"weights {list(self.weights)}", f"page boost {self.page_weight:g}"]
        if self.title_cos:
            parts.append(f"title cosine {self.title_cos:g}")
        if self.title_words:
            parts.append(f"title words {self.title_words:g}")
        if any(self.kind_prior.values()):
            parts.append("kind prior " + ", ".join(f"{k} {v:+g}" for k, v in self.kind_prior.items() if v))
        if self.bm25_only:
            parts.append("BM25 top 50 only")
        if self.cross_encoder:
            parts.append(f"cross-encoder {self.cross_encoder:g} over the served top {CE_TOP}")
        return "; ".join(parts)


SERVED = Candidate("fused (served)")


def collect(
    fused: FusedRetriever,
    encode_titles: Callable[[Sequence[str]], np.ndarray],
    items: Iterable[Target],
    latest: str,
) -> list[Row]:
    """The pool and features of every row searched in the latest docs (older rows fall back to BM25 in every
    backend, so no re-ranker changes them)."""
    rows: list[Row] = []
    title_vectors: dict[str, np.ndarray] = {}
    for t in items:
        if t.version != latest:
            continue
        query = t.question.question
        pool = fused.pool(query, t.version)
        titles = [c.heading_path[0] if c.heading_path else "" for c in pool.chunks]
        missing = sorted({x for x in titles if x not in title_vectors})
        if missing:
            title_vectors.update(zip(missing, encode_titles(missing), strict=True))
        qv = fused.dense.encode_query(strip_urls(query))
        cos = np.array([float(title_vectors[x] @ qv) for x in titles]) if titles else np.zeros(0)
        qwords = words(query)
        rows.append(
            Row(
                target=t,
                pool=pool,
                versions_asked=asks_about_versions(query),
                title_cos=cos,
                title_words=np.array([title_overlap(qwords, x) for x in titles]),
                kinds=[page_kind(c.url) for c in pool.chunks],
            )
        )
    return rows


def ranked_urls(row: Row, cand: Candidate) -> list[str]:
    """The candidate's ranking of the row's pool, with the service's release-notes rule."""
    pool = row.pool
    if not pool.chunks:
        return []
    columns = [pool.signals[:, j] for j in range(pool.signals.shape[1])]
    score = weighted_sum(columns, cand.weights)
    if cand.title_cos:
        score = score + cand.title_cos * zscore(row.title_cos)
    if cand.title_words:
        score = score + cand.title_words * zscore(row.title_words)
    if cand.kind_prior:
        score = score + np.array([cand.kind_prior.get(k, 0.0) for k in row.kinds])
    score = page_boost(score, pool.pages, cand.page_weight)
    if cand.bm25_only:
        bm25 = pool.signals[:, 0]
        top = {int(j) for j in np.argsort(-bm25, kind="stable")[:DEPTH] if bm25[j] > 0}
        score = score + np.array([0.0 if j in top else -1e6 for j in range(len(score))])
    if cand.cross_encoder and row.ce is not None:
        scored = ~np.isnan(row.ce)
        if scored.any():  # the scored chunks stay on top, re-ordered by their fused and cross-encoder scores
            score = score.copy()
            score[scored] = 1e6 + zscore(score[scored]) + cand.cross_encoder * zscore(row.ce[scored])
    order = sorted(range(len(pool.chunks)), key=lambda j: (-score[j], j))
    passages = [pool.chunks[j].passage(float(score[j])) for j in order][:DEPTH]
    if not row.versions_asked:
        passages = release_notes_after(passages)
    return [p.url for p in passages]


def per_row(rows: Sequence[Row], cand: Candidate) -> list[dict[str, float]]:
    return [score_row(r.target.gold, ranked_urls(r, cand), r.target.graded) for r in rows]


def objective(rows: Sequence[Row], cand: Candidate) -> float:
    scores = per_row(rows, cand)
    return float(np.mean([np.mean([s[k] for s in scores]) for k in OBJECTIVE])) if scores else 0.0


def tune_title(rows: Sequence[Row], base: Candidate, grid: Sequence[float] = (0.0, 0.25, 0.5, 1.0, 1.5)) -> Candidate:
    """The title weights (cosine, words) with the best train objective; ties keep the smaller weights."""
    best, best_score = base, objective(rows, base)
    for a, b in itertools.product(grid, grid):
        cand = replace(base, title_cos=a, title_words=b)
        s = objective(rows, cand)
        if s > best_score + 1e-9:
            best, best_score = cand, s
    return best


def tune_kinds(
    rows: Sequence[Row],
    base: Candidate,
    values: Sequence[float] = (-1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0),
    rounds: int = 3,
) -> Candidate:
    """Coordinate ascent over one additive prior per page kind (tutorial fixed at 0: the reference)."""
    prior = dict.fromkeys(KINDS, 0.0)
    best_score = objective(rows, replace(base, kind_prior=prior))
    for _ in range(rounds):
        moved = False
        for kind in KINDS[1:]:
            for v in values:
                trial = {**prior, kind: v}
                s = objective(rows, replace(base, kind_prior=trial))
                if s > best_score + 1e-9:
                    prior, best_score, moved = trial, s, True
        if not moved:
            break
    return replace(base, kind_prior=prior)


def baselines() -> list[Candidate]:
    return [
        Candidate("bm25", weights=(1.0, 0.0, 0.0, 0.0, 0.0), page_weight=0.0),
        Candidate("colbert over bm25 top 50", weights=(0.0, 0.0, 1.0, 0.0, 0.0), page_weight=0.0, bm25_only=True),
        SERVED,
    ]


def tuned(train: Sequence[Row]) -> list[Candidate]:
    """The study's re-rankers with their weights chosen on ``train``."""
    fused = Candidate("fused (served)")
    title = replace(tune_title(train, fused), name="fused + page title")
    kind = replace(tune_kinds(train, fused), name="fused + page kind")
    both = replace(tune_kinds(train, title), name="fused + page title + kind")
    return [title, kind, both]


def table(rows: Sequence[Row], cands: Sequence[Candidate], seed: int = 0) -> list[dict[str, Any]]:
    """Each candidate's means over ``rows`` and their real-user subset, paired against the served ``fused``."""
    from experiments.research.tables import paired_table

    scores = {c.name: per_row(rows, c) for c in cands}
    return paired_table(scores, [r.cluster for r in rows], [r.user for r in rows], "fused (served)", seed)


def question_rows(rows: Sequence[Row], cands: Sequence[Candidate], split: str) -> list[dict[str, Any]]:
    """Per question and candidate: the metrics and the top 3 URLs (what eval/results/research/ keeps)."""
    out: list[dict[str, Any]] = []
    for cand in cands:
        for r in rows:
            urls = ranked_urls(r, cand)
            m = score_row(r.target.gold, urls, r.target.graded)
            out.append(
                {
                    "split": split,
                    "candidate": cand.name,
                    "id": r.qid,
                    "group": r.cluster,
                    "user": r.user,
                    "type": getattr(r.target.question.type, "value", str(r.target.question.type)),
                    **{k: round(m[k], 4) for k in SHOWN},
                    "top3": urls[:3],
                }
            )
    return out


def add_cross_encoder(rows: Sequence[Row], score: Callable[[str, Sequence[str]], np.ndarray]) -> None:
    """Score the served ranking's top :data:`CE_TOP` chunks of every row with ``score(query, passages)``."""
    from index.retrieval.passages import index_text

    served = Candidate("fused (served)")
    for r in rows:
        pool = r.pool
        if not pool.chunks:
            continue
        columns = [pool.signals[:, j] for j in range(pool.signals.shape[1])]
        base = page_boost(weighted_sum(columns, served.weights), pool.pages, served.page_weight)
        top = sorted(range(len(pool.chunks)), key=lambda j: (-base[j], j))[:CE_TOP]
        ce = np.full(len(pool.chunks), np.nan)
        ce[top] = score(r.target.question.question, [index_text(pool.chunks[j]) for j in top])
        r.ce = ce


def tune_cross_encoder(rows: Sequence[Row], grid: Sequence[float] = (0.25, 0.5, 1.0, 2.0, 4.0, 100.0)) -> Candidate:
    """The cross-encoder weight with the best train objective (100: its own order, fused breaks ties)."""
    cands = [Candidate("fused + cross-encoder", cross_encoder=w) for w in grid]
    return max(cands, key=lambda c: objective(rows, c))


def miss_kinds(rows: Sequence[Row], cand: Candidate) -> list[dict[str, Any]]:
    """Where ``cand``'s top page misses (page Hit@1 = 0): the kind of page it put first against the kinds of
    the row's grade-2 pages, most frequent first: is "a how-to above the tutorial" the common miss?"""
    from collections import Counter

    counts: Counter[tuple[str, str]] = Counter()
    for r in rows:
        urls = ranked_urls(r, cand)
        if not urls or score_row(r.target.gold, urls, r.target.graded)["page Hit@1"] >= 1:
            continue
        gold = sorted({page_kind(u) for g in r.target.question.answer_groups() for u in g})
        counts[(page_kind(urls[0]), " / ".join(gold))] += 1
    return [{"top page": k[0], "gold pages": k[1], "misses": n} for k, n in counts.most_common()]
