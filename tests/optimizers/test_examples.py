"""Gold rows as examples, and the split guard: train and dev only, never test."""

from __future__ import annotations

from typing import Any

import pytest

from eval.gold import GoldQuestion, load_gold
from fda.errors import CompileError, GoldSetError
from optimizers.examples import check_split, load_splits, to_example, to_gold
from tests.optimizers.conftest import DEV, TEST, TRAIN


def test_example_round_trips_the_gold_row() -> None:
    for row in [*TRAIN, *DEV]:
        example = to_example(row)
        assert example.inputs().toDict() == {"question": row.question}
        assert to_gold(example) == row


def test_an_example_that_is_not_a_gold_row_is_a_clear_error() -> None:
    import dspy

    with pytest.raises(CompileError, match="not a gold row"):
        to_gold(dspy.Example(question="q?").with_inputs("question"))


def test_load_splits_never_asks_for_test() -> None:
    asked: list[Any] = []

    def loader(version: str, split: str | None = None) -> list[GoldQuestion]:
        asked.append(split)
        return {"train": TRAIN, "dev": DEV, "test": TEST}[split or "test"]

    train, dev = load_splits("v1", limit_dev=2, loader=loader)
    assert asked == ["train", "dev"]
    assert train == TRAIN and dev == DEV[:2]


def test_the_real_gold_splits_are_disjoint_and_test_is_refused() -> None:
    train, dev = load_splits("v1")
    test = load_gold("v1", split="test")
    assert train and dev and test
    assert not {g.id for g in train} & {g.id for g in dev}
    assert not ({g.id for g in train} | {g.id for g in dev}) & {g.id for g in test}
    with pytest.raises(CompileError, match="test split may not be used"):
        check_split(test, "test")  # type: ignore[arg-type]
    with pytest.raises(CompileError, match="used as train belong to another split"):
        check_split([*train, test[0]], "train")


@pytest.mark.parametrize(
    ("rows", "error"),
    [({"train": [], "dev": DEV}, "train split of gold set 'v9' is empty"),
     ({"train": TRAIN, "dev": []}, "dev split of gold set 'v9' is empty"),
     ({"train": DEV, "dev": DEV}, "used as train belong to another split")],
)  # fmt: skip
def test_empty_or_wrong_splits_are_clear_errors(rows: dict[str, list[GoldQuestion]], error: str) -> None:
    with pytest.raises(CompileError, match=error):
        load_splits("v9", loader=lambda version, split=None: rows[split])


def test_an_invalid_gold_set_is_a_compile_error() -> None:
    def broken(version: str, split: str | None = None) -> list[GoldQuestion]:
        raise GoldSetError("data/gold/v9/a.jsonl:3: invalid gold row")

    with pytest.raises(CompileError, match=r"cannot be read: data/gold/v9/a\.jsonl:3"):
        load_splits("v9", loader=broken)


def test_v2_compiles_on_train_and_selects_on_dev_select_with_stratified_limits() -> None:
    from collections import Counter

    train, select = load_splits("v2", limit_train=40, limit_dev=20, seed=1)
    assert len(train) == 40 and len(select) == 20
    assert {r.split for r in train} == {"train"} and {r.split for r in select} == {"dev-select"}
    assert len(Counter(r.type for r in train)) >= 6  # a mix of types, not the first file's how-tos
    assert [r.id for r in load_splits("v2", limit_train=40, seed=1)[0]] == [r.id for r in train]
    with pytest.raises(CompileError, match="may not be used"):
        check_split(select, "dev-confirm")  # type: ignore[arg-type]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_every_committed_train_row_reads_back_from_its_example(version: str) -> None:
    from eval.gold import load_gold

    rows = load_gold(version, "train")
    assert [to_gold(to_example(r)) for r in rows] == rows  # v2: the derived gold_sections made 147 of 215 fail
