"""The code check against known-good code: every ``docs_src/`` example of one docs version, run through the
same checker the answers go through (docs/code-checks.md). FastAPI's CI runs these examples, so each
``failed`` here is the checker's false alarm or something the sandbox lacks; the share of ``verified`` is the
ceiling an answer that copies the docs can reach.

    python -m ops.bench.code_examples --version 0.141.1    # eval/results/code/docs-examples-0.141.1.jsonl

Prints the counts per status, the failures with their errors, and the sandbox's p50 and p95 per example.
Test modules (``test_*.py``) are left out: they are pytest files, not apps.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from rich.progress import track

from eval.code_report import STATUSES, summarize, write
from fda.console import console, err_console
from fda.settings import get_settings
from programs.execution import load_code_checker, local_snapshots


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--version", default="0.141.1", help="Docs version whose docs_src/ examples to run.")
    ap.add_argument("--limit", type=int, default=0, help="Run only the first N examples (0: all).")
    args = ap.parse_args(argv)
    settings = get_settings()
    checker = load_code_checker(settings)
    if checker is None or checker.sandbox.mode is None:
        err_console.print("[red]code checks are off or this machine cannot isolate code[/]")
        return 2
    snapshot = next((s for s in local_snapshots(settings) if s.version == args.version), None)
    if snapshot is None:
        err_console.print(f"[red]docs version {args.version} is not in the corpus sources[/]")
        return 2
    paths = sorted(
        p
        for p in snapshot.files
        if p.startswith("docs_src/") and p.endswith(".py") and not Path(p).name.startswith("test_")
    )
    if args.limit:
        paths = paths[: args.limit]
    records = []
    for path in track(paths, description=f"docs_src examples of {args.version}", console=err_console):
        report = checker.check(f"```python\n{snapshot.files[path]}\n```", args.version)
        if report is not None:
            records.append({"path": path, **report.to_dict()})
    out = write(f"docs-examples-{args.version}", records)
    counts = summarize(records, records).statuses
    console.print(
        f"{len(records)} examples with code ({len(paths) - len(records)} empty files) · "
        + ", ".join(f"{k} {counts[k]}" for k in STATUSES)
    )
    for r in records:
        if r["status"] == "failed":
            console.print(f"  failed {r['path']}: {r['detail'][:160]}")
    times = sorted(r["ms"] for r in records if r["ms"] > 0)
    if times:
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        console.print(f"sandbox p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms per example · {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
