"""Faithfulness per cited sentence: does the passage a sentence cites support it?

    pairs = cited_sentences(out)                   # [(sentence, passage text)] of one ProgramOutput
    lexical_faithfulness(out)                      # share of cited sentences passing the lexical check
    judge: eval/facts.py's ``SupportJudge`` answers the same question with an LM (``faithfulness_judge``)

The lexical check runs offline and costs nothing: a sentence passes when at least
``LEXICAL_SUPPORT_MIN`` of its content words (identifiers split on ``_ . ( )``, crude suffix stripping)
occur in the cited passages. It cannot see negation or paraphrase; docs/evaluation.md reports how far it
agrees with the judge and the labels. Code blocks are left out: they are checked by the executed-code
work, not here.
"""

from __future__ import annotations

import re

from eval.contract import ProgramOutput

LEXICAL_SUPPORT_MIN = 0.5  # fixed before any labelled data: docs/evaluation.md
_CODE = re.compile(r"```.*?```", re.DOTALL)
_MARKER = re.compile(r"\[(\d+)\]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
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
    prose = _CODE.sub(" ", answer)
    out: list[str] = []
    for piece in (s.strip() for s in _SENTENCE.split(prose)):
        if not piece:
            continue
        if out and _ONLY_MARKERS.match(piece):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def cited_sentences(out: ProgramOutput) -> list[tuple[str, str]]:
    """(sentence without markers, text of the passages it cites) for every sentence with a marker that
    names a citation; markers naming nothing are counted by ``citation_validity`` instead."""
    texts = {p.chunk_id: p.text for p in out.passages}
    by_number = {c.number: texts.get(c.chunk_id) or c.snippet for c in out.citations}
    pairs = []
    for sentence in split_sentences(out.answer):
        numbers = [int(n) for n in _MARKER.findall(sentence)]
        passages = [by_number[n] for n in dict.fromkeys(numbers) if n in by_number]
        bare = _MARKER.sub("", sentence).strip()
        if passages and content_words(bare):
            pairs.append((bare, "\n\n".join(passages)))
    return pairs


def lexical_support(sentence: str, passage: str) -> float:
    words = content_words(sentence)
    return len(words & content_words(passage)) / len(words) if words else 1.0


def lexical_faithfulness(out: ProgramOutput, threshold: float = LEXICAL_SUPPORT_MIN) -> float | None:
    """Share of cited sentences whose passages pass the lexical check; ``None`` when nothing is cited."""
    pairs = cited_sentences(out)
    if not pairs:
        return None
    return sum(1 for s, p in pairs if lexical_support(s, p) >= threshold) / len(pairs)
