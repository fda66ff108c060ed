"""Training queries for the ColBERT projection, made from the corpus alone (no labels, no gold set).

    pairs = make_pairs(chunks, seed=0)

Each section of the docs gives queries that should find it, and BM25 gives the hard negatives:

- ``heading``: the section's own heading ("Use CORSMiddleware") -> its first chunk;
- ``question``: the heading in question form ("How do I use CORSMiddleware?", "What is ...?"), closer to
  how users ask;
- ``title``: page title + heading ("CORS: Use CORSMiddleware");
- ``sentence``: a prose sentence of a chunk -> that chunk, with the sentence's tokens hidden from the
  match at training time (an inverse cloze task), which teaches matching meaning rather than echoing words;
- ``generated`` (optional): questions an LM wrote for the section (index/questions/generate.py), in users'
  words.

Hard negatives are BM25's best chunks from *other* sections (mostly siblings on the same page: the
right page, the wrong heading is where retrieval loses most).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from index.retrieval.passages import Chunk, index_text

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z`])")
_CODEISH = re.compile(r"[{}();=<>]|^\s*(from|import|def|class|@|\$|#)\b")
_TEMPLATES = ("How do I {h}?", "How to {h}?", "What is {h}?", "{h}: how does it work?", "Explain {h} in FastAPI")


@dataclass(frozen=True)
class Pair:
    query: str
    positive: int  # row in the chunk list
    negatives: tuple[int, ...]
    kind: str
    hide: tuple[int, int] | None = None  # character span of the positive's index text hidden at training
    extra: dict[str, str] = field(default_factory=dict, compare=False)


def _heading_questions(heading: str, rng: random.Random) -> str:
    h = heading.strip().rstrip("?")
    h = h[0].lower() + h[1:] if h[:1].isupper() and not h[:2].isupper() else h
    return rng.choice(_TEMPLATES).format(h=h)


def prose_sentences(text: str, min_words: int = 6, max_words: int = 40) -> list[tuple[int, int]]:
    """Character spans of prose sentences (not code, not headings) fit to be cloze queries."""
    spans: list[tuple[int, int]] = []
    in_code = False
    pos = 0
    for line in text.splitlines(keepends=True):
        start = pos
        pos += len(line)
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        stripped = line.strip()
        if in_code or not stripped or _CODEISH.search(stripped):
            continue
        offset = start + line.index(stripped[0])
        for piece in _SENTENCE.split(stripped):
            words = piece.split()
            if min_words <= len(words) <= max_words:
                i = stripped.find(piece)
                spans.append((offset + i, offset + i + len(piece)))
    return spans


def make_pairs(
    chunks: Sequence[Chunk],
    negatives_for: Callable[[str, int], list[int]],
    seed: int = 0,
    sentences_per_chunk: int = 1,
    n_negatives: int = 3,
    generated: Mapping[str, Sequence[str]] | None = None,
) -> list[Pair]:
    """Queries for every doc section of ``chunks``; ``negatives_for(query, positive_row)`` mines negatives.

    ``generated``: questions written for sections by an LM (``fda gen-questions``), keyed by section URL#anchor;
    each becomes a ``generated`` pair with the section's first chunk as its positive."""
    rng = random.Random(seed)
    first_of_section: dict[str, int] = {}
    for i, c in enumerate(chunks):
        first_of_section.setdefault(c.section_id, i)
    pairs: list[Pair] = []
    for section_id, row in first_of_section.items():
        c = chunks[row]
        if c.kind != "doc" or not c.heading_path:
            continue
        heading = c.heading_path[-1]
        queries = [(heading, "heading"), (_heading_questions(heading, rng), "question")]
        if len(c.heading_path) > 1:
            queries.append((f"{c.heading_path[0]}: {heading}", "title"))
        queries.extend((q, "generated") for q in (generated or {}).get(c.url, ()))
        for q, kind in queries:
            pairs.append(Pair(q, row, tuple(negatives_for(q, row)[:n_negatives]), kind, extra={"section": section_id}))
    for row, c in enumerate(chunks):
        if c.kind != "doc":
            continue
        text = index_text(c)
        head = len(text) - len(c.text)
        spans = prose_sentences(c.text)
        for start, end in rng.sample(spans, min(sentences_per_chunk, len(spans))):
            q = c.text[start:end]
            pairs.append(
                Pair(
                    q,
                    row,
                    tuple(negatives_for(q, row)[:n_negatives]),
                    "sentence",
                    hide=(head + start, head + end),
                    extra={"section": c.section_id},
                )
            )
    rng.shuffle(pairs)
    return pairs


def bm25_negative_miner(chunks: Sequence[Chunk], depth: int = 30, seed: int = 0) -> Callable[[str, int], list[int]]:
    """BM25 over the chunks; negatives are top hits from other sections, in rank order (a few shuffled in)."""
    import bm25s

    from index.retrieval.bm25 import tokenize, top_k

    model = bm25s.BM25(k1=1.2, b=0.75)
    model.index([tokenize(index_text(c)) for c in chunks], show_progress=False)
    rng = random.Random(seed)

    def mine(query: str, positive: int) -> list[int]:
        ids = [model.vocab_dict[t] for t in tokenize(query) if t in model.vocab_dict]
        scores = np.asarray(model.get_scores(ids), dtype=np.float32) if ids else np.zeros(len(chunks), np.float32)
        section = chunks[positive].section_id
        hits = [i for i in top_k(scores, depth) if chunks[i].section_id != section]
        head, tail = hits[:2], hits[2:]
        rng.shuffle(tail)  # the very top plus a random draw from the rest: hard, but not only near-duplicates
        return head + tail

    return mine


def pairs_hash(pairs: Sequence[Pair], chunks: Sequence[Chunk]) -> str:
    """Names the training data in the checkpoint manifest."""
    h = hashlib.sha256()
    for p in pairs:
        h.update(f"{p.query}\x1f{chunks[p.positive].chunk_id}\x1f{p.negatives}\x1f{p.hide}\n".encode())
    return h.hexdigest()[:16]


def pairs_sha256(pairs: Sequence[Pair], chunks: Sequence[Chunk]) -> str:
    """sha256 over the training pairs' texts in order: one JSON line ``[query, positive's index text]`` each.

    Recorded in the manifest's ``data.inputs`` so what the projection was trained on can be recomputed and
    checked (unlike :func:`pairs_hash`, it names texts rather than chunk ids, and is the full digest)."""
    h = hashlib.sha256()
    for p in pairs:
        h.update((json.dumps([p.query, index_text(chunks[p.positive])], ensure_ascii=False) + "\n").encode())
    return h.hexdigest()
