"""The user's question asked back: an answer sentence that restates the question, as a question, goes.

    drop_echoes("Headers are case-sensitive, so must I rename it [1]? Use Header() [2].",
                "Headers are case-sensitive, so must I rename my parameter?")
    # -> ("Use Header() [2].", 1)

Small models given a question with a built-in claim ("X doesn't support wildcards, so I have to list them
all?") often open the answer by repeating it, question mark and all, then cite a source after it: the
sentence tells the user nothing, yet reads as if the docs confirmed the claim. Lexical support cannot catch
it (its words are the question's, and the passage shares the topic). Only sentences that end with a question
mark count, and only when most of their content words come from the question: an answer may still ask back
("Do you mean the `Header` parameter?") when it brings words of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from programs.trust.assumption import WHY_TAIL
from programs.trust.support import MARKER, content_words
from programs.trust.verify import PIECES, map_prose

ECHO_SHARE = 0.7  # share of the sentence's content words that are the question's
ECHO_MIN_WORDS = 4  # shorter questions back ("Why?") are too small to judge
# "[1] " opening a piece on the same line: the split puts a marker written after the full stop ("... async def? [1]
# You can ...") with the sentence after it, though it cites the one before (a marker opening a line is the line's)
_LEADING_MARKERS = re.compile(r"^(?:\[\d+\][ \t]*)+(?:[.!?](?=\s|$)[ \t]*)?")  # "[1][2]", "[1]. "
_ASKED = re.compile(r"\?\s*(?:\[\d+\]\s*)*[.!]?\s*$")


def is_echo(sentence: str, question_words: set[str]) -> bool:
    """Does ``sentence`` ask the question back (ends with '?', mostly the question's words)?"""
    if not _ASKED.search(sentence):
        return False
    words = content_words(MARKER.sub(" ", sentence))
    if len(words) < ECHO_MIN_WORDS:
        return False
    return len(words & question_words) >= ECHO_SHARE * len(words)


def drop_echoes(text: str, question: str) -> tuple[str, int]:
    """``text`` without its prose sentences that ask ``question`` back, and how many went. Code is left alone."""
    asked = content_words(question)
    if not asked:
        return text, 0
    return drop_prose(text, lambda piece: is_echo(piece, asked))


def drop_prose(text: str, drop: Callable[[str], bool]) -> tuple[str, int]:
    """``text`` without the prose sentences ``drop`` picks (code blocks as they are), and how many went; a stretch
    of prose that lost one is tidied (``tidy_prose``). ``drop`` sees the sentences in order, so it may remember."""
    removed = 0

    def keep(prose: str) -> str:
        nonlocal removed
        kept = []
        before = removed
        dropped = False  # did the last sentence go?
        inline = False  # is this piece on the same line as that sentence?
        for piece in PIECES.split(prose):
            if not piece.strip():
                kept.append(piece)
                inline = bool(piece) and "\n" not in piece
                continue
            lead = _LEADING_MARKERS.match(piece) if inline else None
            inline = False
            if lead:  # the previous sentence's citations: they go or stay with it, whatever this one does
                if not dropped:
                    kept.append(lead.group(0))
                piece = piece[lead.end() :]
                if not piece.strip():
                    kept.append(piece)
                    continue
            dropped = drop(piece)
            if dropped:
                removed += 1
                continue
            kept.append(piece)
        joined = "".join(kept)
        return tidy_prose(joined) if removed > before else joined

    out = map_prose(text, keep)
    return (out.strip(), removed) if removed else (text, 0)


def tidy_prose(text: str) -> str:
    """Prose after a removal: the double spaces it left inside a line and extra blank lines go; a line's leading
    indentation (a nested list) stays. Never used on code, whose indentation is its meaning."""
    return re.sub(r"\n{3,}", "\n\n", re.sub(r"(?<=\S)[ \t]{2,}(?=\S)", " ", text))


RESTATED_SHARE = 0.7  # of the sentence's content words from the claim, and of the claim's words it repeats
_NEGATION = re.compile(r"\b(?:no|not|never|neither|nor|without|cannot)\b|n't\b", re.IGNORECASE)  # "doesn't": n't
# the tail of the question the LM was asked in place of a why-question, copied back (case and its comma aside)
_OWN_SUFFIX = re.compile(
    r"^\s*"
    + re.escape(WHY_TAIL).replace(",", ",?").replace(r"\ ", r"\s+").replace(r"\?", r"\s*\?")
    + r"\s*(?:\[\d+\]\s*)*$",
    re.IGNORECASE,
)


def restates(sentence: str, claim_words: set[str], claim_negated: bool) -> bool:
    """Does ``sentence`` assert the claim again (most of its words are the claim's, most of the claim's are in it,
    and it does not negate what the claim does not)? "If so, why?", the tail of the question the LM was asked in
    place of a why-question, counts too."""
    if _OWN_SUFFIX.match(sentence):
        return True
    words = content_words(MARKER.sub(" ", sentence))
    if len(words) < ECHO_MIN_WORDS or bool(_NEGATION.search(sentence)) != claim_negated:
        return False
    shared = len(words & claim_words)
    return shared >= RESTATED_SHARE * len(words) and shared >= RESTATED_SHARE * len(claim_words)


def drop_restated_claim(text: str, claim: str) -> tuple[str, int]:
    """``text`` without prose sentences that state ``claim`` (a premise the question took for granted, which the
    docs' own sentence now answers before the text) as if it were so, and how many went. Session 31's newcomer check:
    asked "Does FastAPI require every path operation function to be async def? If so, why?", the 1.5B opened with
    "FastAPI requires every path operation function to be async def [1]. If so, why?" under the docs' quote that
    says a plain def works. A sentence that denies the claim ("FastAPI does not require ...") stays."""
    words = content_words(claim)
    if len(words) < ECHO_MIN_WORDS:
        return text, 0
    negated = bool(_NEGATION.search(claim))
    return drop_prose(text, lambda piece: restates(piece, words, negated))
