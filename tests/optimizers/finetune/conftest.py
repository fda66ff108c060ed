"""Fakes for the fine-tuning tests: gold rows over the program tests' passages, and a tiny Qwen2 model built from a
config (random weights, no file, no hub) that trains in milliseconds. Its weights are drawn wider than the
default 0.02: with those, the output layer is too small for any hidden state to make one token likely, and no
training can lower the loss much."""

from __future__ import annotations

from typing import Any

import pytest

from eval.gold import GoldQuestion
from optimizers.finetune.targets import Shown
from tests.optimizers.conftest import split_id
from tests.programs.conftest import PASSAGES

CORS, MW, BG = (p.url for p in PASSAGES[:3])


def row(question: str, **fields: Any) -> GoldQuestion:
    base: dict[str, Any] = {
        "id": split_id("ft", "train"), "question": question, "category": "middleware", "type": "howto",
        "reference_answer": "Add `CORSMiddleware` with `allow_origins`. Then list the origins, e.g. the frontend's.",
        "gold_sections": [CORS],
    }  # fmt: skip
    return GoldQuestion.model_validate(base | fields)


SHOWN = (
    Shown(1, MW, "[1] Middleware\nUse the @app.middleware('http') decorator."),
    Shown(2, CORS, "[2] CORS > Use CORSMiddleware\nAdd CORSMiddleware with allow_origins for the frontend origins."),
)


@pytest.fixture
def tiny_model() -> Any:
    return make_tiny_model()


def make_tiny_model() -> Any:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.Qwen2Config(
        vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=128, initializer_range=0.2,
    )  # fmt: skip
    return transformers.Qwen2ForCausalLM(config)
