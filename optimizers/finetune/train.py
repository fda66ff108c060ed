"""LoRA training on CPU: a plain PyTorch loop over peft's LoRA layers, resumable, one example a step.

    run = LoraRun(run_dir, LoraConfig(rank=8, epochs=2))
    adapter_dir = run.train(model, encoded_examples, progress=lambda step, total, loss: ...)

- **Loss on the target only**: the prompt (instructions, question, sources) is context; only the completion's
  tokens (and the end of turn) are scored, and only their logits are computed (``logits_to_keep``), which
  skips most of the 151k-wide output layer.
- **bf16 autocast** where the CPU has it (``cpu_has_bf16``: AMX / AVX-512 BF16; on such a box ~6 s a step at
  1,000 tokens for the 0.5B against ~10 s in fp32, measured); the LoRA weights and the optimizer stay fp32. On a
  CPU without it (AVX2 only) torch emulates bf16 and a run made no step in 10 minutes (session 25): fp32 there.
- **Resumable**: every ``checkpoint_every`` steps the adapter, the optimizer, the schedule and the position go
  to ``run_dir`` (written to a temporary name, then renamed); a new start with the same config continues from
  there. Another config in the same folder is refused (start a new run name).
- **Deterministic** given the seed: the example order of each epoch is a seeded shuffle.
"""

from __future__ import annotations

import json
import logging
import math
import pickle
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fda.errors import FinetuneError
from optimizers.finetune.base import Encoded

log = logging.getLogger(__name__)

TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj")
STATE = "trainer.pt"
CONFIG = "config.json"
ADAPTER = "adapter"
LOSSES = "losses.jsonl"


def cpu_flags(cpuinfo: str | None = None) -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (or the text given); empty where that cannot be read."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return frozenset()
    return frozenset(
        f for line in cpuinfo.splitlines() if line.startswith("flags") for f in line.split(":", 1)[-1].split()
    )


def cpu_has_bf16(cpuinfo: str | None = None) -> bool:
    """Does this CPU do bf16 natively (AMX or AVX-512 BF16, from /proc/cpuinfo's flags)? False where that cannot be
    read: fp32 is slower on a bf16 CPU, emulated bf16 far slower on one without."""
    return bool(cpu_flags(cpuinfo) & {"avx512_bf16", "amx_bf16"})


@dataclass(frozen=True)
class LoraConfig:
    rank: int = 8
    alpha: int = 16
    targets: tuple[str, ...] = TARGET_MODULES
    learning_rate: float = 2e-4
    epochs: int = 2
    warmup: float = 0.05  # share of the steps with a linear warm-up
    max_tokens: int = 2048  # longer examples are left out (and counted), not cut
    seed: int = 0
    bf16: bool = field(default_factory=lambda: cpu_has_bf16())  # native bf16 only: emulated is far slower
    checkpoint_every: int = 20

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "targets": list(self.targets)}


@dataclass(frozen=True)
class TrainResult:
    adapter_dir: Path
    steps: int
    seconds: float
    mean_loss_first: float  # mean target loss over the first epoch's steps
    mean_loss_last: float  # over the last epoch's
    left_out: int  # examples over max_tokens


Progress = Callable[[int, int, float], None]


def order(n: int, epochs: int, seed: int) -> list[int]:
    """The example index of every step: each epoch a seeded shuffle of 0..n-1."""
    steps: list[int] = []
    for epoch in range(epochs):
        idx = list(range(n))
        random.Random(seed * 1000 + epoch).shuffle(idx)
        steps.extend(idx)
    return steps


def lr_at(step: int, total: int, peak: float, warmup: float) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    warm = max(1, int(total * warmup))
    if step < warm:
        return peak * (step + 1) / warm
    done = (step - warm) / max(1, total - warm)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, done))))


def target_loss(model: Any, example: Encoded, torch: Any) -> Any:
    """Mean cross-entropy over the example's target tokens (prompt tokens carry no loss)."""
    ids = torch.tensor([example.ids])
    keep = example.target_tokens + 1
    out = model(input_ids=ids, logits_to_keep=keep)
    logits = out.logits[0, :-1].float()  # positions start-1 .. end-2 predict start .. end-1
    labels = ids[0, example.start :]
    return torch.nn.functional.cross_entropy(logits, labels)


class LoraRun:
    """One training run's folder: config, checkpoints, loss log, and the adapter when done."""

    def __init__(self, run_dir: Path, config: LoraConfig) -> None:
        self.dir = run_dir
        self.config = config

    @property
    def adapter_dir(self) -> Path:
        return self.dir / ADAPTER

    def check_config(self) -> None:
        path = self.dir / CONFIG
        if path.is_file():
            before = json.loads(path.read_text(encoding="utf-8"))
            if before != self.config.to_json():
                changed = sorted(k for k in before if before.get(k) != self.config.to_json().get(k))
                raise FinetuneError(
                    f"{self.dir} holds a run with another config (differs in {', '.join(changed)})",
                    hint="Resume with the same options, or give the new run another --name.",
                )
        self.dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.config.to_json(), indent=2) + "\n", encoding="utf-8")

    def train(self, model: Any, examples: Sequence[Encoded], *, progress: Progress | None = None) -> TrainResult:
        import torch
        from peft import LoraConfig as PeftLoraConfig
        from peft import get_peft_model, set_peft_model_state_dict

        cfg = self.config
        self.check_config()
        kept = [e for e in examples if len(e.ids) <= cfg.max_tokens and e.target_tokens > 0]
        if not kept:
            raise FinetuneError("no example fits max_tokens", hint="Raise --max-tokens or rebuild the data.")
        torch.manual_seed(cfg.seed)
        peft_cfg = PeftLoraConfig(
            r=cfg.rank, lora_alpha=cfg.alpha, target_modules=list(cfg.targets), lora_dropout=0.0, bias="none",
            task_type="CAUSAL_LM",
        )  # fmt: skip
        model = get_peft_model(model, peft_cfg)
        params = [p for p in model.parameters() if p.requires_grad]
        optim = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=0.0)
        steps = order(len(kept), cfg.epochs, cfg.seed)
        start = 0
        state_path = self.dir / STATE
        if state_path.is_file():
            try:
                state = torch.load(state_path, weights_only=True)
                set_peft_model_state_dict(model, state["adapter"])
                optim.load_state_dict(state["optimizer"])
                start = int(state["step"])
            except (RuntimeError, KeyError, EOFError, ValueError, pickle.UnpicklingError) as err:
                raise FinetuneError(
                    f"the checkpoint {state_path} cannot be read ({err})",
                    hint="Delete it to start the run again, or use another --name.",
                ) from err
            log.info("resuming %s at step %d of %d", self.dir.name, start, len(steps))
        model.train()
        began = time.monotonic()
        losses_path = self.dir / LOSSES
        with losses_path.open("a", encoding="utf-8") as losses:
            for step in range(start, len(steps)):
                for group in optim.param_groups:
                    group["lr"] = lr_at(step, len(steps), cfg.learning_rate, cfg.warmup)
                t0 = time.monotonic()
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
                    loss = target_loss(model, kept[steps[step]], torch)
                loss.backward()
                optim.step()
                optim.zero_grad(set_to_none=True)
                value = float(loss.detach())
                losses.write(json.dumps({"step": step, "example": steps[step], "loss": round(value, 5),
                                         "tokens": len(kept[steps[step]].ids),
                                         "seconds": round(time.monotonic() - t0, 3)}) + "\n")  # fmt: skip
                losses.flush()
                if (step + 1) % cfg.checkpoint_every == 0 and step + 1 < len(steps):
                    self._checkpoint(model, optim, step + 1, torch)
                if progress is not None:
                    progress(step + 1, len(steps), value)
        model.save_pretrained(str(self.adapter_dir))
        self._checkpoint(model, optim, len(steps), torch)
        first, last = epoch_means(losses_path, len(kept), cfg.epochs)
        return TrainResult(self.adapter_dir, len(steps), time.monotonic() - began, first, last,
                           len(examples) - len(kept))  # fmt: skip

    def _checkpoint(self, model: Any, optim: Any, step: int, torch: Any) -> None:
        from peft import get_peft_model_state_dict

        tmp = self.dir / (STATE + ".tmp")
        torch.save({"adapter": get_peft_model_state_dict(model), "optimizer": optim.state_dict(), "step": step}, tmp)
        tmp.replace(self.dir / STATE)


def epoch_means(losses_path: Path, per_epoch: int, epochs: int) -> tuple[float, float]:
    """Mean loss of the first and of the last epoch, from the loss log (the last entry of each step wins)."""
    by_step: dict[int, float] = {}
    for line in losses_path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        by_step[int(row["step"])] = float(row["loss"])

    def mean(lo: int, hi: int) -> float:
        vals = [v for s, v in by_step.items() if lo <= s < hi]
        return sum(vals) / len(vals) if vals else float("nan")

    return mean(0, per_epoch), mean((epochs - 1) * per_epoch, epochs * per_epoch)
