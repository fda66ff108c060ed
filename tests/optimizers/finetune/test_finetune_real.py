"""Slow tier: fine-tuning against the real embedded 0.5B and llama.cpp (``make test-slow`` assembles the model).

- what training tokenizes as the prompt is what llama.cpp is sent: the same token count, so the adapter learns
  on the served prompt and its target starts where the served answer starts;
- the committed adapted model (data/adapters/) is served like the registered ones and answers in the answer
  step's JSON format;
- two real training steps on the real model lower the loss of the example they train on, and export to a file
  llama.cpp loads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import dspy
import pytest

from fda.lm.assemble import assemble
from fda.lm.factory import make_lm
from fda.lm.registry import adapted_models, get_spec
from fda.lm.runtime import LocalRuntime
from fda.settings import LMSettings, project_root
from optimizers.finetune.targets import completion

pytestmark = pytest.mark.slow

MODELS_DIR = project_root() / "state" / "models"
BASE = "qwen2.5-coder-0.5b"
ADAPTED = "qwen2.5-coder-0.5b-fda"
MESSAGES = [
    {"role": "system", "content": "Answer from the numbered sources; cite them like [1]. Reply in JSON."},
    {"role": "user", "content": "[[ ## question ## ]]\nHow do I enable CORS?\n\n[[ ## sources ## ]]\n[1] CORS > "
     "Use CORSMiddleware (FastAPI 0.141.1)\nAdd CORSMiddleware with allow_origins.\n\nRespond with a JSON object."},
]  # fmt: skip
TARGET = completion(
    [1], "Add `CORSMiddleware` to the app with `app.add_middleware()` and list `allow_origins` [1].", False
)


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    with LocalRuntime(MODELS_DIR, context_size=2048, threads=2, log_dir=tmp_path_factory.mktemp("logs")) as rt:
        yield rt


@pytest.fixture(scope="module")
def base_file() -> Path:
    return assemble(get_spec(BASE), MODELS_DIR)


def test_training_tokenizes_the_prompt_as_llama_cpp_does(runtime: LocalRuntime, base_file: Path) -> None:
    import urllib.request

    from transformers import AutoTokenizer

    from optimizers.finetune.base import encode

    tokenizer = AutoTokenizer.from_pretrained(str(base_file.parent), gguf_file=base_file.name)
    encoded = encode(tokenizer, MESSAGES, TARGET)
    server = runtime.server_for(get_spec(BASE))
    body = json.dumps({"model": BASE, "messages": MESSAGES, "max_tokens": 1, "temperature": 0}).encode()
    request = urllib.request.Request(f"{server.api_base}/chat/completions", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as resp:
        usage = json.loads(resp.read())["usage"]
    assert usage["prompt_tokens"] == encoded.start
    assert tokenizer.decode(encoded.ids[encoded.start :]).endswith("<|im_end|>")


def test_the_committed_adapted_model_is_served_like_the_others(runtime: LocalRuntime) -> None:
    assert ADAPTED in adapted_models(), "data/adapters/ must hold the adapted model: `fda finetune export`"
    lm = make_lm(LMSettings(model=f"local:{ADAPTED}", max_tokens=160, temperature=0.0, cache=False, timeout_s=300),
                 runtime=runtime)  # fmt: skip
    from fda.lm.adapter import SchemaJSONAdapter
    from signatures.answer import CitedAnswer

    sources = "[1] CORS > Use CORSMiddleware (FastAPI 0.141.1)\nAdd CORSMiddleware with allow_origins."
    with dspy.context(lm=lm, adapter=SchemaJSONAdapter()):
        pred = dspy.Predict(CitedAnswer)(question="How do I enable CORS?", sources=sources)
    assert isinstance(pred.cited, list) and isinstance(pred.cannot_answer, bool) and pred.answer
    assert ADAPTED in runtime.running()


def test_two_real_steps_learn_and_export_to_a_file_llama_cpp_loads(base_file: Path, tmp_path: Path) -> None:
    import torch

    from fda.lm.server import LocalServer, ServerConfig
    from optimizers.finetune.base import encode, load_base
    from optimizers.finetune.export import export_adapter, read_adapter
    from optimizers.finetune.train import LoraConfig, LoraRun, target_loss

    model, tokenizer = load_base(base_file)
    example = encode(tokenizer, MESSAGES, TARGET)
    with torch.no_grad():
        before = float(target_loss(model, example, torch))
    run = LoraRun(tmp_path / "run", LoraConfig(epochs=3, learning_rate=1e-3, warmup=0.0))
    run.train(model, [example])
    with torch.no_grad():
        after = float(target_loss(model, example, torch))
    assert after < before
    out = export_adapter(run.adapter_dir, tmp_path / "a.gguf")
    assert read_adapter(out)["type"] == "adapter"
    with LocalServer(ServerConfig(base_file, "t", context_size=1024, threads=2, lora_path=out)) as server:
        assert server.running
