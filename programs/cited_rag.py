"""CitedRAG: screen -> rewrite -> retrieve and fuse -> (LM re-rank) -> cited answer -> citation validation.

rag = CitedRAG(retriever=open_retriever("hybrid", ...), k=4)
with dspy.context(lm=lm):
    pred = rag(question="How do I enable CORS?")
pred.answer, pred.citations, pred.cannot_answer, pred.refused, pred.fallback
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import dspy

from fda.lm.adapter import lm_scope
from fda.tracing import span
from fda.types import Passage
from index.retrieval.base import Retriever
from programs.answering import answer_over, cannot_answer, check_before, refusal, retrieve_all, widener
from programs.fusion import balanced
from programs.language import wants_rewrite_call
from programs.reranker import LMReranker
from programs.rewriter import QueryRewriter
from programs.trust.checks import TrustChecks
from programs.usage import tracked
from programs.versions import versions_in_question
from signatures.answer import CitedAnswer

log = logging.getLogger(__name__)


class CitedRAG(dspy.Module):
    def __init__(
        self,
        retriever: Retriever,
        k: int = 3,  # 3 passages of 450 characters, focused on the question: measured in docs/lm.md
        rewrite: bool = True,
        translate: bool = False,
        passage_chars: int = 450,
        focus: bool = True,
        whole_code: bool = False,
        max_question_chars: int = 2000,
        rewrite_lm: dspy.LM | None = None,
        answer_lm: dspy.LM | None = None,
        rerank: int = 0,
        checks: TrustChecks | None = None,
        versions: Sequence[str] = (),
        latest: str | None = None,
    ) -> None:
        super().__init__()
        self.retriever = retriever
        self.versions = list(versions)  # ingested docs versions: a question naming some is answered from them
        self.latest = latest
        self.k = k
        self.use_rewrite = rewrite
        self.translate = translate  # rewrite anyway when the question is not in English (programs/language.py)
        self.passage_chars = passage_chars
        self.focus = focus
        self.whole_code = whole_code
        self.max_question_chars = max_question_chars
        self.rewrite_lm = rewrite_lm
        self.answer_lm = answer_lm
        self.checks = checks or TrustChecks()  # scope, premise, verification (programs/trust/)
        self.rewriter = QueryRewriter()
        self.answerer = dspy.Predict(CitedAnswer)
        # only built when on: a compiled program saved without it must still load (load_state wants every predictor)
        self.reranker = LMReranker(top=rerank) if rerank >= 2 else None

    def route(self, question: str) -> tuple[str, list[str]]:
        """(intent, queries). An LM failure here is not fatal: the question itself is searched."""
        if not wants_rewrite_call(question, self.use_rewrite, self.translate):
            return "fastapi", [question]
        try:
            with span("rewrite"), lm_scope(self.rewrite_lm):
                out = self.rewriter(question=question)
            return str(out.intent), list(out.queries)
        except Exception as err:  # LM down, timeout, unparseable: keep going without rewriting
            log.warning("query rewriting skipped: %s: %s", type(err).__name__, str(err)[:200])
            return "fastapi", [question]

    @property
    def depth(self) -> int:
        """Passages retrieved: ``k``, or more when the LM re-ranks a longer list."""
        return max(self.k, self.reranker.top) if self.reranker is not None else self.k

    def rerank(self, question: str, passages: list[Passage]) -> list[Passage]:
        """The top ``k`` after the LM re-orders the retrieved sections; on any LM failure the retriever's order."""
        if self.reranker is not None:
            try:
                with lm_scope(self.rewrite_lm):
                    passages = list(self.reranker(question=question, passages=passages).passages)
            except Exception as err:  # LM down, timeout, unparseable: the retriever's order stands
                log.warning("re-ranking skipped: %s: %s", type(err).__name__, str(err)[:200])
        return passages[: self.k]

    def named_versions(self, question: str, version: str | None) -> list[str | None]:
        """The ingested versions the question names (programs/versions.py), when the request left the version
        at the default (none, or the latest); [] otherwise: a request for 0.68 is answered from 0.68 only."""
        if not self.versions or version not in (None, self.latest):
            return []
        return list(versions_in_question(question, self.versions, self.latest))

    def forward(self, question: str, version: str | None = None) -> dspy.Prediction:
        with tracked() as usage:
            pred = self._answer(question, version)
        pred.usage = usage()
        return pred

    def _answer(self, question: str, version: str | None) -> dspy.Prediction:
        screened, early = check_before(
            question, self.max_question_chars, self.checks, self.answer_lm, self.retriever, version
        )
        if early is not None:
            return early
        intent, queries = self.route(screened.question)
        if intent == "unsafe":
            return refusal(intent, queries)
        if intent == "out_of_scope":
            return cannot_answer([], queries, "out_of_scope")
        named = self.named_versions(screened.question, version)
        if named:  # "I'm on 0.68": that version's docs, beside the latest's when one older version is named
            lists = [retrieve_all(self.retriever, queries, self.depth, v) for v in named]
            # the LM re-ranker sees no versions: balance again after it, so each named version keeps a passage
            passages = balanced([self.rerank(screened.question, balanced(lists, named, self.depth))], named, self.k)
        else:
            passages = self.rerank(screened.question, retrieve_all(self.retriever, queries, self.depth, version))
        with lm_scope(self.answer_lm):
            pred = answer_over(
                self.answerer,
                screened.question,
                passages,
                queries,
                self.passage_chars,
                self.focus,
                widener(self.retriever),
                self.checks,
                whole_code=self.whole_code,
            )
        pred.injection_detected = screened.injection
        pred.versions = [v for v in named if v]
        return pred
