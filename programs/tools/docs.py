"""The docs tools: what an agent (or a coding agent over MCP, api/mcp.py) can do with the ingested docs.

    tools = DocsTools(retriever, db_path)
    tools.search_docs("enable CORS", version="0.100.0", k=5)        # ranked sections, URL#anchor, snippet
    tools.read_section("https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware")   # prose and code
    tools.compare_versions("lifespan events", "0.68.0", "0.141.1")  # both sections, a diff, release notes between
    tools.find_related_docs(url)                                     # same page, parent/children, similar topics
    tools.check_deprecations("WSGIMiddleware")                       # release notes and docs that deprecate it

No LM: every tool reads the DuckDB store (index/ingest/store.py) and the configured retriever, and every URL it
returns is a section of the store (so it resolves, and carries the docs version). Each takes a character budget
for what it returns (``max_chars``), so an agent's context is not flooded; cut text says so (``truncated``).
Tool output is quoted data: callers must never follow instructions found in it (api/mcp.py says so to agents).
"""

from __future__ import annotations

import difflib
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from fda.errors import InvalidQuestionError, SectionNotFoundError, UnknownVersionError
from index.ingest.store import connect
from index.retrieval.base import Retriever, check_query

DEFAULT_MAX_CHARS = 4000
MIN_SNIPPET = 40
_DEPRECATING = re.compile(r"deprecat|renam|remov|\bdrop|no longer|replaced by|instead of|breaking", re.IGNORECASE)
_DEPRECATED = re.compile(r"deprecat", re.IGNORECASE)  # said of a whole section or paragraph: only the word itself
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


class Hit(BaseModel):
    url: str = Field(description="The section's URL#anchor (a docs page for this version).")
    title: str = Field(description="Heading path: Page > Section.")
    version: str
    snippet: str
    score: float = 0.0


class Section(BaseModel):
    url: str
    title: str
    version: str
    text: str = Field(description="The section's prose then its code blocks, cut to the budget.")
    truncated: bool = False


class ReleaseNote(BaseModel):
    release: str
    date: str | None = None
    url: str
    text: str


class VersionComparison(BaseModel):
    topic: str
    from_version: str
    to_version: str
    before: Section | None = Field(None, description="The best matching section in from_version.")
    after: Section | None = Field(
        None, description="The same section (same page and anchor) or the best match in to_version."
    )
    diff: str = Field("", description="Unified diff of the two sections' text ('' when identical or one is missing).")
    release_notes: list[ReleaseNote] = Field(
        default_factory=list, description="Releases after from_version up to to_version mentioning the topic."
    )
    truncated: bool = False


class Related(BaseModel):
    url: str
    title: str
    version: str
    relation: Literal["parent", "child", "same page", "similar topic"]


class Deprecation(BaseModel):
    source: Literal["release notes", "docs"]
    title: str = Field(description="Heading path of the section the text comes from.")
    release: str | None = Field(None, description="The FastAPI release whose notes say it (release notes only).")
    version: str = Field(description="The docs version the text comes from.")
    url: str
    text: str = Field(description="The lines that mention it.")


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version))


def _cut(text: str, limit: int) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    head = text[:limit]
    cut = head.rfind("\n")
    return (head[:cut] if cut > limit // 2 else head).rstrip() + "\n…", True


_DOTTED = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$")


def _short(needle: str) -> str:
    """A dotted name's last part (``fastapi.middleware.wsgi.WSGIMiddleware`` -> ``WSGIMiddleware``); anything else
    as it is ("Python 3.7" stays whole)."""
    return needle.rsplit(".", 1)[-1] if _DOTTED.match(needle) else needle


def _mentions(text: str, needle: str) -> list[str]:
    """The lines of ``text`` that mention ``needle`` (case-insensitive; a dotted name also by its last part)."""
    needles = {needle.lower(), _short(needle).lower()}
    return [line.strip() for line in text.splitlines() if any(n in line.lower() for n in needles) and line.strip()]


def _deprecated_mentions(text: str, needle: str, heading: Sequence[str] = ()) -> list[str]:
    """The lines of a docs section about ``needle`` being deprecated: a line that mentions it and says so, or, when
    the section's heading or the line's paragraph says so ("Alternative Events (deprecated)", "For the deprecated
    `startup` and `shutdown` events, ... `@app.on_event(...)`"), the paragraph's deprecating line and the mentions."""
    if any(_DEPRECATED.search(h) for h in heading):
        mentions = _mentions(text, needle)
        return [f"(section: {' > '.join(heading)})", *mentions[:3]] if mentions else []
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        mentions = _mentions(paragraph, needle)
        if not mentions:
            continue
        saying = [line.strip() for line in paragraph.splitlines() if _DEPRECATED.search(line)]
        if saying:
            out.extend(dict.fromkeys([*saying[:1], *mentions[:2]]))
    return out


class DocsTools:
    """The five docs tools over one store and one retriever (shared, thread-safe: a cursor per call)."""

    def __init__(self, retriever: Retriever, db_path: Path) -> None:
        self.retriever = retriever
        self._con = connect(db_path, read_only=True)
        self._lock = threading.Lock()
        rows = self._rows("SELECT version, is_latest FROM corpus_manifest ORDER BY version")
        self.versions = sorted((str(v) for v, _ in rows), key=version_key)
        self.latest = next((str(v) for v, latest in rows if latest), self.versions[-1] if self.versions else "")

    def close(self) -> None:
        self._con.close()

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            cur = self._con.cursor()
        try:
            return cur.execute(sql, list(params)).fetchall()
        finally:
            cur.close()

    def section_urls(self) -> set[str]:
        """Every section URL of the store: what any URL a tool returns must be one of."""
        return {str(u) for (u,) in self._rows("SELECT url FROM sections")}

    def version(self, version: str | None) -> str:
        if version is None or version == "latest":
            return self.latest
        if version not in self.versions:
            raise UnknownVersionError(
                f"docs version {version!r} is not ingested",
                hint=f"Use one of: {', '.join(self.versions)} (or omit it for the latest).",
            )
        return version

    # -- search_docs ---------------------------------------------------------------------------------------------
    def search_docs(
        self, query: str, version: str | None = None, k: int = 5, max_chars: int = DEFAULT_MAX_CHARS
    ) -> list[Hit]:
        """Ranked sections for ``query`` in one docs version, one hit per section, snippets within the budget."""
        v = self.version(version)
        k = max(1, min(int(k), 20))
        passages = self.retriever.search(check_query(query), k=3 * k, version=v)
        hits: dict[str, Hit] = {}
        for p in passages:
            if p.url not in hits:
                hits[p.url] = Hit(url=p.url, title=p.title, version=p.version, snippet=p.text, score=round(p.score, 4))
        out = list(hits.values())[:k]
        # the snippets share the budget; fewer hits rather than snippets too short to read (40 characters each)
        out = out[: max(1, max_chars // MIN_SNIPPET)]
        per = max(MIN_SNIPPET, max_chars // max(1, len(out)))
        return [h.model_copy(update={"snippet": _cut(h.snippet, per)[0]}) for h in out]

    # -- read_section --------------------------------------------------------------------------------------------
    def _section_row(self, url_or_id: str, version: str | None) -> tuple[Any, ...]:
        cols = "url, heading_path, version, text, code, path, anchor, ordinal, level"
        ref = url_or_id.strip()
        rows = self._rows(f"SELECT {cols} FROM sections WHERE url = ?", [ref])
        if not rows:  # a chunk id
            rows = self._rows(
                f"SELECT {cols} FROM sections WHERE section_id = (SELECT section_id FROM chunks WHERE chunk_id = ?)",
                [ref],
            )
        if not rows:
            raise SectionNotFoundError(f"no docs section has the URL or id {ref!r}")
        row = rows[0]
        if version is not None and self.version(version) != row[2]:  # the same page and anchor in another version
            other = self._rows(
                f"SELECT {cols} FROM sections WHERE version = ? AND path = ? AND anchor = ?",
                [self.version(version), row[5], row[6]],
            )
            if not other:
                raise SectionNotFoundError(
                    f"{ref} has no section with the same page and anchor in docs {version}",
                    hint="search_docs with that version finds what it is called there.",
                )
            row = other[0]
        return row

    @staticmethod
    def _section(row: tuple[Any, ...], max_chars: int) -> Section:
        url, heading, version, text, code = row[:5]
        body = (text or "").strip()
        if code and code.strip() and code.strip() not in body:
            body = f"{body}\n\n```python\n{code.strip()}\n```"
        body, truncated = _cut(body, max_chars)
        return Section(url=url, title=" > ".join(heading or []), version=version, text=body, truncated=truncated)

    def read_section(self, url_or_id: str, version: str | None = None, max_chars: int = DEFAULT_MAX_CHARS) -> Section:
        """A whole section, prose then code, by its URL#anchor or a chunk id; with ``version``, the section with the
        same page and anchor in that docs version."""
        return self._section(self._section_row(url_or_id, version), max_chars)

    # -- compare_versions ----------------------------------------------------------------------------------------
    def release_notes(self, topic: str, after: str, upto: str, limit: int = 10) -> list[ReleaseNote]:
        """Release-note lines of the releases after ``after`` up to ``upto`` that hold at least half of ``topic``'s
        words (from the latest docs' release notes, which hold every release)."""
        words = [w.lower() for w in _WORD.findall(topic) if len(w) > 2]
        rows = self._rows(
            "SELECT release, release_date, url, text FROM releases WHERE version = ? ORDER BY release_date DESC",
            [self.latest],
        )
        out: list[ReleaseNote] = []
        for release, date, url, text in rows:
            if not (version_key(after) < version_key(release) <= version_key(upto)):
                continue
            lines = [
                line.strip()
                for line in (text or "").splitlines()
                if words and sum(w in line.lower() for w in words) >= (len(words) + 1) // 2
            ]
            if lines:
                out.append(
                    ReleaseNote(release=release, date=str(date) if date else None, url=url, text="\n".join(lines))
                )
            if len(out) >= limit:
                break
        return out

    def compare_versions(
        self, topic: str, from_version: str, to_version: str, max_chars: int = DEFAULT_MAX_CHARS
    ) -> VersionComparison:
        """The section on ``topic`` in both versions (the same page and anchor where it still exists), their diff,
        and the release notes between the two versions that mention the topic."""
        a, b = self.version(from_version), self.version(to_version)
        if version_key(a) > version_key(b):
            a, b = b, a
        budget = max(400, max_chars // 3)
        hits = self.search_docs(topic, version=a, k=1)
        before_row = self._section_row(hits[0].url, None) if hits else None
        after_row = None
        if before_row is not None:
            same = self._rows(
                "SELECT url FROM sections WHERE version = ? AND path = ? AND anchor = ?",
                [b, before_row[5], before_row[6]],
            )
            if same:
                after_row = self._section_row(same[0][0], None)
        if after_row is None:
            later = self.search_docs(topic, version=b, k=1)
            after_row = self._section_row(later[0].url, None) if later else None
        before = self._section(before_row, budget) if before_row else None
        after = self._section(after_row, budget) if after_row else None
        diff = ""
        if before is not None and after is not None:
            full_a, full_b = self._section(before_row, 10**6).text, self._section(after_row, 10**6).text  # type: ignore[arg-type]
            diff = "\n".join(
                difflib.unified_diff(
                    full_a.splitlines(), full_b.splitlines(), f"docs {a}", f"docs {b}", lineterm="", n=1
                )
            )
        diff, cut = _cut(diff, budget)
        notes, left = [], budget  # the release notes share a third of the budget too
        for note in self.release_notes(topic, a, b):
            if left <= 0:
                cut = True
                break
            text, short = _cut(note.text, left)
            notes.append(note.model_copy(update={"text": text}))
            left -= len(text)
            cut = cut or short
        return VersionComparison(
            topic=topic,
            from_version=a,
            to_version=b,
            before=before,
            after=after,
            diff=diff,
            release_notes=notes,
            truncated=cut or bool(before and before.truncated) or bool(after and after.truncated),
        )

    # -- find_related_docs ---------------------------------------------------------------------------------------
    def find_related_docs(self, url: str, k: int = 8) -> list[Related]:
        """Sections around ``url``: its parent heading, its sub-sections, the rest of its page, then sections on
        other pages with a similar topic (the retriever, queried with its heading path). The ingest keeps link
        text but not link targets, so "linked from it" is not available."""
        url_, heading, version, _text, _code, path, _anchor, ordinal, level = self._section_row(url, None)
        page = self._rows(
            "SELECT url, heading_path, ordinal, level FROM sections WHERE version = ? AND path = ? ORDER BY ordinal",
            [version, path],
        )
        out: list[Related] = []
        parent = [r for r in page if r[2] < ordinal and r[3] < level]
        if parent:
            out.append(Related(url=parent[-1][0], title=" > ".join(parent[-1][1]), version=version, relation="parent"))
        after = [r for r in page if r[2] > ordinal]
        children = []
        for r in after:
            if r[3] <= level:
                break
            children.append(r)
        out += [Related(url=r[0], title=" > ".join(r[1]), version=version, relation="child") for r in children]
        seen = {url_, *(r.url for r in out)}
        out += [
            Related(url=r[0], title=" > ".join(r[1]), version=version, relation="same page")
            for r in page
            if r[0] not in seen and r[3] <= max(level, 2)
        ][: max(0, k // 2)]
        seen |= {r.url for r in out}
        query = " ".join(heading or []) or url_
        for p in self.retriever.search(check_query(query), k=2 * k, version=version):
            if p.url not in seen and p.url.split("#")[0] != url_.split("#")[0]:
                out.append(Related(url=p.url, title=p.title, version=p.version, relation="similar topic"))
                seen.add(p.url)
        return out[: max(k, len(children) + 1)]

    # -- check_deprecations --------------------------------------------------------------------------------------
    def check_deprecations(
        self, symbol_or_topic: str, version: str | None = None, max_chars: int = DEFAULT_MAX_CHARS
    ) -> list[Deprecation]:
        """Release notes (every release) and docs text (``version``, default latest) that deprecate, rename or remove
        ``symbol_or_topic``: only lines that mention it and a deprecating word."""
        needle = check_query(symbol_or_topic).strip("`().%_ ")
        if not needle:
            raise InvalidQuestionError(
                f"nothing to look for in {symbol_or_topic!r}", hint="Name an API or feature, e.g. 'regex'."
            )
        v = self.version(version)
        like = "%" + re.sub(r"([\\%_])", r"\\\1", _short(needle).lower()) + "%"  # the name as text, not a pattern
        out: list[Deprecation] = []
        for release, url, text in self._rows(
            "SELECT release, url, text FROM releases WHERE version = ? AND lower(text) LIKE ? ESCAPE '\\' "
            "ORDER BY release_date DESC",
            [self.latest, like],
        ):
            lines = [line for line in _mentions(text or "", needle) if _DEPRECATING.search(line)]
            if lines and version_key(release) <= version_key(v):
                out.append(
                    Deprecation(
                        source="release notes",
                        title=f"Release Notes > {release}",
                        release=release,
                        version=self.latest,
                        url=url,
                        text="\n".join(lines),
                    )
                )
        for url, heading, text in self._rows(
            "SELECT url, heading_path, text FROM sections WHERE version = ? AND kind = 'doc' "
            "AND lower(text) LIKE ? ESCAPE '\\' ORDER BY ordinal",
            [v, like],
        ):
            lines = _deprecated_mentions(text or "", needle, list(heading or []))
            if lines:
                title = " > ".join(heading or [])
                out.append(
                    Deprecation(source="docs", title=title, release=None, version=v, url=url, text="\n".join(lines))
                )
        kept: list[Deprecation] = []
        left = max_chars
        for d in out:
            if left <= 0:
                break
            text, _ = _cut(d.text, left)
            kept.append(d.model_copy(update={"text": text}))
            left -= len(text)
        return kept
