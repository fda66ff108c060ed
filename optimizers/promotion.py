"""Should a challenger replace the champion? Only when it is better on dev beyond noise (pure).

    decide(challenger_scores, champion_scores, tolerance=0.01, paired_ci=True, min_pairs=10)

Scores are per dev question (id -> combined score) and are paired by question id. The gain must exceed
``tolerance``, and with ``paired_ci`` the paired bootstrap interval of the gain (eval/stats.py) must lie
above zero. Too few pairs never promote: a handful of questions cannot tell noise from progress.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from eval.stats import paired_bootstrap_ci


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str
    delta: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n_pairs: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def decide(
    challenger: Mapping[str, float],
    incumbent: Mapping[str, float],
    *,
    tolerance: float = 0.01,
    paired_ci: bool = True,
    min_pairs: int = 10,
    n_samples: int = 1000,
    seed: int = 0,
    incumbent_name: str = "champion",
) -> Decision:
    common = sorted(set(challenger) & set(incumbent))
    if len(common) < min_pairs:
        return Decision(False, f"only {len(common)} dev question(s) in common with the {incumbent_name} "
                        f"(need {min_pairs})", n_pairs=len(common))  # fmt: skip
    ci = paired_bootstrap_ci(
        [challenger[q] for q in common], [incumbent[q] for q in common], n_samples=n_samples, seed=seed
    )
    delta, low, high = ci.mean, ci.low, ci.high
    assert delta is not None  # common is not empty
    kept = Decision(False, "", delta, low, high, len(common))
    if delta <= tolerance:
        return _with(kept, f"dev gain {delta:+.3f} over the {incumbent_name} is within the tolerance {tolerance:.3f}")
    interval = f"95% paired interval [{_fmt(low)}, {_fmt(high)}]"
    if paired_ci and (low is None or low <= 0.0):
        return _with(kept, f"dev gain {delta:+.3f} over the {incumbent_name}, but its {interval} includes zero")
    reason = f"dev gain {delta:+.3f} over the {incumbent_name} ({interval}, {len(common)} questions)"
    return Decision(True, reason, delta, low, high, len(common))


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.3f}"


def _with(decision: Decision, reason: str) -> Decision:
    return Decision(decision.promote, reason, decision.delta, decision.ci_low, decision.ci_high, decision.n_pairs)
