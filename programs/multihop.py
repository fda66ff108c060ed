"""MultiHopRAG: retrieve, ask what is still missing, retrieve again (bounded hops), across the
FastAPI versions the question names; passages are labelled with their version for the answer."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import dspy

from fda.lm.adapter import lm_scope
from fda.tracing import span
from fda.types import Passage
from index.retrieval.base import Retriever
from programs.answering import answer_over, cannot_answer, check_before, refusal, widener
from programs.fusion import balanced, rrf
from programs.language import wants_rewrite_call
from programs.rewriter import QueryRewriter
from programs.trust.checks import TrustChecks
from programs.usage import tracked
from programs.versions import versions_in_question
from signatures.answer import CitedAnswer
from signatures.multihop import FollowUpQuery

log = logging.getLogger(__name__)


class MultiHopRAG(dspy.Module):
    def __init__(
        self,
        retriever: Retriever,
        k: int = 6,
        per_query_k: int = 3,
        max_hops: int = 2,
        versions: Sequence[str] = (),
        latest: str | None = None,
        rewrite: bool = True,
        translate: bool = False,
        passage_chars: int = 700,
        focus: bool = True,
        whole_code: bool = False,
        max_question_chars: int = 2000,
        lm: dspy.LM | None = None,
        checks: TrustChecks | None = None,
    ) -> None:
        super().__init__()
        self.retriever = retriever
        self.k, self.per_query_k, self.max_hops = k, per_query_k, max_hops
        self.versions, self.latest = list(versions), latest
        self.use_rewrite = rewrite
        self.translate = translate  # rewrite anyway when the question is not in English (programs/language.py)
        self.passage_chars, self.max_question_chars = passage_chars, max_question_chars
        self.lm = lm
        self.focus = focus
        self.whole_code = whole_code
        self.checks = checks or TrustChecks()  # scope, premise, verification (programs/trust/)
        self.rewriter = QueryRewriter()
        self.follow_up = dspy.Predict(FollowUpQuery)
        self.answerer = dspy.Predict(CitedAnswer)

    def _search(self, query: str, versions: Sequence[str | None]) -> list[list[Passage]]:
        with span("retrieve", queries=1, versions=len(versions), k=self.per_query_k):
            return [self.retriever.search(query, k=self.per_query_k, version=v) for v in versions]

    def forward(self, question: str, version: str | None = None) -> dspy.Prediction:
        with tracked() as usage:  # the LM's intent check before the answer counts too
            screened, early = check_before(
                question, self.max_question_chars, self.checks, self.lm, self.retriever, version
            )
            if early is not None:
                early.usage = usage()
                return early
            with lm_scope(self.lm):
                pred = self._run(screened.question, version, screened.injection)
        pred.usage = usage()
        return pred

    def _run(self, question: str, version: str | None, injection: bool) -> dspy.Prediction:
        intent, queries = "fastapi", [question]
        if wants_rewrite_call(question, self.use_rewrite, self.translate):
            try:
                with span("rewrite"):
                    routed = self.rewriter(question=question)
                intent, queries = str(routed.intent), list(routed.queries)
            except Exception as err:  # LM trouble: search the question as asked
                log.warning("query rewriting skipped: %s", type(err).__name__)
        if intent == "unsafe":
            return refusal(intent, queries)
        if intent == "out_of_scope":
            return cannot_answer([], queries, "out_of_scope")
        named = versions_in_question(question, self.versions, self.latest)
        versions: list[str | None] = list(named) if named else [version]
        lists: list[list[Passage]] = []
        for query in queries:
            lists.extend(self._search(query, versions))
        for hop in range(self.max_hops):
            found = "\n".join(f"- {p.title} (FastAPI {p.version})" for p in rrf(lists, limit=self.k))
            try:
                with span("follow_up", hop=hop + 1):
                    nxt = self.follow_up(question=question, found=found)
            except Exception as err:  # no follow-up is not fatal: answer from what we have
                log.warning("follow-up query skipped at hop %d: %s", hop + 1, type(err).__name__)
                break
            query = str(nxt.query or "").strip()
            if bool(nxt.done) or not query or query in queries:
                break
            queries.append(query)
            lists.extend(self._search(query, versions))
        passages = balanced(lists, versions, self.k)
        pred = answer_over(
            self.answerer,
            question,
            passages,
            queries,
            self.passage_chars,
            self.focus,
            widener(self.retriever),
            self.checks,
            whole_code=self.whole_code,
        )
        pred.injection_detected = injection
        pred.versions = [v for v in versions if v]
        return pred
