"""Heading anchors and page URLs, as the published site and GitHub build them."""

from __future__ import annotations

import re
import unicodedata

SITE = "https://fastapi.tiangolo.com"
GITHUB_BLOB = "https://github.com/fastapi/fastapi/blob"
DOCS_PREFIX = "docs/en/docs/"

_HEADING_ID = re.compile(r"\s*\{\s*#([A-Za-z0-9_.:-]+)\s*\}\s*$")
_TAGS = re.compile(r"<[^>]+>")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def split_heading_id(title: str) -> tuple[str, str | None]:
    """``'Use CORS { #use-cors }'`` -> ``('Use CORS', 'use-cors')``; no id -> ``(title, None)``."""
    m = _HEADING_ID.search(title)
    if m is None:
        return title.strip(), None
    return title[: m.start()].strip(), m.group(1)


def heading_plain_text(title: str) -> str:
    """The heading as Python-Markdown renders it to text: links to their text, tags and code marks gone."""
    text = _MD_LINK.sub(r"\1", title)
    text = _TAGS.sub("", text)
    text = text.replace("`", "")
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*", r"\1", text)
    return text.strip()


def toc_slugify(title: str) -> str:
    """Python-Markdown ``toc`` default slugify on the heading's plain text."""
    value = unicodedata.normalize("NFKD", heading_plain_text(title)).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return re.sub(r"[-\s]+", "-", value)


class AnchorAllocator:
    """Assigns page-unique anchors: explicit ids as given, auto slugs de-duplicated with ``_1``, ``_2``."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def allocate(self, title: str, explicit: str | None) -> str:
        if explicit:
            self._used.add(explicit)
            return explicit
        base = toc_slugify(title) or "section"
        anchor, n = base, 0
        while anchor in self._used:
            n += 1
            anchor = f"{base}_{n}"
        self._used.add(anchor)
        return anchor


def page_slug(md_path: str) -> str:
    """``docs/en/docs/tutorial/cors.md`` -> ``tutorial/cors/``; ``.../index.md`` -> its folder."""
    rel = md_path.removeprefix(DOCS_PREFIX).removesuffix(".md")
    if rel == "index":
        return ""
    if rel.endswith("/index"):
        rel = rel.removesuffix("/index")
    return rel + "/"


def page_url(md_path: str, version: str, latest: bool) -> str:
    """Published-site URL for the latest tag; a GitHub permalink at the tag for older ones."""
    if latest:
        return f"{SITE}/{page_slug(md_path)}"
    return f"{GITHUB_BLOB}/{version}/{md_path}"


def section_url(page: str, anchor: str) -> str:
    return f"{page}#{anchor}"
