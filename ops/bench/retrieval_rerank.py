"""``fda bench retrieval-rerank``: does the LM re-ordering the retriever's top sections help? Train/dev only.

    fda bench retrieval-rerank --model local:qwen2.5-coder-1.5b          # fused, top 8, train + dev

For each gold question the backend's ranking is scored as it is and after programs/reranker.py's LMReranker
has put the sections the LM names first. The LM's picks are cached under ``state/cache/rerank/`` (one file
per model, prompt and candidate count, keyed by exactly what the LM was shown), so a re-run costs no LM call.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fda.types import Passage
from index.retrieval.base import Retriever
from ops.bench.lm_levers import cache_path, load_cache, save_cache
from programs.reranker import candidates, prompt_inputs, reorder

Pick = Callable[[str, Sequence[Passage]], Sequence[object]]  # (question, shown sections) -> the LM's numbers


def cache_file(cache_dir: Path, model: str, top: int) -> Path:
    """One JSON file per model, prompt and candidate count: a changed signature or example asks again."""
    from signatures.rerank import SEED_EXAMPLES, RerankSections

    prompt = [top, RerankSections.__doc__, repr(RerankSections.fields), SEED_EXAMPLES]
    return cache_path(cache_dir, model, prompt, tag=f"-top{top}")


def cache_key(question: str, shown: Sequence[Passage]) -> str:
    """A hash of the LM's inputs: how candidates are cut or rendered is part of it."""
    return hashlib.sha256(json.dumps(prompt_inputs(question, shown)).encode()).hexdigest()[:24]


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
    _done: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._done = load_cache(self.cache)

    def search(self, query: str, k: int = 10, version: str | None = None) -> list[Passage]:
        passages = self.inner.search(query, k=max(k, self.top), version=version)
        shown = candidates(passages, self.top)
        key = cache_key(query, shown)
        if key not in self._done and len(shown) >= 2:
            try:
                self.calls += 1
                self._done[key] = list(self.pick(query, shown))
                save_cache(self.cache, self._done)
            except Exception:
                self.failed += 1
        if self.progress is not None:
            self.progress()
        return reorder(passages, shown, self._done.get(key, []))[:k]
