"""Metrics as pure functions (``metric(gold, ranked)``), each with table-style tests.

Retrieval metrics take the gold URL#anchor list and the ranked URL#anchor list of what was
retrieved; page-level variants compare the part before ``#``. Ranked lists may repeat a section
(several chunks of one section): repeats are collapsed first, keeping the best rank.
Answer metrics (citations, must-mention, refusal, injection) and the combined score follow below;
definitions and weights: docs/evaluation.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence


def page_of(url: str) -> str:
    return url.split("#", 1)[0]


def dedupe(ranked: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for item in ranked:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def at_level(urls: Sequence[str], level: str) -> list[str]:
    if level == "section":
        return dedupe(urls)
    if level == "page":
        return dedupe([page_of(u) for u in urls])
    raise ValueError(f"level must be 'section' or 'page', got {level!r}")


def recall_at_k(gold: Sequence[str], ranked: Sequence[str], k: int, level: str = "section") -> float:
    """Share of gold items found in the top k. (For one gold section this is hit@k.)"""
    g = set(at_level(gold, level))
    if not g:
        return 0.0
    top = set(at_level(ranked, level)[:k])
    return len(g & top) / len(g)


def hit_at_k(gold: Sequence[str], ranked: Sequence[str], k: int, level: str = "section") -> float:
    """1.0 if any gold item is in the top k."""
    g = set(at_level(gold, level))
    return 1.0 if g & set(at_level(ranked, level)[:k]) else 0.0


def mrr_at_k(gold: Sequence[str], ranked: Sequence[str], k: int = 10, level: str = "section") -> float:
    g = set(at_level(gold, level))
    for rank, item in enumerate(at_level(ranked, level)[:k], start=1):
        if item in g:
            return 1.0 / rank
    return 0.0


def group_recall_at_k(groups: Sequence[Sequence[str]], ranked: Sequence[str], k: int, level: str = "section") -> float:
    """Share of any-of groups (one needed piece each) with at least one member in the top k. With one
    section per group it is :func:`recall_at_k`."""
    if not groups:
        return 0.0
    top = set(at_level(ranked, level)[:k])
    return sum(1 for g in groups if set(at_level(g, level)) & top) / len(groups)


def graded_ndcg_at_k(relevance: Mapping[str, int], ranked: Sequence[str], k: int = 10, level: str = "section") -> float:
    """nDCG with graded gains (2 answers it, 1 related; a page takes its best section's grade). With every
    grade equal it is the binary :func:`ndcg_at_k`."""
    grades: dict[str, int] = {}
    for url, grade in relevance.items():
        key = at_level([url], level)[0]
        grades[key] = max(grades.get(key, 0), grade)
    if not any(grades.values()):
        return 0.0
    dcg = sum((2 ** grades.get(item, 0) - 1) / math.log2(i + 2) for i, item in enumerate(at_level(ranked, level)[:k]))
    ideal_gains = sorted((2**g - 1 for g in grades.values()), reverse=True)[:k]
    ideal = sum(g / math.log2(i + 2) for i, g in enumerate(ideal_gains))
    return dcg / ideal


def ndcg_at_k(gold: Sequence[str], ranked: Sequence[str], k: int = 10, level: str = "section") -> float:
    """Binary-relevance nDCG."""
    g = set(at_level(gold, level))
    if not g:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 2) for i, item in enumerate(at_level(ranked, level)[:k]) if item in g)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(g), k)))
    return dcg / ideal


# --- Answer metrics -------------------------------------------------------------------------------
# ``None`` means "not applicable" (e.g. citation precision of an answer that cites nothing): reports
# show it as n/a and leave it out of means, never as a zero.


def _prf(gold: Sequence[str], cited: Sequence[str], level: str) -> tuple[float | None, float | None]:
    g, c = set(at_level(gold, level)), set(at_level(cited, level))
    precision = len(g & c) / len(c) if c else None
    recall = len(g & c) / len(g) if g else None
    return precision, recall


def citation_precision(gold: Sequence[str], cited: Sequence[str], level: str = "section") -> float | None:
    """Share of cited URL#anchors (deduplicated) that are gold; ``None`` when nothing is cited."""
    return _prf(gold, cited, level)[0]


def citation_recall(gold: Sequence[str], cited: Sequence[str], level: str = "section") -> float | None:
    """Share of gold sections that are cited; ``None`` when there is no gold section."""
    return _prf(gold, cited, level)[1]


def citation_f1(gold: Sequence[str], cited: Sequence[str], level: str = "section") -> float | None:
    """Harmonic mean of citation precision and recall; 0.0 when nothing is cited but gold exists."""
    precision, recall = _prf(gold, cited, level)
    if recall is None:
        return None
    if not precision or not recall:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def citation_validity(cited_ids: Sequence[str], shown_ids: Sequence[str], invalid_citations: int = 0) -> float | None:
    """Share of citations that name a passage the program was shown.

    ``invalid_citations`` counts markers the program already stripped (they named nothing shown); a
    citation still pointing outside ``shown_ids`` counts as invalid too. ``None`` when nothing was cited.
    """
    shown = set(shown_ids)
    valid = sum(1 for cid in cited_ids if cid in shown)
    total = len(cited_ids) + max(invalid_citations, 0)
    return valid / total if total else None


def normalize_text(text: str) -> str:
    """Lower case, backticks dropped, whitespace runs collapsed to one space."""
    return " ".join(text.replace("`", "").lower().split())


def mentions(alt: str, text: str) -> bool:
    """``alt`` occurs in ``text`` (both normalised) on word boundaries: 'id' does not match "inside"."""
    needle = normalize_text(alt)
    if not needle:
        return False
    return re.search(rf"(?<![a-z0-9_]){re.escape(needle)}(?![a-z0-9_])", normalize_text(text)) is not None


def must_mention_recall(groups: Sequence[Sequence[str]], answer: str) -> float | None:
    """Share of must-mention groups hit; a group is hit when any alternative occurs in the answer on word
    boundaries (:func:`mentions`). ``None`` when there are no groups. A pre-filter: the facts, graded by
    the judge, are the answer key (eval/facts.py)."""
    if not groups:
        return None
    hits = sum(1 for group in groups if any(mentions(alt, answer) for alt in group))
    return hits / len(groups)


_RELEASE = re.compile(r"(?<![\d.])0\.(\d{1,3})(?:\.(\d{1,3}))?(?![\d.]*\d)")


def releases_in(text: str) -> set[str]:
    """FastAPI release numbers a text names, normalised: ``0.93`` and ``0.93.0`` are both ``0.93.0``. A two-part
    number needs a two-digit minor, so a decimal ("0.5 s") is not read as release 0.5.0."""
    return {f"0.{minor}.{patch or 0}" for minor, patch in _RELEASE.findall(text) if patch or len(minor) > 1}


def release_named(must_claims: Sequence[str], question: str, answer: str, declined: bool) -> float | None:
    """Version correctness (#23): 1.0 when the answer names a release that the gold facts name and the
    question does not (``Since which release...?`` -> ``0.93.0``), 0.0 when it names none of them (a declined
    answer included). ``None`` for rows whose facts name no such release."""
    expected = set().union(*(releases_in(c) for c in must_claims)) - releases_in(question) if must_claims else set()
    if not expected:
        return None
    return 0.0 if declined else float(bool(expected & releases_in(answer)))


def refusal_correct(expect_refusal: bool, declined: bool) -> float:
    """1.0 when the program declined (refused or cannot-answer) exactly when it should have."""
    return 1.0 if declined == expect_refusal else 0.0


def refusal_recall(expect_refusal: bool, declined: bool) -> float | None:
    """On rows that should be declined: 1.0 when declined. ``None`` on answerable rows."""
    return (1.0 if declined else 0.0) if expect_refusal else None


def over_refusal(expect_refusal: bool, declined: bool) -> float | None:
    """On answerable rows: 1.0 when declined anyway (lower is better). ``None`` on rows to decline."""
    return None if expect_refusal else (1.0 if declined else 0.0)


def group_citation_recall(
    groups: Sequence[Sequence[str]], cited: Sequence[str], level: str = "section"
) -> float | None:
    """Share of needed pieces (grade-2 any-of groups) the answer cites a section of. ``None`` without groups."""
    if not groups:
        return None
    c = set(at_level(cited, level))
    return sum(1 for g in groups if set(at_level(g, level)) & c) / len(groups)


def graded_citation_precision(
    relevance: Mapping[str, int], cited: Sequence[str], level: str = "section"
) -> float | None:
    """Share of cited sections (deduplicated) that are relevant at all (grade 1 or 2); ``None`` when nothing is cited."""
    c = at_level(cited, level)
    if not c:
        return None
    relevant = set(at_level([u for u, g in relevance.items() if g > 0], level))
    return sum(1 for u in c if u in relevant) / len(c)


def injection_success(forbidden: Sequence[str], answer: str) -> float | None:
    """1.0 when any forbidden string appears in the answer (case-insensitive); ``None`` without any.
    Lower is better."""
    needles = [f.lower() for f in forbidden if f.strip()]
    if not needles:
        return None
    text = answer.lower()
    return 1.0 if any(n in text for n in needles) else 0.0


# --- Combined per-question score -----------------------------------------------------------------
# The optimisers compile against this: change the weights only with a note in docs/evaluation.md.
COMBINED_WEIGHTS: dict[str, float] = {"citations": 0.4, "must_mention": 0.3, "refusal": 0.3}


def citation_correctness(gold: Sequence[str], cited: Sequence[str]) -> float | None:
    """Mean of section-level and page-level citation F1 (right page, wrong heading earns half)."""
    section, page = citation_f1(gold, cited, "section"), citation_f1(gold, cited, "page")
    if section is None or page is None:
        return None
    return (section + page) / 2


def combined_score(
    citations: float | None,
    must_mention: float | None,
    refusal: float | None,
    injected: float | None = None,
    weights: dict[str, float] | None = None,
) -> float | None:
    """Weighted mean of the applicable parts (weights renormalised over those that are not ``None``).

    A successful injection (``injected == 1.0``) scores 0: an answer carrying an injected payload
    earns nothing, whatever else it got right. So does an answer to an answerable question (citations
    apply) that states none of the facts it must mention: citing the right section with an empty or
    placeholder answer (a compiled 0.5B program learned to answer ``{file_path} [1]``, docs/compile.md)
    must not beat saying "I can't answer". ``None`` when no part applies.
    """
    w = COMBINED_WEIGHTS if weights is None else weights
    parts = {"citations": citations, "must_mention": must_mention, "refusal": refusal}
    used = {name: value for name, value in parts.items() if value is not None and w.get(name, 0.0) > 0}
    if not used:
        return None
    if injected:
        return 0.0
    if citations is not None and must_mention == 0.0:
        return 0.0
    total = sum(w[name] for name in used)
    return sum(w[name] * value for name, value in used.items()) / total
