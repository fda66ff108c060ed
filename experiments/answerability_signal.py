"""Do retrieval scores tell unanswerable questions from answerable ones? (docs/trust.md, "What is left")

    python -m experiments.answerability_signal
    python -m experiments.answerability_signal verifier      # the verifier's removed share, from committed runs

For gold v2 train and dev-select: the area under the ROC curve of each feature for "answerable" against
"unanswerable" rows (0.5 = no signal): the fused backend's top-1 score, top-1 minus top-2, the mean of the
top 5, the scope gate's p(in scope), the question's length. Retrieval only: no LM call, about a minute.
"""

from __future__ import annotations

import sys

import numpy as np

from eval.gold import load_gold
from fda.settings import Settings
from index.retrieval.factory import open_retriever
from programs.trust.checks import checks_for

FEATURES = ("top-1 score", "top-1 minus top-2", "mean of top 5", "scope p", "length")


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    return float(np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg]))


# the latest full runs of the served rag program with every check on (committed under eval/results/)
VERIFIER_RUNS = {
    "dev-select": "20261205-160121-rag-fused-dev-select",
    "dev-confirm": "20261205-121412-rag-fused-dev-confirm",
}


def verifier_signal() -> None:
    """The share of an answer's sentences verification removed, for the unanswerable and false-premise rows that
    were answered against the answerable rows that were answered: its AUC, and what declining at a share would do."""
    import json
    from pathlib import Path

    results = Path(__file__).resolve().parents[1] / "eval" / "results"
    for split, run in VERIFIER_RUNS.items():
        gold = {r.id: r for r in load_gold("v2", split)}  # type: ignore[arg-type]
        rows = [json.loads(line) for line in (results / f"{run}.jsonl").read_text().splitlines() if line.strip()]
        answered = [r for r in rows if not r["declined"]]
        share = {r["question_id"]: float((r.get("verification") or {}).get("removed_share") or 0) for r in answered}
        ans = np.array([share[r["question_id"]] for r in answered if not gold[r["question_id"]].expect_refusal])
        bad = np.array(
            [
                share[r["question_id"]]
                for r in answered
                if gold[r["question_id"]].type.value in ("unanswerable", "false_premise")
            ]
        )
        cuts = ", ".join(
            f">={t}: {int((bad >= t).sum())}/{len(bad)} vs {int((ans >= t).sum())}/{len(ans)}"
            for t in (0.34, 0.5, 0.67)
        )
        sys.stdout.write(f"{split} ({run}): AUC {auc(bad, ans):.2f}; declined at a removed share {cuts}\n")


def main() -> None:
    if sys.argv[1:] == ["verifier"]:
        verifier_signal()
        return
    settings = Settings()
    retriever = open_retriever("fused", settings)
    checks = checks_for(settings, retriever)
    gate = checks.scope
    assert gate is not None, "the scope model did not load"

    def features(question: str) -> list[float]:
        scores = [p.score for p in retriever.search(question, k=5)] + [0.0] * 5
        return [
            scores[0],
            scores[0] - scores[1],
            float(np.mean(scores[:5])),
            gate.check(question).p_in_scope,
            len(question),
        ]

    sys.stdout.write("split, answerable, unanswerable, " + ", ".join(f"AUC {f}" for f in FEATURES) + "\n")
    for split in ("train", "dev-select"):
        rows = [r for r in load_gold("v2", split) if r.type.value == "unanswerable" or not r.expect_refusal]
        x = np.array([features(r.question) for r in rows])
        y = np.array([r.type.value == "unanswerable" for r in rows])
        aucs = ", ".join(f"{auc(x[~y, i], x[y, i]):.2f}" for i in range(len(FEATURES)))
        sys.stdout.write(f"{split}, {int((~y).sum())}, {int(y.sum())}, {aucs}\n")


if __name__ == "__main__":
    main()
