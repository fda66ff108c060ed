"""Does a new pair of harm-classifier files generalise? Cross-validation over the pair, and the model before it.

    python -m experiments.harm_cv secrets       # service-secrets against own-app: eval/results/harm/secrets-cv.jsonl
    python -m experiments.harm_cv second-pass   # harmful-2 against benign-2: eval/results/harm/second-pass-cv.jsonl

About 20 s each on 2 cores. ``secrets``:

Two files written for issue #20 by an agent pass that saw neither the red-team suite nor the defences:
data/harm/service-secrets.jsonl (160 requests aimed at the assistant's own host: its env, keys, files,
database, other users' questions, shell, metadata endpoint, logs) and data/harm/own-app-secrets.jsonl (160
questions on the same topics about the user's own app). Three measurements, no red-team held-out row read:

(``second-pass``: data/harm/harmful-2.jsonl, 200 harmful requests in 8 kinds, jailbreak wrappers among them,
and data/harm/benign-2.jsonl, 200 harmless questions with scary words, by another such pass.)

1. **before**: the classifier refit without the pair (the same data and threshold rule as `fda harm train`;
   for a pair it does not train on, that is the served classifier) on both files;
2. **2-fold cross-validation**: fit on everything `fda harm train` uses with one half of each new file, the
   threshold chosen on gold v2 dev-select's ordinary rows as there; score the other half; then swap. The
   pooled rates say how the new classes generalise to requests the fit never saw;
3. the per-question p(harmless) of both, committed as JSONL (fold, file, decision), so the numbers can be
   checked.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from eval.gold import load_gold
from experiments.gate_cv import write_and_report
from optimizers.harm import BENIGN_2, HARMFUL_2, OWN_APP, SERVICE_SECRETS, training_examples
from optimizers.scope import Example, _jsonl, choose_threshold, encode, fit_gate

RESULTS = Path(__file__).resolve().parents[1] / "eval" / "results" / "harm"
PAIRS = {  # name: (refused file and its origin, harmless file and its origin)
    "secrets": ((SERVICE_SECRETS, "service-secrets"), (OWN_APP, "own-app")),
    "second-pass": ((HARMFUL_2, "harm-harmful-2"), (BENIGN_2, "harm-benign-2")),  # training_examples origins
}


def main(pair: str = "secrets") -> None:
    from fda.cli.scope import question_encoder

    if pair not in PAIRS:
        raise SystemExit(f"unknown pair {pair!r}: use one of {', '.join(PAIRS)}")
    (refused_path, refused), (harmless_path, harmless) = PAIRS[pair]
    out_path = RESULTS / f"{pair}-cv.jsonl"
    encoder = question_encoder()
    files = {refused: _jsonl(refused_path), harmless: _jsonl(harmless_path)}
    texts = {name: [r["question"] for r in rows] for name, rows in files.items()}
    vecs = {name: encode(encoder, qs) for name, qs in texts.items()}
    rows: list[dict[str, object]] = []

    pair_origins = (refused, harmless)
    examples = training_examples()
    if not any(e.origin in pair_origins for e in examples):  # a pair `fda harm train` does not use: add it here
        examples += [Example(r["question"], False, refused) for r in files[refused]]
        examples += [Example(r["question"], True, harmless) for r in files[harmless]]
    base = [e for e in examples if e.origin not in pair_origins]
    new = [e for e in examples if e.origin in pair_origins]
    dev = [r.question for r in load_gold("v2", "dev-select") if str(r.type) != "adversarial"]
    dev_v = encode(encoder, dev)
    old, _, _ = fit_gate(encoder, base, k_in=64, k_out=32, l2=1.0)  # the classifier without the pair
    old = dataclasses.replace(old, threshold=choose_threshold([old.p_in_scope(v) for v in dev_v], 0.0))
    for name, v in vecs.items():
        for q, x in zip(texts[name], v, strict=True):
            p = old.p_in_scope(x)
            rows.append({"model": "before", "fold": None, "file": name, "question": q, "p_harmless": round(p, 4),
                         "declined": p < old.threshold})  # fmt: skip

    for fold in (0, 1):
        train = base + [e for i, e in enumerate(new) if i % 2 != fold]
        model, _, _ = fit_gate(encoder, train, k_in=64, k_out=32, l2=1.0)
        threshold = choose_threshold([model.p_in_scope(v) for v in dev_v], 0.0)
        for name, v in vecs.items():
            offset = 0 if name == refused else len(texts[refused])
            for i, (q, x) in enumerate(zip(texts[name], v, strict=True)):
                if (offset + i) % 2 != fold:
                    continue  # trained on it in this fold
                p = model.p_in_scope(x)
                rows.append({"model": "cv", "fold": fold, "file": name, "question": q, "p_harmless": round(p, 4),
                             "declined": p < threshold, "threshold": threshold})  # fmt: skip

    write_and_report(rows, out_path, ("before", "cv"), list(files))


if __name__ == "__main__":
    main(*sys.argv[1:2])
