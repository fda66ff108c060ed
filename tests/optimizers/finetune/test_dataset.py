"""The data set: examples from recorded prompts, a manifest with the file's hash, refused when they disagree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fda.errors import FinetuneError
from optimizers.finetune.dataset import build_dataset, read_dataset, write_dataset
from optimizers.finetune.pipeline import subset
from optimizers.finetune.records import Prompt
from tests.optimizers.finetune.conftest import BG, SHOWN, row

MESSAGES = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]


def build(tmp_path: Path) -> tuple[Path, Path, dict]:  # type: ignore[type-arg]
    rows = [row("CORS?"), row("Background?", gold_sections=[BG]), row("Stopped?")]
    prompts = {"CORS?": Prompt(MESSAGES, SHOWN), "Background?": Prompt(MESSAGES, SHOWN), "Stopped?": None}
    examples, manifest = build_dataset(rows, lambda r: prompts[r.question], name="t")
    data, man = write_dataset(examples, manifest, tmp_path / "state", tmp_path / "data")
    return data, man, json.loads(man.read_text())


def test_examples_and_why_the_others_were_skipped(tmp_path: Path) -> None:
    data, man, manifest = build(tmp_path)
    assert manifest["rows"] == 3 and manifest["examples"] == 1 and manifest["by_kind"] == {"answer": 1}
    assert manifest["skipped"] == {
        "answered before the LM (guard or scope gate)": 1,
        "gold sections not among the sources": 1,
    }
    [example] = read_dataset(data, man)
    assert example.messages == MESSAGES and json.loads(example.completion)["cited"] == [2]
    assert data.parent == tmp_path / "state" and man.parent == tmp_path / "data"  # the docs' text stays in state/


def test_a_changed_file_is_refused_against_its_manifest(tmp_path: Path) -> None:
    data, man, _ = build(tmp_path)
    data.write_text(data.read_text().replace("CORSMiddleware", "Something"))
    with pytest.raises(FinetuneError, match="does not match its manifest"):
        read_dataset(data, man)


def test_missing_and_corrupt_files_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(FinetuneError, match="fda finetune data"):
        read_dataset(tmp_path / "none.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n')
    with pytest.raises(FinetuneError, match=r"bad\.jsonl:1"):
        read_dataset(bad)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(FinetuneError, match="no examples"):
        read_dataset(empty)


def test_subset_is_a_seeded_draw_in_file_order() -> None:
    items = list(range(50))
    a, b = subset(items, 10, seed=1), subset(items, 10, seed=1)  # type: ignore[arg-type]
    assert a == b == sorted(a) and len(set(a)) == 10 and a != list(range(10))
    assert subset(items, None, 0) == items and subset(items, 99, 0) == items  # type: ignore[arg-type]


@pytest.mark.parametrize("split", ["test", "dev-confirm", "dev"])
def test_only_train_and_dev_select_may_become_fine_tuning_data(split: str) -> None:
    from optimizers.finetune.pipeline import split_rows

    with pytest.raises(FinetuneError, match="sealed"):
        split_rows("v2", split)


def test_train_rows_are_train_rows() -> None:
    from optimizers.finetune.pipeline import split_rows

    rows = split_rows("v2", "train")
    assert rows and {r.assigned_split for r in rows} == {"train"}


def test_an_adapted_model_is_refused_as_a_base_before_anything_loads(tmp_path: Path) -> None:
    from fda.settings import Settings
    from optimizers.finetune.pipeline import load_base_model

    with pytest.raises(FinetuneError, match="already an adapted model"):  # its file is its base's: no adapter
        load_base_model(Settings(state_dir=tmp_path), "qwen2.5-coder-0.5b-fda")
