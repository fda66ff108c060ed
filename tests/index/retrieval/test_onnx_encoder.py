"""index/retrieval/onnx_encoder.py: the ONNX Runtime twin of a BERT gives PyTorch's hidden states, is exported once,
is named by its weights, and falls back to PyTorch (None) when it cannot run."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import BertConfig, BertModel

from index.retrieval import onnx_encoder
from index.retrieval.onnx_encoder import onnx_bert, weights_key


def tiny_bert(seed: int = 0) -> BertModel:
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64
    )
    return BertModel(config).eval()


@pytest.mark.parametrize("shape", [(1, 5), (3, 11)])
def test_same_hidden_states_as_pytorch_for_any_batch_and_length(tmp_path: Path, shape: tuple[int, int]) -> None:
    bert = tiny_bert()
    twin = onnx_bert(bert, tmp_path, threads=1)
    assert twin is not None
    ids = torch.randint(1, 100, shape)
    mask = torch.ones_like(ids)
    mask[:, -2:] = 0  # padding at the end, as a batch of different lengths has
    with torch.no_grad():
        expected = bert(input_ids=ids, attention_mask=mask).last_hidden_state
    got = twin(ids, attention_mask=mask)[0]
    assert isinstance(got, torch.Tensor) and got.shape == expected.shape
    np.testing.assert_allclose(got.numpy(), expected.numpy(), atol=1e-5)


def test_exported_once_and_named_by_the_weights(tmp_path: Path) -> None:
    bert = tiny_bert()
    first = onnx_bert(bert, tmp_path, threads=1)
    assert first is not None
    files = list(tmp_path.glob("minilm-*.onnx"))
    assert [f.name for f in files] == [f"minilm-{weights_key(bert)}.onnx"]
    mtime = files[0].stat().st_mtime_ns
    again = onnx_bert(bert, tmp_path, threads=1)
    assert again is not None and again.session is first.session and files[0].stat().st_mtime_ns == mtime

    other = tiny_bert(seed=1)
    assert weights_key(other) != weights_key(bert)
    assert onnx_bert(other, tmp_path, threads=1) is not None
    assert len(list(tmp_path.glob("minilm-*.onnx"))) == 2
    assert not list(tmp_path.glob("*.tmp.onnx"))


def test_a_failed_export_falls_back_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(module: object, path: Path) -> None:
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(onnx_encoder, "export", broken)
    with caplog.at_level(logging.WARNING):
        assert onnx_bert(tiny_bert(seed=2), tmp_path, threads=1) is None
    assert "exporter exploded" in caplog.text and "PyTorch" in caplog.text


def test_missing_onnxruntime_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails
    with caplog.at_level(logging.WARNING):
        assert onnx_bert(tiny_bert(seed=3), tmp_path, threads=1) is None
    assert "onnxruntime is not installed" in caplog.text


def test_dense_encoder_gives_the_same_vectors_on_onnx(tmp_path: Path) -> None:
    from index.retrieval.dense import MiniLMEncoder
    from index.retrieval.layout import default_model_path

    texts = ["How do I enable CORS?", "Declare a BackgroundTasks parameter in the path operation function."]
    plain = MiniLMEncoder(default_model_path())
    fast = MiniLMEncoder(default_model_path(), onnx_dir=tmp_path)
    cosine = np.sum(plain.encode(texts) * fast.encode(texts), axis=1)
    assert cosine == pytest.approx([1.0, 1.0], abs=1e-5)
    assert plain._onnx(False) is None and fast._onnx(False) is not None


def test_int8_copy_is_made_once_from_the_export_and_stays_close(tmp_path: Path) -> None:
    bert = tiny_bert(seed=4)
    fp32 = onnx_bert(bert, tmp_path, threads=1)
    q8 = onnx_bert(bert, tmp_path, threads=1, int8=True)
    assert fp32 is not None and q8 is not None and q8.path.name == f"minilm-{weights_key(bert)}-int8.onnx"
    assert q8.path.stat().st_size < fp32.path.stat().st_size
    assert onnx_bert(bert, tmp_path, threads=1, int8=True).session is q8.session  # type: ignore[union-attr]
    ids = torch.randint(1, 100, (2, 9))
    mask = torch.ones_like(ids)
    a, b = fp32(ids, attention_mask=mask)[0].numpy(), q8(ids, attention_mask=mask)[0].numpy()
    assert not np.allclose(a, b, atol=1e-6)  # really another model ...
    cos = np.sum(a * b, -1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
    assert cos.min() > 0.95  # ... close to the fp32 one
    assert not list(tmp_path.glob("*.tmp.onnx"))


def test_a_failed_quantisation_keeps_fp32_queries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from index.retrieval.dense import MiniLMEncoder
    from index.retrieval.layout import default_model_path

    def broken(src: Path, dst: Path) -> None:
        raise RuntimeError("quantiser exploded")

    monkeypatch.setattr(onnx_encoder, "quantize", broken)
    enc = MiniLMEncoder(default_model_path(), onnx_dir=tmp_path, query_int8=True)
    with caplog.at_level(logging.WARNING):
        query = enc.encode_query("How do I enable CORS?")
    assert "quantiser exploded" in caplog.text
    assert float(query @ enc.encode(["How do I enable CORS?"])[0]) == pytest.approx(1.0, abs=1e-5)


def test_int8_queries_documents_fp32(tmp_path: Path) -> None:
    from index.retrieval.dense import MiniLMEncoder
    from index.retrieval.layout import default_model_path

    queries = ["How do I enable CORS?", "my fields are treated as query parameters and I get 422"]
    plain = MiniLMEncoder(default_model_path())
    fast = MiniLMEncoder(default_model_path(), onnx_dir=tmp_path, query_int8=True)
    q8 = np.stack([fast.encode_query(q) for q in queries])
    assert False not in fast._sessions and True in fast._sessions  # queries alone never open the fp32 model
    ref = plain.encode(queries)
    cosine = np.sum(ref * q8, axis=1)
    assert np.all(cosine > 0.98) and np.all(cosine < 1 - 1e-5)
    assert np.sum(plain.encode(queries) * fast.encode(queries), axis=1) == pytest.approx([1.0, 1.0], abs=1e-5)


def test_int8_documents_use_the_int8_model_and_their_own_index_folder(tmp_path: Path) -> None:
    from index.retrieval import dense
    from index.retrieval.dense import MiniLMEncoder
    from index.retrieval.layout import default_model_path

    docs = ["CORS (Cross-Origin Resource Sharing) ... use CORSMiddleware", "Query parameters with a default value"]
    fp32 = MiniLMEncoder(default_model_path(), onnx_dir=tmp_path).encode(docs)
    fast = MiniLMEncoder(default_model_path(), onnx_dir=tmp_path, doc_int8=True)
    d8 = fast.encode(docs)
    assert True in fast._sessions and False not in fast._sessions  # documents through the int8 model alone
    assert fast.documents_int8() and not MiniLMEncoder(default_model_path(), onnx_dir=tmp_path).documents_int8()
    cosine = np.sum(fp32 * d8, axis=1)
    assert np.all(cosine > 0.97) and np.all(cosine < 1 - 1e-5)
    # an int8-built index is another index: its own folder, and the fp32 one keeps the folder it always had
    spec = dense.spec("c0ffee", default_model_path())
    assert "doc_int8" not in spec and dense.spec("c0ffee", default_model_path(), doc_int8=True) == {
        **spec,
        "doc_int8": True,
    }
