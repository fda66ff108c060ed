"""Which docs versions a question is about: ``0.68``, ``0.100.0``, ``latest`` -> ingested tags."""

from __future__ import annotations

import re
from collections.abc import Sequence

# not inside a longer number ("192.168.0.68", "pydantic 2.0.100")
_VERSION = re.compile(r"(?<![\d.])\b(?:v|version\s*)?(0\.\d{1,3}(?:\.\d{1,3})?)\b(?!\.\d)", re.IGNORECASE)


def versions_in_question(question: str, available: Sequence[str], latest: str | None) -> list[str]:
    """Ingested tags the question names (``0.68`` matches ``0.68.0``), in order of mention.
    A question naming exactly one older version is about a change, so the latest joins it."""
    found: list[str] = []
    for raw in _VERSION.findall(question):
        exact = [v for v in available if v == raw]
        prefix = [v for v in available if v.startswith(raw + ".")]
        for tag in exact or prefix[:1]:
            if tag not in found:
                found.append(tag)
    if len(found) == 1 and latest and found[0] != latest:
        found.append(latest)
    return found
