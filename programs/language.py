"""Is a question written in English? The retrievers' encoders (MiniLM) are English-only, so a question in
another language is worth one LM call that rewrites it into English search queries, even where routing is off.

    looks_english("How do I upload a file?")                          # True
    looks_english("¿Cómo puedo recibir un archivo que sube el usuario?")  # False

A count of common function words per language: cheap, no model, and enough to tell English from the
languages FastAPI's docs are translated into that use the Latin alphabet. Code, identifiers and URLs carry no
function words, so a question that is mostly code stays "English" (it is searched as asked). Text in another
script (Cyrillic, CJK, ...) is not English.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "the",
            "a",
            "an",
            "is",
            "are",
            "was",
            "be",
            "to",
            "of",
            "in",
            "on",
            "for",
            "with",
            "how",
            "do",
            "does",
            "can",
            "i",
            "my",
            "what",
            "when",
            "why",
            "which",
            "and",
            "or",
            "not",
            "it",
            "this",
            "that",
            "should",
            "get",
            "use",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "un",
            "una",
            "es",
            "son",
            "cómo",
            "como",
            "para",
            "con",
            "por",
            "que",
            "qué",
            "del",
            "al",
            "en",
            "mi",
            "puedo",
            "se",
            "su",
            "y",
            "o",
            "no",
            "cuando",
            "dónde",
            "usar",
        ]
    ),
    "pt": frozenset(
        [
            "o",
            "a",
            "os",
            "as",
            "um",
            "uma",
            "é",
            "são",
            "como",
            "para",
            "com",
            "por",
            "que",
            "do",
            "da",
            "no",
            "na",
            "em",
            "meu",
            "minha",
            "posso",
            "se",
            "e",
            "ou",
            "não",
            "quando",
            "usar",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "die",
            "das",
            "ein",
            "eine",
            "ist",
            "sind",
            "wie",
            "für",
            "mit",
            "von",
            "zu",
            "und",
            "oder",
            "nicht",
            "ich",
            "mein",
            "kann",
            "wenn",
            "wann",
            "warum",
            "auf",
            "den",
            "dem",
            "im",
            "nach",
            "schon",
        ]
    ),
    "fr": frozenset(
        [
            "le",
            "la",
            "les",
            "un",
            "une",
            "est",
            "sont",
            "comment",
            "pour",
            "avec",
            "de",
            "du",
            "des",
            "et",
            "ou",
            "ne",
            "pas",
            "je",
            "mon",
            "ma",
            "puis",
            "peux",
            "quand",
            "dans",
            "sur",
            "utiliser",
        ]
    ),
    "it": frozenset(
        [
            "il",
            "lo",
            "la",
            "gli",
            "le",
            "un",
            "una",
            "è",
            "sono",
            "come",
            "per",
            "con",
            "di",
            "del",
            "della",
            "e",
            "o",
            "non",
            "io",
            "mio",
            "posso",
            "quando",
            "nel",
            "sulla",
            "usare",
        ]
    ),
}


def wants_rewrite_call(question: str, rewrite: bool, translate: bool) -> bool:
    """Does an answer program make its routing + rewriting LM call for ``question``? Always with ``rewrite``;
    with ``translate`` only, when the question is not in English."""
    return rewrite or (translate and not looks_english(question))


def looks_english(text: str) -> bool:
    """True unless the text has more function words of another language than of English, or its letters
    are not at least 80 % Latin."""
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return True
    letters = "".join(words)
    latin = sum(1 for ch in letters if ch.isascii() or "\u00c0" <= ch <= "\u024f")
    if latin < 0.8 * len(letters):
        return False
    counts = {lang: sum(1 for w in words if w in vocab) for lang, vocab in FUNCTION_WORDS.items()}
    english = counts.pop("en")
    return english >= max(counts.values())
