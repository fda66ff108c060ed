"""The training inputs a projection's manifest records (``data.inputs``): tiny fake chunks, no model."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch

from fda.settings import ChunkingSettings
from index.ingest.pipeline import corpus_hash, ingest
from index.retrieval.passages import Chunk, load_chunks, resolve_version
from index.training import run
from index.training.pairs import Pair
from index.training.run import corpus_sha256, training_inputs
from index.training.train import TrainConfig, TrainResult

SHA256 = re.compile(r"[0-9a-f]{64}")


def _chunk(i: int, text: str) -> Chunk:
    return Chunk(f"c{i}", f"s{i}", f"https://x/s{i}", ("Page", f"Heading {i}"), text, "1.0", "doc")


CHUNKS = [_chunk(0, "Alpha text about CORS."), _chunk(1, "Beta text about testing."), _chunk(2, "Gamma.")]
PAIRS = [
    Pair("Heading 0", 0, (1,), "heading"),
    Pair("How do I test?", 1, (0, 2), "question"),
    Pair("Beta text about testing.", 1, (2,), "sentence", hide=(20, 44)),
]


def test_inputs_name_the_corpus_and_the_pairs_by_sha256() -> None:
    inputs = training_inputs("abc123", CHUNKS, PAIRS)
    assert set(inputs) == {"corpus", "pairs"}  # no questions file: no entry for one
    assert inputs["corpus"]["corpus_hash"] == "abc123" and inputs["corpus"]["chunks"] == 3
    assert inputs["pairs"]["count"] == 3
    assert all(SHA256.fullmatch(entry["sha256"]) for entry in inputs.values())
    assert training_inputs("abc123", CHUNKS, PAIRS) == inputs  # deterministic
    json.dumps(inputs)  # goes into manifest.json as is


def test_the_pairs_hash_changes_when_a_pair_does() -> None:
    base = training_inputs("h", CHUNKS, PAIRS)["pairs"]["sha256"]
    changed_query = [replace(PAIRS[0], query="Heading zero"), *PAIRS[1:]]
    changed_positive = [replace(PAIRS[0], positive=2), *PAIRS[1:]]
    reordered = [PAIRS[1], PAIRS[0], PAIRS[2]]
    dropped = PAIRS[:2]
    got = {
        training_inputs("h", CHUNKS, p)["pairs"]["sha256"]
        for p in (changed_query, changed_positive, reordered, dropped)
    }
    assert base not in got and len(got) == 4
    # the positive is named by its text, so an edited chunk changes the pairs' hash too
    edited = [CHUNKS[0], replace(CHUNKS[1], text="Beta, edited."), CHUNKS[2]]
    assert training_inputs("h", edited, PAIRS)["pairs"]["sha256"] != base


def test_the_corpus_hash_covers_every_chunk_text() -> None:
    base = corpus_sha256(CHUNKS)
    assert corpus_sha256([*CHUNKS[:2], replace(CHUNKS[2], text="Gamma!")]) != base
    assert corpus_sha256([*CHUNKS[:2], replace(CHUNKS[2], heading_path=("Page", "Other"))]) != base
    assert corpus_sha256(CHUNKS[:2]) != base


def test_a_questions_file_is_recorded_by_repo_relative_path_and_file_sha256(tmp_path: Path) -> None:
    questions = tmp_path / "data" / "retriever" / "qs" / "questions.jsonl"
    questions.parent.mkdir(parents=True)
    questions.write_text('{"url": "https://x/s0", "questions": ["Why CORS?"]}\n', encoding="utf-8")
    inputs = training_inputs("h", CHUNKS, PAIRS, questions, root=tmp_path)
    assert inputs["generated_questions"] == {
        "path": "data/retriever/qs/questions.jsonl",
        "sha256": hashlib.sha256(questions.read_bytes()).hexdigest(),
    }
    outside = training_inputs("h", CHUNKS, PAIRS, questions, root=tmp_path / "elsewhere")
    assert outside["generated_questions"]["path"] == str(questions.resolve())


def test_train_retriever_writes_the_inputs_into_its_manifest(
    tiny_dumps: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wiring, with the model and the training faked: the manifest's data.inputs is training_inputs'."""
    db = tmp_path / "state" / "fda.duckdb"
    ingest([str(tiny_dumps)], db, tmp_path / "cache", ChunkingSettings(tokenizer="whitespace"), progress=False)
    chunks = load_chunks(db, resolve_version(db, None))
    section = next(c.url for c in chunks if c.kind == "doc" and c.heading_path)
    questions = tmp_path / "questions.jsonl"
    questions.write_text(json.dumps({"url": section, "questions": ["How do I allow my origin?"]}) + "\n")

    seen: dict[str, Any] = {}

    def fake_train(pairs: list[Pair], *args: Any, **kwargs: Any) -> TrainResult:
        seen["pairs"] = pairs
        return TrainResult(torch.zeros(4, 8), [1.0, 0.5], 0.0)

    monkeypatch.setattr(run, "load_base", lambda *a: object())
    monkeypatch.setattr(run, "model_id", lambda *a: "fake==0")
    monkeypatch.setattr(run, "cached", lambda *a: None)
    monkeypatch.setattr(run, "hide_masks", lambda *a: [])
    monkeypatch.setattr(run, "pca_init", lambda *a, **k: torch.zeros(4, 8))
    monkeypatch.setattr(run, "train_projection", fake_train)

    out = tmp_path / "out"
    manifest = run.train_retriever(
        db, tmp_path / "model", out, tmp_path / "tcache", TrainConfig(steps=2), questions_file=questions
    )
    assert json.loads((out / "manifest.json").read_text()) == manifest
    data = manifest["data"]
    assert "gold_set_used" not in data
    assert data["inputs"] == training_inputs(corpus_hash(db), chunks, seen["pairs"], questions)
    assert data["inputs"]["pairs"]["count"] == sum(data["pairs"].values()) == len(seen["pairs"])
    assert data["inputs"]["generated_questions"]["sha256"] == hashlib.sha256(questions.read_bytes()).hexdigest()
