"""Gold v2 machinery on small hand-made rows: schema, lint, splits, seeded subsets, the sealed split."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from eval.gold import GoldQuestion, load_all_rows, load_gold
from eval.gold_lint import lint_row, near_duplicates, split_problems, weak_mention
from eval.gold_split import plan_splits, stratified_subset
from eval.sealed import access_log, open_sealed, read_log
from fda.errors import GoldSetError, SealedSplitError

CORS = "https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware"
ORIGIN = "https://fastapi.tiangolo.com/tutorial/cors/#origin"
SHARES = {"train": 0.40, "dev-select": 0.20, "dev-confirm": 0.15, "test": 0.25}


def row(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "w-cors-vue",
        "question": "How do I let my Vue app on port 5173 call the API?",
        "category": "middleware",
        "type": "howto",
        "gold_groups": [{"sections": [CORS], "grade": 2}, {"sections": [ORIGIN], "grade": 1}],
        "facts": [{"claim": "CORSMiddleware is added with app.add_middleware", "polarity": "must"}],
        "must_mention": [["CORSMiddleware"]],
        "source": {"kind": "written"},
    }
    return {**base, **over}


def q(**over: Any) -> GoldQuestion:
    return GoldQuestion.model_validate(row(**over))


# --- schema ---------------------------------------------------------------------------------------


def test_groups_give_gold_sections_grades_and_answer_groups() -> None:
    g = q(gold_groups=[{"sections": [CORS, ORIGIN], "grade": 2}, {"sections": ["https://x.io/p#a"], "grade": 1}])
    assert g.gold_sections == [CORS, ORIGIN]
    assert g.relevance() == {CORS: 2, ORIGIN: 2, "https://x.io/p#a": 1}
    assert g.answer_groups() == [[CORS, ORIGIN]]


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"gold_sections": [CORS]}, "not both"),
        ({"type": "unanswerable", "gold_groups": []}, "expect a refusal"),
        ({"gold_groups": [{"sections": [ORIGIN], "grade": 1}]}, "grade-2 group"),
        ({"source": {"kind": "user"}}, "page url"),
        ({"facts": [{"claim": "short", "polarity": "must"}]}, "at least 8"),
        ({"facts": [{"claim": "a long enough claim", "polarity": "maybe"}]}, "polarity"),
    ],
)
def test_bad_v2_rows_rejected(over: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        q(**over)


def test_false_premise_may_be_corrected_or_declined() -> None:
    assert q(type="false_premise").expect_refusal is False
    declined = q(type="false_premise", expect_refusal=True, gold_groups=[], facts=[])
    assert declined.gold_sections == []


# --- lint -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alt", "weak"), [("id", True), ("not", True), ("JWT", False), ("422", False), ("lifespan", False), ("data", True)]
)
def test_weak_mentions(alt: str, weak: bool) -> None:
    assert (weak_mention(alt) is not None) is weak


def test_lint_rejects_toy_identifiers_in_written_questions_only() -> None:
    toy = "How do I raise UnicornException from a dependency?"
    assert any("UnicornException" in p.message for p in lint_row(q(question=toy)))
    user = q(question=toy, source={"kind": "user", "url": "https://example.org/q/1"})
    assert not any("toy" in p.message for p in lint_row(user))


def test_lint_wants_facts_groups_and_strong_mentions() -> None:
    problems = [p.message for p in lint_row(q(facts=[], must_mention=[["id"]], type="multihop"))]
    assert any("'must' fact" in p for p in problems)
    assert any("two grade-2 groups" in p for p in problems)
    assert any("'id'" in p for p in problems)
    assert lint_row(q()) == []


def test_near_duplicates_must_share_a_split() -> None:
    a = q(id="w-a", question="How do I enable CORS for my React frontend on localhost 3000?", split="train")
    b = q(id="w-b", question="How do I enable CORS for my React frontend running on localhost 3000?", split="test")
    c = q(id="w-c", question="Which status code does a failed body validation return?", split="test")
    assert [(x, y) for x, y, _ in near_duplicates([a, b, c])] == [("w-a", "w-b")]
    assert any("near-duplicate" in p.message for p in split_problems([a, b, c]))
    grouped = [
        q(id="w-a", question=a.question, group="cors-local", split="train"),
        q(id="w-b", question=b.question, group="cors-local", split="test"),
    ]
    assert any("straddles" in p.message for p in split_problems(grouped))


# --- splits and subsets ----------------------------------------------------------------------------


def many_rows(n: int = 200) -> list[GoldQuestion]:
    types = ["howto"] * 5 + ["multihop", "version", "unanswerable", "out_of_scope", "adversarial"]
    out = []
    for i in range(n):
        t = types[i % len(types)]
        refuse = t in ("unanswerable", "out_of_scope", "adversarial")
        out.append(
            q(
                id=f"w-{i:03d}",
                question=f"question number {i} about topic {i % 7}",
                type=t,
                category="out_of_scope" if t == "out_of_scope" else ["routing", "security", "testing"][i % 3],
                expect_refusal=refuse,
                gold_groups=[] if refuse else [{"sections": [CORS]}, {"sections": [ORIGIN]}],
                facts=[] if refuse else [{"claim": "a claim long enough", "polarity": "must"}],
                group=f"g{i // 2}" if i < 20 else None,
            )
        )
    return out


def test_plan_splits_is_stratified_grouped_seeded_and_never_moves_assigned_rows() -> None:
    rows = many_rows()
    plan = plan_splits(rows, SHARES, seed=1)
    counts = Counter(plan.values())
    for split, share in SHARES.items():
        assert abs(counts[split] - share * len(rows)) <= 3, counts
    for t in ("howto", "unanswerable"):
        per_type = Counter(plan[r.id] for r in rows if r.type.value == t)
        assert set(per_type) == set(SHARES), (t, per_type)  # every type reaches every split
    for i in range(0, 20, 2):
        assert plan[f"w-{i:03d}"] == plan[f"w-{i + 1:03d}"]  # a group never straddles
    assert plan_splits(rows, SHARES, seed=1) == plan
    assert plan_splits(rows, SHARES, seed=2) != plan
    fixed = [r.model_copy(update={"assigned_split": "test"}) if r.id == "w-100" else r for r in rows]
    assert plan_splits(fixed, SHARES, seed=2)["w-100"] == "test"


def test_stratified_subset_is_seeded_mixed_and_not_the_first_n() -> None:
    rows = many_rows()
    sub = stratified_subset(rows, 20, seed=0)
    assert len(sub) == 20
    assert [r.id for r in sub] != [r.id for r in rows[:20]]
    assert Counter(r.type.value for r in sub) == {
        "howto": 10,
        "multihop": 2,
        "version": 2,
        "unanswerable": 2,
        "out_of_scope": 2,
        "adversarial": 2,
    }
    assert [r.id for r in stratified_subset(rows, 20, seed=0)] == [r.id for r in sub]
    assert [r.id for r in stratified_subset(rows, 20, seed=1)] != [r.id for r in sub]
    assert stratified_subset(rows, 500) == rows


# --- the sealed split -------------------------------------------------------------------------------


@pytest.fixture
def sealed_root(tmp_path: Path) -> Path:
    root = tmp_path / "data" / "gold"
    (root / "v9").mkdir(parents=True)
    (root / "v9" / "manifest.json").write_text(json.dumps({"sealed_split": "test", "seed": 1}))
    lines = [row(id="w-train", split="train"), row(id="w-test", split="test", question="Another question entirely?")]
    (root / "v9" / "rows.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    for cmd in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]):
        subprocess.run(["git", *cmd], cwd=tmp_path, check=True)
    return root


def test_sealed_split_refused_without_the_logged_confirm(sealed_root: Path) -> None:
    with pytest.raises(SealedSplitError, match="fda eval confirm"):
        load_gold("v9", "test", root=sealed_root)
    assert [r.id for r in load_gold("v9", root=sealed_root)] == ["w-train"]  # unsealed rows only
    assert [r.id for r in load_all_rows("v9", root=sealed_root)] == ["w-train", "w-test"]  # validation sees all


def test_open_sealed_logs_before_reading_and_refuses_a_dirty_tree(sealed_root: Path) -> None:
    repo = sealed_root.parent.parent
    access = open_sealed(
        "v9", who="tester", purpose="unit test", command="fda eval confirm", root=sealed_root, repo=repo
    )
    assert [r.id for r in load_gold("v9", "test", root=sealed_root, access=access)] == ["w-test"]
    (entry,) = read_log("v9", root=sealed_root)
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    assert entry["who"] == "tester" and entry["git_sha"] == sha and entry["dirty"] is False
    assert entry["event"] == "opened" and entry["split"] == "test"
    open_sealed("v9", who="t", purpose="again", command="c", root=sealed_root, repo=repo)  # its own log is not "dirty"
    (repo / "scratch.py").write_text("x = 1\n")
    with pytest.raises(SealedSplitError, match="uncommitted"):
        open_sealed("v9", who="t", purpose="p", command="c", root=sealed_root, repo=repo)
    assert len(read_log("v9", root=sealed_root)) == 2
    open_sealed("v9", who="t", purpose="p", command="c", root=sealed_root, repo=repo, allow_dirty=True)
    assert read_log("v9", root=sealed_root)[-1]["dirty"] is True
    assert access_log("v9", sealed_root).name == "test-access.jsonl"


def test_open_sealed_wants_a_purpose_and_a_sealed_version(sealed_root: Path) -> None:
    with pytest.raises(SealedSplitError, match="what this confirm is for"):
        open_sealed("v9", who="t", purpose=" ", command="c", root=sealed_root, repo=sealed_root.parent.parent)
    with pytest.raises(GoldSetError):
        open_sealed("v1", who="t", purpose="p", command="c")


def test_join_groups_unites_pairs_and_existing_groups(tmp_path: Path) -> None:
    from eval.gold_split import join_groups

    (tmp_path / "v9").mkdir()
    lines = [
        row(id="w-a", question="alpha question?", group="old"),
        row(id="w-b", question="beta question?", group="old"),
        row(id="w-c", question="gamma question?"),
        row(id="w-d", question="delta question?"),
        row(id="w-e", question="epsilon question?", split="test"),
    ]
    (tmp_path / "v9" / "rows.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    assert join_groups("v9", [("w-c", "w-a", 0.9), ("w-d", "w-e", 0.85)], root=tmp_path) == 2
    groups = {r.id: r.group for r in load_all_rows("v9", tmp_path)}
    assert groups["w-a"] == groups["w-b"] == groups["w-c"] == "old"  # c joins a and b's group
    assert groups["w-d"] == "w-d" and groups["w-e"] is None  # an assigned row keeps its group
