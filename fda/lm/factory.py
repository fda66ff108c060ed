"""``make_lm``: settings -> a ``dspy.LM``, for an embedded local model or any LiteLLM model string.

    s = get_settings()
    with runtime_from_settings(s) as runtime:
        lm = make_lm(s.lm, runtime=runtime)                          # local:qwen2.5-coder-1.5b by default
        judge = make_lm(s.lm, runtime=runtime, role="judge")         # judge_model, else the main model
    make_lm(LMSettings(model="openai/gpt-4o-mini"))                  # no runtime needed

Keys: a provider's key stays in its environment variable, where LiteLLM reads it; the LM object never
holds it (so a saved or pickled program cannot leak it). Only ``FDA_LM__API_KEY`` (for ``api_base``)
is passed in, as the LM's ``api_key``: DSPy's ``dump_state`` drops it, but do not pickle such an LM.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from fda.errors import ConfigError
from fda.lm.registry import ModelSpec, get_spec, is_local
from fda.lm.runtime import LocalRuntime
from fda.lm.secrets import PROVIDER_KEY_ENV, is_placeholder_secret

if TYPE_CHECKING:
    import dspy

    from fda.settings import LMSettings, Settings

log = logging.getLogger(__name__)

Role = Literal["main", "teacher", "judge"]
LOCAL_API_KEY = "local"  # the local server checks no key; LiteLLM's OpenAI client wants one


def model_for(settings: LMSettings, role: Role = "main") -> str:
    """The model string for a role: its own setting when set, else the main model."""
    chosen = {"teacher": settings.teacher_model, "judge": settings.judge_model}.get(role)
    return chosen or settings.model


def runtime_from_settings(settings: Settings, *, progress: bool = False) -> LocalRuntime:
    """A ``LocalRuntime`` configured from settings (model files and logs under ``state_dir``)."""
    lm = settings.lm
    return LocalRuntime(
        settings.state_dir / "models",
        context_size=lm.context_size,
        threads=lm.threads,
        parallel=lm.parallel,
        startup_timeout_s=lm.startup_timeout_s,
        log_dir=settings.state_dir / "logs",
        progress=progress,
        speculative=lm.speculative,
        draft=get_spec(lm.draft_model) if lm.speculative == "draft" else None,
        draft_max=lm.draft_max,
        speculative_for=get_spec(lm.model).name if is_local(lm.model) else None,
    )


def dry_multiplier(settings: LMSettings, spec: ModelSpec | None = None) -> float | None:
    """The DRY strength the answer model's calls carry: ``lm.dry_multiplier`` when set (0 turns it off), else the
    local model's own default (the registry's, 0.8 for the default 1.5B; an adapter's manifest, "sampling"); None
    for a hosted model."""
    if spec is None:
        if not is_local(settings.model):
            return None
        spec = get_spec(settings.model)
    return settings.dry_multiplier if settings.dry_multiplier is not None else spec.dry_multiplier


def make_lm(
    settings: LMSettings,
    *,
    runtime: LocalRuntime | None = None,
    role: Role = "main",
    model: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> dspy.LM:
    """A ``dspy.LM`` for ``model`` (default: the role's model from settings).

    A ``local:`` model needs ``runtime``: its server is started (and its file assembled) on first use.
    ``environ`` (default ``os.environ``) is only read to refuse placeholder provider keys.
    """
    import dspy

    name = model or model_for(settings, role)
    common: dict[str, Any] = {
        "temperature": settings.temperature,
        "max_tokens": settings.max_tokens,
        "num_retries": settings.num_retries,
        "timeout": settings.timeout_s,
        "cache": settings.cache,
    }
    if settings.seed is not None:
        common["seed"] = settings.seed
    if settings.frequency_penalty is not None and role == "main":  # the answer model's: not the judge's or teacher's
        common["frequency_penalty"] = settings.frequency_penalty
    if is_local(name):
        spec = get_spec(name)
        if runtime is None:
            raise ConfigError(
                f"{name} is a local model and no LocalRuntime was given",
                hint="Create one with fda.lm.factory.runtime_from_settings(settings) and pass runtime=.",
            )
        server = runtime.server_for(spec)
        dry = dry_multiplier(settings, spec)
        if dry is not None and role == "main":  # llama.cpp's own field, in the request body
            common["extra_body"] = {"dry_multiplier": dry}
        lm = dspy.LM(f"openai/{spec.name}", api_base=server.api_base, api_key=LOCAL_API_KEY, **common)
        lm.fda_lenient_text = settings.lenient_text  # read by fda.lm.adapter.adapter_for: the output grammar to send
        return lm

    provider, _, model_id = name.partition("/")
    if not provider or not model_id:
        raise ConfigError(
            f"{name!r} is not a LiteLLM model string", hint="Use provider/model, e.g. openai/gpt-4o-mini."
        )
    check_provider_key(provider, os.environ if environ is None else environ)
    extra: dict[str, str] = {}
    if settings.api_base:
        extra["api_base"] = settings.api_base
    if settings.api_key is not None:
        extra["api_key"] = settings.api_key.get_secret_value()
    if provider == "azure":
        extra.update(_azure(settings))
    log.info("LM %s (%s)%s", name, role, f" at {settings.api_base}" if settings.api_base else "")
    fallbacks = [m for m in settings.fallback_models if m != name] if model is None else []
    if not fallbacks:
        return dspy.LM(name, **common, **extra)
    from fda.lm.fallback import FallbackLM

    chain = [make_lm(_for_fallback(settings, provider, m), role=role, model=m, environ=environ) for m in fallbacks]
    log.info("LM %s falls back to %s", name, ", ".join(fallbacks))
    return FallbackLM(name, fallbacks=chain, **common, **extra)


def _for_fallback(settings: LMSettings, provider: str, model: str) -> LMSettings:
    """A fallback of the main model's provider shares its endpoint and credentials (another deployment of the
    same Azure OpenAI resource); another provider's model gets none of them (its key is in its own variable)."""
    if model.partition("/")[0] == provider:
        return settings
    return settings.model_copy(update={"api_base": None, "api_key": None, "api_version": None, "azure_ad": False})


def _azure(settings: LMSettings) -> dict[str, str]:
    """Azure OpenAI's extras: the REST api-version, and Microsoft Entra ID instead of a key when asked
    (LiteLLM then takes a token from DefaultAzureCredential: the managed identity in Container Apps)."""
    extra: dict[str, str] = {}
    if settings.api_version:
        extra["api_version"] = settings.api_version
    if settings.azure_ad:
        import litellm

        if settings.api_key is not None:
            raise ConfigError(
                "FDA_LM__AZURE_AD=true and FDA_LM__API_KEY are both set",
                hint="Use one: Entra ID (the managed identity needs 'Cognitive Services OpenAI User') or a key.",
            )
        litellm.enable_azure_ad_token_refresh = True
    return extra


def check_provider_key(provider: str, environ: Mapping[str, str]) -> None:
    """Refuse a provider key variable that holds a placeholder; a missing key is LiteLLM's to report."""
    var = PROVIDER_KEY_ENV.get(provider)
    if var is not None and var in environ and is_placeholder_secret(environ[var]):
        raise ConfigError(
            f"{var} holds a placeholder value, not a key", hint=f"Export the real key in {var}, or unset it."
        )
