"""/readyz names the default program's trust checks, so an operator sees a gate that did not load."""

from __future__ import annotations

from api.routers.health import checks_of
from programs.cited_rag import CitedRAG
from tests.programs.conftest import FakeRetriever
from tests.programs.trust.test_in_programs import CHECKS


def test_readyz_reports_the_default_programs_checks() -> None:
    assert checks_of(CitedRAG(FakeRetriever(), checks=CHECKS)) == {
        "scope": CHECKS.scope.model.threshold,
        "harm": None,  # no harm classifier in this bundle: said, not hidden
        "intent": None,
        "premise": True,
        "coverage": False,  # no docs words in this bundle
        "verify": "remove",
    }  # type: ignore[union-attr]
    assert checks_of(CitedRAG(FakeRetriever()))["scope"] is None  # no gate loaded: said, not hidden
    assert checks_of(object()) == {}


def test_readyz_judges_the_intent_check_by_the_programs_own_lm_first() -> None:
    import dspy

    from programs.trust.checks import TrustChecks
    from programs.trust.intent import IntentJudge

    bundle = TrustChecks(intent=IntentJudge(embedded=False))
    hosted, embedded = dspy.LM("openai/gpt-4o-mini"), dspy.LM("openai/qwen2.5-coder-1.5b")
    program = CitedRAG(FakeRetriever(), checks=bundle, answer_lm=hosted)
    assert checks_of(program, embedded)["intent"] == "hosted"  # the program answers with the hosted LM
    assert str(checks_of(CitedRAG(FakeRetriever(), checks=bundle), embedded)["intent"]).startswith("hosted (off")
