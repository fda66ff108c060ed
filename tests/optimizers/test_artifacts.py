"""Compiled artifacts: JSON state without secrets, manifest checks, demo caps, the LM cost meter."""

from __future__ import annotations

import json
from pathlib import Path

import dspy
import pytest

from fda.errors import ManifestMismatchError
from optimizers.cost import CostMeter
from optimizers.manifest import build_manifest, check_fits, check_manifest, mismatches
from optimizers.strategies import cap_demos
from programs.factory import build_answer_program
from tests.optimizers.conftest import ScriptedLM
from tests.programs.conftest import FakeRetriever


def manifest_for(program: dspy.Module, **kw: object) -> dict[str, object]:
    args: dict[str, object] = {
        "program": "rag", "program_module": program, "optimizer": "bootstrap", "gold_version": "v1",
        "gold_hash": "g", "corpus_hash": "c1", "retriever": "bm25", "lm": "local:qwen2.5-coder-0.5b",
        "teacher_lm": None, "seed": 0, "settings": {}, "scores": {}, "train_ids": [], "dev_ids": [], "run_id": "r",
    }  # fmt: skip
    return build_manifest(**(args | kw))  # type: ignore[arg-type]


def test_saved_state_is_json_and_never_holds_the_lm_key(tmp_path: Path) -> None:
    lm = dspy.LM("openai/some-model", api_key="sk-live-secret-0123456789", api_base="http://127.0.0.1:9/v1")
    program = build_answer_program("rag", FakeRetriever(), lm=lm)
    program.answerer.demos = [
        dspy.Example(question="q", sources="[1] s", cited=[1], answer="a [1]", cannot_answer=False)
    ]
    path = tmp_path / "program.json"
    program.save(str(path))
    text = path.read_text()
    assert json.loads(text)["answerer"]["demos"][0]["answer"] == "a [1]"
    assert "sk-live-secret" not in text and "127.0.0.1:9" not in text


def test_manifest_refuses_a_model_string_carrying_a_key() -> None:
    program = build_answer_program("rag", FakeRetriever())
    with pytest.raises(ValueError, match="carries a key"):
        manifest_for(program, lm="openai/gpt-4o?api_key=sk-abcdefgh12345")


def test_mismatches_name_every_difference() -> None:
    manifest = manifest_for(build_answer_program("rag", FakeRetriever()))
    assert mismatches(manifest, program="rag", corpus_hash="c1", retriever="bm25") == []
    problems = mismatches(manifest, program="multihop", corpus_hash="c2", retriever="hybrid")
    assert len(problems) == 3
    with pytest.raises(ManifestMismatchError, match="serving 'multihop'"):
        check_manifest(manifest, program="multihop", corpus_hash="c1", retriever="bm25")


def test_state_must_fit_the_fresh_program() -> None:
    manifest = manifest_for(build_answer_program("rag", FakeRetriever()))
    check_fits(manifest, build_answer_program("rag", FakeRetriever()))
    with pytest.raises(ManifestMismatchError, match="saved predictors"):
        check_fits(manifest, build_answer_program("multihop", FakeRetriever()))


def test_cap_demos_by_full_or_last_name() -> None:
    program = build_answer_program("rag", FakeRetriever())
    demo = dspy.Example(question="q")
    program.answerer.demos = [demo] * 3
    program.rewriter.route.demos = [demo] * 3
    assert cap_demos(program, {"answerer": 1, "rewriter.route": 2}) == {"rewriter.route": 2, "answerer": 1}
    assert cap_demos(program, {"route": 0}) == {"rewriter.route": 0, "answerer": 1}


def test_cost_meter_counts_calls_of_copies_too() -> None:
    lm = ScriptedLM()
    meter = CostMeter()
    meter.attach(lm)
    program = build_answer_program("rag", FakeRetriever(), lm=lm)
    program(question="How do I enable CORS?")
    program.deepcopy()(question="What is a middleware?")  # optimizers run deep copies
    assert meter.totals() == {"lm_calls": 4, "cache_hits": 0, "prompt_tokens": 40, "completion_tokens": 20}
    meter.detach(lm)
    program(question="How do I enable CORS?")
    assert meter.totals()["lm_calls"] == 4


def test_cost_meter_counts_cache_replays_apart() -> None:
    class Recorded:
        """An LM seen through the callback: its history entries are what DSPy records."""

        def __init__(self) -> None:
            self.history: list[dict[str, object]] = []
            self.callbacks: list[object] = []

    lm, meter = Recorded(), CostMeter()
    meter.attach(lm)
    for i, usage in enumerate([{"prompt_tokens": 100, "completion_tokens": 7}, {}]):  # served, then cached
        meter.on_lm_start(f"call-{i}", lm, {})
        lm.history.append({"uuid": f"u{i}", "usage": usage, "response": None})
        meter.on_lm_end(f"call-{i}", outputs=None)
    assert meter.totals() == {"lm_calls": 2, "cache_hits": 1, "prompt_tokens": 100, "completion_tokens": 7}
