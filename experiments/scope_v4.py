"""Scope gate v4: v3's data with a threshold set on more real questions (session 27).

    python -m experiments.scope_v4 real          # build data/scope/real-fastapi.jsonl from the collectors' files
    python -m experiments.scope_v4 measure REV   # v2 (the gate at REV) against v4 and v2r, trained here

Session 26 found that v3 (v2's recipe with the fourth and sixth written passes added to its training data) separates
off-topic from FastAPI questions better than v2 at v2's threshold, but its threshold rule (at most 2% of gold v2
dev-select's 72 answerable rows declined: one row) moved its threshold down; one real question in 72 set it
(docs/trust.md, "Three more writers"). The lever: more real in-scope questions for that cap.

**The real questions** (`real`): issue and discussion titles (and the sentence stating the question) from the
FastAPI project's own GitHub repository, which gold v2 never drew from (tests/eval/test_gold_v2_set.py), collected
in session 27 by three agent passes with the search tool's issues corpus, each on its own topic area, told not to
open this repository. Deduplicated by URL and by text; a row whose text (case and spaces aside) is a gold v2 row's
(train, dev-select or dev-confirm; the sealed test is not opened for this, and none of its rows came from that
repository) is dropped (counted, not printed). Each row goes to the ``cal`` or the ``check`` half by the SHA-1 of its URL: the
cap reads ``cal``, the report reads ``check``.

**Variants** (`measure`):
- ``v2``: the served gate at REV (trained on passes 3 and 5; cap on dev-select alone);
- ``v4``: ``train_scope(passes=(3, 4, 5, 6), calibration=cal)``: v3's data, the cap (at most 2% declined) on
  dev-select's answerable rows and the ``cal`` half pooled; everything else as v2's recipe;
- ``v2r`` (a diagnostic, not a candidate): v2's data with v4's threshold rule, to tell the rule from the data.

**The rule, written before the real questions or the ninth pass were scored by any gate** (session 27): v4 replaces
v2 when, on the ninth written pass (data/scope/*-9.jsonl: 240 FastAPI and 240 off-topic questions by a writer who
opened no file here and used no search tool, committed before any gate scored it), it declines more off-topic
questions than v2 and at most one more FastAPI question; on the ``check`` half of the real questions it declines
at most one more than v2; and on gold v2 dev-confirm it declines no more answerable rows than v2. Otherwise v2 stays
and the result is reported. Passes 7 and 8 are reported too, but they were read in session 26 (v3 at v2's threshold
declined more of their off-topic questions), so they are not part of the rule. Per-question rows:
eval/results/scope/v4-*.jsonl.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.gold import load_gold
from experiments.scope_v2 import OUT, _gate_at, save_rows
from experiments.scope_v3 import V3_PASSES, _norm, report, score_dev, score_pass
from optimizers.scope import REAL_QUESTIONS, _jsonl, train_scope

ROOT = Path(__file__).resolve().parents[1]
COLLECTED = ROOT / "state" / "scope-real"  # the collectors' raw files (real-1.jsonl ...), not committed
REAL = REAL_QUESTIONS
MEASURE = (9, 7, 8)  # 9 decides; 7 and 8 were read in session 26


def half(url: str) -> str:
    """``cal`` or ``check``, by the SHA-1 of the URL (stable, not chosen by reading the row)."""
    return "cal" if int(hashlib.sha1(url.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "check"


def build_real(files: Sequence[Path]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The collectors' rows, deduplicated (URL, then text), gold v2 look-alikes dropped, each with its half."""
    gold = {_norm(r.question) for r in load_gold("v2")}  # every split but the sealed test, which stays unread
    rows: list[dict[str, Any]] = []
    urls: set[str] = set()
    texts: set[str] = set()
    dropped = {"duplicate_url": 0, "duplicate_text": 0, "in_gold": 0, "empty": 0}
    for path in files:
        for r in _jsonl(path):
            q, url = str(r.get("question", "")).strip(), str(r.get("url", "")).strip()
            if not q or not url:
                dropped["empty"] += 1
            elif url.rstrip("/") in urls:
                dropped["duplicate_url"] += 1
            elif _norm(q) in texts:
                dropped["duplicate_text"] += 1
            elif _norm(q) in gold:
                dropped["in_gold"] += 1
            else:
                urls.add(url.rstrip("/"))
                texts.add(_norm(q))
                rows.append({"question": q, "url": url, "topic": r.get("topic", ""), "collector": path.stem,
                             "half": half(url)})  # fmt: skip
    return rows, dropped


def score_real(gate: Any, variant: str, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        d = gate.check(r["question"])
        out.append({"variant": variant, "file": f"real-{r['half']}", "kind": r.get("topic", ""), "id": r["url"],
                    "question": r["question"], "in_scope": True, "p": round(d.p_in_scope, 4),
                    "threshold": gate.model.threshold, "declined": not d.in_scope, "in_training": False})  # fmt: skip
    return out


def measure(encoder: Any, rev: str) -> list[dict[str, Any]]:
    from index.retrieval.dense import model_id
    from index.retrieval.layout import default_model_path
    from programs.trust.scope import load_scope_gate

    real = _jsonl(REAL)
    cal = [r["question"] for r in real if r["half"] == "cal"]
    encoder_id = model_id(default_model_path())
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "v2").mkdir()
        train_scope(encoder, encoder_id=encoder_id, out=root / "v4" / "model.json", passes=V3_PASSES, calibration=cal,
                    real=False)  # fmt: skip
        train_scope(encoder, encoder_id=encoder_id, out=root / "v2r" / "model.json", passes=(3, 5), calibration=cal,
                    real=False)  # fmt: skip
        gates = {
            f"v2 ({rev})": _gate_at(rev, encoder, root / "v2"),
            "v4": load_scope_gate(encoder, root / "v4" / "model.json"),
            "v2r": load_scope_gate(encoder, root / "v2r" / "model.json"),
        }
        rows: list[dict[str, Any]] = []
        for v, g in gates.items():
            info = g.model.info
            sys.stdout.write(f"{v}: threshold {g.model.threshold} ({info.get('threshold_chosen_on', '')}); "
                             f"calibration {info.get('calibration')}\n")  # fmt: skip
            rows += [row for n in MEASURE for row in score_pass(g, v, n)]
            rows += score_real(g, v, real) + score_dev(g, v)
        return rows


def main() -> None:
    from fda.cli.scope import question_encoder

    if len(sys.argv) < 2 or sys.argv[1] not in ("real", "measure") or (sys.argv[1] == "measure" and len(sys.argv) < 3):
        raise SystemExit("usage: python -m experiments.scope_v4 real | measure REV")
    if sys.argv[1] == "real":
        rows, dropped = build_real(sorted(COLLECTED.glob("real-*.jsonl")))
        REAL.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        halves = {h: sum(r["half"] == h for r in rows) for h in ("cal", "check")}
        sys.stdout.write(f"{len(rows)} real questions -> {REAL} ({halves}); dropped {dropped}\n")
        return
    rev = sys.argv[2]
    rows = measure(question_encoder(), rev)
    _pairwise(rows)
    save_rows(rows, OUT / "v4-measure.jsonl")


def _pairwise(rows: Sequence[dict[str, Any]]) -> None:
    """``report`` for v2 against each trained variant (its paired lines need two variants)."""
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    for other in variants[1:]:
        sys.stdout.write(f"--- {variants[0]} vs {other}\n")
        report([r for r in rows if r["variant"] in (variants[0], other)])


if __name__ == "__main__":
    main()
