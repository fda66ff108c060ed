"""Markup that readers never see as such: front matter, Jinja, HTML, mkdocstrings directives, link syntax."""

from __future__ import annotations

import html
import re

_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)
_JINJA = re.compile(r"\{%-?.*?-?%\}|\{\{.*?\}\}", re.DOTALL)
_ABBR = re.compile(r"<(abbr|dfn)\s+title=(?P<q>[\"'])(?P<title>.*?)(?P=q)\s*>(?P<text>.*?)</\1>", re.DOTALL)
_ANCHOR = re.compile(r"<a\s[^>]*>(?P<text>.*?)</a>", re.DOTALL)
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^>\n]*>")
_TERMINAL_TAG = re.compile(r"</?(font|span)\b[^>]*>")
_TERMINAL_LANGS = {"console", "bash", "sh", "shell", "text", ""}
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_DIRECTIVE = re.compile(r"^:::\s+\S+")
_STYLE = re.compile(r"<style>.*?</style>", re.DOTALL)


def strip_front_matter(text: str) -> str:
    return _FRONT_MATTER.sub("", text, count=1)


def strip_jinja(text: str) -> str:
    return _JINJA.sub("", text)


def drop_directives(lines: list[str]) -> tuple[list[str], int]:
    """Remove mkdocstrings ``::: module.Name`` blocks (and their indented options); count them."""
    out: list[str] = []
    count = 0
    skipping = False
    for line in lines:
        if _DIRECTIVE.match(line):
            skipping = True
            count += 1
            continue
        if skipping and (line.startswith((" ", "\t")) or not line.strip()):
            continue
        skipping = False
        out.append(line)
    return out, count


def clean_prose(text: str) -> str:
    """HTML and link syntax to readable text (outside code)."""
    text = _STYLE.sub("", text)
    text = _ABBR.sub(lambda m: f"{m.group('text')} ({m.group('title')})", text)
    text = _ANCHOR.sub(r"\g<text>", text)
    text = _BR.sub("\n", text)
    text = _TAG.sub("", text)
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _BOLD.sub(r"\1", text)
    return html.unescape(text)


def clean_code(text: str, language: str = "console") -> str:
    """Terminal captures (termy) carry colour tags (font, span): keep their text. Other code is untouched."""
    if language not in _TERMINAL_LANGS or not _TERMINAL_TAG.search(text):
        return text
    return html.unescape(_TERMINAL_TAG.sub("", text))


def _fence_opener(line: str) -> str:
    """A fence opener with options (``hl_lines``) -> the bare language (options mean nothing in text)."""
    info = line.strip().lstrip("`~").split()
    return "```" + (info[0].lower() if info else "")


def clean_body(lines: list[str]) -> tuple[str, list[str]]:
    """Clean a section body; return (text with fenced code kept, list of code blocks)."""
    out: list[str] = []
    codes: list[str] = []
    prose: list[str] = []
    code: list[str] = []
    in_fence = False
    language = ""

    def flush_prose() -> None:
        if prose:
            out.extend(clean_prose("\n".join(prose)).splitlines())
            prose.clear()

    for line in lines:
        if line.lstrip().startswith(("```", "~~~")):
            if not in_fence:
                flush_prose()
                if out and out[-1].strip():
                    out.append("")
                opener = _fence_opener(line)
                language = opener.removeprefix("```")
                out.append(opener)
                in_fence = True
            else:
                block = clean_code("\n".join(code), language)
                out.extend(block.splitlines())
                out.append("```")
                codes.append(block)
                code.clear()
                in_fence = False
            continue
        (code if in_fence else prose).append(line)
    flush_prose()
    if in_fence:  # unterminated fence: keep what is there
        block = clean_code("\n".join(code), language)
        out.extend([*block.splitlines(), "```"])
        codes.append(block)
    text = "\n".join(out)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text, [c for c in codes if c.strip()]
