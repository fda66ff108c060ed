"""The LoRA loop on a tiny random Qwen2: it learns, it scores only the target, it resumes exactly."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from fda.errors import FinetuneError
from optimizers.finetune.base import Encoded
from optimizers.finetune.train import LoraConfig, LoraRun, lr_at, order, target_loss
from tests.optimizers.finetune.conftest import make_tiny_model

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

EXAMPLES = [
    Encoded([5, 6, 7, 8, 9, 10, 11, 12, 20, 21, 22], 8),
    Encoded([5, 6, 7, 13, 14, 15, 30, 31, 32, 33], 6),
    Encoded([5, 6, 16, 17, 18, 40, 41], 5),
]


def config(**kw: Any) -> LoraConfig:
    return LoraConfig(**({"rank": 4, "alpha": 8, "learning_rate": 1e-2, "epochs": 6, "bf16": False,
                          "checkpoint_every": 2} | kw))  # fmt: skip


def adapter_weights(run: LoraRun) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(str(run.adapter_dir / "adapter_model.safetensors"))


def test_order_is_a_seeded_permutation_per_epoch() -> None:
    steps = order(5, 3, seed=7)
    assert len(steps) == 15 and all(sorted(steps[i : i + 5]) == list(range(5)) for i in (0, 5, 10))
    assert steps == order(5, 3, seed=7) and steps != order(5, 3, seed=8)


def test_learning_rate_warms_up_then_decays_to_a_tenth() -> None:
    rates = [lr_at(s, 100, 1.0, 0.1) for s in range(100)]
    assert rates[0] == pytest.approx(0.1) and rates[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in itertools.pairwise(rates[10:])) and rates[-1] == pytest.approx(0.1, abs=0.01)


def test_the_loss_is_the_targets_alone(tiny_model: Any) -> None:
    ex = EXAMPLES[0]
    ids = torch.tensor([ex.ids])
    full = tiny_model(input_ids=ids).logits[0]
    manual = torch.nn.functional.cross_entropy(full[ex.start - 1 : -1], ids[0, ex.start :])
    assert float(target_loss(tiny_model, ex, torch).detach()) == pytest.approx(float(manual), rel=1e-4)


def test_training_lowers_the_target_loss_and_saves_an_adapter(tiny_model: Any, tmp_path: Path) -> None:
    run = LoraRun(tmp_path / "run", config(learning_rate=3e-2, epochs=6))
    seen: list[tuple[int, int]] = []
    result = run.train(tiny_model, EXAMPLES, progress=lambda step, total, loss: seen.append((step, total)))
    assert result.steps == 18 and seen[-1] == (18, 18)
    assert result.mean_loss_last < result.mean_loss_first * 0.5
    assert (run.adapter_dir / "adapter_config.json").is_file() and adapter_weights(run)
    logged = [json.loads(line) for line in (tmp_path / "run" / "losses.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logged] == list(range(18))


def test_an_interrupted_run_resumes_to_the_same_adapter(tmp_path: Path) -> None:
    fresh = make_tiny_model
    whole = LoraRun(tmp_path / "whole", config())
    whole.train(fresh(), EXAMPLES)

    def stop_at_5(step: int, total: int, loss: float) -> None:
        if step == 5:
            raise KeyboardInterrupt

    broken = LoraRun(tmp_path / "broken", config())
    with pytest.raises(KeyboardInterrupt):
        broken.train(fresh(), EXAMPLES, progress=stop_at_5)
    assert not broken.adapter_dir.exists()  # checkpointed at step 4, not finished
    resumed: list[int] = []
    LoraRun(tmp_path / "broken", config()).train(fresh(), EXAMPLES, progress=lambda s, t, v: resumed.append(s))
    assert resumed[0] == 5  # steps 1-4 came from the checkpoint
    a, b = adapter_weights(whole), adapter_weights(broken)
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def test_another_config_in_the_same_folder_is_refused(tiny_model: Any, tmp_path: Path) -> None:
    LoraRun(tmp_path / "run", config(epochs=1)).train(tiny_model, EXAMPLES)
    with pytest.raises(FinetuneError, match="differs in rank"):
        LoraRun(tmp_path / "run", config(epochs=1, rank=2)).train(tiny_model, EXAMPLES)


def test_a_corrupt_checkpoint_says_what_to_do(tiny_model: Any, tmp_path: Path) -> None:
    run = LoraRun(tmp_path / "run", config())
    run.check_config()
    (tmp_path / "run" / "trainer.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(FinetuneError, match="cannot be read"):
        run.train(tiny_model, EXAMPLES)


def test_examples_over_the_token_limit_are_left_out_and_counted(tiny_model: Any, tmp_path: Path) -> None:
    result = LoraRun(tmp_path / "run", config(epochs=1, max_tokens=10)).train(tiny_model, EXAMPLES)
    assert result.left_out == 1 and result.steps == 2
    with pytest.raises(FinetuneError, match="no example fits"):
        LoraRun(tmp_path / "run2", config(epochs=1, max_tokens=3)).train(tiny_model, EXAMPLES)


@pytest.mark.parametrize(
    ("flags", "native"),
    [
        ("fpu sse2 avx2 fma", False),  # AVX2 only: torch would emulate bf16, far slower than fp32
        ("fpu avx2 avx512f avx512_bf16", True),
        ("fpu avx2 amx_bf16 amx_tile", True),
    ],
)
def test_bf16_is_the_default_only_where_the_cpu_has_it(flags: str, native: bool) -> None:
    from optimizers.finetune.train import cpu_has_bf16

    assert cpu_has_bf16(f"processor\t: 0\nflags\t\t: {flags}\n\nprocessor\t: 1\nflags\t\t: {flags}\n") is native
