"""Is an answer's code one of the docs' own examples (``docs_src/``)? Then say so and link it.

    examples = DocsExamples.from_snapshots(load_sources(settings.corpus.sources, cache_dir))
    examples.match(code, version="0.141.1")   # Example(path="docs_src/cors/tutorial001_py39.py", version=..., share=0.92)

A block matches a file when most of its meaningful lines (not blank, not a comment, not an import, longer
than a bracket) are lines of that file, ignoring indentation. The answer's version's examples are preferred,
then the newest.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from index.ingest.sources import Snapshot, version_key

REPO = "https://github.com/fastapi/fastapi/blob"
MIN_LINES = 3
MIN_SHARE = 0.8
_TRIVIAL = re.compile(r"^(\W{0,3}|pass|return|else:|try:|\.\.\.|\w+,?)$")


def _lines(code: str) -> list[str]:
    out = []
    for raw in code.splitlines():
        line = " ".join(raw.split())
        if not line or line.startswith(("#", "import ", "from ")) or _TRIVIAL.match(line):
            continue
        out.append(line)
    return out


@dataclass(frozen=True)
class Example:
    path: str
    version: str
    share: float  # of the block's meaningful lines found in the file

    @property
    def url(self) -> str:
        return f"{REPO}/{self.version}/{self.path}"


class DocsExamples:
    def __init__(self, files: Iterable[tuple[str, str, str]]) -> None:  # (version, path, text)
        self._files: dict[tuple[str, str], set[str]] = {}
        self._by_line: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for version, path, text in files:
            lines = set(_lines(text))
            self._files[(version, path)] = lines
            for line in lines:
                self._by_line[line].add((version, path))

    @classmethod
    def from_snapshots(cls, snapshots: Iterable[Snapshot]) -> DocsExamples:
        return cls(
            (s.version, path, text)
            for s in snapshots
            for path, text in s.files.items()
            if path.startswith("docs_src/") and path.endswith(".py")
        )

    def __len__(self) -> int:
        return len(self._files)

    def match(self, code: str, version: str | None = None) -> Example | None:
        lines = _lines(code)
        if len(lines) < MIN_LINES:
            return None
        hits: dict[tuple[str, str], int] = defaultdict(int)
        for line in set(lines):
            for key in self._by_line.get(line, ()):
                hits[key] += 1
        if not hits:
            return None
        unique = len(set(lines))

        def rank(key: tuple[str, str]) -> tuple[float, bool, tuple[int, ...], int]:
            # most of the block first; then the answer's version, the newest, the smallest file
            return (hits[key] / unique, key[0] == version, version_key(key[0]), -len(self._files[key]))

        best = max(hits, key=rank)
        share = hits[best] / unique
        if share < MIN_SHARE:
            return None
        return Example(path=best[1], version=best[0], share=round(share, 3))
