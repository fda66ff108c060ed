"""How often does the coverage check (programs/trust/coverage.py) decline, per kind of question? No LM call.

    python -m experiments.coverage_check choose     # gold v2 train, and the scope/harm pools' FastAPI questions
    python -m experiments.coverage_check measure    # gold v2 dev-select and dev-confirm (read after the choice)

Gold rows are counted per type: declining an unanswerable, out-of-scope or false-premise row is right, declining
any other is an over-refusal. The pools (data/scope/positives*.jsonl, data/harm/benign*.jsonl: FastAPI questions
by independent writers; the scope passes kept to measure the scope gate, -7 to -11, are left out) say how often
an ordinary question would be declined; data/scope/negatives*.jsonl are
off-topic questions (declining them is right, though the scope gate should already have). Rows where the check
fires are written to eval/results/coverage/<stage>.jsonl (the sealed test split is never read).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from eval.gold import load_gold
from fda.settings import Settings
from optimizers.scope import MEASURE_PASSES, pass_files
from programs.trust.coverage import DocsWords, unmentioned
from programs.trust.vocabulary import load_vocabulary

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "eval" / "results" / "coverage"
RIGHT_TO_DECLINE = {"unanswerable", "out_of_scope", "false_premise"}
STAGES = {"choose": ("train",), "measure": ("dev-select", "dev-confirm")}


def _pool(pattern: str) -> list[tuple[str, str]]:
    """The questions of the files matching ``pattern``, less the scope passes kept to measure the scope gate
    (``MEASURE_PASSES``: their writers' files are read by `fda scope heldout` only, not to choose anything)."""
    held = {p.name for n in MEASURE_PASSES for p, _ in pass_files(n)}
    rows = []
    for path in sorted((ROOT / "data").glob(pattern)):
        if path.name in held:
            continue
        for line in path.read_text().splitlines():
            if line.strip():
                rows.append((path.name, json.loads(line)["question"]))
    return rows


def main(stage: str) -> None:
    words = DocsWords(load_vocabulary(Settings().db_path))
    fired: list[dict[str, object]] = []
    for split in STAGES[stage]:
        total, hits = Counter[str](), Counter[str]()
        for row in load_gold("v2", split):  # type: ignore[arg-type]
            kind = row.type.value
            total[kind] += 1
            names = unmentioned(row.question, words)
            if names:
                hits[kind] += 1
                fired.append({"source": f"gold v2 {split}", "id": row.id, "type": kind, "names": names})
        right = sum(hits[k] for k in RIGHT_TO_DECLINE)
        wrong = sum(hits.values()) - right
        answerable = sum(total.values()) - sum(total[k] for k in RIGHT_TO_DECLINE)
        sys.stdout.write(
            f"gold v2 {split}: declined {right} of {sum(total[k] for k in RIGHT_TO_DECLINE)} to decline "
            f"({', '.join(f'{k} {hits[k]}/{total[k]}' for k in sorted(RIGHT_TO_DECLINE))}); "
            f"{wrong} of {answerable} others ({', '.join(f'{k} {v}' for k, v in hits.items() if k not in RIGHT_TO_DECLINE) or 'none'})\n"
        )
    if stage == "choose":
        for label, pattern in (
            ("FastAPI questions", "scope/positives*.jsonl"),
            ("legitimate security questions", "harm/benign*.jsonl"),
            ("off-topic questions", "scope/negatives*.jsonl"),
        ):
            rows = _pool(pattern)
            n = 0
            for source, question in rows:
                names = unmentioned(question, words)
                if names:
                    n += 1
                    fired.append({"source": source, "question": question, "names": names})
            sys.stdout.write(f"{label} ({pattern}): declined {n} of {len(rows)}\n")
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / f"{stage}.jsonl").open("w") as f:
        f.writelines(json.dumps(item) + "\n" for item in fired)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "choose")
