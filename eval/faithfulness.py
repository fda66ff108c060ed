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

from eval.contract import ProgramOutput
from programs.trust.support import LEXICAL_SUPPORT_MIN, MARKER, content_words, lexical_support, split_sentences

__all__ = [
    "LEXICAL_SUPPORT_MIN",
    "cited_sentences",
    "content_words",
    "lexical_faithfulness",
    "lexical_support",
    "split_sentences",
]


def cited_sentences(out: ProgramOutput) -> list[tuple[str, str]]:
    """(sentence without markers, text of the passages it cites) for every sentence with a marker that
    names a citation; markers naming nothing are counted by ``citation_validity`` instead."""
    texts = {p.chunk_id: p.text for p in out.passages}
    by_number = {c.number: texts.get(c.chunk_id) or c.snippet for c in out.citations}
    pairs = []
    for sentence in split_sentences(out.answer):
        numbers = [int(n) for n in MARKER.findall(sentence)]
        passages = [by_number[n] for n in dict.fromkeys(numbers) if n in by_number]
        bare = MARKER.sub("", sentence).strip()
        if passages and content_words(bare):
            pairs.append((bare, "\n\n".join(passages)))
    return pairs


def lexical_faithfulness(out: ProgramOutput, threshold: float = LEXICAL_SUPPORT_MIN) -> float | None:
    """Share of cited sentences whose passages pass the lexical check; ``None`` when nothing is cited."""
    pairs = cited_sentences(out)
    if not pairs:
        return None
    return sum(1 for s, p in pairs if lexical_support(s, p) >= threshold) / len(pairs)
