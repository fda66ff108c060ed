"""The counts behind session 32's small trust changes (docs/trust.md). No LM call; seconds each.

    python -m experiments.session32_counts tags           # what reading HTML tags as markup changes before the LM
    python -m experiments.session32_counts release-notes  # names only the release notes mention, as "unmentioned"
    python -m experiments.session32_counts code-headers   # committed answers with a source header inside a code block

Only material that may be read to choose a rule: gold v2 train, the scope passes 1-6 and the harm pools, the
red-team tune half, and committed train/dev runs (files naming "test" or "heldout" are skipped).
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
POOLS = (
    ["scope/positives.jsonl", *(f"scope/positives-{i}.jsonl" for i in range(2, 7))],
    ["harm/benign.jsonl", "harm/benign-2.jsonl", "harm/benign-3.jsonl"],
    ["scope/negatives.jsonl", *(f"scope/negatives-{i}.jsonl" for i in range(2, 7))],
)


def _questions(files: list[str]) -> list[str]:
    return [json.loads(line)["question"] for f in files for line in (ROOT / "data" / f).open() if line.strip()]


def tags() -> None:
    import programs.trust.premise as premise
    from eval.gold import load_gold
    from eval.redteam import load_attacks
    from fda.settings import Settings
    from programs.trust.assumption import find_assumption
    from programs.trust.coverage import DocsWords, unmentioned
    from programs.trust.vocabulary import load_vocabulary

    vocab = load_vocabulary(Settings().db_path)
    words = DocsWords(vocab)
    questions = [q.question for q in load_gold("v2", "train")] + [q for files in POOLS for q in _questions(files)]
    questions += [a.question for a in load_attacks(part="tune")]

    def decisions() -> list[object]:
        return [
            (unmentioned(q, words), [u.describe() for u in premise.unknown_apis(q, vocab)], find_assumption(q))
            for q in questions
        ]

    with_tags = decisions()
    saved, premise._TAG = premise._TAG, re.compile(r"(?!x)x")  # a pattern that never matches: tags read as prose
    try:
        without = decisions()
    finally:
        premise._TAG = saved
    changed = [(q, b, a) for q, b, a in zip(questions, without, with_tags, strict=True) if a != b]
    sys.stdout.write(f"{len(questions)} questions, {sum(bool(premise._TAG.search(q)) for q in questions)} with a tag; "
                     f"{len(changed)} decisions change\n")  # fmt: skip
    for q, b, a in changed:
        sys.stdout.write(f"  {b} -> {a}: {q[:100]!r}\n")


def release_notes() -> None:
    from eval.gold import load_gold
    from fda.settings import Settings
    from index.ingest.store import open_store
    from programs.trust.coverage import DocsWords, unmentioned
    from programs.trust.vocabulary import ApiVocabulary

    with open_store(Settings().db_path, read_only=True) as con:
        rows = con.execute("SELECT url, text FROM chunks").fetchall()
    every = DocsWords(ApiVocabulary.from_texts([t for _, t in rows]))
    no_notes = DocsWords(ApiVocabulary.from_texts([t for u, t in rows if "release-notes" not in u]))
    sys.stdout.write(f"docs words: {len(every.words)} with the release notes, {len(no_notes.words)} without\n")
    for name, words in (("every page", every), ("release notes left out", no_notes)):
        hits = Counter(r.type.value for r in load_gold("v2", "train") if unmentioned(r.question, words))
        sys.stdout.write(f"gold v2 train, {name}: declined {dict(hits)}\n")
    for label, files in zip(("FastAPI questions", "security questions", "off-topic questions"), POOLS, strict=True):
        qs = _questions(files)
        a = sum(bool(unmentioned(q, every)) for q in qs)
        b = sum(bool(unmentioned(q, no_notes)) for q in qs)
        sys.stdout.write(f"{label} ({len(qs)}): declined {a} with every page, {b} with release notes left out\n")


def committed_answers() -> Iterator[dict[str, Any]]:
    """The rows with an answer of every committed train and dev run of rag, multihop or the agent (eval/results/;
    files naming "test" or "heldout" are never opened); a torn line is skipped."""
    for path in sorted((ROOT / "eval" / "results").glob("*.jsonl")):
        if re.search("test|heldout", path.name, re.IGNORECASE) or not re.search("rag|multihop|agent", path.name):
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict) and isinstance(row.get("answer"), str):
                yield row


def code_headers() -> None:
    from programs.trust.verify import FENCE

    header = re.compile(r"^[ \t]*(?:…[ \t]*)?(?:\[\d+\][ \t]*)?[^\n]*\(FastAPI \d+\.\d+\.\d+\)[ \t]*$", re.MULTILINE)
    answers = hit = blocks = 0
    for row in committed_answers():
        answers += 1
        found = [b for b in FENCE.split(row["answer"]) if b.startswith("```") and header.search(b)]
        hit += bool(found)
        blocks += len(found)
    sys.stdout.write(f"{answers} answers: {hit} with a source header line inside a code block ({blocks} blocks)\n")


if __name__ == "__main__":
    {"tags": tags, "release-notes": release_notes, "code-headers": code_headers}[sys.argv[1]]()
