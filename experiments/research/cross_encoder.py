"""A cross-encoder trained here, for the re-ranking study: MiniLM-L6 (the dense encoder's own weights) reading
the question and a passage together, with a linear head on the mean-pooled states.

    python -m experiments.research cross-encoder      # groups, training (resumable), then the study's rerank

Training data comes from the corpus alone: the questions the embedded 1.5B wrote for each docs section
(data/retriever/section-questions-v1, no gold row), the section's best chunk as the positive, and as hard
negatives the served ``fused`` retriever's best chunks from *other pages* (the study is about the right page;
sibling sections of the same page would often be false negatives). One listwise softmax loss per question over
its positive and negatives. Training saves a checkpoint every ``save_every`` steps and resumes from it.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.retrieval.passages import Chunk, index_text


@dataclass(frozen=True)
class Group:
    query: str
    positive: str  # passage text (heading path + chunk)
    negatives: tuple[str, ...]


def page(url: str) -> str:
    return url.split("#", 1)[0]


def make_groups(
    questions_file: Path,
    chunks: Sequence[Chunk],
    search: Callable[[str], Sequence[Any]],
    n_negatives: int = 3,
    progress: Callable[[int], Any] | None = None,
) -> list[Group]:
    """One group per generated question whose section is among ``chunks`` (the latest docs): the section's first
    chunk is the positive unless the search found a better-ranked chunk of it; negatives are the search's best
    chunks of other pages, one per section. Questions with too few negatives are dropped."""
    by_url: dict[str, list[Chunk]] = {}
    for c in chunks:
        by_url.setdefault(c.url, []).append(c)
    text_of = {c.chunk_id: index_text(c) for c in chunks}
    groups: list[Group] = []
    for line in questions_file.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        own = by_url.get(row["url"])
        if not own:
            continue
        for q in row.get("questions", []):
            found = list(search(q))
            pos = next((p for p in found if p.url == row["url"]), None)
            negatives: list[str] = []
            seen: set[str] = set()
            for p in found:
                if page(p.url) == page(row["url"]) or p.url in seen:
                    continue
                seen.add(p.url)
                negatives.append(text_of.get(p.chunk_id, p.text))
                if len(negatives) == n_negatives:
                    break
            if len(negatives) == n_negatives:
                positive = text_of[pos.chunk_id] if pos is not None and pos.chunk_id in text_of else index_text(own[0])
                groups.append(Group(q, positive, tuple(negatives)))
            if progress is not None:
                progress(1)
    return groups


def save_groups(path: Path, groups: Sequence[Group]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(asdict(g), ensure_ascii=False) + "\n" for g in groups), encoding="utf-8")


def load_groups(path: Path) -> list[Group]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            out.append(Group(d["query"], d["positive"], tuple(d["negatives"])))
    return out


class CrossEncoder:
    """A BERT-family encoder plus a linear head; ``score(query, passages)`` -> one relevance logit each."""

    def __init__(self, model_path: Path, max_length: int = 192, head: Path | None = None) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(str(model_path))
        self.model = AutoModel.from_pretrained(str(model_path))
        self.head = torch.nn.Linear(int(self.model.config.hidden_size), 1)
        self.max_length = max_length
        if head is not None:
            state = torch.load(head, map_location="cpu", weights_only=True)
            self.model.load_state_dict(state["model"])
            self.head.load_state_dict(state["head"])

    def parameters(self) -> list[Any]:
        return [*self.model.parameters(), *self.head.parameters()]

    def logits(self, queries: Sequence[str], passages: Sequence[str]) -> Any:
        enc = self.tokenizer(
            list(queries),
            list(passages),
            padding=True,
            truncation="longest_first",  # a pasted traceback can outgrow the budget alone
            max_length=self.max_length,
            return_tensors="pt",
        )
        hidden = self.model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return self.head(pooled).squeeze(-1)

    def score(self, query: str, passages: Sequence[str], batch: int = 16) -> np.ndarray:
        import torch

        self.model.eval()
        out: list[float] = []
        with torch.inference_mode():
            for i in range(0, len(passages), batch):
                part = passages[i : i + batch]
                out.extend(self.logits([query] * len(part), part).tolist())
        return np.array(out, dtype=np.float64)

    def save(self, path: Path, step: int) -> None:
        import torch

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save({"model": self.model.state_dict(), "head": self.head.state_dict(), "step": step}, tmp)
        tmp.replace(path)


def train(
    groups: Sequence[Group],
    model_path: Path,
    checkpoint: Path,
    *,
    epochs: int = 1,
    batch_groups: int = 4,
    lr: float = 3e-5,
    seed: int = 0,
    save_every: int = 100,
    say: Callable[[str], None] = print,
) -> CrossEncoder:
    """Listwise training (softmax over each group's positive and negatives); resumes from ``checkpoint``
    (the step it reached) when one exists, with the same seeded order."""
    import torch

    torch.manual_seed(seed)
    start = 0
    ce = CrossEncoder(model_path)
    if checkpoint.is_file():
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        ce.model.load_state_dict(state["model"])
        ce.head.load_state_dict(state["head"])
        start = int(state["step"])
        say(f"cross-encoder: resuming at step {start}")
    order = [i for _ in range(epochs) for i in random.Random(seed).sample(range(len(groups)), len(groups))]
    steps = (len(order) + batch_groups - 1) // batch_groups
    opt = torch.optim.AdamW(ce.parameters(), lr=lr)
    ce.model.train()
    began = time.perf_counter()
    for step in range(start, steps):
        batch = [groups[i] for i in order[step * batch_groups : (step + 1) * batch_groups]]
        queries = [g.query for g in batch for _ in range(1 + len(g.negatives))]
        passages = [p for g in batch for p in (g.positive, *g.negatives)]
        logits = ce.logits(queries, passages).view(len(batch), -1)
        loss = torch.nn.functional.cross_entropy(logits, torch.zeros(len(batch), dtype=torch.long))
        opt.zero_grad()
        loss.backward()
        opt.step()
        done = step + 1
        if done % save_every == 0 or done == steps:
            ce.save(checkpoint, done)
            rate = (done - start) / max(time.perf_counter() - began, 1e-9)
            say(f"cross-encoder: step {done}/{steps}, loss {loss.item():.3f}, ETA {(steps - done) / rate / 60:.1f} min")
    ce.model.eval()
    return ce
