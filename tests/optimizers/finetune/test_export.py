"""The adapter in llama.cpp's LoRA format: names, shapes (as llama-adapter.cpp checks them), metadata."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fda.errors import FinetuneError
from optimizers.finetune.export import export_adapter, gguf_name, read_adapter
from optimizers.finetune.train import LoraConfig, LoraRun
from tests.optimizers.finetune.test_train import EXAMPLES

pytest.importorskip("gguf")
pytest.importorskip("peft")


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", "blk.0.attn_q.weight.lora_a"),
        ("base_model.model.model.layers.11.self_attn.o_proj.lora_B.weight", "blk.11.attn_output.weight.lora_b"),
        ("base_model.model.model.layers.3.mlp.down_proj.lora_A.default.weight", "blk.3.ffn_down.weight.lora_a"),
    ],
)
def test_peft_names_map_to_llama_cpp_tensor_names(key: str, name: str) -> None:
    assert gguf_name(key) == name


def test_an_unmappable_weight_is_refused() -> None:
    with pytest.raises(FinetuneError, match="unexpected adapter weight"):
        gguf_name("base_model.model.lm_head.lora_A.weight")


def test_exported_adapter_has_llama_cpp_shapes_and_metadata(tiny_model: Any, tmp_path: Path) -> None:
    run = LoraRun(tmp_path / "run", LoraConfig(rank=4, alpha=8, epochs=1, bf16=False))
    run.train(tiny_model, EXAMPLES)
    out = export_adapter(run.adapter_dir, tmp_path / "a.gguf")
    meta = read_adapter(out)
    assert (meta["type"], meta["adapter_type"], meta["arch"], meta["alpha"]) == ("adapter", "lora", "qwen2", 8.0)
    tensors = meta["tensors"]
    assert len(tensors) == 2 * 4 * 2  # a and b, 4 projections, 2 layers
    # GGUF dims are reversed: W (out x in) has ne = [in, out]; llama.cpp wants a.ne[0] == in, b.ne[1] == out
    assert tensors["blk.0.attn_q.weight.lora_a"] == [32, 4] and tensors["blk.0.attn_q.weight.lora_b"] == [4, 32]
    assert tensors["blk.1.attn_k.weight.lora_a"] == [32, 4] and tensors["blk.1.attn_k.weight.lora_b"] == [4, 16]


def test_missing_or_broken_adapters_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(FinetuneError, match="fda finetune train"):
        export_adapter(tmp_path / "none", tmp_path / "a.gguf")
    with pytest.raises(FinetuneError, match="fda finetune export"):
        read_adapter(tmp_path / "none.gguf")
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF but not really")
    with pytest.raises(FinetuneError, match="not a GGUF"):
        read_adapter(bad)
