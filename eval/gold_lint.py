"""Lint for gold rows: answer keys that can fail, written questions free of the docs' toy identifiers,
near-duplicates kept on one side of a split boundary.

    problems = lint_rows(rows)            # [Problem(row_id, message)], empty when clean

Pure functions over rows; ``fda gold validate`` runs them with the corpus checks of eval/gold_check.py.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from eval.gold import ANSWER_TYPES, GoldQuestion

# must_mention alternatives are a cheap pre-filter matched on word boundaries: a short or common word
# ('id' in "inside", 'not' in "note", 'use') matches almost any answer, so such alternatives are rejected.
MIN_MENTION_CHARS = 4
COMMON_WORDS: frozenset[str] = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "data",
        "do",
        "does",
        "for",
        "from",
        "get",
        "has",
        "have",
        "how",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "json",
        "list",
        "more",
        "must",
        "no",
        "none",
        "not",
        "note",
        "of",
        "on",
        "one",
        "or",
        "out",
        "path",
        "post",
        "put",
        "query",
        "run",
        "set",
        "so",
        "some",
        "that",
        "the",
        "then",
        "this",
        "to",
        "true",
        "false",
        "type",
        "use",
        "used",
        "uses",
        "user",
        "value",
        "when",
        "with",
        "without",
        "yes",
        "you",
        "your",
        "app",
        "api",
        "code",
        "file",
        "from",
        "model",
        "name",
        "item",
        "items",
        "test",
        "error",
        "request",
        "response",
        "body",
        "field",
    ]
)
# The docs' own example identifiers: rare words a user would not type, which a retriever matches exactly.
# Written questions may not use them (real user questions are kept verbatim whatever they say).
DOC_TOY_IDENTIFIERS: tuple[str, ...] = (
    "alexnet",
    "resnet",
    "lenet",
    "UnicornException",
    "unicorn",
    "fixedquery",
    "subapi",
    "MiddlewareA",
    "MiddlewareB",
    "fake_items_db",
    "fake_users_db",
    "fake_decode_token",
    "fake_hash_password",
    "johndoe",
    "alice",
    "Rick",
    "Morty",
    "Foo",
    "Baz",
    "plumbus",
    "portal gun",
    "read_items",
    "read_item",
    "common_parameters",
    "CommonQueryParams",
    "get_query_token",
    "get_token_header",
    "verify_token",
    "verify_key",
    "fake-super-secret-token",
    "fake-secret-token",
    "FixedContentQueryChecker",
    "ModelName",
    "dependency_a",
    "dependency_b",
    "dependency_c",
    "DepA",
    "DepB",
    "tags_metadata",
    "hero",
    "Hero",
    "HeroCreate",
    "HeroPublic",
    "swordfish",
    "stanleyjobson",
    "Starlette!",
    "Item(BaseModel)",
)
# Two questions whose content-word sets overlap at least this much are near-duplicates (same need, reworded).
NEAR_DUPLICATE_JACCARD = 0.6
_WORD = re.compile(r"[a-z0-9_]+")


@dataclass(frozen=True)
class Problem:
    row_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.row_id}: {self.message}"


def weak_mention(alt: str) -> str | None:
    """Why a must_mention alternative cannot fail (too short, a common word), or None when it is fine."""
    text = alt.strip()
    if text.lower() in COMMON_WORDS:
        return f"{alt!r} is a common word"
    short_ok = len(text) == 3 and (any(c.isdigit() for c in text) or text.isupper())  # JWT, 422
    if len(text) < MIN_MENTION_CHARS and not short_ok:
        return f"{alt!r} is shorter than {MIN_MENTION_CHARS} characters"
    return None


def toy_identifiers(question: str) -> list[str]:
    """The docs' toy identifiers the question uses (word boundaries, case-insensitive)."""
    found = []
    for ident in DOC_TOY_IDENTIFIERS:
        if re.search(rf"(?<![A-Za-z0-9_]){re.escape(ident)}(?![A-Za-z0-9_])", question, flags=re.IGNORECASE):
            found.append(ident)
    return found


def lint_row(row: GoldQuestion, v2: bool = True) -> list[Problem]:
    out: list[Problem] = []
    for group in row.must_mention:
        out += [Problem(row.id, f"must_mention {why}") for alt in group if (why := weak_mention(alt))]
    if not v2:
        return out
    if row.source is None:
        out.append(Problem(row.id, "no source (user with url, or written)"))
    elif row.source.kind == "written":
        out += [
            Problem(row.id, f"written question uses the docs' toy identifier {t!r}")
            for t in toy_identifiers(row.question)
        ]
    if row.gold_sections and not row.gold_groups:
        out.append(Problem(row.id, "v2 rows give gold_groups (any-of groups with a grade), not gold_sections"))
    if not row.expect_refusal and not any(f.polarity == "must" for f in row.facts):
        out.append(Problem(row.id, "an answerable row needs at least one 'must' fact"))
    if row.type in ANSWER_TYPES and row.type.value == "multihop" and len(row.answer_groups()) < 2:
        out.append(Problem(row.id, "a multihop row needs at least two grade-2 groups"))
    return out


def content_words(question: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(question.lower()) if len(w) > 2 and w not in COMMON_WORDS)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def near_duplicates(
    rows: Iterable[GoldQuestion], threshold: float = NEAR_DUPLICATE_JACCARD
) -> list[tuple[str, str, float]]:
    """Pairs of rows in different groups whose questions overlap at least ``threshold`` (content words)."""
    items = [(r, content_words(r.question)) for r in rows]
    pairs = []
    for (a, wa), (b, wb) in combinations(items, 2):
        if a.dedupe_group != b.dedupe_group and (sim := jaccard(wa, wb)) >= threshold:
            pairs.append((a.id, b.id, round(sim, 3)))
    return pairs


# Sentence-vector cosine at which two questions count as the same need (all-MiniLM-L6-v2): set by reading
# the pairs above 0.75 on gold v2 before any split was assigned (docs/gold-set.md).
SEMANTIC_NEAR_DUPLICATE = 0.80


def semantic_near_duplicates(
    rows: list[GoldQuestion],
    encode: Callable[[list[str]], Any],
    threshold: float = SEMANTIC_NEAR_DUPLICATE,
) -> list[tuple[str, str, float]]:
    """Pairs of rows in different groups whose question vectors (``encode``: L2-normalised rows) have a
    cosine of at least ``threshold``: the same need asked twice, which Jaccard misses across wordings."""
    import numpy as np

    vectors = np.asarray(encode([r.question[:1000] for r in rows]), dtype=float)
    sims = vectors @ vectors.T
    out = []
    for i, j in zip(*np.nonzero(np.triu(sims, k=1) >= threshold), strict=True):
        a, b = rows[int(i)], rows[int(j)]
        if a.dedupe_group != b.dedupe_group:
            out.append((a.id, b.id, round(float(sims[i, j]), 3)))
    return out


def split_problems(rows: list[GoldQuestion], semantic: list[tuple[str, str, float]] | None = None) -> list[Problem]:
    """Every row has a stored split; a group never straddles two splits; no near-duplicates across splits."""
    out = [Problem(r.id, "no split: run `fda gold split --version v2`") for r in rows if r.assigned_split is None]
    by_group: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        by_group[r.dedupe_group].add(r.split)
    out += [Problem(g, f"group straddles splits {sorted(s)}") for g, s in by_group.items() if len(s) > 1]
    split_of = {r.id: r.split for r in rows}
    out += [
        Problem(a, f"near-duplicate of {b} (similarity {sim}) in another split: give both the same group")
        for a, b, sim in [*near_duplicates(rows), *(semantic or [])]
        if split_of[a] != split_of[b]
    ]
    return out


def lint_rows(rows: list[GoldQuestion], v2: bool = True) -> list[Problem]:
    return [p for row in rows for p in lint_row(row, v2)]
