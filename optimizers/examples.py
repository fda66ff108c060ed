"""Gold rows <-> ``dspy.Example``, and the split guard: compile on train, select on dev, never see test.

    train, dev = load_splits("v1", limit_train=20, limit_dev=None)   # only ever asks for train and dev
    examples = [to_example(g) for g in train]                         # inputs: question
    to_gold(examples[0]) == train[0]                                  # the metric reads the row back

An example carries the whole gold row (JSON-able fields), so the metric needs no lookup table and a
demo or a logged dataset shows what the question expects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import dspy
from pydantic import ValidationError

from eval.gold import GoldQuestion, Split, load_gold
from fda.errors import CompileError, GoldSetError

# test is for reports only: never compiled on or selected on; v2's dev-confirm checks a choice once, not in a loop
ALLOWED_SPLITS: tuple[Split, ...] = ("train", "dev", "dev-select")
GOLD_KEYS = tuple(GoldQuestion.model_fields)

Loader = Callable[..., list[GoldQuestion]]


def to_example(gold: GoldQuestion) -> dspy.Example:
    """The gold row as an example whose only input is the question. A v2 row's ``gold_sections`` are derived
    from its ``gold_groups`` and left out, so ``to_gold`` reads the row back (the model refuses both)."""
    exclude = {"gold_sections"} if gold.gold_groups else set()
    return dspy.Example(**gold.model_dump(mode="json", exclude=exclude)).with_inputs("question")


def to_gold(example: Any) -> GoldQuestion:
    """The gold row an example was made from (``CompileError`` when it is not one of ours)."""
    data = {k: example[k] for k in GOLD_KEYS if k in example}
    try:
        return GoldQuestion.model_validate(data)
    except ValidationError as err:
        raise CompileError(
            f"an example is not a gold row ({', '.join(sorted(data)) or 'no gold fields'})",
            hint="Build examples with optimizers.examples.to_example(gold_row).",
        ) from err


def check_split(rows: Sequence[GoldQuestion], split: Split) -> None:
    """Refuse test rows anywhere, and rows of another split than the one they are used as."""
    if split not in ALLOWED_SPLITS:
        raise CompileError(f"the {split} split may not be used for compiling", hint="Compile on train, select on dev.")
    wrong = [r.id for r in rows if r.split != split]
    if wrong:
        raise CompileError(
            f"{len(wrong)} question(s) used as {split} belong to another split ({', '.join(wrong[:5])})",
            hint="Splits come from eval.gold.split_of(id): pass load_gold(split=...) rows unchanged.",
        )


def load_splits(
    gold_version: str,
    *,
    limit_train: int | None = None,
    limit_dev: int | None = None,
    loader: Loader = load_gold,
    seed: int = 0,
) -> tuple[list[GoldQuestion], list[GoldQuestion]]:
    """(train, selection) rows of a gold version: v1's dev, or v2's dev-select. A limit takes a seeded
    random subset stratified by type (never the first N rows); a missing, invalid or empty split is a clear
    ``CompileError``."""
    from eval.gold import manifest
    from eval.gold_split import stratified_subset

    select = "dev-select" if manifest(gold_version) else "dev"
    out: list[list[GoldQuestion]] = []
    for split, limit in (("train", limit_train), (select, limit_dev)):
        try:
            rows = loader(gold_version, split=split)
        except GoldSetError as err:
            raise CompileError(f"gold set {gold_version!r} cannot be read: {err}", hint=err.hint) from err
        rows = stratified_subset(rows, limit, seed) if limit else rows
        if not rows:
            raise CompileError(
                f"the {split} split of gold set {gold_version!r} is empty",
                hint="Add gold rows (data/gold/<version>/*.jsonl; `fda gold validate`) or raise the --limit.",
            )
        check_split(rows, split)  # type: ignore[arg-type]
        out.append(rows)
    return out[0], out[1]
