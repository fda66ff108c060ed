"""experiments/scope_v4.py: the real calibration questions are deduplicated, kept apart from gold v2, and split
into halves by URL, not by reading them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.gold import load_gold
from experiments.scope_v4 import build_real, half


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_build_real_drops_duplicates_gold_rows_and_empty_ones(tmp_path: Path) -> None:
    gold_question = load_gold("v2", "train")[0].question
    a = _write(tmp_path / "real-1.jsonl", [
        {"question": "How do I read the raw body in a dependency?", "url": "https://github.com/fastapi/fastapi/issues/1", "topic": "body"},
        {"question": "same URL, other words", "url": "https://github.com/fastapi/fastapi/issues/1/", "topic": "body"},
        {"question": "  how do I read the RAW body in a dependency? ", "url": "https://github.com/fastapi/fastapi/issues/2", "topic": "body"},
        {"question": gold_question.upper(), "url": "https://github.com/fastapi/fastapi/issues/3", "topic": "x"},
        {"question": "", "url": "https://github.com/fastapi/fastapi/issues/4", "topic": "x"},
    ])  # fmt: skip
    b = _write(tmp_path / "real-2.jsonl", [
        {"question": "Why is my lifespan not called in tests?", "url": "https://github.com/fastapi/fastapi/discussions/5", "topic": "lifespan"},
    ])  # fmt: skip
    rows, dropped = build_real([a, b])
    assert [r["url"].rsplit("/", 1)[-1] for r in rows] == ["1", "5"]
    assert dropped == {"duplicate_url": 1, "duplicate_text": 1, "in_gold": 1, "empty": 1}
    assert [r["collector"] for r in rows] == ["real-1", "real-2"]
    assert all(r["half"] == half(r["url"]) for r in rows)


def test_halves_are_stable_and_both_used() -> None:
    urls = [f"https://github.com/fastapi/fastapi/issues/{n}" for n in range(200)]
    halves = [half(u) for u in urls]
    assert halves == [half(u) for u in urls]
    assert 70 < halves.count("cal") < 130


def test_the_second_real_set_skips_what_the_first_holds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from experiments import scope_v5

    first = _write(tmp_path / "real-fastapi.jsonl", [
        {"question": "How do I read the raw body?", "url": "https://github.com/fastapi/fastapi/issues/1", "topic": "body", "half": "cal"},
    ])  # fmt: skip
    collected = tmp_path / "collected"
    collected.mkdir()
    _write(collected / "real-4.jsonl", [
        {"question": "other words, same issue", "url": "https://github.com/fastapi/fastapi/issues/1/", "topic": "body"},
        {"question": "how do I read the RAW body?", "url": "https://github.com/fastapi/fastapi/issues/9", "topic": "body"},
        {"question": "Why is my startup event not run?", "url": "https://github.com/fastapi/fastapi/issues/7", "topic": "events"},
    ])  # fmt: skip
    monkeypatch.setattr(scope_v5, "REAL", first)
    monkeypatch.setattr(scope_v5, "COLLECTED", collected)
    rows, dropped = scope_v5.build_real_2()
    assert [r["url"] for r in rows] == ["https://github.com/fastapi/fastapi/issues/7"] and "half" not in rows[0]
    assert dropped["in_first_set"] == 2
