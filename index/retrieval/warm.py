"""Compile colbert-ai's four C++ extensions once into ``TORCH_EXTENSIONS_DIR`` (state/torch_extensions).

    python -m index.retrieval.warm          # or `make warm`; ~2 minutes the first time, about a second after

colbert-ai JIT-compiles them on first use (g++ and ninja); doing it up front keeps the first
``fda index`` / search / slow test from paying for it, and lets CI cache the folder.
"""

from __future__ import annotations

import logging
import time

from index.retrieval.quiet import quiet

log = logging.getLogger(__name__)


def warm_extensions() -> float:
    """Load (compiling if needed) every CPU extension colbert-ai uses; returns the seconds it took."""
    from colbert.modeling.colbert import ColBERT
    from colbert.search.index_storage import IndexScorer
    from colbert.search.strided_tensor import StridedTensor

    start = time.perf_counter()
    with quiet():
        ColBERT.try_load_torch_extensions(use_gpu=False)
        IndexScorer.try_load_torch_extensions(use_gpu=False)
        StridedTensor.try_load_torch_extensions(use_gpu=False)
    return time.perf_counter() - start


if __name__ == "__main__":  # pragma: no cover
    from fda.env import apply_offline_defaults
    from fda.settings import get_settings

    apply_offline_defaults(get_settings().state_dir)
    logging.basicConfig(level=logging.INFO)
    log.info("colbert-ai extensions ready in %.1f s", warm_extensions())
