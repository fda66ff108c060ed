"""More of a passage's section for the answer step ("small to big"): a retrieved chunk plus the chunks
around it in its section.

Ranking works best on small chunks, but a small chunk often stops where its answer starts: the best chunk of
"CORS > Use CORSMiddleware" ends with "The following arguments are supported:" and the arguments and the code
are in the next chunk of the same section, which section folding drops. The answer programs ask
``widen(passage, limit)`` for the chunk and its section around it, and the focused shortener
(programs/context.py) then keeps the best-matching lines within the passage budget, so the prompt does not
grow. Search results themselves are unchanged (``/v1/search`` returns chunks as before).

    retriever = SectionContext(inner, bm25)    # open_retriever does this; bm25 holds every version's chunks
    text = retriever.widen(passage, 1800)
"""

from __future__ import annotations

import threading

from fda.types import Passage
from index.retrieval.base import Retriever
from index.retrieval.bm25 import BM25Retriever

Section = tuple[list[str], int]  # the texts of a section's chunks, and where one chunk sits among them


class SectionContext:
    def __init__(self, inner: Retriever, bm25: BM25Retriever) -> None:
        self.inner = inner
        self.bm25 = bm25
        self.name = inner.name
        self._sections: dict[str, dict[str, Section]] = {}  # version -> chunk id -> its section
        self._lock = threading.Lock()

    def search(self, query: str, k: int = 10, version: str | None = None) -> list[Passage]:
        return self.inner.search(query, k, version)

    def _table(self, version: str) -> dict[str, Section]:
        with self._lock:
            if version not in self._sections:
                _, chunks = self.bm25._load(version)
                table: dict[str, Section] = {}
                start = 0
                for i in range(1, len(chunks) + 1):  # a section's chunks are consecutive in the index
                    if i == len(chunks) or chunks[i].section_id != chunks[start].section_id:
                        texts = [c.text for c in chunks[start:i]]
                        for j, c in enumerate(chunks[start:i]):
                            table[c.chunk_id] = (texts, j)
                        start = i
                self._sections[version] = table
            return self._sections[version]

    def widen(self, passage: Passage, limit: int) -> str:
        """The passage's section around it, within ``limit`` characters: the whole section when it fits,
        else the passage and its neighbours, one after then one before, while they fit."""
        try:
            found = self._table(passage.version).get(passage.chunk_id)
        except Exception:  # a version BM25 lacks, an unreadable index: the passage as retrieved
            return passage.text
        if not found:
            return passage.text
        texts, at = found
        lo, hi, size = at, at + 1, len(texts[at])
        grew = True
        while grew:  # one chunk after, then one before, while they fit
            grew = False
            if hi < len(texts) and size + 1 + len(texts[hi]) <= limit:
                size += 1 + len(texts[hi])
                hi += 1
                grew = True
            if lo > 0 and size + 1 + len(texts[lo - 1]) <= limit:
                lo -= 1
                size += 1 + len(texts[lo])
                grew = True
        return "\n".join(texts[lo:hi])
