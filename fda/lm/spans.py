"""A span per LM call (fda/tracing.py), with its model, tokens and whether DSPy's cache answered: a DSPy
callback, so every predictor's calls are covered without touching the programs.

    dspy.context(callbacks=[LMSpans()])   # api/services.py does this when tracing is on
"""

from __future__ import annotations

import threading
from typing import Any

import dspy
from dspy.utils.callback import BaseCallback
from opentelemetry.trace import Status, StatusCode

from fda.tracing import tracer


def _entries(model: str) -> list[dict[str, Any]] | None:
    """This thread's usage entries for ``model`` (``dspy.track_usage``: programs track each question); None
    when nothing tracks usage here."""
    usage = dspy.settings.usage_tracker
    return list(usage.usage_data.get(model, [])) if usage is not None else None


class LMSpans(BaseCallback):
    def __init__(self) -> None:
        self._open: dict[str, tuple[Any, str, int]] = {}  # call id -> (span, model, usage entries before)
        self._lock = threading.Lock()

    def on_lm_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
        model = str(getattr(instance, "model", "lm"))
        span = tracer().start_span("lm", attributes={"lm.model": model})
        entries = _entries(model)
        with self._lock:
            self._open[call_id] = (span, model, len(entries) if entries is not None else -1)

    def on_lm_end(self, call_id: str, outputs: Any | None, exception: BaseException | None = None) -> None:
        with self._lock:
            opened = self._open.pop(call_id, None)
        if opened is None:
            return
        span, model, before = opened
        entries = _entries(model)
        if entries is None or before < 0:
            pass  # usage not tracked here: tokens unknown
        elif len(entries) > before:  # a real call: DSPy's cache adds no usage
            usage = entries[-1]
            span.set_attribute("lm.prompt_tokens", int(usage.get("prompt_tokens") or 0))
            span.set_attribute("lm.completion_tokens", int(usage.get("completion_tokens") or 0))
            span.set_attribute("lm.cached", False)
        else:
            span.set_attribute("lm.cached", True)
        if exception is not None:
            span.record_exception(exception)
            span.set_attribute("error.type", type(exception).__name__)
            span.set_status(Status(StatusCode.ERROR, str(exception)[:200]))
        span.end()
