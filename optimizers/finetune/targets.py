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
from programs.trust.verify import FENCE

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


# Distilled targets (issue #25: "target answers made by the best program we have, filtered by the metric"): the
# served 1.5B's own answer to a train question, from an exported eval run of the rag program, kept when it passes
# these bars; fixed before the first distilled data set was built, not tuned on what it produced.
DISTIL_MIN_MUST_MENTION = 0.5  # states at least half of the row's required facts
DISTIL_MIN_CITATION_PRECISION = 0.5  # its citations point at graded-relevant sections (graded precision)


@dataclass(frozen=True)
class TeacherAnswer:
    """One row of an exported eval run (``eval/results/<run>.jsonl``): what the teacher program answered."""

    answer: str
    cited: tuple[tuple[int, str], ...]  # (number, url): the served answer's own numbering (order of citing)
    declined: bool
    must_mention: float | None
    citation_precision: float | None
    failed: bool = False

    @classmethod
    def from_record(cls, record: dict[str, object]) -> TeacherAnswer:
        metrics = record.get("metrics") or {}
        assert isinstance(metrics, dict)
        cited = record.get("cited") or []
        assert isinstance(cited, list)

        def num(key: str) -> float | None:
            value = metrics.get(key)
            return float(value) if isinstance(value, int | float) else None

        return cls(
            answer=str(record.get("answer") or ""),
            cited=tuple((int(c["number"]), str(c["url"])) for c in cited if isinstance(c, dict) and "number" in c),
            declined=bool(record.get("declined")),
            must_mention=num("must_mention_recall"),
            citation_precision=num("citation_graded_precision"),
            failed=bool(record.get("error")) or bool(record.get("fallback")),
        )


_INLINE_CODE = re.compile(r"`[^`\n]*`")
_MARKER = re.compile(r"\[(\d+)\]")


def prose_markers(text: str) -> list[re.Match[str]]:
    """The ``[n]`` markers outside code blocks (``FENCE``, as verification splits them) and inline code spans:
    ``items[0]`` in an example is not a citation. The matches' offsets are ``text``'s (code is blanked, not cut)."""
    blank = FENCE.sub(lambda m: " " * len(m.group(0)), text)
    blank = _INLINE_CODE.sub(lambda m: " " * len(m.group(0)), blank)
    return list(_MARKER.finditer(blank))


def distilled_target(row: GoldQuestion, shown: Sequence[Shown], teacher: TeacherAnswer | None) -> Target | Skip:
    """The teacher's answer as the completion, when it passes the metric's bars and cites these very sources; else
    why not (``Skip``). Declines are not distilled: ``target_for`` writes them from the gold row's reason."""
    if row.expect_refusal:
        return Skip("a decline (not distilled)")
    if teacher is None:
        return Skip("the teacher run has no answer for it")
    if teacher.failed or teacher.declined or not teacher.answer.strip():
        return Skip("the teacher declined or failed")
    if (teacher.must_mention or 0.0) < DISTIL_MIN_MUST_MENTION:
        return Skip("the teacher stated under half the required facts")
    if (teacher.citation_precision or 0.0) < DISTIL_MIN_CITATION_PRECISION:
        return Skip("the teacher cited sections that do not hold the answer")
    # The served answer numbers its citations in the order it cites them, not as the prompt showed the sources:
    # map each of its markers to the prompt's number through the section URL, and write the prompt's numbers.
    numbers: dict[str, list[int]] = {}
    for source in shown:
        numbers.setdefault(source.url, []).append(source.number)
    mapping: dict[int, int] = {}
    for n, url in teacher.cited:
        if len(numbers.get(url, [])) != 1:  # not shown (retrieval changed since the run), or shown twice
            return Skip("the teacher saw other sources")
        mapping[n] = numbers[url][0]
    if "(link removed" in teacher.answer:
        return Skip("the teacher's answer had a link removed")
    found = prose_markers(teacher.answer)
    markers = [int(m.group(1)) for m in found]
    if not markers:
        return Skip("the teacher's answer carries no marker")
    if any(n not in mapping for n in markers):
        return Skip("a marker of the teacher's answer cites nothing")
    cited: list[int] = []
    for n in markers:
        if mapping[n] not in cited:
            cited.append(mapping[n])
    renumbered = teacher.answer
    for m in reversed(found):
        renumbered = f"{renumbered[: m.start()]}[{mapping[int(m.group(1))]}]{renumbered[m.end() :]}"
    answer = renumbered.replace('"', "'").strip()
    return Target("answer", completion(cited[:4], answer, False), tuple(cited[:4]))


def mixed_target(row: GoldQuestion, shown: Sequence[Shown], teacher: TeacherAnswer | None) -> tuple[Target | Skip, str]:
    """(target, source): the distilled answer where the teacher passed, else the reference target; the source is
    ``"teacher"`` or ``"reference"`` (and why the teacher's was not used)."""
    distilled = distilled_target(row, shown, teacher)
    if isinstance(distilled, Target):
        return distilled, "teacher"
    return target_for(row, shown), f"reference ({distilled.reason})"
