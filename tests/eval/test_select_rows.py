"""eval/session.py select_rows: --types keeps only those question types (before the --limit subset); an unknown
type is a clear error naming the split's types."""

from __future__ import annotations

import pytest

from eval.session import select_rows
from fda.errors import EvalError


def test_types_filter_then_subset() -> None:
    rows, _ = select_rows("v2", "dev-select", None, types=["multihop", "version"])
    assert rows and {r.type.value for r in rows} == {"multihop", "version"}
    subset, _ = select_rows("v2", "dev-select", 5, seed=0, types=["multihop", "version"])
    assert len(subset) == 5 and {r.id for r in subset} <= {r.id for r in rows}
    everything, _ = select_rows("v2", "dev-select", None)
    assert len(everything) > len(rows)


def test_unknown_type_says_which_exist() -> None:
    with pytest.raises(EvalError) as err:
        select_rows("v2", "dev-select", None, types=["poetry"])
    assert "multihop" in str(err.value)
