"""Program name -> a built answer program (the one place that knows each constructor).

build_answer_program("rag", retriever, lm=lm)
build_answer_program("multihop", retriever, lm=lm, versions=["0.68.0", "0.141.1"], latest="0.141.1")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dspy

from fda.errors import ConfigError
from fda.settings import AnswerSettings
from index.retrieval.base import Retriever

ANSWER_PROGRAMS = ("rag", "multihop")


def wants_rewrite(mode: str, lm: Any | None) -> bool:
    """``answer.rewrite``: on, off, or auto (on unless ``lm`` is an embedded model: docs/lm.md)."""
    if mode == "auto":
        from fda.lm.adapter import is_embedded

        return not (lm is not None and is_embedded(lm))
    return mode == "on"


def build_answer_program(
    name: str,
    retriever: Retriever,
    *,
    lm: Any | None = None,
    versions: Sequence[str] = (),
    latest: str | None = None,
    config: AnswerSettings | None = None,
    rewrite: bool | None = None,
    k: int | None = None,
    passage_chars: int | None = None,
    focus: bool | None = None,
    checks: Any | None = None,
) -> dspy.Module:
    """The answer program ``name``, configured by ``config`` (settings.answer); the keyword arguments override it
    when given (a benchmark's flags). Sizes left unset keep the program's own defaults. ``checks`` is the trust
    bundle (programs/trust/checks.py: ``load_checks(settings, encoder)``)."""
    config = config or AnswerSettings()
    rewriting = wants_rewrite(config.rewrite, lm) if rewrite is None else rewrite
    options: dict[str, Any] = {
        "rewrite": rewriting,
        # auto without routing still rewrites questions that are not in English (the encoders are English-only)
        "translate": not rewriting and rewrite is None and config.rewrite == "auto",
        "focus": config.focus if focus is None else focus,
        "whole_code": config.whole_code,
        "checks": checks,  # programs/trust/checks.py: TrustChecks (None: markup + sentence checks only)
    }
    if k or config.k:
        options["k"] = k or config.k
    if passage_chars or config.passage_chars:
        options["passage_chars"] = passage_chars or config.passage_chars
    if name == "rag":
        from programs.cited_rag import CitedRAG

        return CitedRAG(
            retriever=retriever,
            rewrite_lm=lm,
            answer_lm=lm,
            rerank=config.rerank,
            versions=list(versions),
            latest=latest,
            **options,
        )
    if name == "multihop":
        from programs.multihop import MultiHopRAG

        return MultiHopRAG(retriever=retriever, versions=list(versions), latest=latest, lm=lm, **options)
    raise ConfigError(f"unknown program {name!r}", hint=f"Use one of: {', '.join(ANSWER_PROGRAMS)}.")
