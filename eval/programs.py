"""Program names the eval runner knows -> built programs (answer programs imported lazily).

build_program("retrieval", retriever)                    # eval/retrieval_program.py
build_program("rag", retriever, lm=lm)                   # programs/factory.py: CitedRAG
build_program("multihop", retriever, lm=lm, versions=..., latest=...)   # programs/factory.py: MultiHopRAG
build_program("agent", retriever, lm=lm, db_path=..., agent=settings.agent)   # programs/agent.py: DocsAgent
build_program("closedbook", retriever, lm=lm)            # programs/closed_book.py: no retrieval (a baseline)
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.contract import Program
from fda.errors import EvalError
from index.retrieval.base import Retriever

PROGRAMS: dict[str, str] = {
    "retrieval": "eval.retrieval_program:RetrievalProgram",
    "rag": "programs.cited_rag:CitedRAG",
    "multihop": "programs.multihop:MultiHopRAG",
    "agent": "programs.agent:DocsAgent",
    "closedbook": "programs.closed_book:ClosedBook",
}
NEEDS_LM = frozenset({"rag", "multihop", "agent", "closedbook"})


def check_program(name: str) -> None:
    """Fail early, with a clear message, on an unknown program name."""
    if name not in PROGRAMS:
        raise EvalError(f"unknown program {name!r}", hint=f"Use one of: {', '.join(PROGRAMS)}.")


def _load(name: str) -> Any:
    check_program(name)
    module_name, attr = PROGRAMS[name].split(":")
    return getattr(importlib.import_module(module_name), attr)  # imported on use: the answer programs load dspy


def build_program(
    name: str,
    retriever: Retriever,
    *,
    lm: Any | None = None,
    k: int = 10,
    versions: Sequence[str] = (),
    latest: str | None = None,
    config: Any | None = None,
    checks: Any | None = None,
    db_path: Path | None = None,
    agent: Any | None = None,
) -> Program:
    """A ready program for the runner. Answer programs need an LM (injected, never read from settings);
    ``config`` is settings.answer (how they build their context); ``checks`` the trust bundle
    (programs/trust/checks.py)."""
    cls = _load(name)
    if name == "retrieval":
        program: Program = cls(retriever, k=k)
        return program
    if lm is None:
        raise EvalError(
            f"program {name!r} needs a language model",
            hint="Configure the LM (see docs/evaluation.md) or run `--program retrieval`.",
        )
    if name == "closedbook":  # the model alone: the retriever is not used
        closed: Program = cls(lm=lm, checks=checks)
        return closed
    if name == "agent":
        if db_path is None:
            raise EvalError("the agent needs the docs store", hint="Run `fda ingest` first.")
        from programs.agent import Budget
        from programs.tools.docs import DocsTools

        budget = Budget(max_steps=agent.max_steps, max_tokens=agent.max_tokens, max_seconds=agent.max_seconds,
                        stale_steps=agent.stale_steps) if agent is not None else Budget()  # fmt: skip
        built: Program = cls(
            DocsTools(retriever, db_path), budget=budget, k=agent.k if agent else 5, lm=lm, checks=checks
        )
        return built
    from programs.factory import build_answer_program  # the one place that knows each answer program

    answer: Program = build_answer_program(
        name, retriever, lm=lm, versions=versions, latest=latest, config=config, checks=checks
    )
    return answer
