"""The program contract every evaluated program satisfies, and its typed reading.

    pred = program(question, version)          # -> dspy.Prediction
    out = read_prediction(pred)                  # -> ProgramOutput, or EvalError naming the bad field

Fields: ``answer`` (str), ``citations`` (list[Citation]), ``passages`` (list[Passage]: ranked retrieval
results, the ones the answer step was shown), ``cannot_answer``, ``refused``, ``fallback`` (bool),
``invalid_citations`` (int: markers stripped because they named nothing shown), and optionally
``usage`` (``prompt_tokens``, ``completion_tokens``, ``lm_calls``), ``reason`` (str), ``verification``
(programs/trust/verify.py's report), and the docs agent's ``stop_reason`` and ``trajectory``. A program whose
``produces_answers`` attribute is False (retrieval only) gets answer metrics reported as n/a.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fda.errors import EvalError
from fda.types import Citation, Passage

REQUIRED_FIELDS = ("answer", "citations", "passages", "cannot_answer", "refused", "invalid_citations", "fallback")
USAGE_KEYS = ("prompt_tokens", "completion_tokens", "lm_calls")


class Program(Protocol):
    def __call__(self, question: str, version: str | None = None) -> Any:
        """Answer (or only retrieve for) one question; returns a ``dspy.Prediction``."""
        ...


# the reason prefix of a retrieval-only answer given because the LM call failed (programs/answering.py ``fallback``)
LM_FAILURE = "lm_error"


class ProgramOutput(BaseModel):
    model_config = ConfigDict(extra="ignore")

    answer: str = ""
    citations: list[Citation] = Field(default_factory=list)
    passages: list[Passage] = Field(default_factory=list)
    cannot_answer: bool = False
    refused: bool = False
    invalid_citations: int = 0
    fallback: bool = False
    usage: dict[str, int] | None = None
    reason: str = ""  # why it declined or fell back (programs/answering.py), when it says
    verification: dict[str, Any] | None = None  # programs/trust/verify.py's report, when the answer was verified
    stop_reason: str = ""  # the docs agent's (programs/agent.py): why its tool loop stopped
    trajectory: list[dict[str, Any]] | None = None  # the agent's tool calls: tool, arguments, found, new, error, ms

    @property
    def declined(self) -> bool:
        """Refused or said it cannot answer: both count as declining for refusal accuracy."""
        return self.refused or self.cannot_answer

    @property
    def lm_failed(self) -> bool:
        """Answered retrieval-only because the LM call failed (timeout under load, server down): such a row measures
        the LM server, not the program (eval/runner.py asks it again)."""
        return self.fallback and self.reason.startswith(LM_FAILURE)


def produces_answers(program: object) -> bool:
    return bool(getattr(program, "produces_answers", True))


def read_prediction(pred: Any) -> ProgramOutput:
    """Check a program's prediction against the contract and return it typed."""
    keys = set(pred.keys()) if hasattr(pred, "keys") else set()
    missing = [f for f in REQUIRED_FIELDS if f not in keys]
    if missing:
        raise EvalError(
            f"the program's prediction lacks {', '.join(missing)} (it has: {', '.join(sorted(keys)) or 'nothing'})",
            hint="Return dspy.Prediction(answer=..., citations=..., passages=..., cannot_answer=..., refused=..., "
            "invalid_citations=..., fallback=...): see eval/contract.py.",
        )
    optional = ("usage", "reason", "verification", "stop_reason", "trajectory")
    data = {f: pred.get(f) for f in (*REQUIRED_FIELDS, *optional) if f in keys}
    data["usage"] = usage_of(pred)
    try:
        return ProgramOutput.model_validate(data)
    except ValidationError as err:
        raise EvalError(f"the program's prediction breaks the contract: {err}") from err


def usage_of(pred: Any) -> dict[str, int] | None:
    """Tokens and LM calls: the prediction's ``usage`` field, else DSPy's usage tracker, else ``None``."""
    usage = pred.get("usage") if hasattr(pred, "get") else None
    if isinstance(usage, dict) and usage:
        return {k: int(usage.get(k) or 0) for k in USAGE_KEYS}
    tracked = pred.get_lm_usage() if hasattr(pred, "get_lm_usage") else None
    if isinstance(tracked, dict) and tracked:
        totals = dict.fromkeys(USAGE_KEYS, 0)
        for per_model in tracked.values():
            if isinstance(per_model, dict):
                totals["prompt_tokens"] += int(per_model.get("prompt_tokens") or 0)
                totals["completion_tokens"] += int(per_model.get("completion_tokens") or 0)
                totals["lm_calls"] += int(per_model.get("lm_calls") or 0)
        return totals
    return None
