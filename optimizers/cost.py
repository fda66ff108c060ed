"""What a compile costs: LM calls, cache hits and tokens of every LM it uses, whichever thread calls them.

    meter = CostMeter()
    meter.attach(lm, teacher_lm)       # an instance callback: copies of these LMs (optimizers copy) report too
    ... compile ...
    meter.totals()   # {"lm_calls": ..., "cache_hits": ..., "prompt_tokens": ..., "completion_tokens": ...}

``lm_calls`` counts every call, ``cache_hits`` those DSPy's cache answered (no tokens, no server time).

An instance callback rather than ``dspy.track_usage``: the programs open their own usage tracker per
answer (which hides their calls from an outer one), and worker threads do not inherit ``dspy.context``.
"""

from __future__ import annotations

import threading
from typing import Any

from dspy.utils.callback import BaseCallback

KEYS = ("lm_calls", "cache_hits", "prompt_tokens", "completion_tokens")


class CostMeter(BaseCallback):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, Any] = {}
        self._seen: set[str] = set()
        self._totals = dict.fromkeys(KEYS, 0)

    # optimizers deep-copy programs and their LMs: every copy must keep reporting to this one meter
    def __copy__(self) -> CostMeter:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> CostMeter:
        return self

    def attach(self, *lms: Any) -> None:
        for lm in lms:
            if lm is not None and self not in lm.callbacks:
                lm.callbacks.append(self)

    def detach(self, *lms: Any) -> None:
        for lm in lms:
            if lm is not None and self in lm.callbacks:
                lm.callbacks.remove(self)

    def on_lm_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
        with self._lock:
            self._pending[call_id] = instance

    def on_lm_end(self, call_id: str, outputs: Any | None, exception: Exception | None = None) -> None:
        with self._lock:
            instance = self._pending.pop(call_id, None)
            if instance is None:
                return
            new = []
            for entry in reversed(getattr(instance, "history", [])):
                uid = entry.get("uuid")
                if uid in self._seen:
                    break
                new.append(entry)
            if not new and exception is not None:
                self._totals["lm_calls"] += 1  # a failed call leaves no history entry but was made
            for entry in new:
                self._seen.add(entry.get("uuid"))
                self._count(entry)

    def _count(self, entry: dict[str, Any]) -> None:
        self._totals["lm_calls"] += 1
        usage = entry.get("usage")
        # DSPy records an answer replayed from its cache with empty usage (a served call always reports some)
        if getattr(entry.get("response"), "cache_hit", False) or not usage:
            self._totals["cache_hits"] += 1
            return
        self._totals["prompt_tokens"] += int(usage.get("prompt_tokens") or 0)
        self._totals["completion_tokens"] += int(usage.get("completion_tokens") or 0)

    def totals(self) -> dict[str, int]:
        with self._lock:
            return dict(self._totals)
