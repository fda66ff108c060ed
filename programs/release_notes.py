"""Name the release: "Since which version...?" answered with the release notes' own line, cited.

The small models write "you can use X" and leave out the one thing asked, the version, even with the release
notes' section for it among their sources (its heading says ``0.114.0 (2024-09-06)``). When the question asks
*when* (since which version, which release, when was X added or deprecated) and a release-notes passage shown
to the model has an item about what the question asks, that item is quoted before the answer, with its
release and date, and cited:

    release_evidence("Since which version can form models forbid extra fields?", passages)
    # ReleaseItem(index=2, version="0.114.0", date="2024-09-06", text="You can restrict form fields to ...")
    release_note(item, 3)
    # 'FastAPI 0.114.0 (2024-09-06), from its release notes: "You can restrict form fields to ..." [3]'

No LM call. The item must share enough of the question's content words (what the question is about, its API
names counted whole and in parts); among the items that cover it equally, the earliest release wins: "since
when" asks for the first one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from fda.types import Passage
from index.ingest.sources import version_key
from programs.trust.support import content_words

ASKS_WHEN = re.compile(
    r"\bsince (which|what|when)\b|\b(which|what) (fastapi )?(version|release)\b|\bwhen (was|were|did|is|does)\b"
    r"|\b(from|in) which (fastapi )?(version|release)\b|\b(first|last|newest|oldest) (fastapi )?(version|release)\b"
    r"|\bwhen .{0,40}\b(added|introduced|deprecated|removed|dropped|changed)\b",
    re.IGNORECASE,
)
_HEADING = re.compile(r"^(\d+\.\d+(?:\.\d+)?)(?:\s*\((\d{4}-\d{2}-\d{2})\))?")
_ITEM = re.compile(r"^\s*(?:[*-]\s+)?(.*\S)\s*$")
_NOISE = re.compile(r"\s*PR #\d+.*$|\s*by @[\w-]+.*$")  # "PR #123 by @someone" tails of release items
# words of "when" questions that say nothing of the feature
_ASKING = frozenset(
    {"since", "version", "versions", "release", "releases", "added", "introduced", "deprecated", "removed",
     "dropped", "changed", "first", "last", "newest", "oldest", "start", "started", "support", "supported",
     "able", "let", "lets", "allow", "allowed", "become", "became", "fastapi", "use", "using", "way", "when"}
)  # fmt: skip
MIN_SHARED = 2  # content words the item and the question share, at least
MIN_SHARE = 0.5  # share of the question's content words the item covers


@dataclass(frozen=True)
class ReleaseItem:
    index: int  # of the passage among those shown
    version: str
    date: str
    text: str


def asks_when(question: str) -> bool:
    return bool(ASKS_WHEN.search(question))


def release_of(passage: Passage) -> tuple[str, str] | None:
    """(release, date) of a release-notes passage, from its heading path (``0.114.0 (2024-09-06)``)."""
    if passage.kind != "release":
        return None
    for heading in reversed(passage.heading_path):
        m = _HEADING.match(heading.strip())
        if m:
            return m.group(1), m.group(2) or ""
    return None


def _items(text: str) -> list[str]:
    """A release section's items: its bullet lines and paragraphs, without code and PR tails."""
    out, in_code = [], False
    for line in text.splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
            continue
        if in_code or not line.strip() or (line.strip().endswith(":") and len(line) < 40):
            continue
        m = _ITEM.match(line)
        if m:
            item = _NOISE.sub("", m.group(1)).strip()
            item = re.sub(r"^[^\w`\"'(]+", "", item)  # leading emoji
            if len(item.split()) >= 4:
                out.append(item)
    return out


def release_evidence(question: str, passages: Sequence[Passage]) -> ReleaseItem | None:
    """The release-notes item, among the shown passages, that says what the question asks about; None when the
    question does not ask when, or no item covers enough of it."""
    if not asks_when(question):
        return None
    wanted = content_words(question) - _ASKING
    if len(wanted) < MIN_SHARED:
        return None
    best: tuple[float, tuple[int, ...], ReleaseItem] | None = None
    for i, p in enumerate(passages):
        release = release_of(p)
        if release is None:
            continue
        for item in _items(p.text):
            shared = len(wanted & content_words(item))
            share = shared / len(wanted)
            if shared < MIN_SHARED or share < MIN_SHARE:
                continue
            key = (share, tuple(-x for x in version_key(release[0])))  # most covered, then the earliest
            if best is None or key > best[:2]:
                best = (share, key[1], ReleaseItem(i, release[0], release[1], item))
    return best[2] if best else None


def release_note(item: ReleaseItem, number: int) -> str:
    """The line put before the answer: the release, its date, the item verbatim, cited."""
    when = f"FastAPI {item.version}" + (f" ({item.date})" if item.date else "")
    return f'{when}, from its release notes: "{item.text.rstrip()}" [{number}]'
