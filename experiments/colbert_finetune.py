"""Experiment: train the top of the ColBERT encoder (its last transformer layer(s)) together with the
projection, on the same label-free pairs as the committed projection (index/training/pairs.py; gold set never
used), and score ColBERT alone by exact MaxSim over every chunk of the latest docs on the gold train and dev
rows searched there. Results: docs/retrieval.md ("Training the encoder with the projection").

    OMP_NUM_THREADS=2 .venv/bin/python -m experiments.colbert_finetune --steps 0      # committed weights
    OMP_NUM_THREADS=2 .venv/bin/python -m experiments.colbert_finetune --steps 300 --out /tmp/ft

Why: the projection alone had flattened (a linear map over a frozen encoder whose token states were trained
for mean-pooled sentence similarity, not for MaxSim). States below the trained layers are computed once and
kept in memory, so a step runs only the top layer(s) for 16 queries and their positives and BM25 negatives.
Queries and documents are tokenised exactly as colbert-ai does ([Q]/[D] markers, [MASK] query padding,
punctuation skipped in documents); cloze sentences are hidden from their positive as in the projection's
training. ``--out`` writes ``weights.safetensors`` (the trained layers in fp16 and the projection) plus a
manifest in the artifact format index/retrieval/colbert_checkpoint.py applies.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)


def main(
    top: int,
    steps: int,
    batch: int = 16,
    n_neg: int = 2,
    doc_len: int = 180,
    lr: float = 3e-5,
    seed: int = 0,
    out: Path | None = None,
    identity: bool = False,
) -> dict[str, dict[str, float]]:
    import torch

    from eval.gold import load_gold
    from eval.retrieval_quality import score_row, targets
    from fda.settings import get_settings
    from index.retrieval.colbert_checkpoint import WEIGHTS, apply_weights, load_base
    from index.retrieval.layout import ARTIFACTS_DIR, default_model_path
    from index.retrieval.passages import chunks_hash, index_text, load_chunks, resolve_version, versions
    from index.training.pairs import bm25_negative_miner, make_pairs, pairs_hash
    from index.training.run import COLBERT, hide_masks
    from index.training.train import batch_docs, same_section

    torch.manual_seed(seed)
    rng = random.Random(seed)
    s = get_settings()
    version = resolve_version(s.db_path, None)
    chunks = load_chunks(s.db_path, version)
    texts = [index_text(c) for c in chunks]
    pairs = make_pairs(chunks, bm25_negative_miner(chunks, seed=seed), seed=seed, n_negatives=n_neg)
    artifact = ARTIFACTS_DIR / s.retrieval.artifact
    ck = load_base(default_model_path(), COLBERT)
    apply_weights(ck, artifact / WEIGHTS)
    bert, linear = ck.bert, ck.model.linear
    if identity:  # no projection: MaxSim over the encoder's own 384-d token states (the ENVIRONMENT.md probe)
        linear = torch.nn.Linear(bert.config.hidden_size, bert.config.hidden_size, bias=False)
        with torch.no_grad():
            linear.weight.copy_(torch.eye(bert.config.hidden_size))
    bert.config._attn_implementation = "eager"  # the layers below are called with an additive 4-D mask
    layers = bert.encoder.layer
    n_low = len(layers) - top
    for p in ck.model.parameters():
        p.requires_grad = False
    trained = [p for layer in layers[n_low:] for p in layer.parameters()]
    for p in [*trained, linear.weight]:
        p.requires_grad = True

    def lower(ids: Any, mask: Any) -> Any:
        with torch.no_grad():
            h = bert.embeddings(input_ids=ids)
            ext = bert.get_extended_attention_mask(mask, ids.shape)
            for layer in layers[:n_low]:
                h = layer(h, attention_mask=ext)[0]
        return h

    def upper(h: Any, mask: Any) -> Any:
        ext = bert.get_extended_attention_mask(mask, mask.shape)
        for layer in layers[n_low:]:
            h = layer(h, attention_mask=ext)[0]
        return torch.nn.functional.normalize(linear(h), dim=-1)

    # documents: lower states once (cut to doc_len for training; full length for evaluation)
    t0 = time.time()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    d_ids: list[Any] = [None] * len(texts)
    d_low: list[Any] = [None] * len(texts)
    d_keep: list[Any] = [None] * len(texts)
    for start in range(0, len(order), 32):
        rows = order[start : start + 32]
        ids, mask = ck.doc_tokenizer.tensorize([texts[i] for i in rows])
        h = lower(ids, mask)
        keep = torch.tensor(ck.mask(ids, skiplist=ck.skiplist), dtype=torch.bool)
        for j, row in enumerate(rows):
            n = int(mask[j].sum())
            d_ids[row], d_low[row], d_keep[row] = ids[j, :n], h[j, :n].half(), keep[j, :n]
    log.info("doc states below layer %d: %d chunks in %.0fs", n_low, len(texts), time.time() - t0)

    def queries_low(qs: list[str]) -> tuple[Any, Any]:
        hs, ms = [], []
        for start in range(0, len(qs), 64):
            ids, mask = ck.query_tokenizer.tensorize(qs[start : start + 64])
            hs.append(lower(ids, mask).half())
            ms.append(mask)
        return torch.cat(hs), torch.cat(ms)

    class Lengths:  # what hide_masks reads: each doc's token count
        hidden = d_low

    hide = hide_masks(ck, chunks, pairs, Lengths)  # type: ignore[arg-type]
    q_low, q_mask = queries_low([p.query for p in pairs])
    log.info("query states: %d in %.0fs", len(pairs), time.time() - t0)

    def pad_docs(rows: list[int], cut: int | None) -> tuple[Any, Any, Any]:
        n = max(min(d_low[r].shape[0], cut or 10**6) for r in rows)
        h = torch.zeros(len(rows), n, d_low[rows[0]].shape[-1])
        m = torch.zeros(len(rows), n, dtype=torch.long)
        k = torch.zeros(len(rows), n, dtype=torch.bool)
        for i, r in enumerate(rows):
            n_tok = min(d_low[r].shape[0], n)
            h[i, :n_tok], m[i, :n_tok], k[i, :n_tok] = d_low[r][:n_tok].float(), 1, d_keep[r][:n_tok]
        return h, m, k

    def evaluate() -> dict[str, dict[str, float]]:
        with torch.no_grad():
            packed, seg = [], []
            for start in range(0, len(order), 32):
                rows = order[start : start + 32]
                h, m, k = pad_docs(rows, None)
                d = upper(h, m)
                for i, r in enumerate(rows):
                    packed.append(d[i][k[i]])
                    seg.append(r)
            lengths = [t.shape[0] for t in packed]
            tokens = torch.cat(packed)
            known, latest = versions(s.db_path)
            res: dict[str, dict[str, float]] = {}
            for split in ("train", "dev"):
                rows_t = [t for t in targets(load_gold(split=split), known, latest or known[-1]) if t.version == latest]
                ql, qm = queries_low([t.question.question for t in rows_t])
                q = upper(ql.float(), qm)
                per_row = []
                for t, qi in zip(rows_t, q, strict=True):
                    sim = qi @ tokens.T  # [32, T]
                    best = torch.stack([part.max(-1).values for part in sim.split(lengths, dim=-1)], dim=-1).sum(0)
                    scores = torch.full((len(chunks),), -1e9)
                    scores[torch.tensor(seg)] = best
                    top50 = torch.topk(scores, 50).indices.tolist()
                    per_row.append(score_row(t.gold, [chunks[i].url for i in top50]))
                means = pd.DataFrame(per_row).mean()
                res[split] = {
                    k: round(float(means[k]), 3)
                    for k in ("page R@1", "page Hit@1", "page R@5", "section R@5", "section R@10")
                } | {"n": len(rows_t)}
                log.info("%s (%d rows): %s", split, len(rows_t), res[split])
        return res

    opt = torch.optim.AdamW(
        [{"params": trained, "lr": lr}, {"params": [linear.weight], "lr": lr * 3}], weight_decay=0.01
    )
    base_lrs = [g["lr"] for g in opt.param_groups]
    warm = max(1, steps // 10)
    perm = list(range(len(pairs)))
    rng.shuffle(perm)
    losses: list[float] = []
    t1 = time.time()
    ck.model.train()
    for step in range(steps):
        chosen = [perm[(step * batch + j) % len(perm)] for j in range(batch)]
        doc_rows, where = batch_docs(pairs, chosen, n_neg)
        h, m, k = pad_docs(doc_rows, doc_len)
        d = upper(h, m)  # [D, L, 128]
        q = upper(q_low[chosen].float(), q_mask[chosen])  # [B, 32, 128]
        sim = torch.einsum("bqe,dle->bdql", q, d)
        allowed = k[None, :, None, :].expand(len(chosen), -1, 1, -1).clone()
        for b, i in enumerate(chosen):
            hidden = hide[i]
            if hidden is not None:
                r = pairs[i].positive
                n_tok = min(hidden.shape[0], d.shape[1])
                allowed[b, where[r], 0, :n_tok] &= ~hidden[:n_tok]
        scores = sim.masked_fill(~allowed, -1e4).max(-1).values.sum(-1)  # [B, D]
        target = torch.tensor([where[pairs[i].positive] for i in chosen])
        loss = torch.nn.functional.cross_entropy(scores.masked_fill(same_section(pairs, chosen, where), -1e4), target)
        f = (step + 1) / warm if step < warm else 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, steps - warm)))
        for g, base in zip(opt.param_groups, base_lrs, strict=True):
            g["lr"] = base * f
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        if step % 20 == 0 or step == steps - 1:
            log.info("step %d loss %.3f (%.0fs)", step, float(np.mean(losses[-20:])), time.time() - t1)
    ck.model.eval()
    results = evaluate()
    if out is not None and steps > 0:
        from safetensors.torch import save_file

        out.mkdir(parents=True, exist_ok=True)
        named = dict(ck.model.named_parameters())
        layer_names = tuple(f"bert.encoder.layer.{i}." for i in range(n_low, len(layers)))
        tensors = {n: t.detach().half().contiguous() for n, t in named.items() if n.startswith(layer_names)}
        tensors["linear.weight"] = linear.weight.detach().float().contiguous()
        save_file(tensors, str(out / WEIGHTS))
        every = max(1, steps // 50)
        manifest = json.loads((artifact / "manifest.json").read_text())
        manifest.update(
            name=out.name,
            kind=f"colbert: top {top} MiniLM layer(s) (fp16) and the projection, trained together",
            tensors={n: list(t.shape) for n, t in tensors.items()},
            data={
                "corpus_version": version,
                "chunks_hash": chunks_hash(chunks),
                "pairs_hash": pairs_hash(pairs, chunks),
                "pairs": dict(Counter(p.kind for p in pairs)),
            },
            train={
                "seed": seed,
                "steps": steps,
                "batch_size": batch,
                "lr": lr,
                "projection_lr": lr * 3,
                "n_negatives": n_neg,
                "doc_len": doc_len,
                "top_layers": top,
                "init": s.retrieval.artifact,
            },
            loss_curve={
                "every_steps": every,
                "mean_loss": [round(float(np.mean(losses[i : i + every])), 4) for i in range(0, steps, every)],
            },
            seconds={"train": round(time.time() - t1, 1), "total": round(time.time() - t0, 1)},
            eval_exact_maxsim=results,
        )
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--top", type=int, default=1, help="Top transformer layers trained.")
    parser.add_argument("--steps", type=int, default=300, help="Training steps (batch 16); 0: the committed weights.")
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--out", type=Path, default=None, help="Write the trained weights and a manifest here.")
    parser.add_argument("--identity", action="store_true", help="No projection: 384-d MaxSim (with --steps 0).")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    main(args.top, args.steps, lr=args.lr, out=args.out, identity=args.identity)
