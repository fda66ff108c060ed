"""Code includes: ``{* ../../docs_src/x.py ln[a:b] hl[..] *}`` (new) and ``{!../../../docs_src/x.py!}`` (old)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

NEW_INCLUDE = re.compile(r"^(?P<indent>\s*)\{\*\s*(?P<ref>\S+)(?P<opts>.*?)\*\}\s*$")
OLD_INCLUDE = re.compile(r"\{!>?\s*(?P<ref>[^!\[\s]+)(?:\[ln:(?P<ln>[0-9,\s-]+)\])?\s*!\}")
_LN_NEW = re.compile(r"ln\[(?P<spec>[0-9:,\s]+)\]")

LANGUAGES = {
    ".py": "python",
    ".js": "javascript",
    ".ts": "typescript",
    ".html": "html",
    ".css": "css",
    ".toml": "toml",
    ".sh": "bash",
    ".json": "json",
    ".yml": "yaml",
    ".yaml": "yaml",
    ".txt": "",
    ".md": "markdown",
    ".dockerfile": "dockerfile",
    ".ini": "ini",
    ".cfg": "ini",
}


@dataclass
class IncludeProblem:
    md_path: str
    ref: str
    reason: str


@dataclass
class IncludeResolver:
    """Looks include paths up in the snapshot's ``path -> text`` mapping and records what fails."""

    files: Mapping[str, str]
    problems: list[IncludeProblem] = field(default_factory=list)
    resolved: int = 0

    @staticmethod
    def repo_path(ref: str) -> str:
        """Take the path from ``docs_src/`` onward; otherwise strip the leading ``../`` parts."""
        idx = ref.find("docs_src/")
        if idx >= 0:
            return ref[idx:]
        return re.sub(r"^(\.\./|\./)+", "", ref)

    def read(self, md_path: str, ref: str, ranges: list[tuple[int, int]] | None) -> str | None:
        path = self.repo_path(ref)
        text = self.files.get(path)
        if text is None:
            self.problems.append(IncludeProblem(md_path, ref, f"included file {path} is not in the snapshot"))
            log.warning("%s: include %s not found (kept a placeholder)", md_path, path)
            return None
        self.resolved += 1
        if not ranges:
            return text.rstrip("\n")
        lines = text.splitlines()
        parts = ["\n".join(lines[a - 1 : b]) for a, b in ranges]
        return "\n...\n".join(p for p in parts if p)


def parse_new_ranges(opts: str) -> list[tuple[int, int]] | None:
    """``ln[1:9,29:35]`` -> ``[(1, 9), (29, 35)]`` (1-based, inclusive); ``ln[5]`` -> ``[(5, 5)]``."""
    m = _LN_NEW.search(opts)
    if m is None:
        return None
    return _ranges(m.group("spec"), sep=":")


def parse_old_ranges(spec: str | None) -> list[tuple[int, int]] | None:
    """``7-13`` -> ``[(7, 13)]``."""
    return _ranges(spec, sep="-") if spec else None


def _ranges(spec: str, sep: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        a, _, b = part.partition(sep)
        out.append((int(a), int(b or a)))
    return out


def language_of(ref: str) -> str:
    dot = ref.rfind(".")
    return LANGUAGES.get(ref[dot:].lower(), "") if dot >= 0 else ""


def inline_includes(lines: list[str], md_path: str, resolver: IncludeResolver) -> list[str]:
    """Replace include markers with code: new markers become fenced blocks, old ones fill their fence."""
    out: list[str] = []
    in_fence = False
    fence_indent = ""
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
            fence_indent = line[: len(line) - len(stripped)]
            out.append(line)
            continue
        if not in_fence and (m := NEW_INCLUDE.match(line)):
            ref = m.group("ref")
            code = resolver.read(md_path, ref, parse_new_ranges(m.group("opts")))
            indent = m.group("indent")
            body = code if code is not None else f"# (code from {resolver.repo_path(ref)} is not available)"
            out.append(f"{indent}```{language_of(ref)}")
            out.extend(indent + c if c else c for c in body.splitlines())
            out.append(f"{indent}```")
            continue
        if (m := OLD_INCLUDE.search(line)) is not None:
            ref = m.group("ref")
            code = resolver.read(md_path, ref, parse_old_ranges(m.group("ln")))
            body = code if code is not None else f"# (code from {resolver.repo_path(ref)} is not available)"
            indent = fence_indent if in_fence else line[: len(line) - len(stripped)]
            block = [indent + c if c else c for c in body.splitlines()]
            if in_fence:
                out.extend(block)
            else:
                out.extend([f"{indent}```{language_of(ref)}", *block, f"{indent}```"])
            continue
        out.append(line)
    return out
