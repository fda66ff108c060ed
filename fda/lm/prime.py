"""Prime an embedded LM's prompt cache at start-up, so the first question does not pay for the instructions.

llama.cpp keeps the last prompt's KV cache in its slot and reuses the longest common prefix of the next prompt
(``cache_prompt``). Every answer's prompt starts with the same ~450 tokens: the answer signature's instructions
and field descriptions (and a compiled program's demos), which DSPy's adapter puts first. Later questions find
them cached; the first one after a start read them at ~60 tokens/s on two cores, about 8 s of its time
(docs/lm.md, "The first question after start-up"). One request at start-up with that prefix and empty inputs,
``max_tokens`` 1, straight to the server (DSPy's response cache would answer a repeat without calling it), puts
them in the cache before anyone asks. With one slot (``lm.parallel`` 1, the default) the next request lands in the
same slot; with more, llama.cpp picks a slot by prompt similarity and the priming may miss.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from fda.lm.adapter import adapter_for, is_embedded

log = logging.getLogger(__name__)

Post = Callable[..., Any]


def prefix_messages(predictor: Any, lm: Any) -> list[dict[str, Any]]:
    """The chat messages ``predictor`` sends through ``lm``'s adapter, with every input empty: the fixed part of
    its prompt (system message, demos) and the first field's header."""
    import dspy

    adapter = adapter_for(lm) or dspy.ChatAdapter()
    signature = predictor.signature
    demos = list(getattr(predictor, "demos", None) or [])
    return list(adapter.format(signature, demos, dict.fromkeys(signature.input_fields, "")))


def prime(
    lm: Any, messages: list[dict[str, Any]], *, timeout_s: float = 120.0, post: Post = httpx.post
) -> dict[str, Any]:
    """One completion of at most one token for ``messages`` on ``lm``'s server (an OpenAI-compatible llama.cpp
    endpoint); returns the server's usage and the seconds it took. Raises on a failed request."""
    api_base = str(lm.kwargs["api_base"]).rstrip("/")
    body = {
        "model": str(lm.model).split("/", 1)[-1],
        "messages": messages,
        "max_tokens": 1,
        "temperature": 0,
        "cache_prompt": True,
    }
    t0 = time.perf_counter()
    resp = post(
        f"{api_base}/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {lm.kwargs.get('api_key', '')}"},
        timeout=timeout_s,
    )
    resp.raise_for_status()
    usage = dict(resp.json().get("usage") or {})
    return {"seconds": round(time.perf_counter() - t0, 2), "prompt_tokens": usage.get("prompt_tokens")}


def prime_in_background(program: Any, lm: Any, *, post: Post = httpx.post) -> threading.Thread | None:
    """:func:`prime` for ``program``'s answer step (its ``answerer``) in a daemon thread; None when there is
    nothing to prime (no answer step, not an embedded LM). Never raises: priming only saves the first user time."""
    predictor = getattr(program, "answerer", None)
    if predictor is None or lm is None or not is_embedded(lm) or "api_base" not in getattr(lm, "kwargs", {}):
        return None

    def run() -> None:
        try:
            done = prime(lm, prefix_messages(predictor, lm), post=post)
        except Exception as err:
            log.warning("could not prime the LM's prompt cache (the first answer reads its instructions): %s", err)
            return
        log.info(
            "LM prompt cache primed with the answer step's instructions in %.1f s (%s prompt tokens)",
            done["seconds"],
            done["prompt_tokens"],
        )

    thread = threading.Thread(target=run, name="prime-lm", daemon=True)
    thread.start()
    return thread
