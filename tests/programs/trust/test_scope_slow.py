"""The committed scope model (data/scope/) with the real MiniLM: what it was trained to do, and that
`fda scope train` reproduces it (slow tier: loads the encoder, encodes ~4,000 questions)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.retrieval.dense import MiniLMEncoder, model_id
from index.retrieval.layout import default_model_path
from optimizers.scope import train_scope
from programs.trust.checks import SCOPE_MODEL
from programs.trust.scope import ScopeGate, ScopeModel

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def encoder() -> MiniLMEncoder:
    """The query encoder the gate is trained and served with: the dense retriever's (int8 ONNX with the default
    settings, index/retrieval/factory.py), built without opening an index. The fp32 PyTorch encoder gives other p
    near the threshold (0.1531 against 0.1819 for v5), so it cannot check that training reproduces the model."""
    from fda.settings import get_settings

    s = get_settings()
    rs = s.retrieval
    onnx_dir = s.state_dir / "models" / "onnx" if rs.onnx else None
    return MiniLMEncoder(default_model_path(), onnx_dir=onnx_dir, query_int8=rs.query_int8)


def test_committed_model_declines_off_topic_and_keeps_fastapi(encoder: MiniLMEncoder) -> None:
    gate = ScopeGate(encoder, ScopeModel.load(SCOPE_MODEL))
    for q in ["Write me a poem about autumn", "Who won the 2018 FIFA World Cup?", "How do I center a div in CSS?"]:
        assert not gate.check(q).in_scope, q
    for q in ["How do I enable CORS?", "my uvicorn workers die with 502 behind nginx", "422 on my POST body"]:
        assert gate.check(q).in_scope, q


def test_training_reproduces_the_committed_model(encoder: MiniLMEncoder, tmp_path: Path) -> None:
    committed = ScopeModel.load(SCOPE_MODEL)
    fresh = train_scope(encoder, encoder_id=model_id(default_model_path()), out=tmp_path / "model.json")
    assert fresh.threshold == pytest.approx(committed.threshold, abs=0.02)
    assert float(np.corrcoef(fresh.weights, committed.weights)[0, 1]) > 0.99
    # the cap: at most max_over_refusal of dev-select's answerable rows and the real `cal` questions, pooled
    dev, cal = fresh.info["dev_select"], fresh.info["calibration"]
    declined = round(dev["over_refusal"] * dev["answerable"]) + cal["declined"]
    assert cal["n"] > 150 and declined <= fresh.info["max_over_refusal"] * (dev["answerable"] + cal["n"])
