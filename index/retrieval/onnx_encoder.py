"""The MiniLM transformer on ONNX Runtime: the same hidden states as PyTorch, about twice as fast on CPU.

Query encoding is most of a neural search's time (docs/benchmarks.md, "Retrieval latency"): one MiniLM pass
of ~30 tokens took 15-16 ms with PyTorch on one thread and 8 ms with ONNX Runtime (cosine of the two
vectors 1.0000). Both the dense encoder and ColBERT's query encoder run the packaged MiniLM with the same
weights (the ColBERT checkpoint trains only its projection), so one exported file and one session serve both.

    bert = onnx_bert(torch_bert_model, cache_dir)   # None when ONNX Runtime cannot be used: keep PyTorch
    hidden = bert(input_ids, attention_mask=mask)[0]

The file is exported on first use into ``cache_dir`` (``state/models/onnx/``), named by a hash of the
weights, so a different model or checkpoint never reuses a stale export.

``onnx_bert(..., int8=True)`` runs a copy with int8 weights instead (ONNX Runtime's dynamic quantisation,
per output channel; quantised from the fp32 export once, ~2 s): queries encode ~2x faster again (one
~30-token pass 9.5 -> 4.4 ms on one thread) and their vectors keep cosine >= 0.99 to the fp32 ones (mean
0.994 over the gold questions; per-tensor quantisation kept only 0.96). The encoders use it for queries, and the
dense index for documents too with ``retrieval.doc_int8`` (its own index folder; ColBERT's documents stay fp32;
docs/benchmarks.md).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

OPSET = 17
FORMAT = "minilm-onnx-v1"  # bump when the export changes
_sessions: dict[tuple[Path, int], Any] = {}
_lock = threading.Lock()


def weights_key(module: Any) -> str:
    """sha256 over every parameter and buffer (names, shapes, bytes) and the export format."""
    import torch

    h = hashlib.sha256(FORMAT.encode())
    state = module.state_dict()
    for name in sorted(state):
        t = state[name]
        if not isinstance(t, torch.Tensor):
            continue
        h.update(name.encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def export(module: Any, path: Path) -> None:
    """``module`` (a transformers BertModel) -> ONNX with inputs ``input_ids``, ``attention_mask`` (dynamic batch
    and length) and one output, the last hidden state. Written to a temporary name, then renamed."""
    import torch

    class Hidden(torch.nn.Module):
        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    ids = torch.ones((1, 8), dtype=torch.long)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.onnx")
    axes = {0: "batch", 1: "tokens"}
    try:
        with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about Python values in the mask code: expected
            torch.onnx.export(
                Hidden(module).eval(),
                (ids, torch.ones_like(ids)),
                str(tmp),
                input_names=["input_ids", "attention_mask"],
                output_names=["last_hidden_state"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
                opset_version=OPSET,
                dynamo=False,
            )
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


class OnnxBert:
    """Drop-in for a BertModel's call in the encoders: ``bert(input_ids, attention_mask=...)[0]`` is the last
    hidden state as a torch tensor. Thread-safe (ONNX Runtime sessions are)."""

    def __init__(self, session: Any, path: Path) -> None:
        self.session = session
        self.path = path

    def __call__(self, input_ids: Any, attention_mask: Any = None, **_: Any) -> tuple[Any]:
        import numpy as np
        import torch

        ids = np.asarray(input_ids.cpu().numpy() if hasattr(input_ids, "cpu") else input_ids, dtype=np.int64)
        if attention_mask is None:
            mask = np.ones_like(ids)
        else:
            mask = np.asarray(
                attention_mask.cpu().numpy() if hasattr(attention_mask, "cpu") else attention_mask, dtype=np.int64
            )
        (hidden,) = self.session.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask})
        return (torch.from_numpy(hidden),)


def quantize(src: Path, dst: Path) -> None:
    """``src`` (an fp32 export) -> ``dst`` with int8 weights, per output channel (dynamic quantisation:
    activations are quantised at run time). Written to a temporary name, then renamed."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = dst.with_name(f"{dst.stem}.{os.getpid()}.tmp.onnx")
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # it advises "pre-processing" through the root logger on every call
    try:
        quantize_dynamic(str(src), str(tmp), weight_type=QuantType.QInt8, per_channel=True, reduce_range=False)
        tmp.replace(dst)
    finally:
        root.setLevel(level)
        tmp.unlink(missing_ok=True)


def onnx_bert(module: Any, cache_dir: Path, threads: int | None = None, int8: bool = False) -> OnnxBert | None:
    """An ONNX Runtime twin of ``module`` (exported once into ``cache_dir``; with ``int8``, its int8-weight
    copy, or the fp32 twin, with a warning, when that copy cannot be made or loaded), or None, with a
    warning, when ONNX Runtime is missing or the export or load fails (callers keep PyTorch then)."""
    try:
        import onnxruntime as ort
        import torch
    except ImportError as err:
        log.warning("onnxruntime is not installed (%s): encoding with PyTorch (about 2x slower)", err)
        return None
    threads = threads or torch.get_num_threads()
    try:
        key = weights_key(module)
        fp32 = cache_dir / f"minilm-{key}.onnx"
        path = cache_dir / f"minilm-{key}-int8.onnx" if int8 else fp32
        with _lock:
            if (path, threads) in _sessions and path.is_file():
                return OnnxBert(_sessions[(path, threads)], path)
            if not fp32.is_file():
                log.info("exporting the MiniLM encoder to ONNX: %s (once)", fp32)
                export(module, fp32)
            if int8:
                try:
                    if not path.is_file():
                        log.info("quantising the MiniLM encoder to int8: %s (once)", path)
                        quantize(fp32, path)
                    return OnnxBert(_session(ort, path, threads), path)
                except Exception as err:  # the fp32 twin is still ~2x faster than PyTorch
                    log.warning("int8 MiniLM unavailable (%s: %s): using the fp32 ONNX model", type(err).__name__, err)
                    path = fp32
            return OnnxBert(_session(ort, path, threads), path)
    except Exception as err:  # a broken export or runtime must not take search down: PyTorch still works
        log.warning("ONNX Runtime unavailable for the MiniLM encoder (%s: %s): using PyTorch", type(err).__name__, err)
        return None


def _session(ort: Any, path: Path, threads: int) -> Any:
    """Open ``path`` once per thread count (the caller holds ``_lock``)."""
    if (path, threads) not in _sessions:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        _sessions[(path, threads)] = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return _sessions[(path, threads)]
