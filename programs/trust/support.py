"""Lexical support: does a passage contain the content words of a sentence? One definition, used by the
answer verification (programs/trust/verify.py) and the faithfulness metric (eval/faithfulness.py).

    lexical_support("Use CORSMiddleware with allow_origins.", passage_text)   # 0..1
    split_sentences(answer)                                                  # prose sentences, markers attached

A sentence's content words are its words of three letters or more (identifiers split on ``_``, crude
suffix stripping, stop words out); its support is the share of them found in the passage. It cannot see
negation or paraphrase: the LM check and the labels (docs/evaluation.md) cover what it misses.
"""

from __future__ import annotations

import re

LEXICAL_SUPPORT_MIN = 0.5  # fixed before any labelled data: docs/evaluation.md
CODE = re.compile(r"```.*?```", re.DOTALL)
MARKER = re.compile(r"\[(\d+)\]")
SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n+")  # between sentences of prose
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*|\d{3}")
_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "are",
        "but",
        "not",
        "you",
        "your",
        "with",
        "this",
        "that",
        "from",
        "can",
        "use",
        "using",
        "into",
        "when",
        "then",
        "than",
        "its",
        "it's",
        "was",
        "were",
        "has",
        "have",
        "had",
        "will",
        "would",
        "should",
        "could",
        "may",
        "might",
        "must",
        "also",
        "just",
        "only",
        "more",
        "most",
        "such",
        "other",
        "some",
        "any",
        "all",
        "each",
        "which",
        "what",
        "who",
        "how",
        "why",
        "where",
        "there",
        "their",
        "them",
        "they",
        "these",
        "those",
        "here",
        "one",
        "two",
        "does",
        "did",
        "done",
        "been",
        "being",
        "about",
        "over",
        "under",
        "like",
        "make",
        "makes",
        "made",
        "get",
        "gets",
        "set",
        "sets",
        "need",
        "needs",
        "way",
        "ways",
        "see",
        "per",
        "via",
    ]
)


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> set[str]:
    words = {w.lower() for w in _TOKEN.findall(text.replace("_", " "))}
    return {_stem(w) for w in words if (len(w) >= 3 or w.isdigit()) and w not in _STOP}


_ONLY_MARKERS = re.compile(r"^(\s*\[\d+\])+\s*[.!?]?$")


def split_sentences(answer: str) -> list[str]:
    """Prose sentences (code blocks left out); markers standing after a sentence's full stop ("... app. [1][2]")
    belong to that sentence."""
    prose = CODE.sub(" ", answer)
    out: list[str] = []
    for piece in (s.strip() for s in SENTENCE_BREAK.split(prose)):
        if not piece:
            continue
        if out and _ONLY_MARKERS.match(piece):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def lexical_support(sentence: str, passage: str) -> float:
    words = content_words(sentence)
    return len(words & content_words(passage)) / len(words) if words else 1.0
