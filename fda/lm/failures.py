"""DSPy's LM failures -> the project's typed errors, so callers can fall back on a clear cause.

with lm_errors(lm.model):
    pred = program(question=q)      # LMTimeoutError / LMUnavailableError / LMError, raised from the cause
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fda.errors import FDAError, LMError, LMTimeoutError, LMUnavailableError

_TIMEOUT_WORDS = ("timed out", "timeout")


def translate_lm_error(exc: BaseException, *, model: str = "") -> LMError | None:
    """The typed error for an LM failure, or None when ``exc`` is not one."""
    from dspy.utils import exceptions as dx

    who = f"LM {model}" if model else "LM"
    text = str(exc)
    if isinstance(exc, dx.LMTimeoutError | TimeoutError) or (
        isinstance(exc, dx.LMTransportError) and (_caused_by_timeout(exc) or _says_timeout(text))
    ):
        return LMTimeoutError(f"{who} timed out: {_first_line(text)}")
    if isinstance(exc, dx.LMTransportError | dx.LMServerError | dx.LMRateLimitError | ConnectionError):
        return LMUnavailableError(f"{who} is unreachable or failing: {_first_line(text)}")
    if isinstance(exc, dx.LMAuthError | dx.LMNotConfiguredError):
        return LMUnavailableError(
            f"{who} refused the credentials or has none: {_first_line(text)}",
            hint="Export the provider's key (e.g. OPENAI_API_KEY) or FDA_LM__API_KEY for FDA_LM__API_BASE.",
        )
    if isinstance(exc, dx.ContextWindowExceededError):
        return LMError(
            f"{who}: the prompt does not fit the context window",
            hint="Retrieve fewer or shorter passages, or raise FDA_LM__CONTEXT_SIZE (local models).",
        )
    if isinstance(exc, dx.LMError):
        return LMError(f"{who} failed: {_first_line(text)}")
    return None


@contextmanager
def lm_errors(model: str = "") -> Iterator[None]:
    """Re-raise LM failures inside the block as ``LMError`` subclasses (``from`` the original)."""
    try:
        yield
    except FDAError:
        raise
    except Exception as exc:
        typed = translate_lm_error(exc, model=model)
        if typed is None:
            raise
        raise typed from exc


def _caused_by_timeout(exc: BaseException) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = exc.__cause__ or exc.__context__
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, TimeoutError):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False


def _says_timeout(text: str) -> bool:
    low = text.lower()
    return any(word in low for word in _TIMEOUT_WORDS)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else "(no message)"
