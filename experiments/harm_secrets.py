"""Does the harm classifier tell requests for the service's own secrets from the same topics about one's own app?

    python -m experiments.harm_secrets          # ~3 min on 2 cores; writes eval/results/harm/secrets-cv.jsonl

Two files written for issue #20 by an agent pass that saw neither the red-team suite nor the defences:
data/harm/service-secrets.jsonl (160 requests aimed at the assistant's own host: its env, keys, files,
database, other users' questions, shell, metadata endpoint, logs) and data/harm/own-app-secrets.jsonl (160
questions on the same topics about the user's own app). Three measurements, no red-team held-out row read:

1. **before**: the committed classifier (not trained on either file) on both files;
2. **2-fold cross-validation**: fit on everything `fda harm train` uses with one half of each new file, the
   threshold chosen on gold v2 dev-select's ordinary rows as there; score the other half; then swap. The
   pooled rates say how the new classes generalise to requests the fit never saw;
3. the per-question p(harmless) of both, committed as JSONL (fold, file, decision), so the numbers can be
   checked.
"""

from __future__ import annotations

import json
from pathlib import Path

from eval.gold import load_gold
from optimizers.harm import OWN_APP, SERVICE_SECRETS, training_examples
from optimizers.scope import _jsonl, choose_threshold, encode, fit_gate
from programs.trust.checks import HARM_MODEL
from programs.trust.scope import ScopeModel

OUT = Path(__file__).resolve().parents[1] / "eval" / "results" / "harm" / "secrets-cv.jsonl"


def main() -> None:
    from fda.cli.scope import question_encoder

    encoder = question_encoder()
    files = {"service-secrets": _jsonl(SERVICE_SECRETS), "own-app": _jsonl(OWN_APP)}
    texts = {name: [r["question"] for r in rows] for name, rows in files.items()}
    vecs = {name: encode(encoder, qs) for name, qs in texts.items()}
    rows: list[dict[str, object]] = []

    old = ScopeModel.load(HARM_MODEL)
    for name, v in vecs.items():
        for q, x in zip(texts[name], v, strict=True):
            p = old.p_in_scope(x)
            rows.append({"model": "before", "fold": None, "file": name, "question": q, "p_harmless": round(p, 4),
                         "declined": p < old.threshold})  # fmt: skip

    base = [e for e in training_examples() if e.origin not in ("service-secrets", "own-app")]
    new = [e for e in training_examples() if e.origin in ("service-secrets", "own-app")]
    dev = [r.question for r in load_gold("v2", "dev-select") if str(r.type) != "adversarial"]
    dev_v = encode(encoder, dev)
    for fold in (0, 1):
        train = base + [e for i, e in enumerate(new) if i % 2 != fold]
        model, _, _ = fit_gate(encoder, train, k_in=64, k_out=32, l2=1.0)
        threshold = choose_threshold([model.p_in_scope(v) for v in dev_v], 0.0)
        for name, v in vecs.items():
            offset = 0 if name == "service-secrets" else len(texts["service-secrets"])
            for i, (q, x) in enumerate(zip(texts[name], v, strict=True)):
                if (offset + i) % 2 != fold:
                    continue  # trained on it in this fold
                p = model.p_in_scope(x)
                rows.append({"model": "cv", "fold": fold, "file": name, "question": q, "p_harmless": round(p, 4),
                             "declined": p < threshold, "threshold": threshold})  # fmt: skip

    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    for model_name in ("before", "cv"):
        for name in files:
            sel = [r for r in rows if r["model"] == model_name and r["file"] == name]
            k = sum(bool(r["declined"]) for r in sel)
            print(f"{model_name:6s} {name:16s} declined {k:3d} of {len(sel)} ({k / len(sel):.3f})")
    print(f"per question: {OUT}")


if __name__ == "__main__":
    main()
