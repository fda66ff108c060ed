"""One markdown page -> cleaned sections, or a reason to skip it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.ingest.anchors import page_url
from index.ingest.blocks import convert_blocks
from index.ingest.cleaning import drop_directives, strip_front_matter, strip_jinja
from index.ingest.includes import IncludeResolver, inline_includes
from index.ingest.sections import Section, split_sections

# Pages with no answer content: community lists, translation tooling, newsletters.
SKIP_PAGES: dict[str, str] = {
    "fastapi-people.md": "community list (people, sponsors)",
    "newsletter.md": "newsletter sign-up embed",
    "external-links.md": "list of external articles (Jinja data)",
    "translation-banner.md": "translation tooling",
    "translations.md": "translation tooling",
    "_llm-test.md": "translation tooling (LLM prompt test page)",
    "management.md": "repository management (maintainers only)",
    "management-tasks.md": "repository management (maintainers only)",
}
MIN_REFERENCE_WORDS = 40
_WORD = re.compile(r"[A-Za-z]{2,}")


@dataclass
class Page:
    path: str
    url: str
    title: str
    sections: list[Section] = field(default_factory=list)
    skipped: str | None = None
    directives: int = 0

    @property
    def is_release_notes(self) -> bool:
        return self.path.endswith("release-notes.md")


def _prose_words(sections: list[Section]) -> int:
    total = 0
    for s in sections:
        prose = re.sub(r"```.*?```", " ", s.text, flags=re.DOTALL)
        total += len(_WORD.findall(prose))
    return total


def process_page(path: str, text: str, resolver: IncludeResolver, version: str, latest: bool) -> Page:
    url = page_url(path, version, latest)
    name = path.rsplit("/", 1)[-1]
    if name in SKIP_PAGES:
        return Page(path, url, name, skipped=SKIP_PAGES[name])
    lines = strip_jinja(strip_front_matter(text)).splitlines()
    lines, directives = drop_directives(lines)
    lines = inline_includes(lines, path, resolver)
    lines = convert_blocks(lines)
    sections = split_sections(lines, url, release_notes=name == "release-notes.md")
    title = next((s.title for s in sections if s.level == 1), name.removesuffix(".md"))
    page = Page(path, url, title, sections, directives=directives)
    rel = path.split("docs/en/docs/", 1)[-1]
    if rel.startswith("reference/") and directives and _prose_words(sections) < MIN_REFERENCE_WORDS:
        page.skipped = f"API reference stub ({directives} mkdocstrings directives, no prose)"
        page.sections = []
    elif not any(s.text for s in sections):
        page.skipped = "no text content"
        page.sections = []
    return page
