"""What the benches measuring an LM lever on gold train/dev share (``fda bench retrieval-rewrite``,
``fda bench retrieval-rerank``): the splits they may use, the rows, the LM's answers cached on disk, the tables.

Test is never used by them: they measure a choice. Each answer cache is one JSON object per model and prompt
(``cache_path``), written atomically after every answer so an interrupted run resumes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fda.errors import FDAError

if TYPE_CHECKING:
    import dspy

    from eval.retrieval_quality import Target
    from fda.settings import Settings
    from index.retrieval.layout import Paths

CHOICE_SPLITS = ("train", "dev")


def choice_splits(split: Sequence[str] | None) -> list[str]:
    """The gold splits asked for (default: train and dev); test is refused."""
    splits = list(split or CHOICE_SPLITS)
    if set(splits) - set(CHOICE_SPLITS):
        raise FDAError(
            f"splits {splits} are not for choosing", hint="Use --split train and/or dev; test is for reports."
        )
    return splits


def choice_rows(s: Settings, splits: Sequence[str]) -> tuple[Paths, dict[str, list[Target]]]:
    """The index paths and each split's scored rows, searched in the docs version their gold lives in."""
    from eval.retrieval_quality import split_targets
    from index.retrieval.layout import paths_for

    return paths_for(s.retrieval, s.state_dir, s.db_path), split_targets(s.db_path, splits)


@contextmanager
def lm_for(s: Settings, model: str) -> Iterator[dspy.LM]:
    """``model`` (a local one started for the block) with its adapter set as DSPy's context."""
    import dspy

    from fda.lm.adapter import adapter_for
    from fda.lm.factory import make_lm, runtime_from_settings

    with runtime_from_settings(s, progress=True) as runtime:
        lm = make_lm(s.lm, runtime=runtime, model=model)
        with dspy.context(lm=lm, adapter=adapter_for(lm)):
            yield lm


def cache_path(cache_dir: Path, model: str, prompt: Sequence[object], tag: str = "") -> Path:
    """One file per model and prompt (every piece that shapes the LM's answers): a changed prompt asks again."""
    key = json.dumps([model, *prompt], default=str)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_dir / f"{model.replace('/', '_').replace(':', '_')}{tag}-{digest}.json"


def load_cache(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    return loaded


def save_cache(path: Path, data: dict[str, Any]) -> None:
    """Written to a temporary file, then renamed: an interrupt never leaves half a cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)
