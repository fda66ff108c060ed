"""The committed gold v2 set: its make-up (issue targets), lint, split grouping, and (corpus tier) that every
section it names exists and is retrievable in a fresh ingest of the real corpus."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from eval.gold import V2_SPLITS, QType, load_all_rows, load_gold, manifest
from eval.gold_lint import lint_rows, split_problems
from eval.sealed import read_log
from fda.errors import SealedSplitError

ROWS = load_all_rows("v2")
TYPES = Counter(r.type for r in ROWS)


def test_size_and_make_up() -> None:
    n = len(ROWS)
    users = sum(1 for r in ROWS if r.source and r.source.kind == "user")
    assert n >= 400
    assert users / n >= 0.30, f"{users} real user questions of {n}"
    assert (TYPES[QType.unanswerable] + TYPES[QType.false_premise]) / n >= 0.15
    assert TYPES[QType.version] >= 40 and TYPES[QType.multihop] >= 40
    assert TYPES[QType.out_of_scope] >= 30 and TYPES[QType.adversarial] >= 40


def test_user_questions_never_come_from_fastapis_own_tracker() -> None:
    """That source is kept for an independent check."""
    urls = [r.source.url or "" for r in ROWS if r.source and r.source.kind == "user"]
    banned = ("github.com/fastapi/", "github.com/tiangolo/")
    assert [u for u in urls if any(b in u.lower() for b in banned)] == []


def test_lint_and_split_grouping_are_clean() -> None:
    assert [str(p) for p in lint_rows(ROWS)] == []
    assert [str(p) for p in split_problems(ROWS)] == []


def test_splits_are_stratified_and_the_test_split_is_sealed() -> None:
    counts = Counter(r.split for r in ROWS)
    shares = manifest("v2")["shares"]
    for split in V2_SPLITS:
        assert abs(counts[split] / len(ROWS) - shares[split]) < 0.03, counts
    for qtype, n in TYPES.items():
        if n >= 20:  # every sizeable type reaches every split
            assert {r.split for r in ROWS if r.type == qtype} == set(V2_SPLITS), qtype
    with pytest.raises(SealedSplitError):
        load_gold("v2", "test")
    assert all(r.split != "test" for r in load_gold("v2"))


def test_every_logged_test_read_names_its_code_and_purpose() -> None:
    for entry in read_log("v2"):
        if entry["event"] == "opened":
            assert entry["who"] and entry["purpose"] and len(entry["git_sha"]) == 40


@pytest.mark.corpus
def test_every_v2_section_exists_and_has_a_chunk(real_store: tuple[Path, object]) -> None:
    from eval.gold_check import missing_sections, unretrievable_sections

    db, _ = real_store
    assert missing_sections(ROWS, db) == []
    assert unretrievable_sections(ROWS, db) == []


def test_the_validate_command_passes_v2_and_only_notes_v1s_weak_keys() -> None:
    from typer.testing import CliRunner

    from fda.cli.app import app

    runner = CliRunner()
    v2 = runner.invoke(app, ["gold", "validate", "--version", "v2", "--no-check-corpus", "--no-semantic"])
    assert v2.exit_code == 0, v2.output
    assert "real user questions 171" in v2.output and "dev-select" in v2.output
    v1 = runner.invoke(app, ["gold", "validate", "--version", "v1", "--no-check-corpus"])
    assert v1.exit_code == 0 and "weak must-mention strings in frozen v1" in v1.output
