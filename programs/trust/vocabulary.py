"""FastAPI's public API as the docs show it: every identifier in their code, the keyword arguments each
callable is shown with, and the attributes read off objects. Built from the ingested chunks (all versions).

    vocab = ApiVocabulary.from_texts(chunk_texts)
    vocab.knows("BackgroundTasks")                  # True
    vocab.knows_kwarg("Depends", "use_cache")        # True; ("Depends", "timeout") -> False

The premise check (premise.py) and the answer verification (verify.py) ask it whether an API named in a
question or an answer exists. It only knows what the docs *show*: a parameter the docs never mention is
"unknown", which is what the assistant can honestly say about it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\(")
_KWARG = re.compile(r"(?<![=!<>])\b([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)")
_ATTR = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)")
ATTRIBUTE_REF = re.compile(r"\b([A-Za-z_]\w*)\.([A-Za-z_]\w*)")  # obj.name: (obj, name)
DEFINED = re.compile(r"\b(?:def|class)\s+([A-Za-z_]\w*)")  # what the docs' code defines: get_db, Settings
_ANY_IMPORT = re.compile(r"^\s*from\s+[\w.]+\s+import\s+\(?([\w\s,]+)\)?", re.MULTILINE)  # from sqlmodel import ...
# the names the docs (and users) give FastAPI's own objects: ``application.include_router`` is ``app``'s method
OBJECTS = {
    "app": "app", "application": "app", "FastAPI": "app",
    "router": "router", "APIRouter": "router",
    "request": "request", "Request": "request", "req": "request",
    "response": "response", "Response": "response",
}  # fmt: skip
_FENCE = re.compile(r"```[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_INLINE = re.compile(r"`([^`\n]{1,200})`")
_OPENING = re.compile(r"```+\s*([^\s`{]*)[^\n]*\n(?:.*?)(?:```|\Z)", re.DOTALL)  # a code block: its info string
# Programming languages by the names a code fence gives them, aliases folded. A block tagged with one of these
# that the docs never use (the docs' code is Python, shell, JSON, TOML, Dockerfile, a little JavaScript...) is
# not from the docs; an info string that names no language (``` alone, ```import, a citation marker) says nothing.
LANGUAGES = {
    "python": "python", "py": "python", "python3": "python", "pycon": "python",
    "bash": "shell", "sh": "shell", "shell": "shell", "zsh": "shell", "console": "shell", "shell-session": "shell",
    "powershell": "powershell", "ps1": "powershell", "pwsh": "powershell", "bat": "batch", "cmd": "batch",
    "batch": "batch", "c": "c", "h": "c", "cpp": "cpp", "c++": "cpp", "cc": "cpp", "cxx": "cpp",
    "csharp": "csharp", "cs": "csharp", "c#": "csharp", "java": "java", "kotlin": "kotlin", "kt": "kotlin",
    "scala": "scala", "go": "go", "golang": "go", "rust": "rust", "rs": "rust", "swift": "swift",
    "objective-c": "objc", "objc": "objc", "ruby": "ruby", "rb": "ruby", "php": "php", "perl": "perl", "pl": "perl",
    "lua": "lua", "r": "r", "julia": "julia", "haskell": "haskell", "hs": "haskell", "elixir": "elixir",
    "erlang": "erlang", "clojure": "clojure", "dart": "dart", "fortran": "fortran", "cobol": "cobol",
    "pascal": "pascal", "delphi": "pascal", "vb": "vb", "vbnet": "vb", "vba": "vb", "vbscript": "vb",
    "asm": "assembly", "assembly": "assembly", "nasm": "assembly", "masm": "assembly", "x86asm": "assembly",
    "armasm": "assembly", "gas": "assembly", "wasm": "wasm", "solidity": "solidity", "sol": "solidity",
    "javascript": "javascript", "js": "javascript", "jsx": "javascript", "node": "javascript",
    "typescript": "typescript", "ts": "typescript", "tsx": "typescript", "sql": "sql", "html": "html",
    "css": "css", "json": "json", "yaml": "yaml", "yml": "yaml", "toml": "toml", "dockerfile": "dockerfile",
    "docker": "dockerfile", "jinja": "jinja", "jinja2": "jinja", "ini": "ini", "xml": "xml",
}  # fmt: skip


def fence_language(block: str) -> str | None:
    """The language a code block's fence names (aliases folded: ``py`` is python, ``nasm`` assembly), or None
    when its info string names none of ``LANGUAGES``."""
    m = re.match(r"\s*```+\s*([^\s`{]*)", block)
    return LANGUAGES.get(m.group(1).lower()) if m else None


_IMPORT_FROM = re.compile(r"\bfrom\s+(?:fastapi|starlette)(?:\.\w+)*\s+import\s+\(?([\w\s,]+?)\)?(?:\n\S|$|\n\n)")


@dataclass(frozen=True)
class Call:
    """``name(args)`` found in code: the dotted name, its last part, and the keyword names given."""

    name: str
    kwargs: tuple[str, ...]
    start: int = 0  # where the call's name starts in the text

    @property
    def callee(self) -> str:
        return self.name.rsplit(".", 1)[-1]


def balanced(text: str, start: int) -> str:
    """The text inside the parenthesis opening at ``start`` (up to its match, or the end)."""
    depth = 0
    for i in range(start, len(text)):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i]
    return text[start + 1 :]


def top_level(args: str) -> str:
    """``args`` with nested brackets and string literals blanked, so only top-level keywords remain."""
    out, depth, quote = [], 0, ""
    for ch in args:
        if quote:
            if ch == quote:
                quote = ""
            out.append(" ")
            continue
        if ch in "'\"":
            quote = ch
            out.append(" ")
        elif ch in "([{":
            depth += 1
            out.append(" ")
        elif ch in ")]}":
            depth -= 1
            out.append(" ")
        else:
            out.append(ch if depth == 0 else " ")
    return "".join(out)


def calls(code: str) -> Iterator[Call]:
    for m in _CALL.finditer(code):
        args = balanced(code, m.end() - 1)
        yield Call(m.group(1), tuple(dict.fromkeys(_KWARG.findall(top_level(args)))), m.start())


def code_parts(text: str) -> list[str]:
    """Fenced code blocks and inline code spans of a markdown text."""
    parts = [m.group(1) for m in _FENCE.finditer(text)]
    rest = _FENCE.sub(" ", text)
    parts.extend(m.group(1) for m in _INLINE.finditer(rest))
    return parts


@dataclass
class ApiVocabulary:
    names: set[str] = field(default_factory=set)  # every identifier seen in code
    kwargs: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # callee -> keywords shown
    attributes: set[str] = field(default_factory=set)  # names seen after a dot
    words: set[str] = field(default_factory=set)  # every word of the docs, prose included (lower-cased)
    exports: set[str] = field(default_factory=set)  # names the docs import from fastapi / starlette
    members: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # object -> names read off it
    languages: set[str] = field(default_factory=set)  # the languages the docs' code blocks name (LANGUAGES)
    defined: set[str] = field(default_factory=set)  # functions and classes the docs' code defines (def/class)
    imported: set[str] = field(default_factory=set)  # names the docs' code imports from any package

    def add(self, text: str) -> None:
        self.words.update(w.lower() for w in IDENT.findall(text))
        for m in _OPENING.finditer(text):
            language = fence_language(m.group(0))
            if language is not None:
                self.languages.add(language)
        for code in code_parts(text):
            self.names.update(IDENT.findall(code))
            self.defined.update(DEFINED.findall(code))
            for m in _ANY_IMPORT.finditer(code):
                self.imported.update(n for n in IDENT.findall(m.group(1)) if n != "as")
            self.attributes.update(_ATTR.findall(code))
            for m in ATTRIBUTE_REF.finditer(code):
                self.members[OBJECTS.get(m.group(1), m.group(1))].add(m.group(2))
            for m in _IMPORT_FROM.finditer(code):
                self.exports.update(n for n in IDENT.findall(m.group(1)) if n not in {"import", "as"})
            for call in calls(code):
                self.kwargs[call.callee].update(call.kwargs)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> ApiVocabulary:
        vocab = cls()
        for text in texts:
            vocab.add(text)
        return vocab

    def knows(self, name: str) -> bool:
        return name in self.names

    def knows_callable(self, callee: str) -> bool:
        return callee in self.kwargs

    def knows_kwarg(self, callee: str, kwarg: str) -> bool:
        return kwarg in self.kwargs.get(callee, ())

    def exported(self, name: str) -> bool:
        """Is ``name`` imported from fastapi or starlette somewhere in the docs (``Depends``, ``Query``)?"""
        return name in self.exports

    def knows_attribute(self, name: str) -> bool:
        return name in self.attributes

    def knows_name(self, name: str) -> bool:
        """Is ``name`` in the docs' code at all, as an identifier or read off an object?"""
        return self.knows(name) or self.knows_attribute(name)

    def knows_member(self, obj: str, name: str) -> bool:
        """Do the docs' code read ``name`` off ``obj`` (``app.include_router``, ``request.state``)? An app, a
        router, a request and a response count as one object whatever the docs name them (``OBJECTS``)."""
        return name in self.members.get(OBJECTS.get(obj, obj), ())

    def defines(self, name: str) -> bool:
        """Do the docs' code define ``name`` (``def get_current_user``, ``class Settings``)? A name only *read*
        off an object (``db_user.save()``) is not defined there."""
        return name in self.defined

    def exported_anywhere(self, name: str) -> bool:
        """Do the docs' code import ``name`` from some package (``from sqlmodel import create_engine``)?"""
        return name in self.imported

    def foreign_language(self, block: str) -> str | None:
        """The language of a code block when it is one the docs' code never uses (an answer's ```nasm block
        cannot come from them), else None. Python, shell and JSON always count as the docs' own."""
        language = fence_language(block)
        if language is None or language in self.languages or language in {"python", "shell", "json"}:
            return None
        return language

    def mentions(self, word: str) -> bool:
        """Is ``word`` anywhere in the docs, prose included (case-insensitive)?"""
        return word.lower() in self.words


def load_vocabulary(db_path: Path) -> ApiVocabulary:
    """The vocabulary of every ingested version's chunks (read-only; a few seconds on the full corpus)."""
    from index.ingest.store import open_store

    with open_store(db_path, read_only=True) as con:
        texts = [row[0] for row in con.execute("SELECT text FROM chunks").fetchall()]
    return ApiVocabulary.from_texts(texts)
