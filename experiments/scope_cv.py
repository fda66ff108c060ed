"""Does the scope gate generalise to questions it never saw, and would a third data pass help?

    python -m experiments.scope_cv        # a few minutes on 2 cores; writes eval/results/scope/third-pass-cv.jsonl

data/scope/negatives-3.jsonl (240 off-topic questions in 8 kinds: other frameworks, general Python, other tech,
AI/ML, personal and creative, knowledge, tasks, business/legal/medical) and positives-3.jsonl (240 FastAPI
questions in 6 kinds: with other tools, errors, migrations, concepts, very short ones, non-English) were written
in session 15 by an agent pass that opened neither the gold sets, the red-team suite, the scope data nor the
docs. Measured, with no red-team held-out row and no sealed split read:

1. **served**: the gate then committed (the first gate, vector model only; since session 19 read from git at
   experiments.scope_v2.BEFORE, as data/scope/ now holds v2, which trains on the third pass) on both files;
2. **2-fold cross-validation**: `fda scope train`'s data plus one half of each file, the threshold chosen on gold
   v2 dev-select's answerable rows as there (at most 2% declined), scored on the other half; then swapped.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from eval.gold import load_gold
from experiments.gate_cv import write_and_report
from optimizers.scope import DATA, Example, _jsonl, choose_threshold, encode, fit_gate, training_examples

NEGATIVES_3 = DATA / "scope" / "negatives-3.jsonl"
POSITIVES_3 = DATA / "scope" / "positives-3.jsonl"
OUT = Path(__file__).resolve().parents[1] / "eval" / "results" / "scope" / "third-pass-cv.jsonl"
K_IN, K_OUT, MAX_OVER_REFUSAL = 256, 64, 0.02  # fda scope train's defaults


def main() -> None:
    from fda.cli.scope import question_encoder

    encoder = question_encoder()
    files = {"negatives-3": _jsonl(NEGATIVES_3), "positives-3": _jsonl(POSITIVES_3)}
    texts = {name: [r["question"] for r in rows] for name, rows in files.items()}
    vecs = {name: encode(encoder, qs) for name, qs in texts.items()}
    rows: list[dict[str, object]] = []

    import tempfile

    from experiments.scope_v2 import BEFORE, _gate_at

    with tempfile.TemporaryDirectory() as tmp:
        served = _gate_at(BEFORE, encoder, Path(tmp)).model
    for name, v in vecs.items():
        for q, kind, x in zip(texts[name], [r.get("kind") for r in files[name]], v, strict=True):
            p = served.p_in_scope(x)
            rows.append({"model": "served", "fold": None, "file": name, "kind": kind, "question": q,
                         "p_in_scope": round(p, 4), "declined": p < served.threshold})  # fmt: skip

    # the first gate's data: without the passes v2 added (the third is what this experiment holds out)
    base = [e for e in training_examples((3, 5), real=False) if e.origin not in ("scope-pass-3", "scope-pass-5")]
    dev = [r for r in load_gold("v2", "dev-select") if not r.expect_refusal]
    dev_v = encode(encoder, [r.question for r in dev])
    for fold in (0, 1):
        extra = [
            Example(q, name == "positives-3", name)
            for name in files
            for i, q in enumerate(texts[name])
            if i % 2 != fold
        ]
        model, _, _ = fit_gate(encoder, base + extra, k_in=K_IN, k_out=K_OUT, l2=1.0)
        model = dataclasses.replace(
            model, threshold=choose_threshold([model.p_in_scope(v) for v in dev_v], MAX_OVER_REFUSAL)
        )
        for name, v in vecs.items():
            kinds = [r.get("kind") for r in files[name]]
            for i, (q, x) in enumerate(zip(texts[name], v, strict=True)):
                if i % 2 == fold:
                    p = model.p_in_scope(x)
                    rows.append({"model": "cv", "fold": fold, "file": name, "kind": kinds[i], "question": q,
                                 "p_in_scope": round(p, 4), "declined": p < model.threshold,
                                 "threshold": model.threshold})  # fmt: skip

    write_and_report(rows, OUT, ("served", "cv"), list(files))


if __name__ == "__main__":
    main()
