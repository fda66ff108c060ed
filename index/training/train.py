"""Training the ColBERT projection (and MaxSim scoring over cached states) in plain PyTorch.

The encoder stays the packaged MiniLM, frozen; what is learnt is the 384->128 linear layer colbert-ai
puts on top (``linear.weight``), initialised from the principal directions of the corpus's token states
(PCA keeps most of what untrained 384-d MaxSim already gets right; a random start throws it away).
Loss: cross-entropy over MaxSim scores of each query against its positive, its BM25 hard negatives and
every other document in the batch, as in ColBERTv1/v2 training.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from index.training.pairs import Pair
from index.training.token_states import States

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    seed: int = 0
    steps: int = 800
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 0.0
    warmup: int = 100
    n_negatives: int = 3
    dim: int = 128
    init: str = "pca"  # "pca" or "random"


@dataclass
class TrainResult:
    weight: Any  # torch.Tensor [dim, hidden]
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0


def pca_init(docs: States, dim: int, max_tokens: int = 200_000, seed: int = 0) -> Any:
    """Top ``dim`` eigenvectors of the (uncentred) second moment of doc token states: the projection that
    best preserves their dot products, which is what MaxSim reads."""
    import torch

    g = torch.Generator().manual_seed(seed)
    rows = torch.cat([h[k] for h, k in zip(docs.hidden, docs.keep, strict=True)]).float()
    if rows.shape[0] > max_tokens:
        rows = rows[torch.randperm(rows.shape[0], generator=g)[:max_tokens]]
    rows = torch.nn.functional.normalize(rows, dim=-1)
    cov = rows.T @ rows / rows.shape[0]
    _, vecs = torch.linalg.eigh(cov)  # ascending
    return vecs[:, -dim:].flip(-1).T.contiguous()  # [dim, hidden]


def project(x: Any, weight: Any) -> Any:
    import torch

    return torch.nn.functional.normalize(x @ weight.T, dim=-1)


def _lr(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * 0.5 * (1 + math.cos(math.pi * progress))


class PackedDocs:
    """Every doc's MaxSim tokens (padding and punctuation dropped) in one float32 matrix, plus offsets."""

    def __init__(self, docs: States) -> None:
        import torch

        kept = [h[k].float() for h, k in zip(docs.hidden, docs.keep, strict=True)]
        self.tokens = torch.cat(kept)
        self.lengths = torch.tensor([t.shape[0] for t in kept])
        self.offsets = torch.cat([torch.zeros(1, dtype=torch.long), self.lengths.cumsum(0)[:-1]])
        # position of each kept token in its doc's full token list (hide masks are over the full list)
        self.positions = [k.nonzero().squeeze(-1) for k in docs.keep]

    def gather(self, rows: Sequence[int]) -> tuple[Any, Any]:
        """Token matrix of the given docs and, per token, which of them (0..len(rows)-1) it belongs to."""
        import torch

        idx = torch.cat([torch.arange(int(self.offsets[r]), int(self.offsets[r] + self.lengths[r])) for r in rows])
        seg = torch.repeat_interleave(torch.arange(len(rows)), self.lengths[list(rows)])
        return self.tokens[idx], seg


def packed_maxsim(q: Any, d: Any, seg: Any, n_docs: int, hidden: Any | None = None) -> Any:
    """Scores [nq, n_docs] of projected queries [nq, Lq, dim] against packed projected doc tokens [T, dim].

    ``seg`` [T] says which doc each token belongs to (non-decreasing); ``hidden`` [nq, T] marks tokens a
    query may not match (its cloze sentence). One matmul, then a max over each doc's slice of columns:
    no padding, which keeps a step fast on CPU."""
    import torch

    nq, lq, dim = q.shape
    sim = (q.reshape(nq * lq, dim) @ d.T).reshape(nq, lq, -1)
    if hidden is not None:
        sim = sim.masked_fill(hidden[:, None, :], -1e4)
    lengths = torch.bincount(seg, minlength=n_docs).tolist()
    best = torch.stack([part.max(-1).values for part in sim.split(lengths, dim=-1)], dim=-1)
    return best.sum(1)


def batch_docs(pairs: Sequence[Pair], batch: Sequence[int], n_negatives: int) -> tuple[list[int], dict[int, int]]:
    """The documents a batch scores (each pair's positive and first ``n_negatives``, once each) and each
    document's column among them."""
    doc_rows: list[int] = []
    where: dict[int, int] = {}
    for i in batch:
        for row in (pairs[i].positive, *pairs[i].negatives[:n_negatives]):
            if row not in where:
                where[row] = len(doc_rows)
                doc_rows.append(row)
    return doc_rows, where


def same_section(pairs: Sequence[Pair], batch: Sequence[int], where: dict[int, int]) -> Any:
    """[len(batch), len(where)] True where another query's positive is from the query's own section: no
    negative, so it is masked out of the loss."""
    import torch

    same = torch.zeros(len(batch), len(where), dtype=torch.bool)
    for b, i in enumerate(batch):
        sec = pairs[i].extra.get("section")
        for j in batch:
            if pairs[j].positive != pairs[i].positive and sec is not None and pairs[j].extra.get("section") == sec:
                same[b, where[pairs[j].positive]] = True
    return same


def train_projection(
    pairs: Sequence[Pair],
    queries: States,
    docs: States,
    hide: Sequence[Any | None],
    cfg: TrainConfig,
    init: Any,
    progress: Callable[[int, float], Any] | None = None,
) -> TrainResult:
    """``queries.hidden[i]`` belongs to ``pairs[i]``; ``hide[i]`` is a bool mask over the positive's tokens."""
    import time

    import torch

    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    packed = PackedDocs(docs)
    weight = torch.nn.Parameter(init.clone().float())
    opt = torch.optim.AdamW([weight], lr=cfg.lr, weight_decay=cfg.weight_decay)
    order: list[int] = []
    result = TrainResult(weight=None)
    start = time.perf_counter()
    for step in range(cfg.steps):
        if len(order) < cfg.batch_size:
            more = list(range(len(pairs)))
            rng.shuffle(more)
            order += more
        batch, order = order[: cfg.batch_size], order[cfg.batch_size :]
        doc_rows, where = batch_docs(pairs, batch, cfg.n_negatives)
        d, seg = packed.gather(doc_rows)
        q = torch.stack([queries.hidden[i].float() for i in batch])
        hidden = torch.zeros(len(batch), d.shape[0], dtype=torch.bool)
        starts = torch.cat([torch.zeros(1, dtype=torch.long), packed.lengths[doc_rows].cumsum(0)[:-1]])
        for b, i in enumerate(batch):
            h = hide[i]
            if h is not None:
                row = pairs[i].positive
                mask = h[packed.positions[row]]
                s0 = int(starts[where[row]])
                hidden[b, s0 : s0 + mask.shape[0]] = mask
        for group in opt.param_groups:
            group["lr"] = _lr(step, cfg)
        scores = packed_maxsim(project(q, weight), project(d, weight), seg, len(doc_rows), hidden)
        target = torch.tensor([where[pairs[i].positive] for i in batch])
        # Another query's positive from the same section is no negative: mask it out.
        loss = torch.nn.functional.cross_entropy(scores.masked_fill(same_section(pairs, batch, where), -1e4), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        result.losses.append(float(loss.detach()))
        if progress is not None:
            progress(step, result.losses[-1])
    result.weight = weight.detach().clone()
    result.seconds = time.perf_counter() - start
    return result
