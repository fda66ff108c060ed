"""The trust checks inside CitedRAG and MultiHopRAG: declined before any LM call, verified after it."""

from __future__ import annotations

from typing import Any

import dspy
import pytest

from programs.answering import OUT_OF_SCOPE, answer_over
from programs.cited_rag import CitedRAG
from programs.multihop import MultiHopRAG
from programs.trust.checks import TrustChecks, find_encoder
from programs.trust.scope import ScopeGate
from programs.trust.vocabulary import ApiVocabulary
from tests.programs.conftest import PASSAGES, FakeRetriever
from tests.programs.trust.test_scope import FakeEncoder, fitted
from tests.programs.trust.test_vocabulary import DOCS


class CountingLM(dspy.BaseLM):
    """Fails the test on any call: the checks must decide without the LM."""

    def __init__(self) -> None:
        super().__init__(model="openai/never")

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the LM was called")


CHECKS = TrustChecks(scope=ScopeGate(FakeEncoder(), fitted()), vocabulary=ApiVocabulary.from_texts(DOCS))


@pytest.mark.parametrize("program_cls", [CitedRAG, MultiHopRAG])
def test_out_of_scope_is_declined_without_the_lm(retriever: FakeRetriever, program_cls: type) -> None:
    with dspy.context(lm=CountingLM()):
        pred = program_cls(retriever, checks=CHECKS)(question="Write me a poem about autumn")
    assert pred.cannot_answer and pred.answer == OUT_OF_SCOPE and pred.reason.startswith("out_of_scope")
    assert retriever.calls == []


@pytest.mark.parametrize("program_cls", [CitedRAG, MultiHopRAG])
def test_made_up_api_is_named_not_echoed(retriever: FakeRetriever, program_cls: type) -> None:
    with dspy.context(lm=CountingLM()):
        pred = program_cls(retriever, checks=CHECKS)(question="In FastAPI, what does Depends(get_db, timeout=5) do?")
    assert pred.cannot_answer and "`timeout` for `Depends`" in pred.answer and pred.reason.startswith("premise")


def test_a_made_up_method_is_named_even_when_the_scope_gate_doubts_the_question(retriever: FakeRetriever) -> None:
    """The premise check runs before the scope gate: "the docs do not show `cache_response` for `router`" tells the
    user more than "not a FastAPI question" (a newcomer check of session 17 got the latter)."""
    question = "I read that @router.cache_response() caches GET routes. How do I set its TTL?"
    assert not CHECKS.scope.check(question).in_scope  # type: ignore[union-attr]  # the fake gate doubts it
    with dspy.context(lm=CountingLM()):
        pred = CitedRAG(retriever, checks=CHECKS)(question=question)
    assert pred.cannot_answer and "`cache_response` for `router`" in pred.answer and pred.reason.startswith("premise")


def test_markup_from_the_lm_never_reaches_the_user() -> None:
    leaked = "[[ ## answer ## ]]\nAdd CORSMiddleware with allow_origins [1].\n[[ ## cited ## ]]\n[1]"

    def answerer(**_: Any) -> dspy.Prediction:  # what a model that writes the adapter's markers returns
        return dspy.Prediction(cited=[1], answer=leaked, cannot_answer=False)

    pred = answer_over(answerer, "How do I enable CORS?", PASSAGES[:2], ["cors"], 500, checks=CHECKS)  # type: ignore[arg-type]
    assert pred.answer == "Add CORSMiddleware with allow_origins [1]." and "[[" not in pred.answer
    assert pred.verification["leaked_markup"] is True


def test_an_answer_with_nothing_supported_is_declined(retriever: FakeRetriever) -> None:
    lm = dspy.utils.DummyLM([{"cited": [1], "answer": "Bake sourdough at 250 degrees [1].", "cannot_answer": False}])
    with dspy.context(lm=lm):
        pred = CitedRAG(retriever, rewrite=False, checks=CHECKS)(question="How do I enable CORS in FastAPI?")
    assert pred.cannot_answer and pred.reason.startswith("verification") and pred.citations == []


def test_find_encoder_looks_under_wrappers() -> None:
    class Dense:
        encoder = FakeEncoder()

    class Fused:
        dense = Dense()

    class Wrapper:
        def __init__(self, inner: object) -> None:
            self.inner = inner

    assert isinstance(find_encoder(Wrapper(Wrapper(Fused()))), FakeEncoder)
    assert find_encoder(FakeRetriever()) is None


@pytest.mark.parametrize("program_cls", [CitedRAG, MultiHopRAG])
def test_the_harm_gate_refuses_before_the_scope_gate_without_the_lm(
    retriever: FakeRetriever, program_cls: type
) -> None:
    from programs.trust.harm import HarmGate

    # the fake model's harmful side is "not FastAPI": the poem is refused as harmful before scope can decline it
    checks = TrustChecks(scope=CHECKS.scope, vocabulary=CHECKS.vocabulary, harm=HarmGate(FakeEncoder(), fitted()))
    with dspy.context(lm=CountingLM()):
        pred = program_cls(retriever, checks=checks)(question="Write me a poem about autumn")
    assert pred.refused and pred.reason.startswith("unsafe (harm classifier p_harmless=") and retriever.calls == []
    assert checks.describe()["harm"] == 0.5
    assert not checks.harm.check("How do I enable CORS in FastAPI?").harmful  # type: ignore[union-attr]


def test_the_harm_and_scope_gates_share_one_encoding_per_question(tmp_path: Any) -> None:
    import numpy as np

    from fda.settings import Settings
    from programs.trust.checks import load_checks

    class Counting:
        def __init__(self) -> None:
            self.calls = 0

        def encode_query(self, text: str) -> np.ndarray:
            self.calls += 1
            v = np.ones(384, dtype=np.float32)
            return v / np.linalg.norm(v)

    encoder = Counting()
    checks = load_checks(Settings(state_dir=tmp_path), encoder=encoder)  # the committed scope and harm models
    assert checks.scope is not None and checks.harm is not None
    checks.harm.check("How do I enable CORS?")
    checks.scope.check("How do I enable CORS?")
    assert encoder.calls == 1
    checks.scope.check("How do I declare a path parameter?")
    assert encoder.calls == 2


@pytest.mark.parametrize("program_cls", [CitedRAG, MultiHopRAG])
def test_a_tool_the_docs_never_mention_is_named_without_the_lm(retriever: FakeRetriever, program_cls: type) -> None:
    from programs.trust.coverage import DocsWords

    checks = TrustChecks(vocabulary=CHECKS.vocabulary, coverage=DocsWords(CHECKS.vocabulary))  # type: ignore[arg-type]
    with dspy.context(lm=CountingLM()):
        pred = program_cls(retriever, checks=checks)(question="How do I enable Brotli compression in FastAPI?")
    assert pred.cannot_answer and pred.reason == "coverage: never in the docs: Brotli"
    assert pred.answer.startswith("The FastAPI docs do not mention Brotli") and pred.citations == []
    # one search, for the pointer to where the docs come closest (a link, not a citation)
    top = FakeRetriever().search("How do I enable Brotli compression in FastAPI?", k=1)[0]
    assert len(retriever.calls) == 1 and pred.answer.endswith(f"Where the docs come closest: {top.title} ({top.url})")


def test_a_failed_search_leaves_the_decline_without_its_pointer() -> None:
    from programs.trust.coverage import DocsWords

    class Broken(FakeRetriever):
        def search(self, query: str, k: int = 10, version: str | None = None) -> list:  # type: ignore[override]
            raise RuntimeError("index gone")

    checks = TrustChecks(vocabulary=CHECKS.vocabulary, coverage=DocsWords(CHECKS.vocabulary))  # type: ignore[arg-type]
    with dspy.context(lm=CountingLM()):
        pred = CitedRAG(Broken(), checks=checks)(question="How do I enable Brotli compression in FastAPI?")
    assert pred.cannot_answer and "closest" not in pred.answer
