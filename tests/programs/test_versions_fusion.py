import pytest

from programs.fusion import rrf
from programs.versions import versions_in_question
from tests.programs.conftest import PASSAGES

AVAILABLE = ["0.68.0", "0.100.0", "0.141.1"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("How did dependency injection change between 0.68 and 0.100?", ["0.68.0", "0.100.0"]),
        ("What changed since FastAPI 0.68?", ["0.68.0", "0.141.1"]),
        ("In version 0.100.0 how do I use pattern?", ["0.100.0", "0.141.1"]),
        ("How do I enable CORS?", []),
        ("Is 0.95 supported?", []),  # not ingested
        ("latest 0.141.1 docs", ["0.141.1"]),
    ],
)
def test_versions_in_question(q: str, expected: list[str]) -> None:
    assert versions_in_question(q, AVAILABLE, "0.141.1") == expected


def test_rrf_fuses_and_rescores() -> None:
    a, b, c = PASSAGES[:3]
    fused = rrf([[a, b], [b, c]])
    assert [p.chunk_id for p in fused] == ["c-mw", "c-cors", "c-bg"]
    assert fused[0].score == pytest.approx(1 / 62 + 1 / 61)
    assert rrf([[a, b, c]], limit=2) == [a.model_copy(update={"score": 1 / 61}), b.model_copy(update={"score": 1 / 62})]
    assert rrf([]) == []
