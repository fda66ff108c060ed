"""Promotion needs a dev gain beyond noise over the champion (paired by question)."""

from __future__ import annotations

import pytest

from optimizers.promotion import decide

IDS = [f"q{i}" for i in range(20)]


def scores(values: list[float]) -> dict[str, float]:
    return dict(zip(IDS, values, strict=False))


@pytest.mark.parametrize(
    ("challenger", "incumbent", "kw", "promote", "reason"),
    [
        ([0.9] * 20, [0.5] * 20, {}, True, "dev gain +0.400"),
        ([0.5] * 20, [0.5] * 20, {}, False, "within the tolerance"),
        ([0.505] * 20, [0.5] * 20, {"tolerance": 0.01}, False, "within the tolerance"),
        ([0.3] * 20, [0.5] * 20, {}, False, "within the tolerance"),  # worse: never promoted
        # one big win among ties: mean gain 0.05 > tolerance, but the paired interval includes zero
        ([1.0] + [0.5] * 19, [0.0] + [0.5] * 19, {}, False, "includes zero"),
        ([1.0] + [0.5] * 19, [0.0] + [0.5] * 19, {"paired_ci": False}, True, "dev gain +0.050"),
        ([0.9] * 5, [0.5] * 5, {}, False, "only 5 dev question(s) in common"),
    ],
)
def test_decide(
    challenger: list[float], incumbent: list[float], kw: dict[str, object], promote: bool, reason: str
) -> None:
    decision = decide(scores(challenger), scores(incumbent), **kw)  # type: ignore[arg-type]
    assert decision.promote is promote
    assert reason in decision.reason


def test_pairs_only_common_questions() -> None:
    challenger = {f"q{i}": 1.0 for i in range(15)}
    incumbent = {f"q{i}": 0.0 for i in range(5, 30)}
    decision = decide(challenger, incumbent, min_pairs=10)
    assert decision.n_pairs == 10 and decision.promote and decision.delta == pytest.approx(1.0)
