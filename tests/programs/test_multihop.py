from __future__ import annotations

import dspy
from dspy.utils import DummyLM

from programs.multihop import MultiHopRAG
from tests.programs.conftest import PASSAGES, FakeRetriever


def test_hops_until_done_and_answers_across_versions() -> None:
    retriever = FakeRetriever(PASSAGES)
    lm = DummyLM(
        [
            {"search_queries": ["startup event"], "decision": "answer"},
            {"done": False, "query": "lifespan events"},
            {"done": True, "query": ""},
            {"cited": [1, 3], "answer": "In 0.68 use on_event [1]; now middleware [3].", "cannot_answer": False},
        ]
    )
    program = MultiHopRAG(retriever, k=4, max_hops=3, versions=["0.68.0", "0.141.1"], latest="0.141.1")
    with dspy.context(lm=lm):
        pred = program(question="How did startup events change since 0.68?")
    assert pred.versions == ["0.68.0", "0.141.1"]
    assert pred.queries == ["How did startup events change since 0.68?", "startup event", "lifespan events"]
    assert {v for _, _, v in retriever.calls} == {"0.68.0", "0.141.1"}
    assert {p.version for p in pred.passages} == {"0.68.0", "0.141.1"}  # each named version represented
    assert len(pred.citations) == 2 and not pred.cannot_answer


def test_hops_are_bounded() -> None:
    retriever = FakeRetriever(PASSAGES)
    follow = [{"done": False, "query": f"query {i}"} for i in range(5)]
    lm = DummyLM(
        [
            {"search_queries": [], "decision": "answer"},
            *follow[:2],
            {"cited": [1], "answer": "x [1]", "cannot_answer": False},
        ]
    )
    with dspy.context(lm=lm):
        pred = MultiHopRAG(retriever, max_hops=2)(question="How do I enable CORS and background tasks?")
    assert pred.queries[-2:] == ["query 0", "query 1"] and len(lm.history) == 4
