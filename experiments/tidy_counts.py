"""What ``tidy`` (programs/trust/verify.py) would change in the committed answers (docs/trust.md, "Debris").

    python -m experiments.tidy_counts

Every distinct answered (not declined, not fallback) answer of the committed rag runs of 2026-12-04/05 in
eval/results/: how many ``tidy`` changes, how many lines it removes, how many it empties (they become declines),
and how many lose a citation number (must be 0). No LM, no index: a second.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from programs.trust.verify import tidy

RESULTS = Path(__file__).resolve().parents[1] / "eval" / "results"


def main() -> None:
    seen: set[str] = set()
    changed = lines = emptied = lost = 0
    for path in sorted(RESULTS.glob("2026120[45]-*-rag-fused-*.jsonl")):
        for raw in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(raw)
            answer = (row.get("answer") or "").strip()
            if not answer or answer in seen or row.get("declined") or row.get("fallback"):
                continue
            seen.add(answer)
            text, removed = tidy(answer)
            changed += bool(removed)
            lines += removed
            emptied += bool(removed and not text)
            lost += bool(text and set(re.findall(r"\[(\d+)\]", answer)) - set(re.findall(r"\[(\d+)\]", text)))
    sys.stdout.write(
        f"distinct answers {len(seen)}, tidied {changed}, lines removed {lines}, emptied {emptied}, "
        f"citations lost {lost}\n"
    )


if __name__ == "__main__":
    main()
