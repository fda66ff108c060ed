"""QueryRewriter: 1-3 search queries in the docs' vocabulary plus the answer/off-topic/refuse decision.

The prediction's ``intent`` is what the programs route on: "fastapi", "out_of_scope" or "unsafe".
"""

from __future__ import annotations

import logging

import dspy

from signatures.rewrite import RewriteQuery, seed_demos

log = logging.getLogger(__name__)
MAX_QUERIES = 3
INTENTS = {"answer": "fastapi", "off_topic": "out_of_scope", "refuse": "unsafe"}


class QueryRewriter(dspy.Module):
    def __init__(self) -> None:
        super().__init__()
        self.route = dspy.Predict(RewriteQuery)
        self.route.demos = seed_demos()

    def forward(self, question: str) -> dspy.Prediction:
        out = self.route(question=question)
        queries = [q.strip() for q in (out.search_queries or []) if isinstance(q, str) and q.strip()]
        # the question itself always stays a query: rewriting adds recall, never replaces it
        merged = list(dict.fromkeys([question, *queries[:MAX_QUERIES]]))
        return dspy.Prediction(intent=INTENTS.get(str(out.decision), "fastapi"), queries=merged)
