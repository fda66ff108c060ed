"""What the cross-validation experiments of the two question gates share (experiments/harm_cv.py, scope_cv.py):
their per-question rows written as JSONL, and a decline rate per model and file printed."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def write_and_report(rows: Sequence[dict[str, Any]], out: Path, models: Sequence[str], files: Sequence[str]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    width = max(len(f) for f in files)
    for model_name in models:
        for name in files:
            sel = [r for r in rows if r["model"] == model_name and r["file"] == name]
            k = sum(bool(r["declined"]) for r in sel)
            sys.stdout.write(f"{model_name:6s} {name:{width}s} declined {k:3d} of {len(sel)} ({k / len(sel):.3f})\n")
    sys.stdout.write(f"per question: {out}\n")
