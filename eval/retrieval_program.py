"""The retrieval-only program: a Retriever behind the program contract, with no answer.

    program = RetrievalProgram(open_retriever("bm25", ...), k=10)
    program("How do I enable CORS?", None).passages

Answer metrics do not apply to it (``produces_answers = False``): reports show them as n/a.
"""

from __future__ import annotations

import dspy

from index.retrieval.base import Retriever


class RetrievalProgram:
    produces_answers = False

    def __init__(self, retriever: Retriever, k: int = 10) -> None:
        self.retriever = retriever
        self.k = k
        self.name = f"retrieval:{getattr(retriever, 'name', type(retriever).__name__)}"

    def __call__(self, question: str, version: str | None = None) -> dspy.Prediction:
        passages = self.retriever.search(question, k=self.k, version=version)
        return dspy.Prediction(
            answer="",
            citations=[],
            passages=list(passages),
            cannot_answer=False,
            refused=False,
            invalid_citations=0,
            fallback=False,
            usage={"prompt_tokens": 0, "completion_tokens": 0, "lm_calls": 0},
        )
