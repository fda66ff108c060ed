"""Typed settings: one tree, env prefix ``FDA_``, nested with ``__``, ``.env`` support, named presets.

    FDA_PRESET=fast fda corpus stats
    FDA_CHUNKING__MAX_TOKENS=200 fda ingest

Reach settings through :func:`get_settings` (cached); library code takes what it needs as arguments.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def project_root() -> Path:
    """The checkout holding pyproject.toml (editable install), else the working directory."""
    if (PACKAGE_ROOT / "pyproject.toml").is_file():
        return PACKAGE_ROOT
    return Path.cwd()


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CorpusSettings(_Section):
    sources: list[str] = Field(
        default_factory=lambda: [str(project_root().parent / "shared" / "corpus")],
        description="Where the docs come from: a folder of fastapi-<tag>.jsonl dumps, one dump, a checkout, "
        "a release tarball, or github:fastapi/fastapi@TAG (downloads; needs internet).",
    )
    latest_version: str | None = Field(
        default=None,
        description="Tag cited with fastapi.tiangolo.com URLs; older tags get GitHub permalinks. "
        "Default: the highest ingested tag.",
    )


class ChunkingSettings(_Section):
    tokenizer: Literal["minilm", "whitespace"] = Field(
        default="minilm", description="Token counter: the retriever's WordPiece tokenizer, or words (tests)."
    )
    max_tokens: int = Field(
        default=220,
        ge=32,
        le=2048,
        description="Chunk budget in tokens; MiniLM truncates at 256, and the heading path is prefixed at index time.",
    )
    min_tokens: int = Field(
        default=24, ge=0, description="Trailing pieces shorter than this merge into the previous chunk."
    )


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_logs: bool = Field(default=False, description="One JSON object per log line (for services).")


class ApiSettings(_Section):
    host: str = Field(default="127.0.0.1", description="Bind address (loopback by default).")
    port: int = Field(default=8000, ge=1, le=65535)
    max_question_chars: int = Field(default=2000, ge=16, description="Longer questions get a clear 422.")
    default_program: Literal["rag", "multihop"] = "rag"
    lm_concurrency: int = Field(default=1, ge=1, description="LM-bound requests run at once (a local model serves one).")
    queue_size: int = Field(default=8, ge=0, description="LM-bound requests waiting; beyond it: 503 + Retry-After.")
    request_timeout_s: float = Field(default=60.0, gt=0, description="Whole-answer budget; past it: retrieval-only.")
    retry_after_s: int = Field(default=5, ge=1)
    cache_ttl_s: float = Field(default=3600.0, ge=0, description="Answer/search cache lifetime; 0 disables.")
    cache_size: int = Field(default=1024, ge=0)
    search_max_k: int = Field(default=50, ge=1)
    log_flush_s: float = Field(default=2.0, gt=0, description="How often spooled query logs move into DuckDB.")


PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    # Smaller chunks and quieter logs: quick local iteration and tests.
    "fast": {"chunking": {"max_tokens": 160}, "logging": {"level": "WARNING"}},
    "debug": {"logging": {"level": "DEBUG"}},
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FDA_", env_nested_delimiter="__", env_file=".env", extra="forbid", validate_default=True
    )

    preset: Literal["default", "fast", "debug"] = Field(default="default", description="Named bundle of overrides.")
    state_dir: Path = Field(
        default_factory=lambda: project_root() / "state",
        description="Git-ignored folder for the DuckDB file, indexes, model files and the MLflow store.",
    )
    corpus: CorpusSettings = Field(default_factory=CorpusSettings)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        preset = data.get("preset", "default")
        overrides = PRESETS.get(preset)
        if overrides is None:
            return data  # the Literal check reports it
        merged = _deep_merge(overrides, data)
        return merged

    @property
    def db_path(self) -> Path:
        return self.state_dir / "fda.duckdb"


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        elif isinstance(value, BaseModel) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value.model_dump(exclude_unset=True))
        else:
            out[key] = value
    return out


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
