"""Split a cleaned page into heading-level sections with anchors, URLs and heading paths."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.ingest.anchors import AnchorAllocator, heading_plain_text, section_url, split_heading_id
from index.ingest.cleaning import clean_body

_HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<title>.+?)\s*#*\s*$")
_RELEASE = re.compile(r"^(?P<version>\d+\.\d+\.\d+)\s*(?:\((?P<date>\d{4}-\d{2}-\d{2})\))?")


@dataclass
class Section:
    ordinal: int
    level: int  # 0 = text before the first heading
    title: str
    anchor: str
    url: str
    heading_path: list[str]
    text: str
    code: list[str] = field(default_factory=list)
    release: str | None = None
    release_date: str | None = None


def _headings(lines: list[str]) -> list[tuple[int, int, str]]:
    """(line index, level, raw title) of every heading outside code fences."""
    found: list[tuple[int, int, str]] = []
    in_fence = False
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if not in_fence and (m := _HEADING.match(line)):
            found.append((i, len(m.group("hashes")), m.group("title")))
    return found


def split_sections(lines: list[str], page_url: str, release_notes: bool = False) -> list[Section]:
    heads = _headings(lines)
    allocator = AnchorAllocator()
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []  # (level, title) of the open ancestors
    release: tuple[str | None, str | None] = (None, None)

    if heads and heads[0][0] > 0:
        text, code = clean_body(lines[: heads[0][0]])
        if text:
            sections.append(Section(0, 0, "", "", page_url.split("#")[0], [], text, code))

    for k, (start, level, raw_title) in enumerate(heads):
        end = heads[k + 1][0] if k + 1 < len(heads) else len(lines)
        title_md, explicit = split_heading_id(raw_title)
        title = heading_plain_text(title_md)
        anchor = allocator.allocate(title_md, explicit)
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        if release_notes and level == 2:
            m = _RELEASE.match(title)
            release = (m.group("version"), m.group("date")) if m else (None, None)
        elif release_notes and level < 2:
            release = (None, None)
        text, code = clean_body(lines[start + 1 : end])
        sections.append(
            Section(
                ordinal=len(sections),
                level=level,
                title=title,
                anchor=anchor,
                url=section_url(page_url, anchor),
                heading_path=[t for _, t in stack],
                text=text,
                code=code,
                release=release[0],
                release_date=release[1],
            )
        )
    if not heads:
        text, code = clean_body(lines)
        if text:
            sections.append(Section(0, 0, "", "", page_url, [], text, code))
    return sections
