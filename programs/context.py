"""Passages -> the numbered ``sources`` text the answer signature reads (data, not instructions)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from fda.types import Passage
from programs.trust.echo import tidy_prose
from programs.trust.verify import FENCE, map_prose

Shortener = Callable[[str, int], str]


def cut_chars(text: str, limit: int) -> str:
    """Cut at a line or word boundary near ``limit`` characters."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    cut = max(head.rfind("\n"), head.rfind(" "))
    return (head[:cut] if cut > limit // 2 else head).rstrip() + " …"


_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_STOP = frozenset(
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
        "get",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "so",
        "that",
        "the",
        "then",
        "this",
        "to",
        "use",
        "used",
        "using",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "fastapi",
    ]
)


def terms(text: str) -> set[str]:
    """Lower-cased words of ``text`` and the parts of its identifiers (``allow_origins`` -> allow, origins;
    ``CORSMiddleware`` -> cors, middleware), stop words and one-letter words left out."""
    out: set[str] = set()
    for word in _WORD.findall(text):
        parts = [word, *word.split("_"), *_CAMEL.findall(word)]
        out.update(p.lower() for p in parts if len(p) > 1)
    return out - _STOP


def focused(query: str, *, whole_code: bool = False) -> Shortener:
    """A shortener that keeps the run of whole lines, within the limit, that holds the most distinct words of
    ``query``; among those, the one that starts at a matching line (what follows a mention, such as its code,
    is kept over what precedes it), then the earliest, so a passage that matches nowhere keeps its start, as
    ``cut_chars`` does. Long sections put the part that answers the question below the first few hundred
    characters; this keeps a tight context from cutting it off."""
    wanted = terms(query)

    def shorten(text: str, limit: int) -> str:
        if len(text) <= limit or not wanted:
            return cut_chars(text, limit)
        lines = text.split("\n")
        found = [terms(line) & wanted for line in lines]
        best, best_span = (-1, 0), (0, 0)
        for start in range(len(lines)):
            if len(lines[start]) > limit:  # one long paragraph: judged and cut on its own
                span, seen = (start, start + 1), found[start]
            else:
                end, size, seen = start, 0, set()
                while end < len(lines) and size + len(lines[end]) + 1 <= limit + 1:
                    size += len(lines[end]) + 1
                    seen = seen | found[end]
                    end += 1
                span = (start, end)
            lead = next((i for i in range(span[0], span[1]) if found[i]), span[0]) - span[0]
            key = (len(seen), -lead)
            if key > best:
                best, best_span = key, span
        if best[0] == 0:  # nothing matches: the start, as cut_chars keeps it
            return cut_chars(text, limit)
        start, end = best_span
        size = sum(len(line) + 1 for line in lines[start:end])
        while start > 0 and size + len(lines[start - 1]) + 1 <= limit + 1:  # room left at the end: fill it
            start -= 1
            size += len(lines[start]) + 1
        body = "\n".join(lines[start:end])
        room = limit - len(body) - 1
        if end < len(lines) and room >= 60:  # the next line does not fit whole: show its start
            body = body + "\n" + cut_chars(lines[end], room)
            end += 1
        body = cut_chars(body, limit)
        head = "… " if start > 0 else ""
        tail = " …" if end < len(lines) and not body.endswith("…") else ""
        cut = head + body + tail
        return balance_fences(lines, start, end, cut) if whole_code else cut

    return shorten


def _fence_open_before(lines: Sequence[str], index: int) -> str | None:
    """The opening line of the code block ``lines[index]`` sits in (``"```python"``), None outside one."""
    opener = None
    for line in lines[:index]:
        if line.lstrip().startswith("```"):
            opener = None if opener is not None else line.strip()
    return opener


def balance_fences(lines: Sequence[str], start: int, end: int, cut: str) -> str:
    """A focused cut of ``lines[start:end]`` with its code block whole at both ends: a cut that starts inside a
    block gets the block's opening fence back, one that stops inside a block gets a closing fence. Without them the
    model sees ``from x import y ... `````: code whose block never opened, which it copied half of (a CORS answer
    of session 17 stopped after ``app = FastAPI()``)."""
    opener = _fence_open_before(lines, start)
    if opener is not None:
        cut = ("…\n" if cut.startswith("… ") else "") + opener + "\n" + cut.removeprefix("… ")
    if _fence_open_before(lines, end) is not None and not cut.rstrip(" …").endswith("```"):
        cut = cut.rstrip(" …") + "\n```" + (" …" if end < len(lines) else "")
    return cut


def source_header(p: Passage) -> str:
    """A source's header line in the prompt, after its ``[n]``: ``Title (FastAPI <version>)``."""
    return f"{p.title or p.url} (FastAPI {p.version})"


def format_sources(passages: Sequence[Passage], max_chars: int = 900, shorten: Shortener = cut_chars) -> str:
    """``[n] Title (FastAPI <version>)`` then the (shortened) text, one block per passage."""
    blocks = []
    for i, p in enumerate(passages, start=1):
        blocks.append(f"[{i}] {source_header(p)}\n{shorten(p.text, max_chars)}")
    return "\n\n".join(blocks)


# a header used as a sentence's subject: "[1] Background Tasks > Caveat (FastAPI 0.141.1) states that ..."
_SUBJECT_VERB = re.compile(
    r"[ \t]+(?:states|says|shows|explains|mentions|notes|describes|provides|suggests|recommends|indicates|covers"
    r"|demonstrates|defines|gives|contains|lists|uses|is|has)\b"
)
SUBJECT = "The docs section"  # what stands in for a header used as a subject


def drop_source_headers(text: str, passages: Sequence[Passage]) -> tuple[str, int]:
    """``text`` without the prompt's source header lines the model copied into it (``[2] Handling Errors > Add
    custom headers (FastAPI 0.141.1)``: prompt format, not an answer), with any ``[n]`` before them; and how many
    went. Measured: 6 of 108 gold v2 dev-select answers of the 1.5B carried one (run 20261205-085028). A header the
    sentence uses as its subject ("[1] ... (FastAPI 0.141.1) states that X") becomes "The docs section", so what is
    left reads as a sentence ("states that X" did, session 21)."""
    headers = [re.escape(source_header(p)) for p in passages]
    if not headers:
        return text, 0
    patterns = [re.compile(r"(?:\[\d+\][ \t]*)?" + h, re.IGNORECASE) for h in headers]
    removed = 0

    def replace(m: re.Match[str]) -> str:
        return SUBJECT if _SUBJECT_VERB.match(m.string, m.end()) else ""

    def strip(prose: str) -> str:
        nonlocal removed
        before = removed
        for pattern in patterns:
            prose, n = pattern.subn(replace, prose)
            removed += n
        return tidy_prose(prose) if removed > before else prose

    header_line = re.compile(
        r"^[ \t]*(?:…[ \t]*)?(?:\[\d+\][ \t]*)?(?:" + "|".join(headers) + r")[ \t]*$", re.IGNORECASE | re.MULTILINE
    )

    def cut_code(block: str) -> str:
        """A code block cut where the model went on copying the prompt: at a source header line, what follows is
        the next source's text, not the answer's code (a code block closing on it is kept whole before it)."""
        nonlocal removed
        m = header_line.search(block)
        if m is None:
            return block
        removed += 1
        head = block[: m.start()].rstrip(" \t\n…")
        return "" if "\n" not in head else head + "\n```"

    out = "".join(
        part if not part.startswith("```") else cut_code(part) for part in FENCE.split(map_prose(text, strip))
    )
    return (out.strip(), removed) if removed else (text, 0)
