"""Typed settings: one tree, env prefix ``FDA_``, nested with ``__``, ``.env`` support, named presets.

    FDA_PRESET=fast fda corpus stats
    FDA_CHUNKING__MAX_TOKENS=200 fda ingest

Reach settings through :func:`get_settings` (cached); library code takes what it needs as arguments.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
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


class TracingSettings(_Section):
    enabled: bool = Field(
        default=True,
        description="One trace per question with a span per stage (fda/tracing.py), recorded by `fda serve`.",
    )
    file: Path | None = Field(
        default=None,
        description="Where finished spans go, one JSON object per line; default <state_dir>/logs/traces.jsonl.",
    )
    otlp_endpoint: str | None = Field(
        default=None,
        description="Also send spans to this OTLP/HTTP collector (e.g. http://127.0.0.1:4318/v1/traces: Jaeger, "
        "Tempo, an OpenTelemetry Collector). Unset: local file only.",
    )
    sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0, description="Share of questions traced.")
    max_file_mb: float = Field(
        default=50.0,
        ge=0.0,
        description="Past this size the traces file becomes <file>.1 (the older one goes); 0: never.",
    )
    service_name: str = Field(default="fda", description="OpenTelemetry service.name of the spans.")


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_logs: bool = Field(default=False, description="One JSON object per log line (for services).")


Backend = Literal["bm25", "dense", "colbert", "hybrid", "rerank", "fused", "azure-search"]
Indexed = Literal["bm25", "dense", "colbert"]
BACKENDS: tuple[str, ...] = get_args(Backend)  # the one list of backend names: CLI help, factory, eval, docs
# the backends this machine serves from its own indexes: what "every backend" means for the benches and pooling
# (azure-search needs azure.search.endpoint and an uploaded index: docs/azure.md)
LOCAL_BACKENDS: tuple[str, ...] = tuple(b for b in BACKENDS if b != "azure-search")
INDEXED: tuple[str, ...] = get_args(Indexed)  # the backends with an index of their own (`fda index`)


def _all_indexed() -> list[Indexed]:
    return ["bm25", "dense", "colbert"]


def _bm25_only() -> list[Literal["bm25", "dense"]]:
    return ["bm25"]


class RetrievalSettings(_Section):
    """Retrieval backends and their indexes (index/; docs/retrieval.md)."""

    backend: Backend = Field(
        default="fused",
        description="Backend `fda search` and the programs use: fused = bm25 + dense candidates scored by z-scored "
        "bm25, dense, ColBERT MaxSim and heading similarity plus a page boost (best on the gold dev split, "
        "docs/retrieval.md); hybrid = rank fusion of bm25, dense and colbert; "
        "rerank = bm25's candidates re-scored by ColBERT MaxSim.",
    )
    k: int = Field(default=10, ge=1, le=100, description="Passages returned per search.")
    index_dir: Path | None = Field(default=None, description="Where indexes are built; default: <state_dir>/indexes.")
    build: list[Indexed] = Field(default_factory=_all_indexed, description="Indexes `fda index` builds.")
    build_threads: int = Field(
        default=0,
        ge=0,
        description="CPU threads `fda index` encodes with (0: every core). Searches keep OMP_NUM_THREADS (1 by "
        "default: two threads on a busy 2-core box made ColBERT searches spike); a build is a batch job.",
    )
    build_missing_on_serve: bool = Field(
        default=True,
        description="`fda serve` with `fused` and no colbert index yet: serve at once without the colbert signal "
        "and build the index in a background process (low priority), then switch it on; /readyz says 'degraded' "
        "meanwhile. false: a missing colbert index stops start-up with the command that builds it.",
    )
    neural_versions: Literal["latest", "all", "background"] = Field(
        default="background",
        description="Versions the dense and colbert indexes cover (bm25 always covers all). 'background': `fda index` "
        "builds the latest version (a first `make run` stays minutes on 2 cores) and `fda serve` adds the older "
        "ones in a low-priority background process (with build_missing_on_serve on), searching them with bm25 "
        "until it is done (/readyz says so); "
        "'latest': never the older ones (their searches fall back to bm25, logged); 'all': `fda index` builds every "
        "version up front (`FDA_RETRIEVAL__NEURAL_VERSIONS=all fda index` adds the missing ones).",
    )
    build_yield_max_pause_s: float = Field(
        default=120.0,
        ge=0,
        le=3600,
        description="A background index build (build_missing_on_serve, neural_versions) is paused (SIGSTOP) while "
        "an answer is being made and resumed when none is: on 2 cores a niced build still slowed answers past "
        "their budget. The longest pause, so no build starves under steady traffic: after it the build runs "
        "for build_yield_min_run_s before it can be paused again. 0: never pause (nice only).",
    )
    build_yield_min_run_s: float = Field(
        default=30.0, ge=0, le=3600, description="Run time a build gets after a pause of build_yield_max_pause_s."
    )
    checkpoint: str = Field(
        default="fda",
        description="ColBERT checkpoint: 'fda' (the packaged MiniLM + the trained projection in data/retriever/), "
        "a local colbert checkpoint folder, or a hub name (colbert-ir/colbertv2.0, "
        "answerdotai/answerai-colbert-small-v1; needs internet and HF_HUB_OFFLINE=0).",
    )
    artifact: str = Field(
        default="colbert-minilm-fda-v2",
        description="Folder under data/retriever/ holding the trained weights (v2: trained with the generated questions; "
        "v1, without them, is kept for comparison).",
    )
    questions_artifact: str = Field(
        default="section-questions-v1",
        description="Folder under data/retriever/ holding the questions generated from sections (fda gen-questions).",
    )
    doc_maxlen: int = Field(default=300, ge=32, le=510, description="ColBERT document length in tokens.")
    fusion_backends: list[Indexed] = Field(
        default_factory=_all_indexed, description="hybrid: the ranked lists it fuses."
    )
    fusion_weights: list[float] | None = Field(
        default=None, description="hybrid: one weight per fused list (default equal)."
    )
    rrf_k: float = Field(default=60.0, ge=0, description="hybrid: reciprocal rank fusion constant.")
    depth: int = Field(default=50, ge=1, le=500, description="hybrid/rerank: results taken from each inner backend.")
    rerank_candidates: list[Literal["bm25", "dense"]] = Field(
        default_factory=_bm25_only, description="rerank: where the candidates ColBERT re-scores come from."
    )
    fused_weights: list[float] = Field(
        default_factory=lambda: [1.0, 1.0, 1.0, 0.5, 0.0],
        description="fused: weights of the z-scored bm25, dense, ColBERT MaxSim, heading-path similarity and "
        "generated-question similarity over bm25's + dense's top `depth` (0 drops a signal; 4 weights: no "
        "questions signal).",
    )
    page_weight: float = Field(
        default=1.0, ge=0, description="fused: each chunk gains this times the best fused score of its page."
    )
    onnx: bool = Field(
        default=True,
        description="Run the MiniLM transformer of the dense and ColBERT query encoders on ONNX Runtime (same "
        "vectors, about 2x faster on CPU; exported once into state/models/onnx/); false: PyTorch.",
    )
    query_int8: bool = Field(
        default=True,
        description="With onnx: encode queries with an int8-weight copy of the ONNX model (documents: doc_int8) "
        "(dynamic quantisation per channel, made once): ~2x faster again, query vectors cosine >= 0.99 to fp32.",
    )
    doc_int8: bool = Field(
        default=True,
        description="With onnx: encode documents too (the dense index, and the heading and question vectors fused "
        "compares with) with the int8 copy: the dense build 1.5x faster on an AVX2 CPU, vectors cosine 0.99 to "
        "fp32, fused's section recall within a question of fp32's; false: the fp32 index (its own folder).",
    )
    colbert_ncells: int = Field(
        default=1, ge=1, le=64, description="colbert: PLAID centroids probed per query token (more: slower)."
    )
    colbert_centroid_threshold: float = Field(
        default=0.5, ge=-1, le=1, description="colbert: PLAID prunes centroids scoring below this."
    )
    colbert_ndocs: int = Field(
        default=256,
        ge=8,
        le=100_000,
        description="colbert: candidates PLAID scores exactly (at least 4 x k). RAGatouille's default for small "
        "collections (8 cells, 1,024 docs) scored the same on the gold set at twice the latency.",
    )
    release_notes_last: bool = Field(
        default=True, description="Release-note chunks after docs chunks unless the question is about versions/changes."
    )
    fold_sections: bool = Field(
        default=True, description="Keep the best chunk per section, so k results cover k sections."
    )
    bm25_k1: float = Field(default=1.2, gt=0)
    bm25_b: float = Field(default=0.75, ge=0, le=1)


class EvalSettings(_Section):
    """Evaluation runs (eval/): tracking, parallelism, statistics, regression gate, judge LM."""

    tracking_uri: str | None = Field(
        default=None,
        description="MLflow tracking URI; default: the embedded store sqlite:///<state_dir>/mlflow.db. "
        "An http(s):// URI logs to a tracking server.",
    )
    artifact_location: str | None = Field(
        default=None, description="Where new experiments keep artifacts; default: <state_dir>/mlartifacts."
    )
    experiment: str = Field(default="fda-eval", description="MLflow experiment name.")
    track: bool = Field(default=True, description="Log eval runs to MLflow (reports and DuckDB are always written).")
    workers: int = Field(default=4, ge=1, le=32, description="Questions evaluated in parallel (threads).")
    bootstrap_samples: int = Field(default=1000, ge=0, description="Bootstrap resamples for confidence intervals.")
    bootstrap_seed: int = Field(default=0, description="Fixed seed: the same results give the same intervals.")
    gate_tolerance: float = Field(
        default=0.02, ge=0.0, le=1.0, description="Largest drop of a gated metric the regression gate ignores."
    )
    gate_paired_ci: bool = Field(
        default=True,
        description="Also require the paired bootstrap interval of the drop to exclude zero before failing.",
    )
    judge: bool = Field(
        default=False,
        description="Grade answers with the LLM judge (the LM is lm.judge_model, else lm.model); one extra LM "
        "call per answered question.",
    )


class ApiSettings(_Section):
    host: str = Field(default="127.0.0.1", description="Bind address (loopback by default).")
    port: int = Field(default=8000, ge=1, le=65535)
    max_question_chars: int = Field(default=2000, ge=16, description="Longer questions get a clear 422.")
    default_program: Literal["rag", "multihop"] = "rag"
    lm_concurrency: int = Field(
        default=1, ge=1, description="LM-bound requests run at once (a local model serves one)."
    )
    queue_size: int = Field(default=8, ge=0, description="LM-bound requests waiting; beyond it: 503 + Retry-After.")
    request_timeout_s: float = Field(default=60.0, gt=0, description="Whole-answer budget; past it: retrieval-only.")
    retry_after_s: int = Field(default=5, ge=1)
    cache_ttl_s: float = Field(default=3600.0, ge=0, description="Answer/search cache lifetime; 0 disables.")
    cache_size: int = Field(default=1024, ge=0)
    search_max_k: int = Field(default=50, ge=1)
    log_flush_s: float = Field(default=2.0, gt=0, description="How often spooled query logs move into their store.")
    log_store: Literal["duckdb", "postgres"] = Field(
        default="duckdb",
        description="Where the query log and feedback go: the embedded DuckDB file (one machine), or PostgreSQL "
        "(`log_store_dsn`), which several API replicas on several machines can share.",
    )
    log_store_dsn: SecretStr | None = Field(
        default=None,
        description="log_store=postgres: a libpq connection string (postgresql://user:pass@host:5432/fda); never "
        "logged. In Azure it comes from Key Vault (azure.key_vault_url).",
    )
    # hardening (api/security.py; docs/security.md): permissive for a local run, on in the `production` preset
    api_keys: list[SecretStr] = Field(
        default_factory=list,
        description="Keys a client must send (Authorization: Bearer <key> or X-API-Key); empty: no auth. "
        'Env: FDA_API__API_KEYS=\'["key-1","key-2"]\'.',
    )
    require_api_key: bool = Field(default=False, description="Refuse to start without api_keys (production).")
    rate_limit_per_minute: int = Field(default=0, ge=0, description="Requests per minute per client; 0: no limit.")
    rate_limit_burst: int = Field(default=10, ge=1, description="Requests a client may send at once.")
    max_body_bytes: int = Field(default=65_536, ge=1024, description="Larger request bodies get a 413.")
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed to call the API from a browser; empty: no CORS headers."
    )
    security_headers: bool = Field(default=True, description="nosniff, no framing, no referrer, a strict CSP.")
    hsts: bool = Field(default=False, description="Strict-Transport-Security (only behind TLS).")
    mcp: bool = Field(default=True, description="Serve the docs tools over MCP (streamable HTTP) at /mcp (api/mcp.py).")
    mcp_code_tool: bool = Field(
        default=False,
        description="Offer the check_code tool (runs a client's code in the sandbox, docs/code-checks.md) at /mcp. "
        "Off: over HTTP anyone with a key could run code here; `fda mcp` (stdio, your own agent) offers it.",
    )
    mcp_allowed_hosts: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "127.0.0.1:*", "localhost", "localhost:*", "[::1]", "[::1]:*"],
        description="Host headers /mcp accepts (DNS-rebinding protection; 'name:*' any port); add the names a "
        "proxy or remote agent uses, or [] to accept any (then require api_keys).",
    )

    @field_validator("api_keys")
    @classmethod
    def _strong_keys(cls, keys: list[SecretStr]) -> list[SecretStr]:
        for key in keys:
            if len(key.get_secret_value()) < 16:
                raise ValueError(
                    "an API key needs at least 16 characters (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
                )
        return keys

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard(cls, origins: list[str]) -> list[str]:
        if "*" in origins:
            raise ValueError("'*' would let any web page call the API with a user's browser: list the origins")
        return origins

    @model_validator(mode="after")
    def _keys_when_required(self) -> ApiSettings:
        if self.require_api_key and not self.api_keys:
            raise ValueError(
                "require_api_key is on (the production preset) but no key is set: set FDA_API__API_KEYS='[\"<key>\"]'"
            )
        if self.mcp_code_tool and not self.api_keys:
            raise ValueError(
                "mcp_code_tool lets /mcp clients run code on this machine: set FDA_API__API_KEYS too, so only "
                "holders of a key can"
            )
        return self


class UiSettings(_Section):
    """The Streamlit explorer (ui/; docs/ui.md): where it listens, which API it calls, what it reads."""

    api_url: str = Field(default="http://127.0.0.1:8000", description="Base URL of the running API (`fda serve`).")
    api_key: SecretStr | None = Field(default=None, description="Key sent to the API (default: api.api_keys' first).")
    host: str = Field(default="127.0.0.1", description="Bind address of `fda ui` (loopback by default).")
    port: int = Field(default=8501, ge=1, le=65535)
    request_timeout_s: float = Field(default=120.0, gt=0, description="Budget of one API call from the UI.")
    eval_db: Path | None = Field(default=None, description="Eval results store; default: <state_dir>/eval.duckdb.")
    logs_db: Path | None = Field(default=None, description="Query log and feedback; default: <state_dir>/logs.duckdb.")
    load_committed_runs: bool = Field(
        default=True, description="Store the runs committed under eval/results/ into the eval store at start."
    )


class LMSettings(_Section):
    """Language models (fda/lm/; docs/lm.md): the embedded llama.cpp models or any LiteLLM model string."""

    model: str = Field(
        default="local:qwen2.5-coder-1.5b",
        description="'local:<name>' (embedded; `fda models list`) or a LiteLLM model string: openai/..., "
        "azure/..., anthropic/..., ollama_chat/... Provider keys come from their usual environment variables.",
    )
    teacher_model: str | None = Field(default=None, description="Optimizers' teacher LM; unset: the main model.")
    judge_model: str | None = Field(default=None, description="LLM-judge LM; unset: the main model.")
    api_base: str | None = Field(
        default=None, description="Base URL for a non-local model (an OpenAI-compatible or Ollama server)."
    )
    api_key: SecretStr | None = Field(
        default=None,
        description="Key for api_base, from FDA_LM__API_KEY only; never logged or saved. Provider keys "
        "(OPENAI_API_KEY, ...) are read by LiteLLM from the environment instead.",
    )
    timeout_s: float = Field(default=120.0, gt=0, le=3600, description="Budget of one LM call.")
    max_tokens: int = Field(default=512, ge=1, le=32768, description="Most tokens one answer may generate.")
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    frequency_penalty: float | None = Field(
        default=None,
        ge=-2.0,
        le=2.0,
        description="OpenAI-style penalty on tokens already generated (llama.cpp applies it over the last 64), sent "
        "with the main (answer) model's calls only, not the judge's or teacher's; unset: not sent. A lever against "
        "answers that repeat one clause to max_tokens (docs/finetune.md).",
    )
    dry_multiplier: float | None = Field(
        default=None,
        ge=0.0,
        le=5.0,
        description="Local models: llama.cpp's DRY sampler ('don't repeat yourself'), which penalises a token that "
        "would extend a sequence already in the context, so a clause repeated to max_tokens stops while single "
        "tokens (code, citation markers) stay free. 0.8 is its author's suggested strength. Sent with the main "
        "(answer) model's calls only; unset: not sent. Hosted providers do not take it and never get it.",
    )
    lenient_text: bool = Field(
        default=True,
        description="Local models: the output grammar lets free-text fields hold raw newlines and bare double quotes "
        "(fda/lm/grammar.py), which a strict JSON grammar masks: the 1.5B then wrote a code example on one line, or "
        "stopped an answer at allow_methods=[\". Off: the server's own JSON-schema grammar, as before session 28.",
    )
    seed: int | None = Field(
        default=None,
        description="Sampling seed sent with every call (matters with temperature > 0); `fda eval --lm-seed` sets it.",
    )
    num_retries: int = Field(default=1, ge=0, le=10, description="Retries of transient failures (with backoff).")
    api_version: str | None = Field(
        default=None,
        description="Azure OpenAI (`azure/<deployment>` models): the REST api-version, e.g. 2024-10-21 "
        "(docs/azure.md). Unset: LiteLLM's default.",
    )
    azure_ad: bool = Field(
        default=False,
        description="Azure OpenAI: authenticate with Microsoft Entra ID (DefaultAzureCredential: the managed "
        "identity in Container Apps, the environment or `az login` locally) instead of an API key.",
    )
    fallback_models: list[str] = Field(
        default_factory=list,
        description="Non-local models tried in order when the main one fails after its retries (rate limited "
        "past Retry-After, quota exhausted, 5xx): e.g. ['azure/gpt-4o-mini-eastus2']. Counted in /metrics.",
    )
    cache: bool = Field(default=True, description="DSPy's response cache (DSPY_CACHEDIR).")
    context_size: int = Field(
        default=4096, ge=512, le=32768, description="Local models: KV-cache tokens, shared by the parallel slots."
    )
    threads: int = Field(default=2, ge=1, le=256, description="Local models: CPU threads for llama.cpp.")
    parallel: int = Field(default=1, ge=1, le=16, description="Local models: requests served concurrently.")
    prime_cache: bool = Field(
        default=True,
        description="Local models: `fda serve` sends the answer step's fixed instructions once at start-up (one "
        "token out, in the background) so the first question finds them in llama.cpp's prompt cache instead of "
        "reading them (fda/lm/prime.py).",
    )
    speculative: Literal["none", "draft", "ngram"] = Field(
        default="none",
        description="Local models: speculative decoding in llama.cpp. 'draft': `draft_model` proposes tokens the "
        "served model verifies; 'ngram': proposals copied from n-grams already in the prompt (the sources). "
        "Off by default: neither was faster on this 2-core box (docs/lm.md, `fda bench answer`).",
    )
    draft_model: str = Field(
        default="local:qwen2.5-coder-0.5b",
        description="lm.speculative=draft: the local model that drafts (same tokenizer as the served one).",
    )
    draft_max: int = Field(default=16, ge=1, le=64, description="lm.speculative: most tokens proposed per step.")
    startup_timeout_s: float = Field(default=120.0, gt=0, description="Local models: load + health-check budget.")

    @field_validator("model", "teacher_model", "judge_model")
    @classmethod
    def _known_model(cls, value: str | None) -> str | None:
        from fda.lm.registry import LOCAL_PREFIX, known_models

        if value is None:
            return value
        if value.startswith(LOCAL_PREFIX):
            known = known_models()
            if value.removeprefix(LOCAL_PREFIX) not in known:
                raise ValueError(f"unknown local model {value!r}; known: {', '.join(LOCAL_PREFIX + m for m in known)}")
        elif "/" not in value.strip("/"):
            raise ValueError(f"{value!r} is neither local:<name> nor a LiteLLM 'provider/model' string")
        return value

    @field_validator("api_key")
    @classmethod
    def _no_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        from fda.lm.secrets import is_placeholder_secret

        if value is not None and is_placeholder_secret(value.get_secret_value()):
            raise ValueError(
                "FDA_LM__API_KEY holds a placeholder (e.g. 'changeme', 'sk-xxx'): set a real key or unset it"
            )
        return value


PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    # Smaller chunks and quieter logs: quick local iteration and tests.
    "fast": {
        "chunking": {"max_tokens": 160},
        "logging": {"level": "WARNING"},
        # the 0.5B with the r8d LoRA adapter (docs/finetune.md): the 0.5B's speed, and on the sealed test it
        # states more required facts (+0.25) and declines fewer answerable questions than the base 0.5B
        "lm": {"model": "local:qwen2.5-coder-0.5b-fda-distil2"},
    },
    "debug": {"logging": {"level": "DEBUG"}},
    # A service others reach (docs/security.md): keys required, a rate per client, HSTS, JSON logs.
    "production": {
        "api": {"require_api_key": True, "rate_limit_per_minute": 30, "rate_limit_burst": 5, "hsts": True},
        "logging": {"json_logs": True},
    },
}


class AnswerSettings(_Section):
    """How the answer programs build their context (programs/; docs/lm.md, "Latency and answer quality").
    Unset sizes keep each program's own default (rag: 3 passages of 450 characters; multihop: 6 of 700)."""

    k: int | None = Field(default=None, ge=1, le=20, description="Passages shown to the answer step.")
    passage_chars: int | None = Field(
        default=None, ge=100, le=8000, description="Characters kept of each passage shown."
    )
    focus: bool = Field(
        default=True,
        description="Keep the lines of each passage that match the question best (else its first characters).",
    )
    whole_code: bool = Field(
        default=False,
        description="A focused cut that starts or stops inside a code block gets the block's fences back, so the "
        "model sees well-formed code (programs/context.py balance_fences). Off: no gain on dev-select (docs/trust.md).",
    )
    rewrite: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="The routing + query-rewriting LM call before retrieval. auto: on for hosted models, off for "
        "the embedded ones (their rewritten queries retrieved worse and the call costs ~2 s; docs/lm.md).",
    )
    rerank: int = Field(
        default=0,
        ge=0,
        le=20,
        description="Sections the LM re-orders after retrieval, one more LM call per question (rag program; 0: off, "
        "else 2-20). "
        "Off by default: the embedded 1.5B's picks were worse than the fused ranking (docs/retrieval.md, "
        "'LM re-ranking'); measure a hosted model with `fda bench retrieval-rerank --model ...` first.",
    )

    scope: bool = Field(
        default=True,
        description="Decline questions the scope classifier (data/scope/model.json, `fda scope train`) finds are not "
        "about FastAPI, before any LM call (docs/trust.md).",
    )
    scope_model: Path | None = Field(
        default=None, description="The scope classifier's weights; default: data/scope/model.json in the repository."
    )
    harm: bool = Field(
        default=True,
        description="Refuse requests the harm classifier (data/harm/model.json, `fda harm train`) finds ask for help "
        "causing harm, before any LM call (docs/security.md).",
    )
    harm_model: Path | None = Field(
        default=None, description="The harm classifier's weights; default: data/harm/model.json in the repository."
    )
    harm_judge: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="Ask the LM (one short call) about the requests the harm classifier is unsure about (a band just "
        "above its threshold, chosen by `fda harm train`), and refuse those it reads as acting against others. "
        "'auto': only with a hosted LM; the embedded 1.5B refused 13 of the 38 legitimate questions it was asked "
        "about (FastAPI ones too: 'delete cookie on logout'), docs/security.md.",
    )
    premise: bool = Field(
        default=True,
        description="Say so, instead of answering, when the question names an API (a keyword argument, a method, an "
        "import) that the docs never show.",
    )
    coverage: bool = Field(
        default=True,
        description="Say so, instead of answering, when a short question asks about a tool or technology that no "
        "version of the docs mentions (Brotli, APScheduler, Keycloak: rare words the docs never use; "
        "programs/trust/coverage.py).",
    )
    verify: Literal["remove", "mark", "off"] = Field(
        default="remove",
        description="After the answer: sentences no shown passage supports, and code with APIs the docs never show, "
        "are removed (remove), flagged (mark), or left (off). Adapter markup is always stripped.",
    )

    @field_validator("rerank")
    @classmethod
    def _rerank_shows_two(cls, value: int) -> int:
        if value == 1:
            raise ValueError("re-ranking one section changes nothing: use 0 (off) or 2-20 sections")
        return value


class CompileSettings(_Section):
    """Compiling answer programs with DSPy optimizers, the MLflow registry, promotion (optimizers/; docs/compile.md).
    Tracking reuses eval.tracking_uri and eval.artifact_location."""

    experiment: str = Field(default="fda-compile", description="MLflow experiment of compile runs.")
    registry_prefix: str = Field(default="fda-", description="Registered model name = prefix + program (fda-rag).")
    seed: int = Field(default=0, description="Seed of every optimizer (same data and seed: same candidates).")
    workers: int = Field(
        default=1, ge=1, le=32, description="Dev questions evaluated in parallel (a local LM serves one)."
    )
    threshold: float = Field(
        default=0.7, ge=0.0, le=1.0, description="Combined score a bootstrapped trace needs to become a demo."
    )
    max_demos: int = Field(default=3, ge=0, le=16, description="Bootstrapped demos per predictor (at most).")
    demo_caps: dict[str, int] = Field(
        default_factory=lambda: {"answerer": 1},
        description="Per-predictor demo caps: an answerer demo carries its whole sources (~1k tokens), and the "
        "local models have a 4k context.",
    )
    candidates: int = Field(default=4, ge=1, le=64, description="bootstrap: random-search candidates tried on dev.")
    mipro_auto: Literal["light", "medium", "heavy"] = Field(default="light", description="MIPROv2 budget preset.")
    mipro_minibatch_size: int = Field(default=10, ge=1, description="MIPROv2 minibatch of dev questions per trial.")
    gepa_max_metric_calls: int = Field(default=60, ge=1, description="GEPA budget: metric calls (program runs).")
    limit_dev: int | None = Field(default=None, ge=1, description="Only the first N dev questions (cheaper selection).")
    promote_tolerance: float = Field(
        default=0.01, ge=0.0, le=1.0, description="A challenger must beat the champion's dev score by more than this."
    )
    promote_paired_ci: bool = Field(
        default=True, description="Also require the paired bootstrap interval of the gain to exclude zero."
    )
    promote_min_pairs: int = Field(default=10, ge=1, description="Fewer paired dev questions: never auto-promote.")
    autolog: bool = Field(default=True, description="mlflow.dspy.autolog(): optimizer params, datasets, evals.")
    log_traces: bool = Field(
        default=False, description="Also log an MLflow trace of every program call while compiling."
    )
    serve_champion: bool = Field(
        default=True,
        description="The API and `fda ask` serve each program's registered champion (falling back to the "
        "uncompiled program with a warning); false serves the uncompiled programs without asking MLflow.",
    )


class AgentSettings(_Section):
    """The docs agent (programs/agent.py; docs/agent.md): its budgets and stuck rule."""

    max_steps: int = Field(default=5, ge=1, le=20, description="Tool calls at most (a request may ask for fewer).")
    max_tokens: int = Field(
        default=24_000, ge=0, description="Prompt + completion tokens of the plan and next-action calls, at most."
    )
    max_seconds: float = Field(default=120.0, gt=0, description="Wall clock for the tool loop; the answer follows.")
    stale_steps: int = Field(default=2, ge=1, description="Calls in a row adding no docs section: stop.")
    k: int = Field(default=5, ge=1, le=12, description="Sections the answer step sees.")


class CodeSettings(_Section):
    """Running the code an answer shows (programs/execution/; docs/code-checks.md): sandbox limits."""

    execute: bool = Field(
        default=True,
        description="Run each answer's Python in a sandbox (no network, private /tmp, no state folder, limits) "
        "and report verified / failed / not runnable. Needs Linux namespaces; elsewhere answers say 'not run'.",
    )
    timeout_s: float = Field(default=10.0, gt=0, le=120, description="Wall clock of one run, start-up included.")
    memory_mb: int = Field(default=1024, ge=256, description="Address space of the run (Python + FastAPI ~400 MB).")
    max_routes: int = Field(default=12, ge=1, description="Routes called per answer, at most.")
    max_chars: int = Field(default=20_000, ge=100, description="Longer code is not run.")
    repair: Literal["off", "suggestion", "lm"] = Field(
        default="suggestion",
        description="What to do with an answer's code that failed (programs/execution/repair.py; docs/code-checks.md): "
        "'suggestion' respells the name the error says was meant (GzipMiddleware -> GZipMiddleware) and keeps it "
        "when the code then runs (no LM call, one more sandbox run); 'lm' then also sends the code, its error and "
        "the answer's sources back to the LM once, keeping a fix that keeps its routes and names and runs (one more "
        "LM call for those answers); 'off'. The code status says what was repaired.",
    )
    repair_timeout_s: float = Field(
        default=30.0,
        gt=0,
        le=300,
        description="At most this long for a repair (LM call and run); then the answer stays as it was.",
    )


class AzureSearchSettings(_Section):
    """Azure AI Search as a retrieval backend (index/retrieval/azure_search.py; docs/azure.md)."""

    endpoint: str | None = Field(
        default=None, description="https://<service>.search.windows.net; unset: Azure AI Search is off."
    )
    index_prefix: str = Field(
        default="fda-docs",
        pattern=r"^[a-z0-9][a-z0-9-]{0,80}$",
        description="One index per docs version: <prefix>-<version with dashes>, e.g. fda-docs-0-141-1.",
    )
    api_key: SecretStr | None = Field(
        default=None,
        description="Admin (upload) or query key; never logged. Unset: Microsoft Entra ID (DefaultAzureCredential) "
        "with the Search Index Data Contributor / Reader role.",
    )
    api_version: str | None = Field(default=None, description="REST api-version; unset: the SDK's default.")
    semantic_configuration: str | None = Field(
        default=None,
        description="Name of the index's semantic configuration: the semantic ranker re-orders; unset: off.",
    )
    vector_k: int = Field(
        default=50, ge=1, le=1000, description="Nearest neighbours of the vector part of a hybrid query."
    )
    batch_size: int = Field(default=500, ge=1, le=1000, description="Documents per upload request (REST limit: 1,000).")
    timeout_s: float = Field(default=10.0, gt=0, le=300, description="Budget of one Search request.")
    retries: int = Field(default=3, ge=0, le=10, description="Retries of 429/503 (Retry-After honoured).")


class AzureSettings(_Section):
    """Optional Azure pieces (docs/azure.md). Everything here is off unless set; nothing Azure is imported
    otherwise."""

    key_vault_url: str | None = Field(
        default=None,
        description="https://<vault>.vault.azure.net: secrets named below are read from it at start-up "
        "(DefaultAzureCredential: managed identity in Container Apps) and fill the settings they name.",
    )
    secrets: dict[str, str] = Field(
        default_factory=lambda: {
            "lm.api_key": "fda-lm-api-key",
            "azure.search.api_key": "fda-search-api-key",
            "api.log_store_dsn": "fda-postgres-dsn",
            "azure.monitor_connection_string": "fda-appinsights-connection-string",
        },
        description="Setting -> Key Vault secret name. A setting already set (env, .env) wins over the vault.",
    )
    monitor_connection_string: SecretStr | None = Field(
        default=None,
        description="Application Insights connection string: traces and metrics also go there "
        "(azure-monitor-opentelemetry). Unset: off.",
    )
    search: AzureSearchSettings = Field(default_factory=AzureSearchSettings)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FDA_", env_nested_delimiter="__", env_file=".env", extra="forbid", validate_default=True
    )

    preset: Literal["default", "fast", "debug", "production"] = Field(
        default="default", description="Named bundle of overrides."
    )
    state_dir: Path = Field(
        default_factory=lambda: project_root() / "state",
        description="Git-ignored folder for the DuckDB file, indexes, model files and the MLflow store.",
    )
    corpus: CorpusSettings = Field(default_factory=CorpusSettings)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    tracing: TracingSettings = Field(default_factory=TracingSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    eval: EvalSettings = Field(default_factory=EvalSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    ui: UiSettings = Field(default_factory=UiSettings)
    lm: LMSettings = Field(default_factory=LMSettings)
    compile: CompileSettings = Field(default_factory=CompileSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    code: CodeSettings = Field(default_factory=CodeSettings)
    azure: AzureSettings = Field(default_factory=AzureSettings)

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

    @property
    def traces_file(self) -> Path:
        return self.tracing.file or self.state_dir / "logs" / "traces.jsonl"


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


def describe_invalid(err: ValidationError) -> str:
    """A settings ``ValidationError`` as one line per problem, named by its environment variable:
    ``FDA_ANSWER__RERANK='1': re-ranking one section changes nothing: ...``."""
    lines = []
    for e in err.errors():
        var = "FDA_" + "__".join(str(part) for part in e["loc"]).upper()
        shown = f"{var}={e['input']!r}" if isinstance(e.get("input"), str | int | float) else var
        lines.append(f"{shown}: {str(e['msg']).removeprefix('Value error, ')}")
    return "; ".join(lines)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    settings = Settings()
    if settings.azure.key_vault_url:  # secrets the environment left unset come from Key Vault (fda/azure/keyvault.py)
        from fda.azure.keyvault import apply_vault_secrets

        apply_vault_secrets(settings)
    return settings
