"""Text as the service reads it from users: one cleaning step for questions (programs/guard.py) and search
queries (index/retrieval/base.py)."""

from __future__ import annotations

import unicodedata

KEPT_CONTROLS = frozenset("\t\n\r")


def clean_text(text: str) -> str:
    """``text`` NFKC-normalised (fullwidth and other compatibility forms folded, so ``ｉｇｎｏｒｅ`` reads as
    ``ignore``), without control characters (but tab and newlines) and invisible format characters (zero-width
    spaces and joiners, bidi overrides, a BOM), which can hide text from a reader or break a terminal."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if ch in KEPT_CONTROLS or unicodedata.category(ch) not in ("Cc", "Cf"))


def has_lone_surrogate(text: str) -> bool:
    """True when ``text`` holds a surrogate code point, which no UTF-8 store or model can take."""
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)
