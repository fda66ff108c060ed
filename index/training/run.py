"""``fda train-retriever``: corpus -> training pairs -> trained projection -> ``data/retriever/<name>/``.

    fda train-retriever                       # ~10-30 min on 2 CPU cores, most of it encoding the docs once
    fda train-retriever --steps 300 --out /tmp/colbert-try

Writes ``weights.safetensors`` (``linear.weight``, 128x384) and ``manifest.json`` (base model, colbert
settings, data hash, seed, steps, loss curve). Uses only the latest docs version; ``data.inputs`` records
every training input with its sha256 (:func:`training_inputs`: the corpus, the generated-questions file
when used, the pairs), so what the weights were trained on can be checked (e.g. that no gold file is among
them) instead of taken on trust.
"""

from __future__ import annotations

import json
import logging
import platform
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fda.errors import ConfigError
from index.ingest.pipeline import corpus_hash as store_corpus_hash
from index.retrieval.colbert_checkpoint import MANIFEST, WEIGHTS, file_sha256, load_base
from index.retrieval.dense import model_id
from index.retrieval.passages import Chunk, chunks_hash, index_text, load_chunks, resolve_version
from index.retrieval.question_vectors import load_questions
from index.training.pairs import Pair, bm25_negative_miner, make_pairs, pairs_hash, pairs_sha256
from index.training.token_states import States, cache_key, cached, encode_docs, encode_queries
from index.training.train import TrainConfig, pca_init, train_projection

log = logging.getLogger(__name__)

COLBERT = {"dim": 128, "doc_maxlen": 300, "query_maxlen": 32, "attend_to_mask_tokens": False}
ROOT = Path(__file__).resolve().parents[2]  # the repository: recorded input paths are relative to it


def corpus_sha256(chunks: Sequence[Chunk]) -> str:
    """sha256 over the chunks the pairs were made from, in order: their ids and index text (the whole digest of
    :func:`~index.retrieval.passages.chunks_hash`, which the manifest's ``chunks_hash`` shortens)."""
    return chunks_hash(chunks, digits=64)


def _repo_path(path: Path, root: Path) -> str:
    resolved = path.resolve()
    return resolved.relative_to(root.resolve()).as_posix() if resolved.is_relative_to(root.resolve()) else str(resolved)


def training_inputs(
    corpus_hash: str,
    chunks: Sequence[Chunk],
    pairs: Sequence[Pair],
    questions_file: Path | None = None,
    root: Path = ROOT,
) -> dict[str, dict[str, Any]]:
    """Every input of a training run with its sha256, for the manifest's ``data.inputs``.

    ``corpus``: the store's corpus hash and a sha256 of the chunk texts (:func:`corpus_sha256`);
    ``generated_questions`` (when used): the file's path relative to ``root`` and its sha256;
    ``pairs``: their count and a sha256 of their (query, positive text)s in order (:func:`pairs_sha256`)."""
    inputs: dict[str, dict[str, Any]] = {
        "corpus": {"corpus_hash": corpus_hash, "chunks": len(chunks), "sha256": corpus_sha256(chunks)}
    }
    if questions_file is not None:
        inputs["generated_questions"] = {
            "path": _repo_path(questions_file, root),
            "sha256": file_sha256(questions_file),
        }
    inputs["pairs"] = {"count": len(pairs), "sha256": pairs_sha256(pairs, chunks)}
    return inputs


def hide_masks(ck: Any, chunks: list[Chunk], pairs: list[Pair], docs: States) -> list[Any | None]:
    """For cloze pairs: which of the positive's tokens fall in the hidden sentence (colbert adds [D] at 1)."""
    import torch

    out: list[Any | None] = []
    for p in pairs:
        if p.hide is None:
            out.append(None)
            continue
        text = index_text(chunks[p.positive])
        enc = ck.doc_tokenizer.tok(
            text, return_offsets_mapping=True, truncation=True, max_length=COLBERT["doc_maxlen"] - 1
        )
        n = docs.hidden[p.positive].shape[0]
        mask = torch.zeros(n, dtype=torch.bool)
        start, end = p.hide
        for j, (a, b) in enumerate(enc["offset_mapping"]):
            pos = j + 1 if j > 0 else 0
            if b > a and a < end and b > start and pos < n:
                mask[pos] = True
        out.append(mask)
    return out


def train_retriever(
    db_path: Path,
    base_model: Path,
    out_dir: Path,
    cache_dir: Path,
    cfg: TrainConfig,
    version: str | None = None,
    progress: Any = None,
    questions_file: Path | None = None,
) -> dict[str, Any]:
    import torch
    from safetensors.torch import save_file

    started = time.perf_counter()
    generated = None
    if questions_file is not None:
        generated = load_questions(questions_file)
        if not generated:
            raise ConfigError(
                f"no generated questions in {questions_file}",
                hint="Run `fda gen-questions`, or train without them (`fda train-retriever --no-generated --out DIR`).",
            )
    version = resolve_version(db_path, version)
    chunks = load_chunks(db_path, version)
    corpus = store_corpus_hash(db_path)  # names the store the chunks were read from, before the long run
    pairs = make_pairs(
        chunks,
        bm25_negative_miner(chunks, seed=cfg.seed),
        seed=cfg.seed,
        n_negatives=cfg.n_negatives,
        generated=generated,
    )
    kinds = Counter(p.kind for p in pairs)
    log.info("%d training pairs from %d chunks of %s: %s", len(pairs), len(chunks), version, kinds)
    if generated is not None and not kinds["generated"]:
        raise ConfigError(
            f"none of the {len(generated)} sections in {questions_file} is a section of version {version}",
            hint="The questions were written for another corpus: run `fda gen-questions --fresh`.",
        )
    ck = load_base(base_model, COLBERT)
    base = model_id(base_model)
    texts = [index_text(c) for c in chunks]
    t0 = time.perf_counter()
    docs = cached(
        cache_dir / f"docs-{cache_key(base, chunks_hash(chunks), COLBERT)}.pt",
        lambda: encode_docs(ck, texts, progress=progress.doc if progress else None),
    )
    data_hash = pairs_hash(pairs, chunks)
    queries = cached(
        cache_dir / f"queries-{cache_key(base, data_hash, COLBERT)}.pt",
        lambda: encode_queries(ck, [p.query for p in pairs]),
    )
    encode_seconds = time.perf_counter() - t0
    hide = hide_masks(ck, chunks, pairs, docs)
    torch.manual_seed(cfg.seed)
    init = pca_init(docs, cfg.dim, seed=cfg.seed) if cfg.init == "pca" else ck.linear.weight.detach().clone()
    result = train_projection(pairs, queries, docs, hide, cfg, init, progress=progress.step if progress else None)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file({"linear.weight": result.weight.contiguous()}, str(out_dir / WEIGHTS))
    every = max(1, cfg.steps // 100)
    curve = [
        round(sum(result.losses[i : i + every]) / len(result.losses[i : i + every]), 4)
        for i in range(0, len(result.losses), every)
    ]
    manifest = {
        "name": out_dir.name,
        "kind": "colbert projection over a frozen encoder",
        "base_model": base,
        "tensors": {"linear.weight": list(result.weight.shape)},
        "colbert": COLBERT,
        "data": {
            "corpus_version": version,
            "chunks_hash": chunks_hash(chunks),
            "pairs_hash": data_hash,
            "pairs": dict(Counter(p.kind for p in pairs)),
            "inputs": training_inputs(corpus, chunks, pairs, questions_file),
        },
        "train": asdict(cfg),
        "loss_curve": {"every_steps": every, "mean_loss": curve},
        "seconds": {
            "encode": round(encode_seconds, 1),
            "train": round(result.seconds, 1),
            "total": round(time.perf_counter() - started, 1),
        },
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest
