"""Experiment (not wired into the product): fine-tune the top layers of the packaged MiniLM on the label-free
training pairs of index/training/pairs.py (the ColBERT projection's data: headings, heading questions, page
title + heading, inverse-cloze sentences; gold set never used), then score the dense retriever alone on the
gold train and dev rows searched in the latest docs. Results: docs/retrieval.md, "What would close the gap".

    OMP_NUM_THREADS=2 .venv/bin/python -m experiments.dense_finetune --top 2 --steps 0     # the baseline
    OMP_NUM_THREADS=2 .venv/bin/python -m experiments.dense_finetune --top 2 --steps 200   # ~11 min here

Recipe: layers below the top ``--top`` frozen; mean pooling; InfoNCE at temperature 0.05 over the batch's
positives and one BM25 hard negative each (batch 32, AdamW lr 2e-5, seed 0, documents cut to 128 tokens;
the cloze sentence is removed from its positive). Evaluation re-encodes every chunk (256 tokens).
"""

from __future__ import annotations

import argparse
import logging
import random
import time
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)


def main(top: int, steps: int, batch: int = 32, doc_len: int = 128, seed: int = 0) -> dict[str, dict[str, float]]:
    import torch
    from transformers import AutoModel, AutoTokenizer

    from eval.gold import load_gold
    from eval.retrieval_quality import score_row, targets
    from fda.settings import get_settings
    from index.retrieval.dense import MiniLMEncoder
    from index.retrieval.layout import default_model_path
    from index.retrieval.passages import index_text, load_chunks, resolve_version, versions
    from index.training.pairs import bm25_negative_miner, make_pairs

    torch.manual_seed(seed)
    rng = random.Random(seed)
    s = get_settings()
    version = resolve_version(s.db_path, None)
    chunks = load_chunks(s.db_path, version)
    pairs = make_pairs(chunks, bm25_negative_miner(chunks, seed=seed), seed=seed, n_negatives=1)
    texts = [index_text(c) for c in chunks]
    log.info("%d chunks, %d pairs", len(chunks), len(pairs))
    tok = AutoTokenizer.from_pretrained(str(default_model_path()))
    model = AutoModel.from_pretrained(str(default_model_path()), attn_implementation="eager")
    layers = model.encoder.layer
    n = len(layers)
    for p in model.parameters():
        p.requires_grad = False
    trained = [p for layer in layers[n - top :] for p in layer.parameters()]
    for p in trained:
        p.requires_grad = True

    def lower(batch_texts: list[str], max_len: int) -> tuple[Any, Any]:
        enc = tok(batch_texts, padding=True, truncation=True, max_length=max_len, return_tensors="pt")
        with torch.no_grad():
            h = model.embeddings(input_ids=enc["input_ids"], token_type_ids=enc["token_type_ids"])
            ext = model.get_extended_attention_mask(enc["attention_mask"], enc["input_ids"].shape)
            for layer in layers[: n - top]:
                h = layer(h, attention_mask=ext)[0]
        return h, enc["attention_mask"]

    def upper(h: Any, mask: Any) -> Any:
        ext = model.get_extended_attention_mask(mask, mask.shape)
        for layer in layers[n - top :]:
            h = layer(h, attention_mask=ext)[0]
        m = mask.unsqueeze(-1).to(h.dtype)
        return torch.nn.functional.normalize((h * m).sum(1) / m.sum(1).clamp(min=1e-9), dim=-1)

    def positive(i: int, hide: tuple[int, int] | None) -> str:
        return texts[i] if hide is None else texts[i][: hide[0]] + texts[i][hide[1] :]

    opt = torch.optim.AdamW(trained, lr=2e-5, weight_decay=0.01)
    order = list(range(len(pairs)))
    rng.shuffle(order)
    losses: list[float] = []
    t0 = time.time()
    model.train()
    for step in range(steps):
        chosen = [pairs[order[(step * batch + j) % len(order)]] for j in range(batch)]
        q = upper(*lower([p.query for p in chosen], 32))
        docs = [positive(p.positive, p.hide) for p in chosen] + [texts[p.negatives[0]] for p in chosen if p.negatives]
        d = upper(*lower(docs, doc_len))
        loss = torch.nn.functional.cross_entropy(q @ d.T / 0.05, torch.arange(batch))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.item()))
        if step % 20 == 0:
            log.info("step %d loss %.3f %.0fs", step, np.mean(losses[-20:]), time.time() - t0)
    model.eval()

    encoder = MiniLMEncoder(default_model_path())  # the dense backend's own encoding (256 tokens, mean pooled)
    encoder.model = model
    encode = encoder.encode

    doc_vectors = encode(texts)
    known, latest = versions(s.db_path)
    results: dict[str, dict[str, float]] = {}
    for split in ("train", "dev"):
        rows = [t for t in targets(load_gold(split=split), known, latest or known[-1]) if t.version == latest]
        query_vectors = encode([t.question.question for t in rows])
        per_row = []
        for t, qv in zip(rows, query_vectors, strict=True):
            top50 = np.argsort(-(doc_vectors @ qv))[:50]
            per_row.append(score_row(t.gold, [chunks[i].url for i in top50]))
        means = pd.DataFrame(per_row).mean()
        results[split] = {
            k: round(float(means[k]), 3) for k in ("page R@1", "page Hit@1", "page R@5", "section R@5", "section R@10")
        }
        log.info("%s (%d rows): %s", split, len(rows), results[split])
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--top", type=int, default=2, help="Top transformer layers trained.")
    parser.add_argument("--steps", type=int, default=200, help="Training steps (batch 32); 0: the baseline.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    main(args.top, args.steps)
