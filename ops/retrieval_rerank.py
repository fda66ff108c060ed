"""``fda bench retrieval-rerank``: does the LM re-ordering the retriever's top sections help? Train/dev only.

    fda bench retrieval-rerank --model local:qwen2.5-coder-1.5b          # fused, top 8, train + dev

For each gold question the backend's ranking is scored as it is and after programs/reranker.py's LMReranker
has put the sections the LM names first. The LM's picks are cached under ``state/cache/rerank/`` (one file
per model and prompt, keyed by the question and the candidates shown), so a re-run costs no LM call.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fda.types import Passage
from index.retriever import Retriever
from programs.reranker import candidates, reorder

Pick = Callable[[str, Sequence[Passage]], Sequence[object]]  # (question, shown sections) -> the LM's numbers


def cache_file(cache_dir: Path, model: str, top: int) -> Path:
    """One JSON file per model, prompt and candidate count: a changed signature or example asks again."""
    from programs.reranker import QUESTION_CHARS, SNIPPET_CHARS
    from signatures.rerank import SEED_EXAMPLES, RerankSections

    key = json.dumps(
        [model, top, RerankSections.__doc__, repr(RerankSections.fields), SEED_EXAMPLES, SNIPPET_CHARS, QUESTION_CHARS],
        default=str,
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_dir / f"{model.replace('/', '_').replace(':', '_')}-top{top}-{digest}.json"


def cache_key(question: str, shown: Sequence[Passage]) -> str:
    return hashlib.sha256(json.dumps([question, [p.url for p in shown]]).encode()).hexdigest()[:24]


@dataclass
class Reranked:
    """A ``Retriever`` whose ranking the LM re-orders (top ``top`` sections), picks cached in ``cache``.

    A failed LM call leaves that question's order as the retriever gave it and is counted in ``failed``."""

    inner: Retriever
    pick: Pick
    cache: Path
    top: int = 8
    name: str = "reranked"
    progress: Callable[[], None] | None = None
    failed: int = 0
    calls: int = 0
    _done: dict[str, list[object]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.cache.is_file():
            self._done = json.loads(self.cache.read_text())

    def search(self, query: str, k: int = 10, version: str | None = None) -> list[Passage]:
        passages = self.inner.search(query, k=max(k, self.top), version=version)
        shown = candidates(passages, self.top)
        key = cache_key(query, shown)
        if key not in self._done and len(shown) >= 2:
            try:
                self.calls += 1
                self._done[key] = list(self.pick(query, shown))
                self._save()
            except Exception:
                self.failed += 1
        if self.progress is not None:
            self.progress()
        return reorder(passages, shown, self._done.get(key, []))[:k]

    def _save(self) -> None:
        self.cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.cache.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._done, indent=1))
        tmp.replace(self.cache)
