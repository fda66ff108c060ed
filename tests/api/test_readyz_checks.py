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
        "verify": "remove",
    }  # type: ignore[union-attr]
    assert checks_of(CitedRAG(FakeRetriever()))["scope"] is None  # no gate loaded: said, not hidden
    assert checks_of(object()) == {}
