"""fda/lm/prime.py: the start-up request that puts the answer step's fixed prompt in llama.cpp's cache."""

from __future__ import annotations

import logging
from typing import Any

import dspy
import httpx
import pytest

from fda.lm.adapter import adapter_for
from fda.lm.prime import prefix_messages, prime, prime_in_background
from programs.cited_rag import CitedAnswer


def _local() -> dspy.LM:
    return dspy.LM("openai/qwen2.5-coder-1.5b", api_base="http://127.0.0.1:9/v1/", api_key="local-key")


class Recorder:
    def __init__(self, status: int = 200, usage: dict[str, int] | None = None, error: Exception | None = None):
        self.calls: list[dict[str, Any]] = []
        self.status, self.usage, self.error = status, usage or {"prompt_tokens": 431}, error

    def __call__(self, url: str, **kw: Any) -> httpx.Response:
        self.calls.append({"url": url, **kw})
        if self.error is not None:
            raise self.error
        return httpx.Response(self.status, json={"usage": self.usage}, request=httpx.Request("POST", url))


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


@pytest.mark.parametrize("with_demos", [False, True])
def test_the_primed_messages_are_the_start_of_every_real_answer_prompt(with_demos: bool) -> None:
    """Everything a real question's prompt sends before the question itself is in the primed messages: the
    system message (instructions, field descriptions, the output format), a compiled program's demos, and the
    first field header."""
    lm = _local()
    predictor = dspy.Predict(CitedAnswer)
    if with_demos:
        predictor.demos = [
            dspy.Example(
                question="How do I enable CORS?",
                sources="[1] CORS",
                cited=[1],
                answer="Use CORSMiddleware [1].",
                cannot_answer=False,
            ).with_inputs("question", "sources")
        ]
    primed = prefix_messages(predictor, lm)
    real = adapter_for(lm).format(  # type: ignore[union-attr]
        predictor.signature, predictor.demos, {"question": "How do I add a header?", "sources": "[1] Headers\n..."}
    )
    assert len(primed) == len(real) == (4 if with_demos else 2)
    assert primed[:-1] == real[:-1]  # system message and demos: identical
    shared = _common_prefix(primed[-1]["content"], real[-1]["content"])
    assert real[-1]["content"][:shared].startswith("[[ ## question ## ]]\n")  # up to the question's own text
    assert "How do I add a header?" not in primed[-1]["content"]


def test_prime_asks_the_server_for_one_token_with_the_prompt_cache_on() -> None:
    post = Recorder()
    messages = [{"role": "system", "content": "instructions"}, {"role": "user", "content": "[[ ## question ## ]]"}]
    done = prime(_local(), messages, timeout_s=7, post=post)
    (call,) = post.calls
    assert call["url"] == "http://127.0.0.1:9/v1/chat/completions"
    assert call["json"] == {
        "model": "qwen2.5-coder-1.5b",
        "messages": messages,
        "max_tokens": 1,
        "temperature": 0,
        "cache_prompt": True,
    }
    assert call["headers"] == {"Authorization": "Bearer local-key"} and call["timeout"] == 7
    assert done["prompt_tokens"] == 431 and done["seconds"] >= 0
    with pytest.raises(httpx.HTTPStatusError):
        prime(_local(), messages, post=Recorder(status=503))


class Program:
    def __init__(self) -> None:
        self.answerer = dspy.Predict(CitedAnswer)


def test_in_the_background_only_for_an_embedded_lm_and_never_raising(caplog: pytest.LogCaptureFixture) -> None:
    post = Recorder()
    thread = prime_in_background(Program(), _local(), post=post)
    assert thread is not None
    thread.join(10)
    assert len(post.calls) == 1 and post.calls[0]["json"]["messages"][0]["role"] == "system"
    hosted = dspy.LM("openai/gpt-4o-mini", api_base="https://example.invalid/v1", api_key="k")
    assert prime_in_background(Program(), hosted, post=post) is None  # not ours to prime
    assert prime_in_background(object(), _local(), post=post) is None  # a program without an answer step
    assert prime_in_background(Program(), None, post=post) is None
    with caplog.at_level(logging.WARNING, logger="fda.lm.prime"):
        failing = prime_in_background(Program(), _local(), post=Recorder(error=httpx.ConnectError("refused")))
        assert failing is not None
        failing.join(10)
    assert "could not prime" in caplog.text and "refused" in caplog.text
