"""What the fine-tuned model should have answered: a gold row and the sources it was shown -> the completion.

    target = target_for(row, shown)    # Target(kind="answer" | "decline", completion='{"cited": ...}') or a Skip

Gold v2 rows carry a reference answer written from the docs and the sections that hold it (``gold_groups``).
The completion is the JSON object the served answer step is asked for (signatures/answer.py: ``cited``,
``answer``, ``cannot_answer``, in that order), so training sees exactly the format it must produce:

- a question to decline (``expect_refusal``: unanswerable, out of scope, harmful or injected): ``cannot_answer``
  true, no citation, the reference answer when it says why ("The docs don't mention gRPC."), else one short line;
- an answerable question whose gold sections are among the sources: the reference answer, each sentence ending
  with the number of the gold source that shares most of its words ("... with app.include_router() [2].");
- an answerable question whose gold sections were not retrieved: skipped (``Skip``). Training the model to
  answer without its evidence would teach it to guess.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from eval.gold import GoldQuestion

DECLINE = "The FastAPI docs in these sources do not answer this question."
WORD = re.compile(r"[a-z0-9_]+")
# sentence ends outside code spans: '.', '!' or '?' followed by whitespace and a capital, a backtick or a digit
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`0-9])")
ABBREVIATIONS = re.compile(r"\b(?:e\.g|i\.e|etc|vs|cf)\.", re.IGNORECASE)
STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "so",
        "that",
        "the",
        "this",
        "to",
        "use",
        "with",
        "you",
        "your",
    ]
)


@dataclass(frozen=True)
class Shown:
    """One numbered source as the answer step saw it."""

    number: int
    url: str
    text: str


@dataclass(frozen=True)
class Target:
    kind: Literal["answer", "decline"]
    completion: str  # the JSON object, as the model should write it
    cited: tuple[int, ...]


@dataclass(frozen=True)
class Skip:
    reason: str


def completion(cited: Sequence[int], answer: str, cannot_answer: bool) -> str:
    """The answer step's output object, fields in the signature's order (the schema grammar's order)."""
    return json.dumps({"cited": list(cited), "answer": answer, "cannot_answer": cannot_answer}, ensure_ascii=False)


def words(text: str) -> set[str]:
    return {w for w in WORD.findall(text.lower()) if w not in STOP}


def sentences(text: str) -> list[str]:
    """Prose sentences; a code span's dots (``app.include_router``) do not split, nor do decimals."""
    spans: list[str] = []
    protected = re.sub(r"`[^`]*`", lambda m: m.group(0).replace(".", "\x00"), text.strip())
    protected = ABBREVIATIONS.sub(lambda m: m.group(0).replace(".", "\x00"), protected)
    for piece in SENTENCE_END.split(protected):
        piece = piece.replace("\x00", ".").strip()
        if piece:
            spans.append(piece)
    return spans


def cite(sentence: str, number: int) -> str:
    """``sentence`` with `` [n]`` before its closing punctuation (the answer step's convention)."""
    match = re.search(r"[.!?:;]+$", sentence)
    if match is None:
        return f"{sentence} [{number}]"
    return f"{sentence[: match.start()]} [{number}]{match.group(0)}"


def gold_sources(row: GoldQuestion, shown: Sequence[Shown]) -> list[Shown]:
    """The shown sources that are gold sections of ``row``, best grade first, then in the order shown."""
    grade: dict[str, int] = {}
    for group in row.gold_groups:
        for url in group.sections:
            grade[url] = max(grade.get(url, 0), group.grade)
    for url in row.gold_sections:
        grade[url] = max(grade.get(url, 0), 2)
    hits = [s for s in shown if grade.get(s.url, 0) > 0]
    return sorted(hits, key=lambda s: (-grade[s.url], s.number))


def target_for(row: GoldQuestion, shown: Sequence[Shown]) -> Target | Skip:
    """The completion for ``row`` given the sources it was shown (see the module doc)."""
    reference = row.reference_answer.replace('"', "'").strip()  # the signature asks for single quotes
    if row.expect_refusal:
        return Target("decline", completion([], reference or DECLINE, True), ())
    if not reference:
        return Skip("no reference answer")
    gold = gold_sources(row, shown)
    if not gold:
        return Skip("gold sections not among the sources")
    cited: list[int] = []
    out: list[str] = []
    for sentence in sentences(reference):
        mine = words(sentence)
        best = max(gold, key=lambda s: (len(mine & words(s.text)), -gold.index(s)))
        out.append(cite(sentence, best.number))
        if best.number not in cited:
            cited.append(best.number)
    return Target("answer", completion(cited[:4], " ".join(out), False), tuple(cited[:4]))
