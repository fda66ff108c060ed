"""build_answer_program: settings.answer, keyword overrides, and what `rewrite: auto` means per LM."""

from __future__ import annotations

import dspy
import pytest

from fda.errors import ConfigError
from fda.settings import AnswerSettings, Settings
from programs.cited_rag import CitedRAG
from programs.factory import build_answer_program, wants_rewrite
from programs.multihop import MultiHopRAG
from tests.programs.conftest import FakeRetriever

EMBEDDED = dspy.LM("openai/qwen2.5-coder-0.5b", api_base="http://127.0.0.1:1/v1", api_key="local")
HOSTED = dspy.LM("openai/gpt-4o-mini")


@pytest.mark.parametrize(
    ("mode", "lm", "expected"),
    [
        ("auto", EMBEDDED, False),
        ("auto", HOSTED, True),
        ("auto", None, True),
        ("on", EMBEDDED, True),
        ("off", HOSTED, False),
    ],
)
def test_wants_rewrite(mode: str, lm: dspy.LM | None, expected: bool) -> None:
    assert wants_rewrite(mode, lm) is expected


def test_defaults_keep_each_programs_own_sizes() -> None:
    rag = build_answer_program("rag", FakeRetriever(), lm=HOSTED)
    assert isinstance(rag, CitedRAG)
    assert (rag.k, rag.passage_chars, rag.focus, rag.use_rewrite) == (3, 450, True, True)
    hop = build_answer_program("multihop", FakeRetriever(), lm=EMBEDDED, versions=["0.68.0"], latest="0.141.1")
    assert isinstance(hop, MultiHopRAG)
    assert (hop.k, hop.passage_chars, hop.focus, hop.use_rewrite) == (6, 700, True, False)


def test_config_sets_sizes_and_keywords_override_it() -> None:
    config = AnswerSettings(k=2, passage_chars=400, focus=False, rewrite="on")
    rag = build_answer_program("rag", FakeRetriever(), lm=EMBEDDED, config=config)
    assert (rag.k, rag.passage_chars, rag.focus, rag.use_rewrite) == (2, 400, False, True)
    rag = build_answer_program(
        "rag", FakeRetriever(), lm=EMBEDDED, config=config, k=5, passage_chars=900, focus=True, rewrite=False
    )
    assert (rag.k, rag.passage_chars, rag.focus, rag.use_rewrite) == (5, 900, True, False)


def test_whole_code_reaches_both_programs() -> None:
    config = AnswerSettings(whole_code=True)
    rag = build_answer_program("rag", FakeRetriever(), lm=EMBEDDED, config=config)
    hop = build_answer_program("multihop", FakeRetriever(), lm=EMBEDDED, config=config, versions=["0.68.0"])
    assert rag.whole_code and hop.whole_code
    assert not build_answer_program("rag", FakeRetriever(), lm=EMBEDDED).whole_code


def test_settings_read_the_answer_section_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FDA_ANSWER__REWRITE", "off")
    monkeypatch.setenv("FDA_ANSWER__PASSAGE_CHARS", "450")
    s = Settings()
    assert s.answer.rewrite == "off" and s.answer.passage_chars == 450 and s.answer.k is None
    monkeypatch.setenv("FDA_ANSWER__REWRITE", "sometimes")
    with pytest.raises(ValueError, match="rewrite"):
        Settings()


def test_unknown_program_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown program"):
        build_answer_program("agent", FakeRetriever())


@pytest.mark.parametrize(
    ("config", "rewrite", "expected"),
    [
        (AnswerSettings(), None, (False, True)),  # auto, embedded: no routing, but questions not in English
        (AnswerSettings(rewrite="off"), None, (False, False)),
        (AnswerSettings(rewrite="on"), None, (True, False)),
        (AnswerSettings(), False, (False, False)),  # an explicit --no-rewrite means none at all
    ],
)
def test_auto_translates_questions_not_in_english_when_routing_is_off(
    config: AnswerSettings, rewrite: bool | None, expected: tuple[bool, bool]
) -> None:
    rag = build_answer_program("rag", FakeRetriever(), lm=EMBEDDED, config=config, rewrite=rewrite)
    assert (rag.use_rewrite, rag.translate) == expected


def test_rerank_is_off_by_default_and_set_by_the_answer_section(monkeypatch: pytest.MonkeyPatch) -> None:
    assert build_answer_program("rag", FakeRetriever(), lm=EMBEDDED).reranker is None
    monkeypatch.setenv("FDA_ANSWER__RERANK", "8")
    rag = build_answer_program("rag", FakeRetriever(), lm=EMBEDDED, config=Settings().answer)
    assert rag.reranker is not None and rag.reranker.top == 8 and rag.depth == 8
    monkeypatch.setenv("FDA_ANSWER__RERANK", "1")
    with pytest.raises(ValueError, match="re-ranking one section"):
        Settings()
