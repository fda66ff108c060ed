"""Slow tier: the real llama.cpp runtime with real small models (``make test-slow`` installs them first).

A missing model fails with the fix in its message (``make models``) rather than skipping.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator

import dspy
import pytest

from fda.lm.adapter import SchemaJSONAdapter
from fda.lm.factory import make_lm
from fda.lm.grammar import object_grammar, split_fields
from fda.lm.jsonparse import loads_lenient
from fda.lm.registry import get_spec
from fda.lm.runtime import LocalRuntime
from fda.settings import LMSettings, project_root

pytestmark = pytest.mark.slow

MODELS_DIR = project_root() / "state" / "models"
SMALL = "local:qwen2.5-coder-0.5b"


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    logs = tmp_path_factory.mktemp("lm-logs")
    with LocalRuntime(MODELS_DIR, context_size=2048, threads=2, log_dir=logs) as rt:
        yield rt


@pytest.fixture(scope="module")
def lm(runtime: LocalRuntime) -> dspy.LM:
    return make_lm(LMSettings(model=SMALL, max_tokens=96, temperature=0.0, cache=False, timeout_s=300), runtime=runtime)


class Capital(dspy.Signature):
    """Answer with the name of the city only."""

    question: str = dspy.InputField(desc="a geography question")
    answer: str = dspy.OutputField(desc="a city name")


class CitedAnswer(dspy.Signature):
    """Answer from the numbered passages; cite the passages you used by number."""

    passages: str = dspy.InputField(desc="numbered passages")
    question: str = dspy.InputField()
    citations: list[int] = dspy.OutputField(desc="numbers of the passages used")
    answer: str = dspy.OutputField(desc="one sentence")


PASSAGES = (
    "[1] FastAPI declares query parameters as function parameters that are not part of the path.\n"
    "[2] Use CORSMiddleware to allow cross-origin requests: app.add_middleware(CORSMiddleware, allow_origins=[...])."
)


def test_chat_adapter_answers_through_dspy(lm: dspy.LM) -> None:
    with dspy.context(lm=lm, adapter=dspy.ChatAdapter()):
        pred = dspy.Predict(Capital)(question="What is the capital of France?")
    assert "paris" in pred.answer.lower()


def test_json_mode_output_parses_into_typed_fields(lm: dspy.LM) -> None:
    with dspy.context(lm=lm, adapter=dspy.JSONAdapter()):
        pred = dspy.Predict(CitedAnswer)(passages=PASSAGES, question="How do I allow cross-origin requests?")
    assert isinstance(pred.citations, list) and all(isinstance(c, int) for c in pred.citations)
    assert isinstance(pred.answer, str) and pred.answer.strip()


def test_json_schema_response_format_is_honoured(runtime: LocalRuntime) -> None:
    """xllamacpp accepts OpenAI's json_schema response_format (llama_cpp.server answered 500 to it)."""
    server = runtime.server_for(get_spec(SMALL))
    schema = {
        "type": "object",
        "properties": {"citations": {"type": "array", "items": {"type": "integer"}}, "answer": {"type": "string"}},
        "required": ["citations", "answer"],
    }
    body = {
        "messages": [{"role": "user", "content": f"{PASSAGES}\nIn two lines: how do I allow CORS? Cite passages."}],
        "max_tokens": 96,
        "temperature": 0,
        "response_format": {"type": "json_schema", "json_schema": {"name": "cited", "schema": schema}},
    }
    req = urllib.request.Request(
        server.api_base + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=300) as resp:
        content = json.loads(resp.read())["choices"][0]["message"]["content"]
    parsed = loads_lenient(content)
    assert set(parsed) >= {"citations", "answer"} and all(isinstance(c, int) for c in parsed["citations"])


def test_the_output_grammar_is_enforced_by_the_real_server(runtime: LocalRuntime) -> None:
    """The llguidance grammar of fda/lm/grammar.py goes in the request body and binds the model: asked for one plain
    word and no JSON, it still writes the object, which reads back field by field."""
    server = runtime.server_for(get_spec(SMALL))
    schema = SchemaJSONAdapter().schema(CitedAnswer)
    body = {
        "messages": [
            {"role": "user", "content": "Reply with the single word hello. No JSON, no quotes, nothing else."}
        ],
        "max_tokens": 96,
        "temperature": 0,
        "grammar": object_grammar(schema),
    }
    req = urllib.request.Request(
        server.api_base + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=300) as resp:
        choice = json.loads(resp.read())["choices"][0]
    fields = split_fields(choice["message"]["content"], schema)
    if choice["finish_reason"] == "stop":  # a cut at max_tokens cannot close the object; a finished one must have
        assert fields is not None and set(fields) == {"citations", "answer"}
        assert all(isinstance(c, int) for c in fields["citations"])
    assert choice["message"]["content"].lstrip().startswith(("{", "```"))


def test_embedded_models_answer_typed_fields_through_the_grammar(lm: dspy.LM) -> None:
    adapter = SchemaJSONAdapter()
    with dspy.context(lm=lm, adapter=adapter):
        pred = dspy.Predict(CitedAnswer)(
            passages=PASSAGES, question='How do I allow every method? Show allow_methods=["*"] in a code block.'
        )
    assert "grammar" in lm.history[-1]["kwargs"]["extra_body"]
    assert isinstance(pred.citations, list) and all(isinstance(c, int) for c in pred.citations)
    assert isinstance(pred.answer, str) and pred.answer.strip()


def test_models_serve_runs_in_the_foreground_and_stops_on_ctrl_c() -> None:
    env = {**os.environ, "FDA_STATE_DIR": str(project_root() / "state")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "fda.cli.app", "models", "serve", "smollm2-135m", "--threads", "1", "--ctx", "512"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=project_root(),
    )
    try:
        assert proc.stdout is not None
        address = None
        for line in proc.stdout:  # "serving smollm2-135m at http://127.0.0.1:PORT/v1"
            found = re.search(r"(http://127\.0\.0\.1:\d+)/v1", line)
            if found:
                address = found.group(1)
                break
        assert address, "fda models serve never reported its address"
        with urllib.request.urlopen(address + "/health", timeout=30) as resp:
            assert resp.status == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_priming_puts_the_answer_steps_instructions_in_the_prompt_cache(runtime: LocalRuntime, lm: dspy.LM) -> None:
    """fda/lm/prime.py against the real server: after the start-up request, the first real answer prompt finds at
    least its whole system message (instructions, field descriptions) in the cache; without it, it reads it all
    (llama.cpp's ``timings.prompt_n``). The primed prompt's tail (the empty fields after the first header, the
    closing line) differs from a real prompt's, so it is read again: the cache holds the common prefix."""
    import httpx

    from fda.lm.prime import prefix_messages, prime
    from programs.cited_rag import CitedAnswer as ServedAnswer

    predictor = dspy.Predict(ServedAnswer)
    real = SchemaJSONAdapter().format(
        predictor.signature, [], {"question": "How do I enable CORS?", "sources": PASSAGES}
    )

    def ask() -> dict[str, int]:
        body = {"model": SMALL.removeprefix("local:"), "messages": real, "max_tokens": 1, "cache_prompt": True}
        resp = httpx.post(str(lm.kwargs["api_base"]) + "/chat/completions", json=body, timeout=300)
        resp.raise_for_status()
        out = resp.json()
        assert "timings" in out, f"llama.cpp no longer reports timings: {sorted(out)}"
        return {"read": out["timings"]["prompt_n"], "total": out["usage"]["prompt_tokens"]}

    unrelated = [{"role": "user", "content": "Name a colour."}]
    prime(lm, unrelated)  # the slot now holds something else: the real prompt is read whole
    cold = ask()
    assert cold["read"] >= cold["total"] - 8
    primed = prime(lm, prefix_messages(predictor, lm))
    assert primed["prompt_tokens"] > 300  # the instructions: the bulk of the prompt
    warm = ask()
    assert warm["total"] == cold["total"]
    system = next(m["content"] for m in real if m["role"] == "system")
    tokenized = httpx.post(str(lm.kwargs["api_base"]).removesuffix("/v1") + "/tokenize", json={"content": system})
    tokenized.raise_for_status()
    reused = cold["total"] - warm["read"]  # prompt tokens served from the cache
    assert len(tokenized.json()["tokens"]) <= reused <= primed["prompt_tokens"], (reused, warm, cold, primed)
