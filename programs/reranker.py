"""LMReranker: the LM re-orders the retriever's top sections (listwise, one call per question).

    reranked = LMReranker(top=8)(question=q, passages=retriever.search(q, k=10)).passages

The first ``top`` distinct sections are shown to the LM (heading path and opening words,
signatures/rerank.py); the sections it names come first in its order, every other passage keeps the
retriever's order after them. A number the LM invents is ignored; no usable number leaves the order as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import dspy

from fda.types import Passage
from programs.citations import snippet
from signatures.rerank import RerankSections, seed_demos

log = logging.getLogger(__name__)
SNIPPET_CHARS = 160
QUESTION_CHARS = 1000


def candidates(passages: Sequence[Passage], top: int) -> list[Passage]:
    """The first passage of each of the first ``top`` distinct sections."""
    seen: dict[str, Passage] = {}
    for p in passages:
        if p.url not in seen:
            seen[p.url] = p
            if len(seen) == top:
                break
    return list(seen.values())


def render(shown: Sequence[Passage]) -> str:
    return "\n".join(f"[{i}] {p.title}: {snippet(p.text, SNIPPET_CHARS)}" for i, p in enumerate(shown, 1))


def prompt_inputs(question: str, shown: Sequence[Passage]) -> dict[str, str]:
    """Exactly what the LM is given for ``question`` and the ``shown`` sections (also a cache key's content)."""
    return {"question": question[:QUESTION_CHARS], "candidates": render(shown)}


def reorder(passages: Sequence[Passage], shown: Sequence[Passage], best: Sequence[object]) -> list[Passage]:
    """``passages`` with the sections named by ``best`` (1-based numbers into ``shown``) first."""
    picked: list[str] = []
    for n in best:
        try:
            i = int(str(n).strip().strip("[]"))
        except ValueError:
            continue
        if 1 <= i <= len(shown) and shown[i - 1].url not in picked:
            picked.append(shown[i - 1].url)
    if not picked:
        return list(passages)
    rank = {url: r for r, url in enumerate(picked)}
    first = sorted((p for p in passages if p.url in rank), key=lambda p: rank[p.url])
    return first + [p for p in passages if p.url not in rank]


class LMReranker(dspy.Module):
    def __init__(self, top: int = 8) -> None:
        super().__init__()
        self.top = top
        self.pick = dspy.Predict(RerankSections)
        self.pick.demos = seed_demos()

    def forward(self, question: str, passages: Sequence[Passage]) -> dspy.Prediction:
        shown = candidates(passages, self.top)
        if len(shown) < 2:
            return dspy.Prediction(passages=list(passages), best=[])
        best = self.ask(question, shown)
        return dspy.Prediction(passages=reorder(passages, shown, best), best=best)

    def ask(self, question: str, shown: Sequence[Passage]) -> list[object]:
        """The LM's numbers (1-based into ``shown``), best first, unvalidated: ``reorder`` checks them."""
        out = self.pick(**prompt_inputs(question, shown))
        return list(out.best or [])
