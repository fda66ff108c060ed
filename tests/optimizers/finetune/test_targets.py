"""Targets: the completion the fine-tuned model learns, in the answer step's own JSON format."""

from __future__ import annotations

import json

import pytest

from optimizers.finetune.targets import DECLINE, Skip, Target, cite, completion, sentences, target_for
from tests.optimizers.finetune.conftest import BG, SHOWN, row


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Use `app.include_router()`. Then add it.", ["Use `app.include_router()`.", "Then add it."]),
        ("Set it, e.g. `status_code=201`. Done.", ["Set it, e.g. `status_code=201`.", "Done."]),
        ("Version 0.95.0 added it. `Annotated` works.", ["Version 0.95.0 added it.", "`Annotated` works."]),
        ("one line without a stop", ["one line without a stop"]),
    ],
)
def test_sentences_do_not_split_code_abbreviations_or_versions(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_cite_goes_before_the_closing_punctuation() -> None:
    assert cite("Add it.", 2) == "Add it [2]."
    assert cite("Is it?", 1) == "Is it [1]?"
    assert cite("no stop", 3) == "no stop [3]"


def test_an_answerable_row_cites_the_gold_source_shown() -> None:
    target = target_for(row("How do I enable CORS?"), SHOWN)
    assert isinstance(target, Target) and target.kind == "answer"
    out = json.loads(target.completion)
    assert list(out) == ["cited", "answer", "cannot_answer"]  # the signature's order: the grammar's order
    assert out["cited"] == [2] and out["cannot_answer"] is False
    assert out["answer"].count("[2]") == 2 and "[1]" not in out["answer"]  # the middleware source is not gold


def test_double_quotes_become_single_as_the_signature_asks() -> None:
    target = target_for(row("CORS?", reference_answer='Pass allow_origins=["https://a.example"].'), SHOWN)
    assert (
        isinstance(target, Target) and '\\"' not in target.completion and "['https://a.example']" in target.completion
    )


def test_gold_not_shown_is_skipped_rather_than_taught_as_a_guess() -> None:
    assert target_for(row("Background tasks?", gold_sections=[BG]), SHOWN) == Skip(
        "gold sections not among the sources"
    )


def test_rows_to_decline_teach_a_decline_with_no_citation() -> None:
    unanswerable = row("gRPC?", type="unanswerable", expect_refusal=True, gold_sections=[],
                       reference_answer="The docs don't mention gRPC.")  # fmt: skip
    target = target_for(unanswerable, SHOWN)
    assert isinstance(target, Target) and target.kind == "decline"
    assert json.loads(target.completion) == {
        "cited": [],
        "answer": "The docs don't mention gRPC.",
        "cannot_answer": True,
    }
    silent = row("Recipe?", type="out_of_scope", category="out_of_scope", expect_refusal=True, gold_sections=[],
                 reference_answer="")  # fmt: skip
    assert json.loads(target_for(silent, SHOWN).completion)["answer"] == DECLINE  # type: ignore[union-attr]


def test_an_answerable_row_without_reference_is_skipped() -> None:
    assert isinstance(target_for(row("CORS?", reference_answer=""), SHOWN), Skip)


def test_completion_is_valid_json_with_unicode_kept() -> None:
    assert json.loads(completion([1], "café [1].", False))["answer"] == "café [1]."
