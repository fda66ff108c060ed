import json
import re
from collections import Counter
from pathlib import Path

import pytest

from eval.gold import Category, GoldQuestion, QType, gold_hash, load_gold, load_gold_file, split_of
from fda.errors import GoldSetError

ROWS = load_gold("v1")
VALID = {
    "id": "howto-x",
    "question": "How do I enable CORS?",
    "category": "middleware",
    "type": "howto",
    "gold_sections": ["https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware"],
    "must_mention": [["CORSMiddleware"]],
}


def test_size_and_composition_meet_the_spec() -> None:
    types = Counter(r.type for r in ROWS)
    assert len(ROWS) >= 150
    assert types[QType.howto] + types[QType.factoid] >= 90
    assert types[QType.version] >= 15 and types[QType.multihop] >= 15
    assert types[QType.adversarial] >= 20 and types[QType.out_of_scope] >= 10 and types[QType.ambiguous] >= 10


def test_every_category_has_howto_questions() -> None:
    howto = Counter(r.category for r in ROWS if r.type in (QType.howto, QType.factoid))
    for cat in Category:
        if cat is not Category.out_of_scope:
            assert howto[cat] >= 5, cat


@pytest.mark.parametrize(
    ("qid", "needle"),
    [
        ("hp-mw-add-middleware", "https://fastapi.tiangolo.com/tutorial/middleware/"),
        ("hc-deps-how-depends-works", "https://fastapi.tiangolo.com/tutorial/dependencies/"),
        ("hp-mw-enable-cors", "https://fastapi.tiangolo.com/tutorial/cors/"),
        ("hc-resp-response-model", "https://fastapi.tiangolo.com/tutorial/response-model/"),
        ("hp-bg-run-background-tasks", "https://fastapi.tiangolo.com/tutorial/background-tasks/"),
        ("hc-sec-oauth2-password-bearer", "https://fastapi.tiangolo.com/tutorial/security/"),
        ("hc-routing-mount-subapp", "https://fastapi.tiangolo.com/advanced/sub-applications/"),
        ("hc-routing-apirouter-vs-app", "https://fastapi.tiangolo.com/tutorial/bigger-applications/"),
    ],
)
def test_starter_questions_present(qid: str, needle: str) -> None:
    row = next(r for r in ROWS if r.id == qid)
    assert any(u.startswith(needle) for u in row.gold_sections)


def test_splits_are_deterministic_and_all_used() -> None:
    assert split_of("hc-deps-how-depends-works") == split_of("hc-deps-how-depends-works")
    counts = Counter(r.split for r in ROWS)
    assert set(counts) == {"train", "dev", "test"}
    assert all(c >= 0.2 * len(ROWS) for c in counts.values())
    assert [r.id for r in load_gold("v1", split="test")] == [r.id for r in ROWS if r.split == "test"]


def test_refusal_rows_and_injection_payloads() -> None:
    assert all(r.expect_refusal for r in ROWS if r.type == QType.out_of_scope)
    adversarial = [r for r in ROWS if r.type == QType.adversarial]
    assert any(r.expect_refusal for r in adversarial) and any(not r.expect_refusal for r in adversarial)
    assert all(r.forbidden for r in adversarial)


def test_gold_hash_changes_with_content(tmp_path: Path) -> None:
    (tmp_path / "v9").mkdir()
    f = tmp_path / "v9" / "a.jsonl"
    f.write_text(json.dumps(VALID) + "\n")
    h1 = gold_hash("v9", tmp_path)
    f.write_text(json.dumps({**VALID, "question": "How do I enable CORS, please?"}) + "\n")
    assert gold_hash("v9", tmp_path) != h1


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"id": "Bad Id"}, "id"),
        ({"category": "cooking"}, "category"),
        ({"gold_sections": ["https://fastapi.tiangolo.com/tutorial/cors/"]}, "#anchor"),
        ({"gold_sections": []}, "at least one gold section"),
        ({"expect_refusal": True}, "should not expect a refusal"),
        ({"type": "out_of_scope", "category": "out_of_scope", "gold_sections": []}, "expect a refusal"),
        ({"must_mention": [[]]}, "may not be empty"),
        ({"surprise": 1}, "Extra inputs"),
    ],
)
def test_malformed_rows_rejected_with_file_and_line(tmp_path: Path, patch: dict, message: str) -> None:
    f = tmp_path / "rows.jsonl"
    f.write_text(json.dumps(VALID) + "\n\n" + json.dumps({**VALID, **patch}) + "\n")
    with pytest.raises(GoldSetError, match=rf"(?s)rows.jsonl:3: .*{re.escape(message)}"):
        load_gold_file(f)


def test_broken_json_and_duplicates(tmp_path: Path) -> None:
    (tmp_path / "v2").mkdir()
    (tmp_path / "v2" / "a.jsonl").write_text("{not json\n")
    with pytest.raises(GoldSetError, match=r"a\.jsonl:1"):
        load_gold("v2", root=tmp_path)
    (tmp_path / "v2" / "a.jsonl").write_text(json.dumps(VALID) + "\n")
    (tmp_path / "v2" / "b.jsonl").write_text(json.dumps(VALID) + "\n")
    with pytest.raises(GoldSetError, match="duplicate id"):
        load_gold("v2", root=tmp_path)
    with pytest.raises(GoldSetError, match="no gold files"):
        load_gold("v404", root=tmp_path)


def test_model_is_frozen() -> None:
    row = GoldQuestion.model_validate(VALID)
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen error type is internal
        row.question = "changed"  # type: ignore[misc]


@pytest.mark.corpus
def test_every_gold_section_exists_in_the_corpus(real_store: tuple[Path, object]) -> None:
    from eval.gold_check import missing_sections

    db, _ = real_store
    assert missing_sections(ROWS, db) == []
