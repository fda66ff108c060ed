"""Scope gate v2: does the harm gate's recipe (a word n-gram model beside the vector one, the threshold from
out-of-fold predictions instead of one dev-select row) make the scope gate decline more off-topic questions
without refusing more FastAPI ones?

    python -m experiments.scope_v2 cv        # choose: 2-fold CV over the third pass (data/scope/*-3.jsonl)
    python -m experiments.scope_v2 pass-4    # measure: the fourth pass, never trained on, read after the choice

``cv`` fits each variant on `fda scope train`'s data without the third pass, plus one half of it, and scores the
other half, then swaps (as experiments/scope_cv.py did in session 15); it also reports gold v2 dev-select and dev-confirm
(never the sealed test) and the second pass's held-out half. Variants:

- ``vector``: today's gate (MiniLM vector + centroid nearness), the threshold chosen on dev-select (<= 2% of its
  answerable rows declined);
- ``vector-oof``: the same model, the threshold from out-of-fold p of the user-style in-scope training rows;
- ``both-dev``: vector + n-gram models (mean logit, programs/trust/lexical.py), dev-select threshold;
- ``both-oof``: vector + n-gram, out-of-fold threshold (and still <= 2% of dev-select's answerable rows).

``pass-4`` scores the served gate and the committed candidate on data/scope/*-4.jsonl. Per question rows:
eval/results/scope/v2-*.jsonl.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eval.gold import load_gold
from optimizers.harm_lexical import fit_lexical
from optimizers.scope import (
    DATA,
    HELDOUT_NEGATIVES,
    HELDOUT_POSITIVES,
    Example,
    _jsonl,
    choose_threshold,
    encode,
    fit_gate_vectors,
    pass_files,
    training_examples,
)
from programs.trust.lexical import combined_p

OUT = Path(__file__).resolve().parents[1] / "eval" / "results" / "scope"
CACHE = Path(__file__).resolve().parents[1] / "state" / "cache" / "scope_v2_vectors.npz"
K_IN, K_OUT, L2 = 256, 64, 1.0
BEFORE = "7bc6043"  # the last commit with the first scope gate
MAX_OOF = 0.01  # share of out-of-fold user-style in-scope rows the threshold may decline
USER_STYLE = ("scope-positives", "scope-positives-2", "gold-v2-train", "gold-v1-train", "pass-3")
FOURTH_PASS = pass_files(4)
FILES = {
    "positives-3": (DATA / "scope" / "positives-3.jsonl", True),
    "negatives-3": (DATA / "scope" / "negatives-3.jsonl", False),
    "heldout-positives": (HELDOUT_POSITIVES, True),
    "heldout-negatives": (HELDOUT_NEGATIVES, False),
}


def _vectors(encoder: Any, texts: Sequence[str]) -> np.ndarray:
    """Encoded once, cached in state/cache by the texts' hash (the CV refits many times)."""
    key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    path = CACHE.with_name(f"{CACHE.stem}-{key}.npz")
    if path.is_file():
        with np.load(path) as z:
            return z["x"]
    x = encode(encoder, texts)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, x=x)
    return x


def fit(examples: Sequence[Example], x: np.ndarray, lexical: bool) -> tuple[Any, Any]:
    y = np.array([1.0 if e.in_scope else 0.0 for e in examples])
    model, _, _ = fit_gate_vectors(x, y, k_in=K_IN, k_out=K_OUT, l2=L2)
    lex = fit_lexical([e.text for e in examples], y) if lexical else None
    return model, lex


def p_of(model: Any, lex: Any, x: np.ndarray, texts: Sequence[str]) -> np.ndarray:
    p = np.array([model.p_in_scope(v) for v in x])
    return p if lex is None else np.asarray(combined_p(p, lex.logits(texts)))


def oof(examples: Sequence[Example], x: np.ndarray, lexical: bool, folds: int = 5) -> np.ndarray:
    fold = np.arange(len(examples)) % folds
    out = np.zeros(len(examples))
    for f in range(folds):
        keep = fold != f
        model, lex = fit([e for e, k in zip(examples, keep, strict=True) if k], x[keep], lexical)
        out[~keep] = p_of(model, lex, x[~keep], [e.text for e, k in zip(examples, keep, strict=True) if not k])
    return out


def cv(encoder: Any, max_oof: float) -> list[dict[str, Any]]:
    base = [
        e for e in training_examples((3, 5), real=False) if e.origin != "scope-pass-3"
    ]  # its halves are added per fold
    base_x = _vectors(encoder, [e.text for e in base])
    files = {name: [r["question"] for r in _jsonl(path)] for name, (path, _) in FILES.items()}
    fx = {name: _vectors(encoder, qs) for name, qs in files.items()}
    kinds = {name: [r.get("kind", "") for r in _jsonl(path)] for name, (path, _) in FILES.items()}
    gold = {s: load_gold("v2", s) for s in ("dev-select", "dev-confirm")}
    gx = {s: _vectors(encoder, [r.question for r in rows]) for s, rows in gold.items()}
    rows: list[dict[str, Any]] = []
    for fold in (0, 1):
        extra = [
            Example(q, FILES[name][1], "pass-3")
            for name in ("positives-3", "negatives-3")
            for i, q in enumerate(files[name])
            if i % 2 != fold
        ]
        extra_x = np.vstack(
            [fx[name][i] for name in ("positives-3", "negatives-3") for i in range(len(files[name])) if i % 2 != fold]
        )
        examples, x = [*base, *extra], np.vstack([base_x, extra_x])
        dev_ans = [i for i, r in enumerate(gold["dev-select"]) if not r.expect_refusal]
        for lexical in (False, True):
            model, lex = fit(examples, x, lexical)
            dev_p = p_of(model, lex, gx["dev-select"], [r.question for r in gold["dev-select"]])
            t_dev = choose_threshold([dev_p[i] for i in dev_ans], 0.02)
            user = [i for i, e in enumerate(examples) if e.in_scope and e.origin in USER_STYLE]
            p_oof = oof(examples, x, lexical)
            t_oof = min(choose_threshold([p_oof[i] for i in user], max_oof), t_dev)
            sys.stderr.write(f"fold {fold} lexical={lexical}: dev threshold {t_dev:.4f}, oof threshold {t_oof:.4f}\n")
            for variant, t in (
                (("both" if lexical else "vector") + "-dev", t_dev),
                (("both" if lexical else "vector") + "-oof", t_oof),
            ):
                for name, (_, in_scope) in FILES.items():
                    p = p_of(model, lex, fx[name], files[name])
                    for i, q in enumerate(files[name]):
                        if name.endswith("-3") and i % 2 != fold:
                            continue  # trained on in this fold
                        if not name.endswith("-3") and fold == 1:
                            continue  # scored once (fold 0's model)
                        rows.append({"variant": variant, "fold": fold, "file": name, "kind": kinds[name][i],
                                     "question": q, "in_scope": in_scope, "p": round(float(p[i]), 4),
                                     "threshold": t, "declined": bool(p[i] < t)})  # fmt: skip
                if fold == 0:
                    for split, rs in gold.items():
                        p = p_of(model, lex, gx[split], [r.question for r in rs])
                        for r, pi in zip(rs, p, strict=True):
                            rows.append({"variant": variant, "fold": 0, "file": split, "kind": str(r.type),
                                         "id": r.id, "in_scope": not r.expect_refusal, "p": round(float(pi), 4),
                                         "threshold": t, "declined": bool(pi < t)})  # fmt: skip
    return rows


def _gate_at(rev: str, encoder: Any, tmp: Path) -> Any:
    """The scope gate as committed at ``rev`` (its data/scope/ model files, written to ``tmp``)."""
    import subprocess

    from programs.trust.scope import load_scope_gate

    for name in ("model.json", "model.npz", "lexical.json"):
        shown = subprocess.run(["git", "show", f"{rev}:data/scope/{name}"], capture_output=True, check=False)
        if shown.returncode == 0:
            (tmp / name).write_bytes(shown.stdout)
    return load_scope_gate(encoder, tmp / "model.json")


def pass_4(encoder: Any, before: str) -> list[dict[str, Any]]:
    """The gate before v2 (at ``before``) and the committed one on the fourth pass, never trained on."""
    import tempfile

    from programs.trust.checks import SCOPE_MODEL
    from programs.trust.scope import load_scope_gate

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        gates = {
            f"before ({before})": _gate_at(before, encoder, Path(tmp)),
            "v2": load_scope_gate(encoder, SCOPE_MODEL),
        }
        for variant, gate in gates.items():
            for path, in_scope in FOURTH_PASS:
                for r in _jsonl(path):
                    d = gate.check(r["question"])
                    rows.append({"variant": variant, "file": path.stem, "kind": r.get("kind", ""),
                                 "question": r["question"], "in_scope": in_scope, "p": d.p_in_scope,
                                 "threshold": gate.model.threshold, "declined": not d.in_scope})  # fmt: skip
    return rows


def save_rows(rows: Sequence[dict[str, Any]], out: Path) -> None:
    """The per-question rows as JSONL at ``out`` (eval/results/scope/), and where they went."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    sys.stdout.write(f"per question: {out}\n")


def report(rows: Sequence[dict[str, Any]]) -> None:
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    files = list(dict.fromkeys(r["file"] for r in rows))
    sys.stdout.write("| variant | " + " | ".join(files) + " |\n|---|" + "---|" * len(files) + "\n")
    for v in variants:
        cells = []
        for f in files:
            sel = [r for r in rows if r["variant"] == v and r["file"] == f]
            if f.startswith("dev-"):
                ans = [r for r in sel if r["in_scope"]]
                oos = [r for r in sel if r["kind"] == "out_of_scope"]
                cells.append(
                    f"over-refusal {sum(r['declined'] for r in ans)}/{len(ans)}, "
                    f"oos {sum(r['declined'] for r in oos)}/{len(oos)}"
                )
            else:
                k = sum(r["declined"] for r in sel)
                cells.append(f"{k}/{len(sel)} declined")
        sys.stdout.write(f"| {v} | " + " | ".join(cells) + " |\n")


def main() -> None:
    from fda.cli.scope import question_encoder

    what = sys.argv[1] if len(sys.argv) > 1 else "cv"
    encoder = question_encoder()
    if what == "cv":
        max_oof = float(sys.argv[2]) if len(sys.argv) > 2 else MAX_OOF
        rows = cv(encoder, max_oof=max_oof)
        out = OUT / ("v2-cv.jsonl" if max_oof == MAX_OOF else f"v2-cv-{max_oof}.jsonl")
    elif what == "pass-4":
        rows = pass_4(encoder, before=sys.argv[2] if len(sys.argv) > 2 else BEFORE)
        out = OUT / "v2-pass-4.jsonl"
    else:
        raise SystemExit(f"unknown: {what} (cv | pass-4)")
    report(rows)
    save_rows(rows, out)


if __name__ == "__main__":
    main()
