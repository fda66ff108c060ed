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

The item comes from the passages shown to the model when one of them is a release-notes section that says it,
else from every release of the store's release notes (:class:`ReleaseNotes`, loaded once with the trust checks):
retrieval often ranks the tutorial page above the release that added the feature. A quoted section the model was
not shown joins the answer's sources, so the quote is cited like the rest.

No LM call. The item must share enough of the question's content words (what the question is about, its API
names counted whole and in parts), every other version number the question names (``Python 3.9``), and one of
the API names it asks about (``openapi_examples``), if any; release bullets (what a release did) go before
explanatory paragraphs; among the items that cover it equally, the earliest release wins: "since when" asks
for the first one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fda.types import Passage
from index.ingest.sources import version_key
from programs.trust.support import content_words

ASKS_WHEN = re.compile(
    r"\bsince (which|what|when)\b|\b(which|what) (fastapi )?(version|release)\b(?! of (?!fastapi))|\bwhen (was|were|did)\b"
    r"|\b(from|in) which (fastapi )?(version|release)\b|\b(first|last|newest|oldest) (fastapi )?(version|release)\b"
    r"|\bwhen .{0,40}\b(added|introduced|deprecated|removed|dropped|changed)\b"
    r"|\b(newest|latest|last) fastapi\b.{0,30}\b(install|support|run)",
    re.IGNORECASE,
)
_HEADING = re.compile(r"^(\d+\.\d+(?:\.\d+)?)(?:\s*\((\d{4}-\d{2}-\d{2})\))?")
_ITEM = re.compile(r"^\s*(?:[*-]\s+)?(.*\S)\s*$")
_NOISE = re.compile(r"\s*PR #\d+.*$|\s*by @[\w-]+.*$")  # "PR #123 by @someone" tails of release items
# words of "when" questions that say nothing of the feature
_ASKING = frozenset(
    {"since", "version", "versions", "release", "releases", "added", "introduced", "deprecated", "removed",
     "dropped", "changed", "first", "last", "newest", "oldest", "start", "started", "support", "supported",
     "able", "let", "lets", "allow", "allowed", "become", "became", "fastapi", "use", "using", "way", "when",
     "can", "could", "still", "our", "we", "install", "installed", "need", "put", "want", "take", "takes"}
)  # fmt: skip
# what must be in the item when the question names it: a version that is not a FastAPI release ("Python 3.9") and
# a name with a number in it ("pydantic.v1", "HTTP2"), which the content words leave out
_OTHER_VERSION = re.compile(r"(?<![\d.])(?!0\.)\d+\.\d+(?![\d.]*\d)|(?<![A-Za-z0-9])[A-Za-z]+\d+(?!\d)")
_PACKAGE_VERSION = re.compile(r"\b(?:starlette|pydantic|uvicorn|httpx|anyio)\b\D{0,15}?\b(0\.\d+(?:\.\d+)?)", re.I)
# items about the docs, tests and tooling rather than what FastAPI does (old releases list them among features)
_TOOLING = re.compile(
    r"\b(travis|tests?|testing|ci|coverage|mkdocs|docs?|documentation|translations?|typos?|lint\w*|sponsors?"
    r"|diagrams?|readme|tutorials?|examples?)\b",
    re.IGNORECASE,
)
MIN_SHARE_ANYWHERE = 0.5  # an item found among every release, not in the passages retrieved for the question
MIN_SHARED = 2  # content words the item and the question share, at least (a version number the question names counts)
MIN_SHARE = 0.4  # share of the question's content words the item covers


@dataclass(frozen=True)
class ReleaseItem:
    index: int  # of the passage among those shown
    version: str
    date: str
    text: str


def asks_when(question: str) -> bool:
    return bool(ASKS_WHEN.search(question))


# sections of a release that say nothing of what FastAPI does: its docs, translations, CI and tooling
NOT_FEATURES = frozenset({"docs", "translations", "internal"})
ACTION = re.compile(r"^(Add|Support|New|Drop|Deprecate|Remove|Allow|Enable|Introduce|Require)\b")
REMOVAL = re.compile(r"^(Drop|Deprecate|Remove)\b|\bdeprecat|\bno longer\b")
ASKS_REMOVAL = re.compile(r"\b(drop|remov|deprecat|no longer|stop|newest|latest|last)\w*", re.IGNORECASE)
# "since when does FastAPI require X": whether that is X's addition or the older one's removal, words cannot tell
AMBIGUOUS = re.compile(r"\b(requir\w*|minimum)\b", re.IGNORECASE)


def release_of(passage: Passage) -> tuple[str, str] | None:
    """(release, date) of a release-notes passage, from its heading path (``0.114.0 (2024-09-06)``); None for
    the sections about the docs, translations and internals, and for a passage that is not release notes."""
    if passage.kind != "release" or any(h.strip().lower() in NOT_FEATURES for h in passage.heading_path):
        return None
    for heading in reversed(passage.heading_path):
        m = _HEADING.match(heading.strip())
        if m:
            return m.group(1), m.group(2) or ""
    return None


def _items(text: str) -> list[tuple[str, bool]]:
    """A release section's items, each with whether it is a bullet ("* Add support for ...": what the release
    did) or a paragraph (an explanation, which may be about what came before): without code and PR tails."""
    out: list[tuple[str, bool]] = []
    in_code = False
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
            # four words at least, and not the tail of a sentence the chunk boundary cut ("nger a sub-class ...")
            if len(item.split()) >= 4 and not item[0].islower():
                out.append((item, bool(re.match(r"\s*[*-]\s", line))))
    return out


def _words(text: str) -> set[str]:
    """Content words, their endings evened out a little more (``routes`` and ``route``, ``dependency`` and
    ``dependencies`` alike)."""
    return {re.sub(r"(?<=\w\w)y$", "i", re.sub(r"(?<=\w\w\w)(es|ed|s|e)$", "", w)) for w in content_words(text)}


_API_NAME = re.compile(
    r"\b(?:[A-Za-z]*[a-z][A-Z]\w*|[A-Z]{2,}[a-z]\w*|[a-z0-9]+_[a-z0-9_]+)\b"
)  # CamelCase, snake_case


def _api_names(question: str) -> set[str]:
    """The API names the question asks about (``openapi_examples``, ``WebSocket``), FastAPI itself aside."""
    return {m.lower() for m in _API_NAME.findall(question)} - {"fastapi"}


_ASKING_WORDS = _words(" ".join(_ASKING))


def _wanted(question: str) -> tuple[set[str], set[str]]:
    """The question's content words minus the words of asking when, and the other version numbers it names."""
    numbers = {n.lower() for n in _OTHER_VERSION.findall(question)} | set(_PACKAGE_VERSION.findall(question))
    return _words(question) - _ASKING_WORDS, numbers


def _score(wanted: set[str], numbers: set[str], item: str) -> float | None:
    """The share of ``wanted`` the item covers (numbers count as words and must all be there); None: too little."""
    if numbers and not all(re.search(rf"(?<![\d.]){re.escape(n)}(?!\d)", item, re.IGNORECASE) for n in numbers):
        return None
    shared = len(wanted & _words(item)) + len(numbers)
    share = shared / (len(wanted) + len(numbers))
    return share if shared >= MIN_SHARED and share >= MIN_SHARE else None


Candidate = tuple[int, str, str, str, bool]  # passage index, release, date, item, is a bullet


def _best(question: str, candidates: Sequence[Candidate], anywhere: bool = False) -> Candidate | None:
    """The bullet covering most of the question (a paragraph only when no bullet does), then the earliest release."""
    if not asks_when(question) or AMBIGUOUS.search(question):
        return None
    wanted, numbers = _wanted(question)
    if len(wanted) + len(numbers) < MIN_SHARED:
        return None
    apis = _api_names(question)
    best: tuple[tuple[bool, float, bool, tuple[int, ...]], Candidate] | None = None
    for candidate in candidates:
        share = _score(wanted, numbers, candidate[3])
        if share is None or (apis and not any(a in candidate[3].lower() for a in apis)):
            continue  # an item that names none of the APIs the question asks about is about something else
        if bool(ASKS_REMOVAL.search(question)) != bool(REMOVAL.search(candidate[3])):
            continue  # "when was X dropped / required" wants a removal; "since when can I" an addition
        if anywhere and (
            share < MIN_SHARE_ANYWHERE
            or not candidate[4]
            or not ACTION.match(candidate[3])
            or _TOOLING.search(candidate[3].split(".")[0])
        ):
            continue  # from all of the release notes only a change FastAPI made (Add, Drop, ...), well covered
        # a bullet; then the share; then an item that did something (Add, Drop, Deprecate...); then the earliest
        key = (candidate[4], share, bool(ACTION.match(candidate[3])), tuple(-x for x in version_key(candidate[1])))
        if best is None or key > best[0]:
            best = (key, candidate)
    return best[1] if best else None


def _candidates(passages: Sequence[Passage]) -> list[Candidate]:
    """Every item of the release-notes passages among ``passages``, with the passage's index and release."""
    return [
        (i, release[0], release[1], item, bullet)
        for i, p in enumerate(passages)
        if (release := release_of(p)) is not None
        for item, bullet in _items(p.text)
    ]


def release_evidence(question: str, passages: Sequence[Passage]) -> ReleaseItem | None:
    """The release-notes item, among the shown passages, that says what the question asks about; None when the
    question does not ask when, or no item covers enough of it."""
    found = _best(question, _candidates(passages))
    return ReleaseItem(found[0], found[1], found[2], found[3]) if found else None


class ReleaseNotes:
    """Every item of the release notes (the latest docs' page lists every release), for the questions whose
    release the retrieved passages miss. ``find`` returns the item and its section as a passage to cite."""

    def __init__(self, sections: Sequence[Passage]) -> None:
        self.sections = list(sections)
        self._items = _candidates(self.sections)

    def __len__(self) -> int:
        return len(self._items)

    @classmethod
    def from_store(cls, db_path: Path) -> ReleaseNotes:
        from index.ingest.store import latest_version, open_store

        with open_store(db_path, read_only=True) as con:
            rows = con.execute(
                "SELECT chunk_id, url, heading_path, text, version FROM chunks WHERE kind = 'release' AND version = ?"
                " ORDER BY url, ordinal",
                [latest_version(con) or ""],
            ).fetchall()
        return cls(
            [
                Passage(chunk_id=r[0], url=r[1], heading_path=list(r[2]), text=r[3], version=r[4], kind="release")
                for r in rows
            ]
        )

    def find(self, question: str) -> tuple[ReleaseItem, Passage] | None:
        found = _best(question, self._items, anywhere=True)
        if found is None:
            return None
        return ReleaseItem(-1, found[1], found[2], found[3]), self.sections[found[0]]


def release_note(item: ReleaseItem, number: int) -> str:
    """The line put before the answer: the release, its date, the item verbatim, cited."""
    when = f"FastAPI {item.version}" + (f" ({item.date})" if item.date else "")
    return f'{when}, from its release notes: "{item.text.rstrip()}" [{number}]'
