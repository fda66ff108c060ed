"""The committed projection's recorded inputs, recomputed from the real corpus and the committed questions.

The pairs are made deterministically (corpus + seed + questions file), so the manifest's ``data.inputs`` can be
checked without training: a changed corpus, questions file or pair recipe shows here. The negatives' ties at BM25's
cut follow the CPU (below), so the hash that includes them is checked on the kind of CPU that recorded it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fda.settings import RetrievalSettings
from index.ingest.pipeline import IngestSummary, corpus_hash
from index.retrieval.colbert_checkpoint import MANIFEST
from index.retrieval.layout import ARTIFACTS_DIR
from index.retrieval.passages import chunks_hash, load_chunks
from index.retrieval.question_vectors import load_questions
from index.training.pairs import bm25_negative_miner, make_pairs, pairs_hash
from index.training.run import ROOT, training_inputs
from optimizers.finetune.train import cpu_flags

pytestmark = pytest.mark.corpus

ARTIFACT = ARTIFACTS_DIR / RetrievalSettings().artifact


def test_the_recorded_inputs_are_what_the_corpus_and_seed_give(real_store: tuple[Path, IngestSummary]) -> None:
    db, _ = real_store
    manifest = json.loads((ARTIFACT / MANIFEST).read_text())
    data, train = manifest["data"], manifest["train"]
    chunks = load_chunks(db, data["corpus_version"])
    recorded = data["inputs"]
    questions = ROOT / recorded["generated_questions"]["path"] if "generated_questions" in recorded else None
    pairs = make_pairs(
        chunks,
        bm25_negative_miner(chunks, seed=train["seed"]),
        seed=train["seed"],
        n_negatives=train["n_negatives"],
        generated=load_questions(questions) if questions else None,
    )
    assert chunks_hash(chunks) == data["chunks_hash"]
    assert training_inputs(corpus_hash(db), chunks, pairs, questions) == recorded  # queries and positives: any CPU
    # The negatives are BM25's top hits. Where scores tie at the cut, which tied chunk is kept is up to numpy's
    # argpartition, whose algorithm follows the CPU's SIMD (x86-simd-sort on AVX-512): the hash of the pairs with
    # their negatives was recorded on an AVX-512 box and differs on an AVX2-only one (session 25: f5b14738... here,
    # 166dea25... with ties broken by index), while the queries and positives above reproduce everywhere.
    if "avx512f" in cpu_flags():
        assert pairs_hash(pairs, chunks) == data["pairs_hash"]

    # and no gold question is a training query (the gold set is what the projection is judged on)
    # (every gold version, the v2 reserve and pool files: any JSONL line with a question under data/gold/)
    gold = {
        " ".join(record["question"].lower().split())
        for f in sorted((ROOT / "data" / "gold").rglob("*.jsonl"))
        for line in f.read_text(encoding="utf-8").splitlines()
        if line.strip() and "question" in (record := json.loads(line))
    }
    assert gold
    assert not gold & {" ".join(p.query.lower().split()) for p in pairs}
