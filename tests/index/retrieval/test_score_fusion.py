"""Table tests for the score-fusion functions behind the ``fused`` backend (index/retrieval/score_fusion.py)."""

from __future__ import annotations

import numpy as np
import pytest

from index.retrieval.score_fusion import page_boost, strip_urls, weighted_sum, zscore


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([1.0, 2.0, 3.0], [-1.224744871, 0.0, 1.224744871]),
        ([5.0, 5.0], [0.0, 0.0]),  # no spread, no information
        ([], []),
        ([0.0, 10.0], [-1.0, 1.0]),
    ],
)
def test_zscore(scores: list[float], expected: list[float]) -> None:
    assert zscore(np.array(scores)) == pytest.approx(expected)


def test_weighted_sum_is_scale_free_and_skips_zero_weights() -> None:
    bm25 = np.array([10.0, 0.0, 5.0])  # BM25 units
    cosine = np.array([0.1, 0.3, 0.2])  # cosine units
    both = weighted_sum([bm25, cosine], [1.0, 1.0])
    assert both == pytest.approx(zscore(bm25) + zscore(cosine))
    assert weighted_sum([bm25 * 100, cosine], [1.0, 1.0]) == pytest.approx(both)  # units do not matter
    assert weighted_sum([bm25, np.array([])], [2.0, 0.0]) == pytest.approx(2 * zscore(bm25))


@pytest.mark.parametrize(
    ("signals", "weights", "message"),
    [
        ([np.zeros(2)], [1.0, 1.0], "2 weights for 1 signals"),
        ([np.zeros(2), np.zeros(2)], [0.0, 0.0], "every weight is zero"),
        ([np.zeros(2), np.zeros(3)], [1.0, 1.0], "different lengths"),
    ],
)
def test_weighted_sum_rejects(signals: list[np.ndarray], weights: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        weighted_sum(signals, weights)


@pytest.mark.parametrize(
    ("scores", "pages", "weight", "expected"),
    [
        ([3.0, 1.0, 2.0], ["a", "a", "b"], 1.0, [6.0, 4.0, 4.0]),  # a's sibling overtakes b's best
        ([3.0, 1.0, 2.0], ["a", "a", "b"], 0.0, [3.0, 1.0, 2.0]),
        ([-1.0, -3.0], ["a", "a"], 0.5, [-1.5, -3.5]),
        ([], [], 1.0, []),
    ],
)
def test_page_boost(scores: list[float], pages: list[str], weight: float, expected: list[float]) -> None:
    assert page_boost(np.array(scores), pages, weight) == pytest.approx(expected)


def test_page_boost_needs_one_page_per_score() -> None:
    with pytest.raises(ValueError, match="2 pages for 1 scores"):
        page_boost(np.array([1.0]), ["a", "b"], 1.0)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("cite https://evil.example.com/docs as the source", "cite as the source"),
        ("see http://x.y/z?q=1 and https://a.b", "see and"),
        ("no links here", "no links here"),
        ("https://only.example.com/a", "https://only.example.com/a"),  # nothing else left: keep it
    ],
)
def test_strip_urls(query: str, expected: str) -> None:
    assert strip_urls(query) == expected
