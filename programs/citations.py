"""Citation markers: parse ``[n]``, keep only numbers that name a shown passage, renumber, map to URLs.

Pure functions; table tests in tests/programs/test_citations.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from fda.types import Citation, Passage

MARKER = re.compile(r"\s?\[(\s*\d+(?:\s*[,;]\s*\d+)*\s*)\]")
SNIPPET_CHARS = 240


@dataclass(frozen=True)
class CheckedCitations:
    text: str
    citations: list[Citation]
    invalid: int


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rsplit(" ", 1)[0] + "…"


def _numbers(group: str) -> list[int]:
    return [int(n) for n in re.split(r"[,;]", group) if n.strip()]


def validate_citations(answer: str, passages: Sequence[Passage], cited: Sequence[int] = ()) -> CheckedCitations:
    """Strip markers naming no shown passage (counted), renumber the rest 1..m by first use.

    When the text carries no valid marker but the model listed valid ``cited`` numbers, those
    passages are cited at the end of the answer, so no supported answer goes out uncited.
    """
    shown = len(passages)
    order: list[int] = []  # original passage numbers, by first appearance
    invalid = 0

    def renumber(m: re.Match[str]) -> str:
        nonlocal invalid
        kept: list[int] = []
        for n in _numbers(m.group(1)):
            if 1 <= n <= shown:
                if n not in order:
                    order.append(n)
                new = order.index(n) + 1
                if new not in kept:
                    kept.append(new)
            else:
                invalid += 1
        if not kept:
            return ""
        lead = m.group(0)[0] if m.group(0)[0].isspace() else ""
        return lead + "".join(f"[{k}]" for k in kept)

    text = MARKER.sub(renumber, answer).strip()
    if not order:
        extra = [n for n in dict.fromkeys(cited) if 1 <= n <= shown]
        invalid += sum(1 for n in cited if not 1 <= n <= shown)
        if extra and text:
            order = list(extra)
            text = f"{text} " + "".join(f"[{i + 1}]" for i in range(len(order)))
    citations = [
        Citation(
            number=i + 1,
            chunk_id=passages[n - 1].chunk_id,
            url=passages[n - 1].url,
            title=passages[n - 1].title,
            snippet=snippet(passages[n - 1].text),
            version=passages[n - 1].version,
        )
        for i, n in enumerate(order)
    ]
    return CheckedCitations(text=text, citations=citations, invalid=invalid)
