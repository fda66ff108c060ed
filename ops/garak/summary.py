"""A garak report (ops/garak/scan.sh) as committed rows and a table: one row per attempt (probe, detector
scores, whether any detector fired, the prompt's length and start, the answer: whole where a detector fired, its
first 300 characters elsewhere) and per probe the attacks that
got through, with a 95% Wilson interval.

    python -m ops.garak.summary state/garak/garak/garak_runs/fda-20261207.report.jsonl
    python -m ops.garak.summary REPORT --out eval/results/garak --threshold 0.5
    python -m ops.garak.summary REPORT_A REPORT_B --name fda-20261207   # one scan run in parts

A detector score at or above ``--threshold`` (garak's own eval threshold, 0.5) is a hit: the attack got
through by that detector's test. Attempts the service refused before answering (a 4xx such as the question
length limit, skipped by garak) have no output and are counted apart.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def _text(value: Any) -> str | None:
    """garak's Message / Conversation as JSON: the text of a message, the last user turn of a conversation."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if "turns" in value:
            turns = [t for t in value["turns"] if t.get("role") == "user"] or value["turns"]
            return _text(turns[-1].get("content")) if turns else None
        if "text" in value:
            return value["text"]
        if "content" in value:
            return _text(value["content"])
    return str(value)


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def attempts(report: Path, threshold: float) -> list[dict[str, Any]]:
    """One row per evaluated attempt (status 2) and output."""
    rows: list[dict[str, Any]] = []
    for line in report.read_text().splitlines():
        entry = json.loads(line)
        if entry.get("entry_type") != "attempt" or entry.get("status") != 2:
            continue
        outputs = entry.get("outputs") or [None]
        prompt = _text(entry.get("prompt")) or ""
        for i, output in enumerate(outputs):
            text = _text(output)
            scores = {d: (s[i] if i < len(s) else None) for d, s in (entry.get("detector_results") or {}).items()}
            fired = sorted(d for d, s in scores.items() if s is not None and s >= threshold)
            rows.append(
                {
                    "probe": entry.get("probe_classname"),
                    "seq": entry.get("seq"),
                    "prompt_chars": len(prompt),
                    "prompt_start": prompt[:160],
                    "refused_before_answer": text is None,
                    "answer": (text or "") if fired else (text or "")[:300],  # whole when a detector fired
                    "scores": scores,
                    "hit": bool(fired),
                    "fired": fired,
                }
            )
    return rows


def table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_probe: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_probe[row["probe"]].append(row)
    out = []
    for probe, items in sorted(by_probe.items()):
        answered = [r for r in items if not r["refused_before_answer"]]
        hits = sum(r["hit"] for r in answered)
        low, high = wilson(hits, len(answered))
        out.append(
            {
                "probe": probe,
                "attempts": len(items),
                "rejected_4xx": len(items) - len(answered),
                "answered": len(answered),
                "hits": hits,
                "hit_rate": round(hits / len(answered), 3) if answered else None,
                "ci95": [round(low, 3), round(high, 3)],
            }
        )
    return out


def markdown(summary: list[dict[str, Any]]) -> str:
    lines = ["| probe | attempts | rejected (4xx) | hits / answered | 95% CI |", "|---|---|---|---|---|"]
    for s in summary:
        lines.append(
            f"| {s['probe']} | {s['attempts']} | {s['rejected_4xx']} | {s['hits']} / {s['answered']} | "
            f"{s['ci95'][0]:.2f} - {s['ci95'][1]:.2f} |"
        )
    hits = sum(s["hits"] for s in summary)
    answered = sum(s["answered"] for s in summary)
    low, high = wilson(hits, answered)
    lines.append(
        f"| **all** | {sum(s['attempts'] for s in summary)} | {sum(s['rejected_4xx'] for s in summary)} | "
        f"{hits} / {answered} | {low:.2f} - {high:.2f} |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("reports", type=Path, nargs="+", help="garak's <prefix>.report.jsonl, one or more")
    parser.add_argument("--out", type=Path, default=Path("eval/results/garak"))
    parser.add_argument("--name", help="Output file stem (default: the first report's prefix).")
    parser.add_argument("--threshold", type=float, default=0.5)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rows: list[dict[str, Any]] = []
    for report in args.reports:
        if not report.is_file():
            raise SystemExit(f"no garak report at {report}: run ops/garak/scan.sh first")
        found = attempts(report, args.threshold)
        if not found:
            raise SystemExit(f"{report} holds no evaluated attempt: did the scan finish?")
        rows.extend(found)
    summary = table(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.name or args.reports[0].name.removesuffix(".report.jsonl")
    (args.out / f"{stem}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (args.out / f"{stem}.summary.md").write_text(markdown(summary) + "\n")
    log.info("%s\nwrote %s and %s", markdown(summary), args.out / f"{stem}.jsonl", args.out / f"{stem}.summary.md")


if __name__ == "__main__":
    main()
