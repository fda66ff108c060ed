"""Scope gate v3: two more independently written passes (session 26), one trained on, one kept to measure.

    python -m experiments.scope_v3 unseen REV [N ...]   # the gate committed at REV (v2) on passes N (6 7): writers it never saw
    python -m experiments.scope_v3 measure REV [N ...]  # v2 (at REV) against v3 (trained here) on passes N (7), gold v2 dev

Passes 6 and 7 (data/scope/{positives,negatives}-{6,7}.jsonl) were written in session 26 by two agent passes that
opened no file of this repository, 240 FastAPI and 240 off-topic questions each in the fourth pass's 8 + 8 kinds, and
committed before any gate scored them. A few of pass 7's rows (28 of 480, search-box queries mostly) are word for
word in v3's training data; the report counts the rest apart. v3 is v2's recipe unchanged (`fda scope train`:
vector + n-gram models, the threshold from out-of-fold user-style rows and dev-select) with passes 4 and 6 added to
its training data (``train_scope(passes=V3_PASSES)``, fit in memory by ``measure``, about 3 minutes); pass 7 is never
trained on.

The rule, written before ``measure`` was run: v3 replaces v2 when, on pass 7, it declines more off-topic questions
than v2 and at most one more of its 240 FastAPI questions, and on gold v2 dev-select and dev-confirm it declines no
more answerable rows than v2. Otherwise v2 stays and the result is reported. Per-question rows:
eval/results/scope/v3-*.jsonl.

Outcome: on pass 7 v3 declined 196 of 240 off-topic questions against v2's 201 (9 only by v3, 14 only by v2), 0 of
240 FastAPI questions each; so v2 stays. Each gate was scored at its own threshold: at v2's, v3 declines 210 (and 3
of dev-select's 72 answerable rows, over the recipe's cap of one, which is why its threshold is lower; docs/trust.md).
Pass 8 (a third writer, written after that decision and committed before any gate scored it) was then read once for
both gates (``measure REV 8``) as a second check of the decision, not to choose again; the served gate is v2
whatever it shows, until a recipe is chosen without it and measured on a pass not yet read.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.gold import load_gold
from experiments.scope_v2 import OUT, _gate_at, save_rows
from optimizers.scope import _jsonl, pass_files, train_scope, training_examples

V3_PASSES = (3, 4, 5, 6)  # the written passes v3 trains on (v2: 3 and 5)


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def score_pass(gate: Any, variant: str, n: int) -> list[dict[str, Any]]:
    """Every row of pass ``n`` under ``gate``; ``in_training`` marks the few whose text (case and spaces aside) is
    also a training row of v3 (short ones such as "fastapi cors"): the report counts them apart."""
    trained = {_norm(e.text) for e in training_examples(V3_PASSES, real=False)}
    rows: list[dict[str, Any]] = []
    for path, in_scope in pass_files(n):
        for r in _jsonl(path):
            d = gate.check(r["question"])
            rows.append({"variant": variant, "file": path.stem, "kind": r.get("kind", ""),
                         "question": r["question"], "in_scope": in_scope, "p": round(d.p_in_scope, 4),
                         "threshold": gate.model.threshold, "declined": not d.in_scope,
                         "in_training": _norm(r["question"]) in trained})  # fmt: skip
    return rows


def score_dev(gate: Any, variant: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for split in ("dev-select", "dev-confirm"):
        for r in load_gold("v2", split):
            d = gate.check(r.question)
            rows.append({"variant": variant, "file": split, "kind": str(r.type), "id": r.id,
                         "in_scope": not r.expect_refusal, "p": round(d.p_in_scope, 4),
                         "threshold": gate.model.threshold, "declined": not d.in_scope})  # fmt: skip
    return rows


def unseen(encoder: Any, rev: str, passes: Sequence[int]) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        gate = _gate_at(rev, encoder, Path(tmp))
        return [row for n in passes for row in score_pass(gate, f"v2 ({rev})", n)]


def measure(encoder: Any, rev: str, passes: Sequence[int]) -> list[dict[str, Any]]:
    from index.retrieval.dense import model_id
    from index.retrieval.layout import default_model_path
    from programs.trust.scope import load_scope_gate

    with tempfile.TemporaryDirectory() as before, tempfile.TemporaryDirectory() as after:
        train_scope(encoder, encoder_id=model_id(default_model_path()), out=Path(after) / "model.json",
                    passes=V3_PASSES, calibration=(), real=False)  # fmt: skip
        gates = {
            f"v2 ({rev})": _gate_at(rev, encoder, Path(before)),
            "v3": load_scope_gate(encoder, Path(after) / "model.json"),
        }
        return [row for v, g in gates.items() for n in passes for row in score_pass(g, v, n)] + [
            row for v, g in gates.items() for row in score_dev(g, v)
        ]


def report(rows: Sequence[dict[str, Any]]) -> None:
    """Per variant and file: declined counts (off-topic files and per kind; dev: answerable and out-of-scope)."""
    for v in dict.fromkeys(r["variant"] for r in rows):
        for f in dict.fromkeys(r["file"] for r in rows):
            sel = [r for r in rows if r["variant"] == v and r["file"] == f]
            if f.startswith("dev-"):
                ans = [r for r in sel if r["in_scope"]]
                oos = [r for r in sel if r["kind"] == "out_of_scope"]
                line = (f"answerable declined {sum(r['declined'] for r in ans)}/{len(ans)}, "
                        f"out of scope declined {sum(r['declined'] for r in oos)}/{len(oos)}")  # fmt: skip
            else:
                kinds = Counter(r["kind"] for r in sel if r["declined"])
                fresh = [r for r in sel if not r["in_training"]]
                line = (f"{sum(r['declined'] for r in sel)}/{len(sel)} declined "
                        f"({sum(r['declined'] for r in fresh)}/{len(fresh)} of those not in a training file); "
                        f"per kind {dict(sorted(kinds.items()))}")  # fmt: skip
            sys.stdout.write(f"{v} | {f}: {line}\n")
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    if len(variants) == 2:  # paired: the same questions under both gates
        a, b = ({(r["file"], r.get("id") or r["question"]): r["declined"] for r in rows if r["variant"] == v}
                for v in variants)  # fmt: skip
        for f in dict.fromkeys(r["file"] for r in rows):
            keys = [k for k in a if k[0] == f]
            only_b, only_a = sum(b[k] and not a[k] for k in keys), sum(a[k] and not b[k] for k in keys)
            sys.stdout.write(f"paired {f}: declined by {variants[1]} only {only_b}, by {variants[0]} only {only_a}\n")


def main() -> None:
    from fda.cli.scope import question_encoder

    if len(sys.argv) < 3 or sys.argv[1] not in ("unseen", "measure"):
        raise SystemExit("usage: python -m experiments.scope_v3 unseen REV [N ...] | measure REV")
    what, rev = sys.argv[1], sys.argv[2]
    passes = [int(n) for n in sys.argv[3:]] or ([6, 7] if what == "unseen" else [7])
    encoder = question_encoder()
    rows = unseen(encoder, rev, passes) if what == "unseen" else measure(encoder, rev, passes)
    out = OUT / f"v3-{what}-{'-'.join(map(str, passes))}.jsonl"
    report(rows)
    save_rows(rows, out)


if __name__ == "__main__":
    main()
