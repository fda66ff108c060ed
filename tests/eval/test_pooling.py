"""Relevance pooling (eval/pooling.py): candidates from several backends, judgments folded into the rows."""

from __future__ import annotations

import json
from pathlib import Path

from eval.gold import load_all_rows
from eval.pooling import JUDGMENTS, POOL_DIR, judged, merge_judgments, pool
from tests.eval.conftest import ScriptedRetriever

Q = "How do I let my Vue app on port 5173 call the API?"
CORS = "https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware"
ORIGIN = "https://fastapi.tiangolo.com/tutorial/cors/#origin"
MW = "https://fastapi.tiangolo.com/tutorial/middleware/#create-a-middleware"
PROXY = "https://fastapi.tiangolo.com/advanced/behind-a-proxy/#about-proxies"


def gold_root(tmp_path: Path) -> Path:
    row = {
        "id": "w-cors-vue", "question": Q, "category": "middleware", "type": "howto",
        "gold_groups": [{"sections": [CORS], "grade": 2}],
        "facts": [{"claim": "CORSMiddleware is added with app.add_middleware", "polarity": "must"}],
        "source": {"kind": "written"}, "split": "train",
    }  # fmt: skip
    (tmp_path / "v9").mkdir()
    (tmp_path / "v9" / "rows.jsonl").write_text(json.dumps(row) + "\n")
    return tmp_path


def test_pool_unions_backends_minus_named_and_judged(tmp_path: Path) -> None:
    root = gold_root(tmp_path)
    rows = load_all_rows("v9", root)
    a = ScriptedRetriever({Q: [CORS, ORIGIN, MW]})
    b = ScriptedRetriever({Q: [ORIGIN, PROXY, CORS]})
    found = pool(rows, {"a": a, "b": b}, ["0.141.1"], "0.141.1", depth=3)
    assert [(c.url, c.backends, c.best_rank) for c in found] == [
        (ORIGIN, ["a", "b"], 1),
        (PROXY, ["b"], 2),
        (MW, ["a"], 3),
    ]
    skip = {("w-cors-vue", PROXY): {"grade": 0}}
    assert PROXY not in [c.url for c in pool(rows, {"a": a, "b": b}, ["0.141.1"], "0.141.1", 3, skip)]


def test_merge_folds_grades_into_groups_once(tmp_path: Path) -> None:
    root = gold_root(tmp_path)
    (root / "v9" / POOL_DIR).mkdir()
    marks = [
        {"id": "w-cors-vue", "url": ORIGIN, "grade": 2, "group": 0},
        {"id": "w-cors-vue", "url": MW, "grade": 1},
        {"id": "w-cors-vue", "url": PROXY, "grade": 0},
    ]
    (root / "v9" / POOL_DIR / JUDGMENTS).write_text("".join(json.dumps(m) + "\n" for m in marks))
    assert len(judged("v9", root)) == 3
    assert merge_judgments("v9", root) == 2
    assert merge_judgments("v9", root) == 0  # idempotent
    (row,) = load_all_rows("v9", root)
    assert row.answer_groups() == [[CORS, ORIGIN]]
    assert row.relevance() == {CORS: 2, ORIGIN: 2, MW: 1}
    assert [g.pooled for g in row.gold_groups] == [False, True]
