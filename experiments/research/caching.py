"""The caching study of docs/research/: how often each answer-cache key hits on a question log, and how often a
hit hands back the answer to a *different* question.

    python -m experiments.research cache

Keys: ``exact`` (the question as sent), ``normalized`` (the service's key, api/cache.py ``normalize_question``:
case, spacing and a trailing "?"), ``words`` (lower-case words only, punctuation and order of spaces gone), and
``semantic`` at several cosine thresholds (the dense retriever's MiniLM sentence vectors; a hit is the most
similar cached question at or above the threshold).

The logs are replayed in a seeded random order, 3 seeds; a miss stores the question, a hit does not. Two logs,
both committed: the questions the embedded 1.5B wrote for each docs section (data/retriever/section-questions-v1;
a hit is right when both questions come from the same section) and gold v2's train and dev-select rows (right
when both expect a decline, or both name the same docs version and share a grade-2 section). Neither is real
traffic: real logs repeat questions word for word far more often, so the exact and normalized hit rates here
are a floor; the wrong-hit rates are what the keys risk.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

_PUNCT = re.compile(r"[^\w\s]")
THRESHOLDS = (0.80, 0.85, 0.90, 0.93, 0.95, 0.97, 0.99)
SEEDS = (0, 1, 2)


@dataclass(frozen=True)
class Query:
    text: str
    label: frozenset[str]  # what a right hit must share (sections; or {"decline"})
    version: str = ""


def key_exact(text: str) -> str:
    return text


def key_normalized(text: str) -> str:
    from api.cache import normalize_question

    return normalize_question(text)


def key_words(text: str) -> str:
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


KEYS: dict[str, Callable[[str], str]] = {"exact": key_exact, "normalized": key_normalized, "words": key_words}


def _pages(label: frozenset[str]) -> set[str]:
    return {u.split("#", 1)[0] for u in label}


def verdict(a: Query, b: Query) -> str:
    """What serving ``b``'s cached answer for ``a`` is: ``same`` (the same words: the program's own answer),
    ``right`` (another question with the same need), ``near`` (the same page, another section) or ``wrong``."""
    if key_words(a.text) == key_words(b.text):
        return "same"
    if a.version != b.version:
        return "wrong"
    if a.label & b.label:
        return "right"
    return "near" if _pages(a.label) & _pages(b.label) else "wrong"


VERDICTS = ("same", "right", "near", "wrong")


def replay_keyed(log: Sequence[Query], key: Callable[[str], str], seed: int) -> dict[str, int]:
    """Hits of a key-value cache over ``log`` in a seeded order, counted by :func:`verdict`."""
    order = random.Random(seed).sample(range(len(log)), len(log))
    cache: dict[str, Query] = {}
    counts = dict.fromkeys(VERDICTS, 0)
    for i in order:
        q = log[i]
        k = key(q.text)
        if k in cache:
            counts[verdict(q, cache[k])] += 1
        else:
            cache[k] = q
    return counts


def replay_semantic(log: Sequence[Query], vectors: np.ndarray, threshold: float, seed: int) -> dict[str, int]:
    """Hits of a semantic cache (the nearest stored question at cosine >= ``threshold``), by :func:`verdict`."""
    order = random.Random(seed).sample(range(len(log)), len(log))
    stored: list[int] = []
    counts = dict.fromkeys(VERDICTS, 0)
    for i in order:
        if stored:
            sims = vectors[stored] @ vectors[i]
            j = int(np.argmax(sims))
            if sims[j] >= threshold:
                counts[verdict(log[i], log[stored[j]])] += 1
                continue
        stored.append(i)
    return counts


def section_log(path: Path) -> list[Query]:
    out: list[Query] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out += [Query(q, frozenset({row["url"]})) for q in row.get("questions", [])]
    return out


def gold_log(rows: Sequence[Any]) -> list[Query]:
    out: list[Query] = []
    for r in rows:
        if r.expect_refusal:
            out.append(Query(r.question, frozenset({"decline"})))
        else:
            sections = frozenset(u for g in r.answer_groups() for u in g)
            if sections:
                out.append(Query(r.question, sections, r.fastapi_version or ""))
    return out


def study(logs: dict[str, list[Query]], encode: Callable[[Sequence[str]], np.ndarray]) -> list[dict[str, Any]]:
    """One record per log, key and seed: queries and hits by verdict."""
    out: list[dict[str, Any]] = []
    for name, log in logs.items():
        vectors = encode([q.text for q in log])
        for seed in SEEDS:
            for kname, key in KEYS.items():
                c = replay_keyed(log, key, seed)
                out.append({"log": name, "key": kname, "threshold": None, "seed": seed, "n": len(log), **c})
            for t in THRESHOLDS:
                c = replay_semantic(log, vectors, t, seed)
                out.append({"log": name, "key": "semantic", "threshold": t, "seed": seed, "n": len(log), **c})
    return out


def summarize(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean over seeds: hit rate, and per question served the hits that return another section's answer
    (``near``: same page) or another page's (``wrong``); ``same`` and ``right`` hits are harmless."""
    groups: dict[tuple[str, str, float | None], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["log"], r["key"], r["threshold"]), []).append(r)
    out = []
    for (log, key, t), rs in groups.items():
        n = rs[0]["n"]
        mean = {v: float(np.mean([r[v] for r in rs])) for v in VERDICTS}
        hits = sum(mean.values())
        out.append(
            {
                "log": log,
                "key": key if t is None else f"semantic >= {t:.2f}",
                "questions": n,
                "hit rate": hits / n,
                **{f"{v} per question": mean[v] / n for v in VERDICTS},
                "harmful share of hits": (mean["near"] + mean["wrong"]) / hits if hits else None,
            }
        )
    return out
