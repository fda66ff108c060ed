import pytest

from eval.stats import Interval, applicable, bootstrap_ci, cohen_kappa, paired_bootstrap_ci


def test_applicable_drops_none_and_nan() -> None:
    assert applicable([1.0, None, float("nan"), 0.0]) == [1.0, 0.0]


def test_bootstrap_ci_is_deterministic_and_brackets_the_mean() -> None:
    values = [1, 0, 1, 1, 0, 1, 1, 1, 0, 1] * 4
    a = bootstrap_ci(values, n_samples=500, seed=0)
    b = bootstrap_ci(values, n_samples=500, seed=0)
    assert a == b
    assert a.mean == pytest.approx(0.7)
    assert a.low is not None and a.high is not None
    assert a.low < 0.7 < a.high
    assert a.low > 0.5 and a.high < 0.9  # 40 items: about +-0.14
    assert a.n == 40


def test_bootstrap_ci_changes_with_seed() -> None:
    values = [1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 1, 1]
    assert bootstrap_ci(values, 300, seed=0) != bootstrap_ci(values, 300, seed=1)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([], Interval(None, None, None, 0)), ([None], Interval(None, None, None, 0)), ([0.5], Interval(0.5, 0.5, 0.5, 1))],
)
def test_bootstrap_ci_edge_cases(values: list[float | None], expected: Interval) -> None:
    assert bootstrap_ci(values) == expected


def test_bootstrap_ci_constant_values_have_zero_width() -> None:
    ci = bootstrap_ci([1.0] * 10)
    assert ci.low == ci.high == 1.0
    assert ci.half_width == 0.0


def test_paired_bootstrap_ci() -> None:
    current = [1.0] * 20
    baseline = [0.0] * 10 + [1.0] * 10
    ci = paired_bootstrap_ci(current, baseline, 500)
    assert ci.mean == pytest.approx(0.5)
    assert ci.low is not None and ci.low > 0
    # pairs where either side is n/a are skipped
    assert paired_bootstrap_ci([1.0, None], [0.0, 1.0]).n == 1
    with pytest.raises(ValueError, match="equal lengths"):
        paired_bootstrap_ci([1.0], [1.0, 0.0])


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (["c", "w", "c", "p"], ["c", "w", "c", "p"], 1.0),
        # Textbook example: 50 items, 20 yes/yes, 15 no/no, 5 yes/no, 10 no/yes -> 0.4
        (["y"] * 20 + ["y"] * 5 + ["n"] * 10 + ["n"] * 15, ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15, 0.4),
        (["y", "n", "y", "n"], ["n", "y", "n", "y"], -1.0),
        (["y", "y"], ["y", "y"], 1.0),  # one shared label: defined as perfect
        (["y", "n"], ["y", "y"], 0.0),
        ([], [], None),
    ],
)
def test_cohen_kappa(a: list[str], b: list[str], expected: float | None) -> None:
    got = cohen_kappa(a, b)
    assert got == (pytest.approx(expected) if expected is not None else None)


def test_cohen_kappa_needs_equal_lengths() -> None:
    with pytest.raises(ValueError, match="same number"):
        cohen_kappa(["y"], ["y", "n"])
