import pytest

from index.retrieval.rank_fusion import fold, rrf


@pytest.mark.parametrize(
    ("rankings", "k", "weights", "expected"),
    [
        # one list: order kept, score 1/(k+rank)
        ([["a", "b"]], 60, None, [("a", 1 / 61), ("b", 1 / 62)]),
        # agreement beats a single first place
        ([["a", "b"], ["c", "b"]], 60, None, [("b", 2 / 62), ("a", 1 / 61), ("c", 1 / 61)]),
        # k = 0: plain reciprocal rank
        ([["a", "b"], ["b", "a"]], 0, None, [("a", 1.5), ("b", 1.5)]),
        # weights scale each list's contribution
        ([["a"], ["b"]], 0, [1.0, 2.0], [("b", 2.0), ("a", 1.0)]),
        # a repeated id within a list counts once, at its best rank
        ([["a", "a", "b"]], 0, None, [("a", 1.0), ("b", 1 / 3)]),
        # empty input
        ([], 60, None, []),
        ([[], ["x"]], 60, None, [("x", 1 / 61)]),
    ],
)
def test_rrf(
    rankings: list[list[str]], k: float, weights: list[float] | None, expected: list[tuple[str, float]]
) -> None:
    got = rrf(rankings, k=k, weights=weights)
    assert [i for i, _ in got] == [i for i, _ in expected]
    assert [s for _, s in got] == pytest.approx([s for _, s in expected])


def test_rrf_ties_keep_first_appearance() -> None:
    assert [i for i, _ in rrf([["x", "y"], ["y", "x"]])] == ["x", "y"]
    assert [i for i, _ in rrf([["y", "x"], ["x", "y"]])] == ["y", "x"]


@pytest.mark.parametrize(("rankings", "weights", "k"), [([["a"]], [1.0, 2.0], 60), ([["a"]], None, -1)])
def test_rrf_rejects_bad_arguments(rankings: list[list[str]], weights: list[float] | None, k: float) -> None:
    with pytest.raises(ValueError):
        rrf(rankings, k=k, weights=weights)


@pytest.mark.parametrize(
    ("keys", "limit", "expected"),
    [
        (["s1", "s1", "s2", "s1", "s3"], None, [0, 2, 4]),
        (["s1", "s1", "s2", "s1", "s3"], 2, [0, 2]),
        ([], 3, []),
        (["a", "b"], 5, [0, 1]),
    ],
)
def test_fold_keeps_first_of_each_key(keys: list[str], limit: int | None, expected: list[int]) -> None:
    assert fold(keys, limit) == expected
