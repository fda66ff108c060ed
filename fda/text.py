"""Text as the service reads it from users: one cleaning step for questions (programs/guard.py) and search
queries (index/retrieval/base.py)."""

from __future__ import annotations

import re
import unicodedata

KEPT_CONTROLS = frozenset("\t\n\r")
# Cyrillic and Greek letters that look like Latin ones (Unicode TR39's confusables, the common subset)
CONFUSABLES = str.maketrans(
    "аеорсухіјѕԁһӏԛԝАВЕКМНОРСТХІЈЅУοαεινρτυχκΑΒΕΗΙΚΜΝΟΡΤΥΧΖ",
    "aeopcyxijsdhlqwABEKMHOPCTXIJSYoaeivptuxkABEHIKMNOPTYXZ",
)
_WORD = re.compile(r"\w+")
_LATIN = re.compile(r"[A-Za-z]")


def clean_text(text: str) -> str:
    """``text`` NFKC-normalised (fullwidth and other compatibility forms folded, so ``ｉｇｎｏｒｅ`` reads as
    ``ignore``), without control characters (but tab and newlines) and invisible format characters (zero-width
    spaces and joiners, bidi overrides, a BOM), which can hide text from a reader or break a terminal, and with
    mixed-script look-alikes folded to Latin (``fold_mixed_script``)."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if ch in KEPT_CONTROLS or unicodedata.category(ch) not in ("Cc", "Cf"))
    return fold_mixed_script(text)


def fold_mixed_script(text: str) -> str:
    """Words that mix Latin letters with Cyrillic or Greek look-alikes (``Hоw`` with a Cyrillic о) read as
    Latin; words wholly in another script (Russian, Greek text) are left as they are."""

    def fold(m: re.Match[str]) -> str:
        word = m.group(0)
        if not _LATIN.search(word) or word.isascii():
            return word
        folded = word.translate(CONFUSABLES)
        return folded if folded != word else word

    return _WORD.sub(fold, text)


def has_lone_surrogate(text: str) -> bool:
    """True when ``text`` holds a surrogate code point, which no UTF-8 store or model can take."""
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)
