"""LM usage of one program call: prompt/completion tokens and the number of LM calls."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import dspy


def summarize(usage_data: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    out = {"prompt_tokens": 0, "completion_tokens": 0, "lm_calls": 0}
    for entries in usage_data.values():
        for entry in entries:
            out["lm_calls"] += 1
            out["prompt_tokens"] += int(entry.get("prompt_tokens") or 0)
            out["completion_tokens"] += int(entry.get("completion_tokens") or 0)
    return out


@contextmanager
def tracked() -> Iterator[Callable[[], dict[str, int]]]:
    """``with tracked() as usage: ...; usage()`` -> totals of the LM calls made inside."""
    with dspy.track_usage() as tracker:
        yield lambda: summarize(tracker.usage_data)
