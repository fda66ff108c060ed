"""``fda bench answer``: end-to-end answer latency (p50/p95), time to first answer token, prompt tokens and
answer quality over gold questions, per LM, through the same streaming path the API uses.

    fda bench answer --models qwen2.5-coder-0.5b,qwen2.5-coder-1.5b --split dev
    fda bench answer --models qwen2.5-coder-0.5b --limit 10 --json

One run gives both tables of docs/lm.md: cost (latency, TTFT, tokens, LM calls) and quality (the eval
harness's combined score, citation correctness, must-mention recall, refusal accuracy), since every
question is scored by eval/scoring.py as it is timed. DSPy's response cache is off for the run.
Per-question rows go to ``<out>/<model>.jsonl`` for the record.
"""

from __future__ import annotations

import asyncio
import json
import logging
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from eval.contract import ProgramOutput, read_prediction
from eval.gold import GoldQuestion
from eval.scoring import score_question

log = logging.getLogger(__name__)

ProgramFor = Callable[[Any], Any]  # lm -> answer program


@dataclass
class AnswerTiming:
    """One question through one program: wall time, first streamed answer token, cost and scores."""

    question_id: str
    type: str
    latency_s: float
    ttft_s: float | None
    prompt_tokens: int
    completion_tokens: int
    lm_calls: int
    declined: bool
    fallback: bool
    error: str | None = None
    scores: dict[str, float | None] = field(default_factory=dict)
    answer: str = ""  # kept in the saved rows, to read what a change did to the answers
    cited: list[str] = field(default_factory=list)


async def _stream_once(program: Any, question: str, version: str | None) -> tuple[float, float | None, Any]:
    from api.streaming import stream_program

    t0 = time.perf_counter()
    ttft: float | None = None
    final = None
    async for kind, value in stream_program(program, question, version):
        if kind == "token" and ttft is None:
            ttft = time.perf_counter() - t0
        elif kind == "final":
            final = value
    return time.perf_counter() - t0, ttft, final


def time_question(program: Any, gold: GoldQuestion, version: str | None = None) -> AnswerTiming:
    """Ask ``gold.question`` through the streaming path; a failure is recorded, not raised."""
    t0 = time.perf_counter()
    out: ProgramOutput | None = None
    error: str | None = None
    try:
        latency, ttft, final = asyncio.run(_stream_once(program, gold.question, version))
        out = read_prediction(final)
    except Exception as err:  # the bench goes on; the row says what failed
        latency, ttft, error = time.perf_counter() - t0, None, f"{type(err).__name__}: {str(err)[:300]}"
    if out is None:
        return AnswerTiming(gold.id, gold.type.value, latency, None, 0, 0, 0, False, False, error=error)
    usage = out.usage or {}
    return AnswerTiming(
        question_id=gold.id,
        type=gold.type.value,
        latency_s=latency,
        ttft_s=ttft,
        prompt_tokens=int(usage.get("prompt_tokens", 0)),
        completion_tokens=int(usage.get("completion_tokens", 0)),
        lm_calls=int(usage.get("lm_calls", 0)),
        declined=out.declined,
        fallback=out.fallback,
        scores=score_question(gold, out, answers=True, latency_s=latency),
        answer=out.answer,
        cited=[c.url for c in out.citations],
    )


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _mean(values: Iterable[float | None]) -> float | None:
    used = [v for v in values if v is not None]
    return statistics.fmean(used) if used else None


def summarize(model: str, rows: Sequence[AnswerTiming]) -> dict[str, Any]:
    """One table row: latency and TTFT percentiles, mean cost, quality means, counts."""
    ok = [r for r in rows if r.error is None]
    lm_rows = [r for r in ok if r.lm_calls > 0]  # refused before any LM call: not an LM latency
    lat = [r.latency_s for r in lm_rows]
    ttft = [r.ttft_s for r in lm_rows if r.ttft_s is not None]
    return {
        "model": model,
        "questions": len(rows),
        "errors": len(rows) - len(ok),
        "p50 s": percentile(lat, 50),
        "p95 s": percentile(lat, 95),
        "TTFT p50 s": percentile(ttft, 50),
        "TTFT p95 s": percentile(ttft, 95),
        "streamed": len(ttft),
        "prompt tok": _mean(r.prompt_tokens for r in lm_rows),
        "output tok": _mean(r.completion_tokens for r in lm_rows),
        "LM calls": _mean(r.lm_calls for r in lm_rows),
        "combined": _mean(r.scores.get("combined_score") for r in ok),
        "citations": _mean(r.scores.get("citation_precision_section") for r in ok),
        "must-mention": _mean(r.scores.get("must_mention_recall") for r in ok),
        "refusal acc": _mean(r.scores.get("refusal_correct") for r in ok),
        "declined": _mean(1.0 if r.declined else 0.0 for r in ok),
        "fallback": _mean(1.0 if r.fallback else 0.0 for r in ok),
    }


def run_model(
    model: str,
    program: Any,
    questions: Sequence[GoldQuestion],
    out_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[AnswerTiming]:
    """Time every question with ``program`` (already bound to the model's LM); rows also saved as JSONL."""
    rows: list[AnswerTiming] = []
    sink = None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        sink = (out_dir / f"{model.replace('/', '_').replace(':', '_')}.jsonl").open("w", encoding="utf-8")
    try:
        for i, gold in enumerate(questions, start=1):
            row = time_question(program, gold)  # the program reads versions from the question, as in eval
            rows.append(row)
            if sink is not None:
                sink.write(json.dumps(asdict(row)) + "\n")
                sink.flush()
            if progress is not None:
                progress(i, len(questions))
            log.info("%s %s %.1fs %s", model, gold.id, row.latency_s, row.error or "")
    finally:
        if sink is not None:
            sink.close()
    return rows


def table(summaries: Sequence[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(list(summaries))
