"""``fda finetune``: LoRA adapters for the embedded models (optimizers/finetune/, docs/finetune.md)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from fda.errors import FDAError
from fda.settings import get_settings

finetune_app = typer.Typer(
    help="LoRA fine-tuning of an embedded model on CPU: data -> train -> export (docs/finetune.md).",
    no_args_is_help=True,
)

DataName = Annotated[str, typer.Option("--data", help="The data set's name (state/finetune/data/<name>.jsonl).")]
RunName = Annotated[str, typer.Option("--name", help="The run's name (state/finetune/runs/<name>/); rerun to resume.")]


@finetune_app.command("data")
def data_cmd(
    name: Annotated[str, typer.Option("--name", help="The data set's name.")] = "gold-v2-train",
    split: Annotated[str, typer.Option(help="train (to learn from) or dev-select (a held-out loss).")] = "train",
    backend: Annotated[str | None, typer.Option(help="Retrieval backend (default: retrieval.backend).")] = None,
    distil_from: Annotated[
        str | None,
        typer.Option(
            help="An exported eval run of the rag program on the same split (eval/results/RUN.jsonl): its answers "
            "become the targets of the answerable rows where they pass the metric, the reference answers elsewhere."
        ),
    ] = None,
) -> None:
    """Pair every gold v2 train question's served prompt (the rag program's answer step, recorded with an LM that
    declines at once: no model runs) with its target: the reference answer cited to the gold sources shown, or a
    decline. Seconds; the sealed test split is never read. The examples stay in state/ (they quote the docs);
    their manifest goes to data/finetune/."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from fda.console import console, err_console, fail
    from optimizers.finetune.pipeline import make_data

    s = get_settings()
    columns = (TextColumn("recording prompts"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    try:
        with Progress(*columns, console=err_console, transient=True) as bar:
            task = bar.add_task("rows", total=None)
            path, manifest_path, manifest = make_data(
                s,
                name=name,
                split=split,
                backend=backend,
                distil_from=distil_from,
                progress=lambda i, n: bar.update(task, completed=i, total=n),
            )
    except FDAError as err:
        fail(err)
    console.print(f"{manifest['examples']} examples of {manifest['rows']} {manifest['split']} rows -> {path}")
    console.print(f"by kind {json.dumps(manifest['by_kind'])}; skipped {json.dumps(manifest['skipped'])}")
    if "targets" in manifest:
        console.print(f"targets by source {json.dumps(manifest['targets'])}")
    console.print(f"manifest: {manifest_path}")


@finetune_app.command("train")
def train_cmd(
    name: RunName = "r8",
    data: DataName = "gold-v2-train",
    base: Annotated[str, typer.Option(help="The embedded model to adapt.")] = "qwen2.5-coder-0.5b",
    rank: Annotated[int, typer.Option(min=1, max=256, help="LoRA rank.")] = 8,
    alpha: Annotated[int, typer.Option(min=1, help="LoRA alpha (scale = alpha / rank).")] = 16,
    epochs: Annotated[int, typer.Option(min=1, max=20, help="Passes over the data.")] = 2,
    lr: Annotated[float, typer.Option("--lr", min=0.0, help="Peak learning rate (warm-up, then cosine).")] = 2e-4,
    limit: Annotated[int | None, typer.Option(min=1, help="Train on a seeded random N of the examples.")] = None,
    max_tokens: Annotated[int, typer.Option(min=64, help="Leave out longer examples.")] = 2048,
    targets: Annotated[str, typer.Option(help="Comma-separated modules to adapt.")] = "q_proj,k_proj,v_proj,o_proj",
    seed: Annotated[int, typer.Option(help="Example order and the subset.")] = 0,
    threads: Annotated[
        int, typer.Option(min=0, help="CPU threads to train with (0: every core; fda's processes default to one).")
    ] = 0,
    bf16: Annotated[
        bool | None,
        typer.Option(help="bf16 autocast; --no-bf16 for fp32. Default: bf16 where the CPU has AMX or AVX-512 BF16."),
    ] = None,
) -> None:
    """Train a LoRA adapter on CPU (the 0.5B: ~60 s to load, ~4-8 s a step on 2 cores; a checkpoint every 20
    steps, so an interrupted run continues when started again with the same options)."""
    import torch
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from fda.console import console, err_console, fail
    from optimizers.finetune.pipeline import finetune_dir, train
    from optimizers.finetune.train import CONFIG, LoraConfig

    torch.set_num_threads(threads or len(os.sched_getaffinity(0)))  # OMP_NUM_THREADS=1 (fda/env.py) suits searches
    s = get_settings()
    if bf16 is None:  # a run being resumed keeps the bf16 it started with, on whichever CPU
        bf16 = _saved_bf16(finetune_dir(s) / "runs" / name / CONFIG)
    config = LoraConfig(
        rank=rank, alpha=alpha, targets=tuple(t.strip() for t in targets.split(",") if t.strip()), learning_rate=lr,
        epochs=epochs, max_tokens=max_tokens, seed=seed, **({} if bf16 is None else {"bf16": bf16}),
    )  # fmt: skip
    columns = (
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
    )  # fmt: skip
    try:
        with Progress(*columns, console=err_console) as bar:
            task = bar.add_task(f"loading {base}", total=None)
            result, info = train(
                s, data=data, run=name, base=base, config=config, limit=limit,
                on_loaded=lambda sec: bar.update(task, description=f"training {name} (loaded in {sec:.0f} s)"),
                progress=lambda step, total, loss: bar.update(
                    task, completed=step, total=total, description=f"training {name} loss {loss:.3f}"
                ),
            )  # fmt: skip
    except FDAError as err:
        fail(err)
    console.print(
        f"{result.steps} steps in {result.seconds / 60:.1f} min; mean target loss {info['mean_loss_first_epoch']} "
        f"(first epoch) -> {info['mean_loss_last_epoch']} (last); adapter: {result.adapter_dir}"
    )


def _saved_bf16(config: Path) -> bool | None:
    """The bf16 of a run's saved config; None when there is none (a new run) or it cannot be read (the run itself
    then says what is wrong)."""
    try:
        value = json.loads(config.read_text(encoding="utf-8")).get("bf16")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, bool) else None


@finetune_app.command("loss")
def loss_cmd(
    data: DataName = "gold-v2-dev-select",
    run: Annotated[
        str | None, typer.Option("--run", help="A finished run's adapter (default: the base alone).")
    ] = None,
    base: Annotated[str, typer.Option(help="The embedded model.")] = "qwen2.5-coder-0.5b",
) -> None:
    """Mean target loss of the base model, or of a run's adapter, on a data set (build a held-out one with
    `fda finetune data --split dev-select --name gold-v2-dev-select`): compares runs without an LM eval."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from fda.console import console, err_console, fail
    from optimizers.finetune.pipeline import held_out_loss

    s = get_settings()
    columns = (TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    try:
        with Progress(*columns, console=err_console, transient=True) as bar:
            task = bar.add_task("examples", total=None)
            out = held_out_loss(s, data=data, base=base, run=run,
                                progress=lambda i, n: bar.update(task, completed=i, total=n))  # fmt: skip
    except FDAError as err:
        fail(err)
    console.print_json(json.dumps(out))


@finetune_app.command("export")
def export_cmd(
    run: Annotated[str, typer.Option("--run", help="The finished run to export.")] = "r8",
    model_name: Annotated[str, typer.Option(help="The served name: local:<name>.")] = "qwen2.5-coder-0.5b-fda",
    out: Annotated[Path | None, typer.Option(help="Folder (default: data/adapters/).")] = None,
    dry_multiplier: Annotated[
        float | None,
        typer.Option(
            min=0.0, max=5.0, help="The model's own DRY sampler default (its manifest; FDA_LM__DRY_MULTIPLIER wins)."
        ),
    ] = None,
) -> None:
    """Write the run's adapter as a llama.cpp LoRA GGUF with the manifest that registers it: then
    FDA_LM__MODEL=local:<name> serves the base model with the adapter applied (`fda models list` shows it)."""
    from fda.console import console, fail
    from fda.lm.registry import ADAPTERS_DIR
    from optimizers.finetune.pipeline import export

    s = get_settings()
    try:
        adapter, manifest = export(
            s, run=run, name=model_name, out_dir=out or ADAPTERS_DIR, dry_multiplier=dry_multiplier
        )
    except FDAError as err:
        fail(err)
    console.print(f"adapter {adapter} ({adapter.stat().st_size / 2**20:.1f} MB), manifest {manifest}")
    console.print(f"serve it: FDA_LM__MODEL=local:{model_name} fda serve")
