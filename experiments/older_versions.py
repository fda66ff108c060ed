"""What neural indexes for the older docs versions change in retrieval (issue #23), from committed runs:

    python -m experiments.older_versions      # no index, no LM: reads eval/results/

The same `fda eval --program retrieval --backend fused --gold v2 --split S --versions target` on train,
dev-select and dev-confirm, once while 0.68.0 and 0.100.0 were searched with BM25 (the neural indexes covered
the latest version only) and once after `FDA_RETRIEVAL__NEURAL_VERSIONS=all fda index` had added them. Per
split: the rows whose gold `fastapi_version` is one of those versions, their section R@5 / MRR@10 and page R@5
before and after, and every row whose numbers moved (``--versions target`` also searches a row without that label
in an older version when its gold links point into one: it moves too).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from eval.gold import load_gold

RESULTS = Path(__file__).resolve().parents[1] / "eval" / "results"
OLDER = {"0.68.0", "0.100.0"}
RUNS = {  # split: (before, after)
    "train": ("20261206-043921-retrieval-fused-train", "20261206-045722-retrieval-fused-train"),
    "dev-select": ("20261206-043815-retrieval-fused-dev-select", "20261206-045623-retrieval-fused-dev-select"),
    "dev-confirm": ("20261206-043850-retrieval-fused-dev-confirm", "20261206-045700-retrieval-fused-dev-confirm"),
}
METRICS = ("recall_at_5_section", "mrr_at_10_section", "recall_at_5_page")


def _rows(run: str) -> dict[str, dict[str, Any]]:
    lines = (RESULTS / f"{run}.jsonl").read_text(encoding="utf-8").splitlines()
    return {r["question_id"]: r for r in (json.loads(line) for line in lines if line.strip())}


def _mean(xs: list[float]) -> str:
    return f"{sum(xs) / len(xs):.3f}" if xs else "-"


def main() -> None:
    up = down = 0
    for split, (before, after) in RUNS.items():
        gold = {r.id: r for r in load_gold("v2", split)}  # type: ignore[arg-type]
        a, b = _rows(before), _rows(after)
        older = [q for q in a if gold[q].fastapi_version in OLDER and not gold[q].expect_refusal]
        cells = []
        for m in METRICS:
            xa = [a[q]["metrics"][m] for q in older if a[q]["metrics"].get(m) is not None]
            xb = [b[q]["metrics"][m] for q in older if b[q]["metrics"].get(m) is not None]
            cells.append(f"{m} {_mean(xa)} -> {_mean(xb)}")
        sys.stdout.write(f"{split}: {len(older)} rows on {', '.join(sorted(OLDER))}: {'; '.join(cells)}\n")
        for q in a:
            for m in METRICS:
                x, y = a[q]["metrics"].get(m), b[q]["metrics"].get(m)
                if x is not None and y is not None and x != y:
                    up, down = up + (y > x), down + (y < x)
                    sys.stdout.write(f"  {q} ({gold[q].fastapi_version or 'no label'}) {m}: {x:.2f} -> {y:.2f}\n")
    sys.stdout.write(f"moved: {up} up, {down} down (question x metric)\n")


if __name__ == "__main__":
    main()
