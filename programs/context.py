"""Passages -> the numbered ``sources`` text the answer signature reads (data, not instructions)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fda.types import Passage

Shortener = Callable[[str, int], str]


def cut_chars(text: str, limit: int) -> str:
    """Cut at a line or word boundary near ``limit`` characters."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    cut = max(head.rfind("\n"), head.rfind(" "))
    return (head[:cut] if cut > limit // 2 else head).rstrip() + " …"


def format_sources(passages: Sequence[Passage], max_chars: int = 900, shorten: Shortener = cut_chars) -> str:
    """``[n] Title (FastAPI <version>)`` then the (shortened) text, one block per passage."""
    blocks = []
    for i, p in enumerate(passages, start=1):
        title = p.title or p.url
        blocks.append(f"[{i}] {title} (FastAPI {p.version})\n{shorten(p.text, max_chars)}")
    return "\n\n".join(blocks)
