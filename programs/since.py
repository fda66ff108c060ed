"""What the latest docs say differently about a section an answer cites from an older version.

    latest = LatestDocs.from_store(db_path)                  # every version's sections, once (a few MB)
    notes = latest.notes(cited_chunk_ids)                     # for the cited chunks of versions before the latest
    notes[0].line()
    # "Since 0.68.0: in the FastAPI 0.141.1 docs, 'startup event' is under 'Alternative Events (deprecated)'
    #  (https://fastapi.tiangolo.com/advanced/events/#startup-event); the page adds 'Lifespan' (...#lifespan)."

A user on 0.68 is answered from the 0.68 docs (docs/versions.md); what they are not told is that the latest
docs have moved on. Each cited section of an older version is matched to the latest docs' section on the same
page (file path) with the same anchor, and compared:

- **gone**: the page or the section is not in the latest docs;
- **deprecated**: the latest docs' section, its heading path or its text says "deprecated" where the older
  one did not;
- **reworded**: the section's text shares under ``REWORDED_BELOW`` of its content words with the latest's;
- **its code moved on**: keyword arguments and imported names its examples use that the latest section's
  examples no longer do, and the ones they use instead (``regex`` -> ``pattern``, ``Optional`` ->
  ``Annotated``);
- and, when the section is gone or deprecated, **the page's new sections** (where the advice went): headings
  of the latest page whose anchors the older page does not have (``MAX_ADDED`` of them, top levels first).

Nothing is said when the section reads the same and its code uses the same names. The note states what the store holds, with the
latest docs' URL; it does not judge whether the older advice still works.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from fda.types import Passage
from programs.trust.support import content_words

REWORDED_BELOW = 0.6  # content-word Jaccard of the section's text, older against latest
MAX_ADDED = 3  # new sections of the page named in the note
MAX_NAMES = 3  # code names named per side
_DEPRECATED = re.compile(r"\bdeprecat", re.IGNORECASE)
_KWARG = re.compile(r"[(,]\s*([a-z_][a-z0-9_]*)\s*=(?!=)")  # a keyword argument inside a call
_IMPORTED = re.compile(r"^[ \t]*from[ \t]+[\w.]+[ \t]+import[ \t]+(?:\(([^)]*)\)|([\w ,]+))", re.MULTILINE)

Change = Literal["gone", "page_gone", "deprecated", "reworded", "unchanged"]


@dataclass(frozen=True)
class Section:
    version: str
    path: str  # the docs file ("docs/en/docs/advanced/events.md"): the same page across versions
    anchor: str
    url: str
    title: str
    heading_path: tuple[str, ...]
    level: int
    ordinal: int
    text: str
    code: str = ""


@dataclass(frozen=True)
class SinceNote:
    version: str  # the older version the answer cites
    latest: str
    title: str  # the cited section's title
    change: Change
    url: str | None  # the latest docs' section (or page) URL
    under: str = ""  # the latest heading that marks it deprecated
    dropped: tuple[str, ...] = ()  # code names the older examples use and the latest's do not
    instead: tuple[str, ...] = ()  # code names the latest examples use and the older's did not
    added: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (title, url) of the page's new sections

    def line(self) -> str:
        head = f"Since {self.version}: in the FastAPI {self.latest} docs, "
        if self.change == "page_gone":
            if self.url:
                return f"{head}the page of '{self.title}' moved ({self.url})."
            return f"{head}the page of '{self.title}' is gone."
        what = {
            "gone": f"'{self.title}' is gone from the page ({self.url})",
            "deprecated": f"'{self.title}' is "
            + (f"under '{self.under}'" if self.under else "marked deprecated")
            + f" ({self.url})",
            "reworded": f"'{self.title}' is worded differently ({self.url})",
            "unchanged": f"'{self.title}' reads the same",
        }[self.change]
        if self.dropped:
            what += "; its examples no longer use " + ", ".join(f"`{n}`" for n in self.dropped)
            if self.instead:
                what += " but " + ", ".join(f"`{n}`" for n in self.instead)
        if self.added:
            what += "; the page adds " + ", ".join(f"'{t}' ({u})" for t, u in self.added)
        return head + what + "."

    def as_dict(self) -> dict[str, object]:
        return {
            "version": self.version,
            "latest": self.latest,
            "title": self.title,
            "change": self.change,
            "url": self.url,
            "under": self.under,
            "dropped": list(self.dropped),
            "instead": list(self.instead),
            "added": [{"title": t, "url": u} for t, u in self.added],
        }


@dataclass(frozen=True)
class BeforeNote:
    """A latest-docs section cited for a user on an older version: missing there, or its examples use other names."""

    version: str  # the older version the question named
    title: str
    url: str | None  # that version's section, when it has one
    theirs: tuple[str, ...] = ()  # names the older version's examples use (and the latest's do not)
    ours: tuple[str, ...] = ()  # names the cited latest examples use instead

    def line(self) -> str:
        if self.url is None:
            return f"On FastAPI {self.version}: its docs have no section '{self.title}'; check that this applies to it."
        names = ", ".join(f"`{n}`" for n in self.theirs)
        instead = f" where the latest docs use {', '.join(f'`{n}`' for n in self.ours)}" if self.ours else ""
        return f"On FastAPI {self.version}: the docs' example for '{self.title}' uses {names}{instead} ({self.url})."

    def as_dict(self) -> dict[str, object]:
        return {"version": self.version, "title": self.title, "url": self.url, "theirs": list(self.theirs),
                "ours": list(self.ours)}  # fmt: skip


class LatestDocs:
    """Every ingested version's sections, keyed by (version, url) for the chunks an answer cites and by
    (path, anchor) in the latest version for the comparison."""

    def __init__(self, sections: Iterable[Section], latest: str) -> None:
        self.latest = latest
        self._by_url: dict[tuple[str, str], Section] = {}
        self._pages: dict[tuple[str, str], list[Section]] = defaultdict(list)
        for s in sections:
            self._by_url[(s.version, s.url)] = s
            self._pages[(s.version, s.path)].append(s)
        for rows in self._pages.values():
            rows.sort(key=lambda s: s.ordinal)

    @classmethod
    def from_store(cls, db_path: Path) -> LatestDocs:
        from index.ingest.store import latest_version, open_store

        with open_store(db_path, read_only=True) as con:
            latest = latest_version(con)
            rows = con.execute(
                "SELECT version, path, anchor, url, title, heading_path, level, ordinal, text, code FROM sections "
                "WHERE kind <> 'release'"
            ).fetchall()
        return cls(
            (Section(r[0], r[1], r[2] or "", r[3], r[4] or "", tuple(r[5] or ()), r[6] or 1, r[7] or 0, r[8] or "",
                     r[9] or "") for r in rows),
            latest or "",
        )  # fmt: skip

    def note(self, version: str, url: str) -> SinceNote | None:
        """The note for one cited section (``url`` as the passage carries it, anchor included); None when it is
        the latest version's, unknown, or the same in the latest docs with nothing new on its page."""
        if not self.latest or version == self.latest:
            return None
        old = self._by_url.get((version, url))
        if old is None:
            return None
        page = self._pages.get((self.latest, old.path))
        if not page:  # gone, or moved to another folder under the same file name ("advanced/" -> "how-to/")
            name = "/" + old.path.rsplit("/", 1)[-1]
            moved = [rows[0].url for (v, path), rows in self._pages.items() if v == self.latest and path.endswith(name)]
            return SinceNote(version, self.latest, old.title, "page_gone", moved[0] if len(moved) == 1 else None)
        new = _same_section(page, old)
        old_anchors = {s.anchor for s in self._pages[(version, old.path)]}
        added = tuple((s.title, s.url) for s in sorted((s for s in page if s.anchor not in old_anchors),
                                                       key=lambda s: (s.level, s.ordinal))[:MAX_ADDED])  # fmt: skip
        if new is None:
            return SinceNote(version, self.latest, old.title, "gone", page[0].url, added=added)
        change: Change = "unchanged"
        under = ""
        said_before = any(_DEPRECATED.search(x) for x in (*old.heading_path, old.text))
        marked = [h for h in new.heading_path if _DEPRECATED.search(h)]
        if not said_before and (marked or _DEPRECATED.search(new.text)):
            change, under = "deprecated", (marked[0] if marked else "")
        elif _jaccard(old.text, new.text) < REWORDED_BELOW:
            change = "reworded"
        before, after = code_names(old.code), code_names(new.code)
        dropped = tuple(sorted(before - after))[:MAX_NAMES] if after else ()  # no code now: nothing to compare
        instead = tuple(sorted(after - before))[:MAX_NAMES] if dropped else ()
        if change == "unchanged" and not dropped:
            return None  # the same words and names: new sections elsewhere on the page are not news about this one
        # the page's new sections say where the advice went when it is deprecated; otherwise the section's own
        # latest URL is the news, and a page's new sections elsewhere ("FastAPI Conf") are noise
        added = added if change == "deprecated" else ()
        return SinceNote(
            version, self.latest, old.title, change, new.url, under=under, added=added, dropped=dropped, instead=instead
        )

    def before(self, older: str, url: str) -> BeforeNote | None:
        """The other direction: a section of the latest docs an answer cites for a user on ``older`` (a version the
        question named, whose passages were shown too). None unless that version's docs lack the section or its
        examples use other names."""
        new = self._by_url.get((self.latest, url))
        if new is None or older == self.latest:
            return None
        page = self._pages.get((older, new.path))
        if not page:
            return BeforeNote(older, new.title, None)
        old = _same_section(page, new)
        if old is None:
            return BeforeNote(older, new.title, None)
        before, after = code_names(old.code), code_names(new.code)
        theirs = tuple(sorted(before - after))[:MAX_NAMES] if before else ()
        ours = tuple(sorted(after - before))[:MAX_NAMES] if theirs else ()
        return BeforeNote(older, new.title, old.url, theirs, ours) if theirs else None

    def documenting(self, claim: str, exported: Callable[[str], bool] | None = None) -> tuple[Passage, Any] | None:
        """For "FastAPI removed X" when no shown passage names X: the latest docs' section whose prose still names
        X in backticks (sections titled with X first, then in page order), as a passage to cite, with its sentence
        (programs/trust/assumption.py: ``still_documented``). None when the claim is not of that shape or no section
        qualifies."""
        from programs.trust.assumption import claims_gone, still_documented

        if not claims_gone(claim):  # cheap: most questions make no such claim
            return None
        sections = [s for (v, _), rows in self._pages.items() if v == self.latest for s in rows]
        sections.sort(key=lambda s: (not any(w.lower() in s.title.lower() for w in re.findall(r"\w+", claim)
                                            if len(w) > 3 and w.lower() != "fastapi"), s.path, s.ordinal))  # fmt: skip
        for s in sections:
            found = still_documented(claim, [s.text], exported)
            if found is not None:
                return _as_passage(s), found
        return None

    def documenting_thing(self, claim: str) -> tuple[Passage, Any] | None:
        """For "FastAPI removed X" when X is a feature named in words ("dependency injection", "Pydantic models in
        request bodies"; ``gone_thing``): the latest docs' section with a prose sentence holding every word of X, as
        a passage to cite, with that sentence (a ``StillDocumented`` with ``code=False``). The section's title must
        share a word with X; those sharing most come first, then those whose title says least else. None when the claim is not of
        that shape, no section qualifies, or any sentence of the latest docs that holds X's words speaks of removal
        or deprecation (the docs may agree with the claim)."""
        from programs.trust.assumption import StillDocumented, as_quote, gone_thing, roots, says_gone, thing_sentences

        thing = gone_thing(claim)  # cheap when, as for most questions, the claim is of another shape
        if thing is None:
            return None
        ranked: list[tuple[int, int, str, int, Section, str]] = []
        for (version, _), rows in self._pages.items():
            if version != self.latest:
                continue
            for s in rows:
                said = thing_sentences(thing, s.text)
                if any(says_gone(x) for x in said):
                    return None
                title = roots(s.title)
                if said and thing.words & title:  # a section about it: titled with most of it, then least else
                    ranked.append((-len(thing.words & title), len(title - thing.words), s.path, s.ordinal, s, said[0]))
        if not ranked:
            return None
        *_, best, sentence = min(ranked, key=lambda r: r[:4])
        return _as_passage(best), StillDocumented(name=thing.thing, index=0, sentence=as_quote(sentence), code=False)

    def notes(self, cited: Sequence[tuple[str, str]], limit: int = 2) -> list[SinceNote]:
        """Notes for cited (version, url) pairs, one per older section, at most ``limit``; changes to the cited
        section itself first."""
        out: list[SinceNote] = []
        seen: set[tuple[str, str]] = set()
        for version, url in cited:
            if (version, url) in seen:
                continue
            seen.add((version, url))
            found = self.note(version, url)
            if found is not None and all(n.url != found.url or n.title != found.title for n in out):
                out.append(found)
        out.sort(key=lambda n: n.change == "unchanged")
        return out[:limit]


def _as_passage(s: Section) -> Passage:
    """A whole section of the docs as a source an answer can cite."""
    return Passage(chunk_id=f"section:{s.url}", url=s.url, heading_path=list(s.heading_path), text=s.text,
                   version=s.version)  # fmt: skip


def _same_section(page: Sequence[Section], target: Section) -> Section | None:
    """``target``'s section on another version of its page: the same anchor, else the same anchor up to ``_``/``-``
    (newer docs renamed them), else the same heading."""
    key, title = _anchor_key(target.anchor), target.title.strip().lower()
    return (
        next((s for s in page if s.anchor == target.anchor), None)
        or next((s for s in page if _anchor_key(s.anchor) == key), None)
        or next((s for s in page if s.title.strip().lower() == title), None)
    )


def _anchor_key(anchor: str) -> str:
    return re.sub(r"[-_]+", "-", anchor.lower()).strip("-")


def code_names(code: str) -> set[str]:
    """Keyword arguments and imported names of a section's examples: what a reader copies and can get wrong."""
    names = set(_KWARG.findall(code))
    for m in _IMPORTED.finditer(code):
        names.update(n for n in re.findall(r"\w+", m.group(1) or m.group(2)) if n != "as")
    return names


def _jaccard(a: str, b: str) -> float:
    x, y = content_words(a), content_words(b)
    return len(x & y) / len(x | y) if x | y else 1.0
