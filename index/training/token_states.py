"""Frozen-encoder states for training the ColBERT projection: MiniLM hidden states of docs and queries,
tokenised exactly as colbert-ai does at index and search time ([CLS] [D] text [SEP]; [CLS] [Q] text
[SEP] [MASK]...), computed once and cached, so a training step is a few matrix products instead of a
transformer pass (minutes of training on 2 CPU cores instead of hours).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class States:
    """Per text: token ids, hidden states (fp16, [n_tokens, hidden]) and the tokens MaxSim may use."""

    ids: list[Any]
    hidden: list[Any]
    keep: list[Any]


def _forward(ck: Any, ids: Any, mask: Any) -> Any:
    import torch

    with torch.inference_mode():
        return ck.bert(ids, attention_mask=mask)[0]


def encode_docs(
    ck: Any, texts: Sequence[str], batch_size: int = 32, progress: Callable[[int], Any] | None = None
) -> States:
    """Doc states, batched by length (little padding); ``keep`` drops padding and punctuation like colbert-ai."""
    import torch

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out_ids: list[Any] = [None] * len(texts)
    out_hidden: list[Any] = [None] * len(texts)
    out_keep: list[Any] = [None] * len(texts)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        ids, mask = ck.doc_tokenizer.tensorize([texts[i] for i in rows])
        hidden = _forward(ck, ids, mask)
        keep = torch.tensor(ck.mask(ids, skiplist=ck.skiplist), dtype=torch.bool)
        for j, row in enumerate(rows):
            n = int(mask[j].sum())
            out_ids[row] = ids[j, :n].clone()
            out_hidden[row] = hidden[j, :n].to(torch.float16).clone()
            out_keep[row] = keep[j, :n].clone()
        if progress is not None:
            progress(len(rows))
    return States(out_ids, out_hidden, out_keep)


def encode_queries(ck: Any, queries: Sequence[str], batch_size: int = 64) -> States:
    """Query states at colbert-ai's fixed query length (every position, [MASK] padding included, counts)."""
    import torch

    out = States([], [], [])
    for start in range(0, len(queries), batch_size):
        ids, mask = ck.query_tokenizer.tensorize(list(queries[start : start + batch_size]))
        hidden = _forward(ck, ids, mask)
        for j in range(ids.shape[0]):
            out.ids.append(ids[j].clone())
            out.hidden.append(hidden[j].to(torch.float16).clone())
            out.keep.append(torch.ones(ids.shape[1], dtype=torch.bool))
    return out


def cache_key(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:16]


def cached(path: Path, make: Callable[[], States]) -> States:
    """Load ``path`` if present, else compute and save it."""
    import torch

    if path.is_file():
        data = torch.load(path, weights_only=True)
        return States(data["ids"], data["hidden"], data["keep"])
    states = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save({"ids": states.ids, "hidden": states.hidden, "keep": states.keep}, tmp)
    tmp.replace(path)
    return states
