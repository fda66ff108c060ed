"""A peft LoRA adapter -> llama.cpp's LoRA adapter GGUF, so the embedded server applies it to the quantised base.

    export_adapter(run.adapter_dir, Path("data/adapters/qwen2.5-coder-0.5b-fda.gguf"), arch="qwen2")

llama.cpp's format (its ``convert_lora_to_gguf.py``, read by ``llama-adapter.cpp``): metadata
``general.type = adapter``, ``adapter.type = lora``, ``adapter.lora.alpha``; per adapted weight two tensors named
after the base tensor, ``<name>.lora_a`` (peft's ``lora_A``, rank x in) and ``<name>.lora_b`` (``lora_B``,
out x rank), stored as they are (GGUF reverses the dimensions, so ``a.ne[0] == W.ne[0]`` and
``b.ne[1] == W.ne[1]``, as llama.cpp checks). The scale llama.cpp applies is alpha / rank, as peft's.
Qwen2's attention weights are not permuted between the HF and GGUF layouts, so no reordering is needed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from fda.errors import FinetuneError

# peft module path (layer, HF name) -> llama.cpp tensor name
HF_TO_GGUF = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
KEY = re.compile(
    r"layers\.(\d+)\.(self_attn\.[qkvo]_proj|mlp\.(?:gate|up|down)_proj)\.lora_([AB])(?:\.default)?\.weight$"
)


def gguf_name(key: str) -> str:
    """``base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight`` -> ``blk.3.attn_q.weight.lora_a``."""
    match = KEY.search(key)
    if match is None:
        raise FinetuneError(f"unexpected adapter weight {key!r}", hint="Only attention and MLP projections map.")
    layer, module, side = match.groups()
    return f"blk.{layer}.{HF_TO_GGUF[module]}.weight.lora_{side.lower()}"


def read_peft(adapter_dir: Path) -> tuple[dict[str, Any], float]:
    """(weights by peft key, lora_alpha) of a saved peft adapter."""
    config = adapter_dir / "adapter_config.json"
    weights = adapter_dir / "adapter_model.safetensors"
    if not config.is_file() or not weights.is_file():
        raise FinetuneError(f"no peft adapter in {adapter_dir}", hint="Train one first: `fda finetune train`.")
    from safetensors.numpy import load_file

    alpha = float(json.loads(config.read_text(encoding="utf-8"))["lora_alpha"])
    return load_file(str(weights)), alpha


def export_adapter(adapter_dir: Path, out: Path, *, arch: str = "qwen2", dtype: str = "f16") -> Path:
    """Write the adapter as a llama.cpp LoRA GGUF at ``out`` (atomically); return ``out``."""
    import gguf
    import numpy as np

    weights, alpha = read_peft(adapter_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    writer = gguf.GGUFWriter(str(tmp), arch=arch)
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", alpha)
    np_dtype = np.float16 if dtype == "f16" else np.float32
    for key in sorted(weights):
        writer.add_tensor(gguf_name(key), np.ascontiguousarray(weights[key].astype(np_dtype)))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tmp.replace(out)
    return out


def read_adapter(path: Path) -> dict[str, Any]:
    """The metadata and tensor shapes of an adapter GGUF (what ``fda models list`` and the tests check)."""
    import gguf

    if not path.is_file():
        raise FinetuneError(f"no adapter at {path}", hint="Export one: `fda finetune export`.")
    try:
        reader = gguf.GGUFReader(str(path))
    except (ValueError, OSError) as err:
        raise FinetuneError(f"{path} is not a GGUF file ({err})", hint="Export it again.") from err

    def text(name: str) -> str | None:
        field = reader.fields.get(name)
        return bytes(field.parts[field.data[0]]).decode("utf-8") if field is not None else None

    alpha_field = reader.fields.get("adapter.lora.alpha")
    alpha = float(alpha_field.parts[alpha_field.data[0]][0]) if alpha_field is not None else None
    return {
        "type": text("general.type"),
        "adapter_type": text("adapter.type"),
        "arch": text("general.architecture"),
        "alpha": alpha,
        "tensors": {t.name: [int(x) for x in t.shape] for t in reader.tensors},
    }
