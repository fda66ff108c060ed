"""A hosted LM with a chain of fallbacks: when the main model fails for a reason another deployment can fix
(rate limited past its retries, quota exhausted, a 5xx, unreachable, timed out), the next model answers.

    lm = make_lm(LMSettings(model="azure/gpt-4o-mini", fallback_models=["azure/gpt-4o-mini-eastus2"]))
    lm("...")   # azure/gpt-4o-mini; on a 429 after its retries, azure/gpt-4o-mini-eastus2

Retries come first, inside each model's own call (``num_retries``: LiteLLM backs off and honours Retry-After).
Each switch is a span ``lm.fallback`` (attributes ``lm.fallback.from``, ``.to``, ``.reason``), which /metrics
counts as ``fda_lm_fallbacks_total`` (api/telemetry.py). An error that another model would only repeat
(bad credentials, a prompt too long, an invalid request) is raised at once, as without fallbacks.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import dspy
from dspy.utils import exceptions as dx

from fda.tracing import tracer

log = logging.getLogger(__name__)

# what another deployment may not suffer: limits, outages, timeouts (credentials and bad requests it would repeat)
SWITCH_ON: tuple[type[BaseException], ...] = (
    dx.LMRateLimitError,
    dx.LMBillingError,
    dx.LMServerError,
    dx.LMTimeoutError,
    dx.LMTransportError,
    TimeoutError,
    ConnectionError,
)


def reason(exc: BaseException) -> str:
    """A short label for metrics: rate_limited, quota, server_error, timeout, unreachable."""
    if isinstance(exc, dx.LMRateLimitError):
        return "rate_limited"
    if isinstance(exc, dx.LMBillingError):
        return "quota"
    if isinstance(exc, dx.LMServerError):
        return "server_error"
    if isinstance(exc, dx.LMTimeoutError | TimeoutError):
        return "timeout"
    return "unreachable"


class FallbackLM(dspy.LM):
    """``dspy.LM`` for the main model; ``fallbacks`` (other ``dspy.LM``s) answer in order when it fails with one
    of ``SWITCH_ON``. The last failure is raised when every model failed."""

    def __init__(self, model: str, *, fallbacks: Sequence[dspy.LM], **kwargs: Any) -> None:
        super().__init__(model, **kwargs)
        self.fallbacks = list(fallbacks)

    def _switch(self, exc: BaseException, failed: str, to: str) -> None:
        why = reason(exc)
        log.warning("LM %s failed (%s: %s); falling back to %s", failed, why, str(exc).splitlines()[0][:200], to)
        span = tracer().start_span(
            "lm.fallback", attributes={"lm.fallback.from": failed, "lm.fallback.to": to, "lm.fallback.reason": why}
        )
        span.end()

    def __call__(self, prompt: Any = None, *, messages: Any = None, **kwargs: Any) -> Any:
        try:
            return super().__call__(prompt, messages=messages, **kwargs)
        except SWITCH_ON as exc:
            error, failed = exc, self.model
        for lm in self.fallbacks:
            self._switch(error, failed, lm.model)
            try:
                return lm(prompt, messages=messages, **kwargs)
            except SWITCH_ON as exc:
                error, failed = exc, lm.model
        raise error

    async def acall(self, prompt: Any = None, *, messages: Any = None, **kwargs: Any) -> Any:
        try:
            return await super().acall(prompt, messages=messages, **kwargs)
        except SWITCH_ON as exc:
            error, failed = exc, self.model
        for lm in self.fallbacks:
            self._switch(error, failed, lm.model)
            try:
                return await lm.acall(prompt, messages=messages, **kwargs)
            except SWITCH_ON as exc:
                error, failed = exc, lm.model
        raise error
