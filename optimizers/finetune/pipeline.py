"""The fine-tuning stages end to end: data from the served program's prompts, a LoRA run, the adapter served.

    fda finetune data                  # gold v2 train -> state/finetune/data/gold-v2-train.jsonl + its manifest
    fda finetune train --name r8       # LoRA on the 0.5B, resumable -> state/finetune/runs/r8/adapter
    fda finetune export --run r8       # -> data/adapters/qwen2.5-coder-0.5b-fda.gguf + .json: local:qwen2.5-coder-0.5b-fda

Each stage reads only what the previous one wrote, so each can be rerun alone (docs/finetune.md).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval.gold import GoldQuestion
from eval.results_export import META_SUFFIX, RESULTS_DIR
from fda.errors import FinetuneError
from fda.lm.registry import ModelSpec
from fda.settings import Settings
from optimizers.finetune.dataset import (
    DATASET_MANIFESTS,
    Example,
    build_dataset,
    dataset_path,
    read_dataset,
    write_dataset,
)
from optimizers.finetune.records import RecordingLM, record
from optimizers.finetune.targets import TeacherAnswer
from optimizers.finetune.train import LoraConfig, LoraRun, TrainResult

REPO = Path(__file__).resolve().parents[2]


def finetune_dir(s: Settings) -> Path:
    return s.state_dir / "finetune"


def load_examples(s: Settings, data: str) -> list[Example]:
    """A data set of ``fda finetune data``, checked against its committed manifest's hash."""
    return read_dataset(dataset_path(finetune_dir(s) / "data", data), DATASET_MANIFESTS / f"{data}.manifest.json")


def load_base_model(s: Settings, base: str) -> tuple[ModelSpec, Any, Any]:
    """(spec, model, tokenizer) of a registered embedded model, its file assembled first. An adapted model is
    refused: its file is its base's, so the adapter would silently be missing."""
    from fda.lm.assemble import assemble
    from fda.lm.registry import get_spec
    from optimizers.finetune.base import load_base

    spec = get_spec(base)
    if spec.base is not None:
        raise FinetuneError(f"{base} is already an adapted model", hint=f"Name its base, {spec.base}.")
    model, tokenizer = load_base(assemble(spec, s.state_dir / "models"))
    return spec, model, tokenizer


SPLITS = ("train", "dev-select")  # train to learn from, dev-select for a held-out loss; never dev-confirm or test


def split_rows(gold: str = "v2", split: str = "train") -> list[GoldQuestion]:
    """A gold split the fine-tuning may read: train, or dev-select for the held-out loss (``check_split`` refuses a
    row of any other split; the sealed test and dev-confirm are refused by name)."""
    from eval.gold import load_gold
    from optimizers.examples import check_split

    if split not in SPLITS:
        raise FinetuneError(
            f"fine-tuning data may come from {' or '.join(SPLITS)}, not {split!r}",
            hint="dev-confirm checks a choice once; the test split is sealed (docs/evaluation.md).",
        )
    rows = load_gold(gold, split=split)  # type: ignore[arg-type]
    check_split(rows, split)  # type: ignore[arg-type]
    if not rows:
        raise FinetuneError(f"gold {gold} has no {split} rows", hint="Check data/gold/ (`fda gold validate`).")
    return rows


def make_data(
    s: Settings,
    *,
    name: str,
    gold: str = "v2",
    split: str = "train",
    backend: str | None = None,
    distil_from: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Path, Path, dict[str, Any]]:
    """Record the served rag program's answer prompts for every row of ``split`` and pair them with their targets;
    with ``distil_from`` (an exported eval run of the rag program on the same split), the answerable rows' targets
    are that run's answers where they pass the metric (``targets.distilled_target``)."""
    from eval.programs import build_program
    from eval.session import open_retriever
    from index.ingest.store import ingested_versions
    from programs.trust.checks import checks_for

    rows = split_rows(gold, split)
    teacher = teacher_answers(distil_from, split) if distil_from else None
    backend = backend or s.retrieval.backend
    retriever = open_retriever(backend, s)
    lm = RecordingLM()
    program = build_program(
        "rag", retriever, lm=lm, versions=ingested_versions(s.db_path), latest=s.corpus.latest_version or None,
        config=s.answer, checks=checks_for(s, retriever),
    )  # fmt: skip
    examples, manifest = build_dataset(
        rows, lambda row: record(program, lm, row.question), name=name, teacher=teacher, progress=progress
    )
    if not examples:
        raise FinetuneError("no training example could be made", hint="Check the index (`fda index`) and gold v2.")
    manifest.update(
        gold=gold, split=split, backend=backend, program="rag", git_sha=git_sha(),
        command=f"fda finetune data --name {name} --split {split} --backend {backend}"
        + (f" --distil-from {distil_from}" if distil_from else ""),
        created=datetime.now(UTC).isoformat(timespec="seconds"), distilled_from=distil_from,
    )  # fmt: skip
    data, written = write_dataset(examples, manifest, finetune_dir(s) / "data", DATASET_MANIFESTS)
    return data, written, json.loads(written.read_text(encoding="utf-8"))


def teacher_answers(run: str, split: str, results: Path = RESULTS_DIR) -> dict[str, TeacherAnswer]:
    """Question id -> answer of an exported eval run (``fda eval export RUN`` writes ``eval/results/RUN.jsonl``),
    refused unless it is a run of the rag program on ``split`` (its answers were made from the prompts recorded
    here)."""
    path = results / f"{run}.jsonl"
    meta_path = results / f"{run}{META_SUFFIX}"
    if not path.is_file() or not meta_path.is_file():
        raise FinetuneError(f"no exported eval run {run!r} in {results}", hint=f"Export it: `fda eval export {run}`.")
    meta = json.loads(meta_path.read_text(encoding="utf-8")).get("meta", {})
    if meta.get("program") != "rag" or meta.get("split") != split:
        raise FinetuneError(
            f"run {run!r} is {meta.get('program')} on {meta.get('split')}; distilling needs the rag program on {split}",
            hint=f"Run `fda eval --program rag --gold v2 --split {split} --no-judge`, then export it.",
        )
    out: dict[str, TeacherAnswer] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record_ = json.loads(line)
            out[str(record_["question_id"])] = TeacherAnswer.from_record(record_)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
            raise FinetuneError(f"{path}:{n} is not an eval row ({err})", hint="Export the run again.") from err
    return out


def subset(examples: Sequence[Example], limit: int | None, seed: int) -> list[Example]:
    """``limit`` examples, a seeded random draw (for the data-size ablation); all when no limit."""
    if limit is None or limit >= len(examples):
        return list(examples)
    idx = sorted(random.Random(seed).sample(range(len(examples)), limit))
    return [examples[i] for i in idx]


def train(
    s: Settings,
    *,
    data: str,
    run: str,
    base: str,
    config: LoraConfig,
    limit: int | None = None,
    progress: Callable[[int, int, float], None] | None = None,
    on_loaded: Callable[[float], None] | None = None,
) -> tuple[TrainResult, dict[str, Any]]:
    """Train a LoRA run on a data set; the run's folder keeps its config, checkpoints and a ``run.json``."""
    from optimizers.finetune.base import encode

    manifest_path = DATASET_MANIFESTS / f"{data}.manifest.json"
    examples = subset(load_examples(s, data), limit, config.seed)
    t0 = time.monotonic()
    spec, model, tokenizer = load_base_model(s, base)
    loaded = time.monotonic() - t0
    if on_loaded is not None:
        on_loaded(loaded)
    encoded = [encode(tokenizer, e.messages, e.completion) for e in examples]
    lora = LoraRun(finetune_dir(s) / "runs" / run, config)
    result = lora.train(model, encoded, progress=progress)
    info = {
        "run": run, "base": spec.name, "base_sha256": spec.sha256, "data": data,
        "data_sha256": json.loads(manifest_path.read_text(encoding="utf-8")).get("sha256") if manifest_path.is_file() else None,
        "examples": len(examples), "left_out": result.left_out, "steps": result.steps, "config": config.to_json(),
        "load_seconds": round(loaded, 1), "train_seconds": round(result.seconds, 1),
        "mean_loss_first_epoch": round(result.mean_loss_first, 4), "mean_loss_last_epoch": round(result.mean_loss_last, 4),
        "tokens_mean": round(sum(len(e.ids) for e in encoded) / len(encoded)), "git_sha": git_sha(),
    }  # fmt: skip
    (lora.dir / "run.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return result, info


def held_out_loss(
    s: Settings, *, data: str, base: str, run: str | None = None, progress: Callable[[int, int], None] | None = None
) -> dict[str, Any]:
    """Mean target loss (per token, and per example) of ``base`` (with ``run``'s adapter when given) on a data set:
    the cheap way to compare runs (rank, examples, steps) before an eval with the LM."""
    import torch

    from optimizers.finetune.base import encode
    from optimizers.finetune.train import target_loss

    examples = load_examples(s, data)
    _, model, tokenizer = load_base_model(s, base)
    if run is not None:
        from peft import PeftModel

        adapter = finetune_dir(s) / "runs" / run / "adapter"
        if not adapter.is_dir():
            raise FinetuneError(f"run {run!r} has no adapter at {adapter}", hint="Finish it: `fda finetune train`.")
        model = PeftModel.from_pretrained(model, str(adapter))
    model.eval()
    losses: list[tuple[float, int]] = []
    with torch.no_grad():
        for i, example in enumerate(examples, start=1):
            encoded = encode(tokenizer, example.messages, example.completion)
            with torch.autocast("cpu", dtype=torch.bfloat16):
                losses.append((float(target_loss(model, encoded, torch)), encoded.target_tokens))
            if progress is not None:
                progress(i, len(examples))
    tokens = sum(n for _, n in losses)
    return {
        "data": data, "base": base, "run": run, "examples": len(losses),
        "loss_per_token": round(sum(v * n for v, n in losses) / tokens, 4),
        "loss_per_example": round(sum(v for v, _ in losses) / len(losses), 4),
    }  # fmt: skip


def export(
    s: Settings, *, run: str, name: str, out_dir: Path, summary: str = "", dry_multiplier: float | None = None
) -> tuple[Path, Path]:
    """The run's adapter as a llama.cpp GGUF in ``out_dir`` and the manifest that registers it as ``local:<name>``;
    ``dry_multiplier``: the model's own DRY default, written as the manifest's "sampling" (lm.dry_multiplier wins)."""
    from optimizers.finetune.export import export_adapter, read_adapter

    run_dir = finetune_dir(s) / "runs" / run
    info_path = run_dir / "run.json"
    if not info_path.is_file():
        raise FinetuneError(f"run {run!r} has not finished (no {info_path})", hint="Finish it: `fda finetune train`.")
    info = json.loads(info_path.read_text(encoding="utf-8"))
    adapter = export_adapter(run_dir / "adapter", out_dir / f"{name}.gguf")
    meta = read_adapter(adapter)
    manifest = {
        "name": name, "base": info["base"], "adapter": adapter.name,
        "adapter_sha256": hashlib.sha256(adapter.read_bytes()).hexdigest(), "alpha": meta["alpha"],
        "tensors": len(meta["tensors"]), "title": f"{info['data']}, r{info['config']['rank']}",
        "summary": summary or f"LoRA r={info['config']['rank']} on {info['examples']} examples of {info['data']}",
        "training": info, "command": f"fda finetune export --run {run} --model-name {name}"
        + (f" --dry-multiplier {dry_multiplier}" if dry_multiplier is not None else ""),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }  # fmt: skip
    if dry_multiplier is not None:
        manifest["sampling"] = {"dry_multiplier": dry_multiplier}
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return adapter, path


def git_sha() -> str:
    from eval.sealed import git_state

    sha, changed = git_state(REPO)
    return f"{sha}{'+dirty' if changed else ''}"
