"""Experiment: round-trip filtering of the generated questions (consistency filtering, as in Promptagator).

A question an LM wrote for a section is kept only when searching it finds that section again in the top
``--keep-rank`` sections of the latest docs (default backend, the service's wrappers). Questions the section
does not answer ("How do I delete a table?" for a section that creates one) or generic ones ("What is
FastAPI?") fail the round trip and stop being training pairs. Writes a filtered questions.jsonl that
``index.training.run.train_retriever(questions_file=...)`` takes. Gold questions are never used.

    FDA_RETRIEVAL__ARTIFACT=colbert-minilm-fda-v1 OMP_NUM_THREADS=1 \
        .venv/bin/python -m experiments.filter_questions --out /tmp/filtered --keep-rank 3

The round trip should use a retriever that was not trained on these questions (the v1 projection, as above):
the v2 projection would find its own training queries again.

Results: docs/retrieval.md ("Questions generated from sections").
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path


def main(out: Path, keep_rank: int, backend: str) -> dict[str, object]:
    from tqdm import tqdm

    from fda.settings import get_settings
    from index.questions.generate import QUESTIONS_FILE, load_questions
    from index.retrieval.factory import open_retriever
    from index.retrieval.layout import ARTIFACTS_DIR

    s = get_settings()
    source = ARTIFACTS_DIR / s.retrieval.questions_artifact / QUESTIONS_FILE
    questions = load_questions(source)
    retriever = open_retriever(backend, s)
    kept: dict[str, list[str]] = {}
    ranks: Counter[str] = Counter()
    t0 = time.perf_counter()
    for url, qs in tqdm(sorted(questions.items()), desc="round trip", unit="section"):
        for q in qs:
            found = [p.url for p in retriever.search(q, k=10)]
            rank = found.index(url) + 1 if url in found else None
            ranks[str(rank) if rank and rank <= 5 else ("6-10" if rank else "miss")] += 1
            if rank is not None and rank <= keep_rank:
                kept.setdefault(url, []).append(q)
    out.mkdir(parents=True, exist_ok=True)
    with (out / QUESTIONS_FILE).open("w", encoding="utf-8") as f:
        for url, qs in kept.items():
            f.write(json.dumps({"url": url, "questions": qs}) + "\n")
    summary = {
        "source": str(source),
        "backend": backend,
        "keep_rank": keep_rank,
        "questions": sum(len(v) for v in questions.values()),
        "kept": sum(len(v) for v in kept.values()),
        "sections_kept": len(kept),
        "rank_of_own_section": dict(sorted(ranks.items())),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="Folder for the filtered questions.jsonl.")
    ap.add_argument("--keep-rank", type=int, default=3, help="Keep a question whose section ranks at most this.")
    ap.add_argument("--backend", default="fused", help="Backend that does the round trip.")
    a = ap.parse_args()
    sys.stdout.write(json.dumps(main(a.out, a.keep_rank, a.backend), indent=2) + "\n")
