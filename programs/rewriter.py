"""QueryRewriter: intent routing plus 1-3 search queries in the docs' vocabulary."""

from __future__ import annotations

import logging

import dspy

from signatures.rewrite import RewriteQuery

log = logging.getLogger(__name__)
MAX_QUERIES = 3


class QueryRewriter(dspy.Module):
    def __init__(self) -> None:
        super().__init__()
        self.route = dspy.Predict(RewriteQuery)

    def forward(self, question: str) -> dspy.Prediction:
        out = self.route(question=question)
        queries = [q.strip() for q in (out.search_queries or []) if isinstance(q, str) and q.strip()]
        # the question itself always stays a query: rewriting adds recall, never replaces it
        merged = list(dict.fromkeys([question, *queries[:MAX_QUERIES]]))
        return dspy.Prediction(intent=out.intent, queries=merged)
