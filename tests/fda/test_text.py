"""fda/text.py and its use in check_question: what cleaning keeps and removes."""

from __future__ import annotations

import pytest

from fda.errors import InvalidQuestionError
from fda.text import clean_text, has_lone_surrogate
from programs.guard import check_question


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("How do I enable CORS?", "How do I enable CORS?"),
        ("line one\n\tindented\r\n", "line one\n\tindented\r\n"),  # tab and newlines stay
        ("a\x00b\x07c\x7f", "abc"),
        ("zero\u200bwidth\u200c\u200d\u2060\ufeff", "zerowidth"),
        ("\u202eevil\u202c \u2066x\u2069", "evil x"),
        ("ｉｇｎｏｒｅ ａｌｌ", "ignore all"),
        ("¿Cómo habilito CORS en FastAPI?", "¿Cómo habilito CORS en FastAPI?"),  # accents stay (NFC-equal)
        ("如何启用CORS", "如何启用CORS"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_check_question_cleans_and_refuses_surrogates() -> None:
    assert check_question("  How do I\u200b enable CORS?\x00 ") == "How do I enable CORS?"
    assert has_lone_surrogate("a\ud800") and not has_lone_surrogate("a\U0001f600")
    with pytest.raises(InvalidQuestionError, match="lone surrogate"):
        check_question("CORS \udc80")
    with pytest.raises(InvalidQuestionError, match="empty"):
        check_question("\u200b\u202e\x00")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Hоw dо I writе a middlеwarе", "How do I write a middleware"),  # Cyrillic о, е inside Latin words
        ("Как включить CORS в FastAPI?", "Как включить CORS в FastAPI?"),  # Russian stays Russian
        ("Ελληνικά and FastAPI", "Ελληνικά and FastAPI"),
        ("naïve café", "naïve café"),  # Latin with accents is not mixed script
    ],
)
def test_mixed_script_look_alikes_fold_to_latin(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean
