"""Can a small classifier over an answer's own record tell the answers that should have been declines?
(docs/trust.md, "What is left": unanswerable questions and claim-type false premises that get answered)

    python -m experiments.answerability_classifier TRAIN_RUN [--select RUN] [--confirm RUN] [--max-over 0.02]

Each run is an exported eval run (``eval/results/<run>.jsonl``, ``fda eval export``) of the served ``rag``
program. Only the rows the program *answered* count: a decline is already a decline. An answered row is
positive when the gold row expects a refusal (unanswerable, false premise, out of scope, harmful), negative
when it is answerable. Features, per answered row, all available after the answer step with no further LM
call:

- retrieval: the fused top-1 score, top-1 minus top-2, the mean of the top 5 (the question searched again);
- the scope gate's p(in scope);
- verification: the share of claim sentences removed, the claim sentences kept, the share of sentences that
  needed a marker attributed, an unknown API, whether the output was salvaged at max_tokens;
- the answer: its length (log characters), the number of distinct passages cited, a code block or not.

A logistic regression (standardised features, L2) is fitted on TRAIN_RUN only; its threshold is the lowest
that declines at most ``--max-over`` of TRAIN_RUN's answered answerable rows. Then, with that model and
threshold unchanged, each other run reports its AUC and what declining would do: should-decline rows caught,
answerable rows lost. No LM call; retrieval and the scope gate load (about a minute).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FEATURES = (
    "top-1 score",
    "top-1 minus top-2",
    "mean of top 5",
    "scope p",
    "removed share",
    "claims kept",
    "attributed share",
    "unknown API",
    "salvaged",
    "log answer chars",
    "sources cited",
    "has code",
)


@dataclass(frozen=True)
class Row:
    qid: str
    qtype: str
    question: str
    record: dict[str, object]
    should_decline: bool


def load_answered(run: str) -> list[Row]:
    from eval.compare import load_run
    from eval.gold import load_all_rows

    records = load_run(run)  # eval/results/<run>.jsonl; a clear error naming `fda eval export` when it is not there
    gold = {g.id: g for g in load_all_rows("v2")}
    out = []
    for r in records:
        if r["declined"] or r.get("error"):
            continue
        g = gold[r["question_id"]]
        out.append(Row(r["question_id"], g.type.value, g.question, r, bool(g.expect_refusal)))
    return out


def record_features(r: dict[str, object]) -> list[float]:
    v = r.get("verification") or {}
    assert isinstance(v, dict)
    sentences = float(v.get("sentences") or 0)
    removed = float(v.get("removed") or 0)
    answer = str(r.get("answer") or "")
    cited = r.get("cited") or []
    assert isinstance(cited, list)
    return [
        float(v.get("removed_share") or 0.0),
        sentences - removed,
        float(v.get("attributed") or 0) / sentences if sentences else 0.0,
        1.0 if v.get("unknown_apis") else 0.0,
        1.0 if "max_tokens" in str(r.get("reason") or "") else 0.0,
        math.log1p(len(answer)),
        float(len({c.get("url") for c in cited if isinstance(c, dict)})),
        1.0 if "```" in answer else 0.0,
    ]


class Featuriser:
    def __init__(self) -> None:
        from fda.settings import Settings
        from index.retrieval.factory import open_retriever
        from programs.trust.checks import checks_for

        settings = Settings()
        self.retriever = open_retriever("fused", settings)
        gate = checks_for(settings, self.retriever).scope
        if gate is None:
            raise SystemExit("the scope gate did not load")
        self.gate = gate

    def __call__(self, row: Row) -> list[float]:
        scores = [p.score for p in self.retriever.search(row.question, k=5)] + [0.0] * 5
        return [
            scores[0],
            scores[0] - scores[1],
            float(np.mean(scores[:5])),
            self.gate.check(row.question).p_in_scope,
            *record_features(row.record),
        ]


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    if not len(pos) or not len(neg):
        return float("nan")
    return float(np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg]))


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(mean, scale, weights, bias) of an L2 logistic regression on standardised features."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    model = LogisticRegression(C=1.0 / l2, class_weight="balanced", max_iter=1000).fit((x - mean) / scale, y)
    return mean, scale, model.coef_[0], float(model.intercept_[0])


def score(x: np.ndarray, mean: np.ndarray, scale: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(((x - mean) / scale) @ w + b)))


def threshold_for(p: np.ndarray, y: np.ndarray, max_over: float) -> float:
    """The lowest p that declines at most ``max_over`` of the negative (answerable) rows."""
    neg = np.sort(p[~y])[::-1]
    allowed = math.floor(max_over * len(neg))
    return float(neg[allowed] + 1e-9) if allowed < len(neg) else 0.0


def cv_auc(x: np.ndarray, y: np.ndarray, folds: int = 5, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    p = np.zeros(len(y))
    for k in range(folds):
        test = order[k::folds]
        train = np.setdiff1d(order, test)
        p[test] = score(x[test], *fit(x[train], y[train]))
    return auc(p[y], p[~y])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("train_run")
    ap.add_argument("--select", default=None, help="a dev-select run to report on")
    ap.add_argument("--confirm", default=None, help="a dev-confirm run to report on")
    ap.add_argument("--max-over", type=float, default=0.02)
    ap.add_argument("--out", type=Path, default=None, help="write the per-row probabilities here (JSONL)")
    args = ap.parse_args(argv)

    featurise = Featuriser()
    runs = {"train": args.train_run, "dev-select": args.select, "dev-confirm": args.confirm}
    data: dict[str, tuple[list[Row], np.ndarray, np.ndarray]] = {}
    for name, run in runs.items():
        if run is None:
            continue
        rows = load_answered(run)
        x = np.array([featurise(r) for r in rows])
        y = np.array([r.should_decline for r in rows])
        data[name] = (rows, x, y)

    rows, x, y = data["train"]
    out = sys.stdout
    out.write("single-feature AUC (should decline vs answerable, answered rows)\n")
    out.write("feature | " + " | ".join(data) + "\n")
    for i, f in enumerate(FEATURES):
        out.write(f"{f} | " + " | ".join(f"{auc(xx[yy, i], xx[~yy, i]):.2f}" for _, xx, yy in data.values()) + "\n")
    model = fit(x, y)
    p_train = score(x, *model)
    t = threshold_for(p_train, y, args.max_over)
    out.write(f"\nlogistic regression fitted on train ({len(y)} answered: {int(y.sum())} should decline); ")
    out.write(f"5-fold CV AUC on train {cv_auc(x, y):.2f}; threshold {t:.3f} (<= {args.max_over:.0%} of answerable)\n")
    out.write(
        "weights (standardised): " + ", ".join(f"{f} {w:+.2f}" for f, w in zip(FEATURES, model[2], strict=True)) + "\n"
    )
    out.write("\nsplit | answered | should decline | AUC | caught at threshold | answerable declined\n")
    records = []
    for name, (rws, xx, yy) in data.items():
        p = score(xx, *model)
        caught, lost = int(((p >= t) & yy).sum()), int(((p >= t) & ~yy).sum())
        out.write(
            f"{name} | {len(yy)} | {int(yy.sum())} | {auc(p[yy], p[~yy]):.2f} | {caught} of {int(yy.sum())}"
            f" | {lost} of {int((~yy).sum())}\n"
        )
        for r, pi in zip(rws, p, strict=True):
            records.append({"split": name, "question_id": r.qid, "type": r.qtype, "p_decline": round(float(pi), 4)})
    if args.out is not None:
        args.out.write_text("".join(json.dumps(r) + "\n" for r in records))


if __name__ == "__main__":
    main()
