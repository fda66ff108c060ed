"""Program name -> a built answer program (the one place that knows each constructor).

build_answer_program("rag", retriever, lm=lm)
build_answer_program("multihop", retriever, lm=lm, versions=["0.68.0", "0.141.1"], latest="0.141.1")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dspy

from fda.errors import ConfigError
from index.retriever import Retriever

ANSWER_PROGRAMS = ("rag", "multihop")


def build_answer_program(
    name: str,
    retriever: Retriever,
    *,
    lm: Any | None = None,
    versions: Sequence[str] = (),
    latest: str | None = None,
    rewrite: bool = True,
    k: int | None = None,
    passage_chars: int | None = None,
) -> dspy.Module:
    """The answer program ``name``; ``k`` / ``passage_chars`` override its context size when given."""
    sizes: dict[str, int] = {}
    if k:
        sizes["k"] = k
    if passage_chars:
        sizes["passage_chars"] = passage_chars
    if name == "rag":
        from programs.cited_rag import CitedRAG

        return CitedRAG(retriever=retriever, rewrite=rewrite, rewrite_lm=lm, answer_lm=lm, **sizes)
    if name == "multihop":
        from programs.multihop import MultiHopRAG

        return MultiHopRAG(
            retriever=retriever,
            versions=list(versions),
            latest=latest,
            rewrite=rewrite,
            lm=lm,
            **sizes,
        )
    raise ConfigError(f"unknown program {name!r}", hint=f"Use one of: {', '.join(ANSWER_PROGRAMS)}.")
