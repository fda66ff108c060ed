"""make_lm builds the right dspy.LM without touching the network; a local model goes through a (fake) server."""

import json
from collections.abc import Callable
from pathlib import Path

import dspy
import pytest

from fda.errors import ConfigError
from fda.lm import registry
from fda.lm.factory import make_lm, model_for, runtime_from_settings
from fda.lm.registry import ModelSpec
from fda.lm.runtime import LocalRuntime
from fda.settings import LMSettings, Settings
from tests.fda.lm.conftest import fake_command

SECRET = "sk-proj-3fQk8T2mZr9LxV7aB1cD"


@pytest.mark.parametrize(
    "model", ["openai/gpt-4o-mini", "azure/my-deploy", "anthropic/claude-3-5-haiku", "ollama_chat/llama3.2"]
)
def test_litellm_strings_become_dspy_lms_with_the_settings(model: str) -> None:
    s = LMSettings(model=model, timeout_s=30, max_tokens=256, temperature=0.2, num_retries=2)
    lm = make_lm(s, environ={})
    assert isinstance(lm, dspy.LM) and lm.model == model
    assert lm.kwargs["max_tokens"] == 256 and lm.kwargs["temperature"] == 0.2 and lm.kwargs["timeout"] == 30
    assert lm.num_retries == 2 and "api_key" not in lm.kwargs and "api_base" not in lm.kwargs


def test_a_seed_is_sent_only_when_set() -> None:
    assert "seed" not in make_lm(LMSettings(model="openai/a"), environ={}).kwargs
    assert make_lm(LMSettings(model="openai/a", seed=7, temperature=0.7), environ={}).kwargs["seed"] == 7


def test_a_frequency_penalty_is_sent_only_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from fda.settings import Settings

    assert "frequency_penalty" not in make_lm(LMSettings(model="openai/a"), environ={}).kwargs
    monkeypatch.setenv("FDA_LM__FREQUENCY_PENALTY", "0.5")
    s = Settings().lm
    assert (
        s.frequency_penalty == 0.5
        and make_lm(s.model_copy(update={"model": "openai/a"}), environ={}).kwargs["frequency_penalty"] == 0.5
    )
    s = s.model_copy(update={"model": "openai/a", "judge_model": "openai/j"})
    assert "frequency_penalty" not in make_lm(s, role="judge", environ={}).kwargs  # the answer model's only
    with pytest.raises(ValueError, match="less than or equal to 2"):
        LMSettings(frequency_penalty=3.0)


def test_the_dry_sampler_reaches_a_local_server_and_never_a_hosted_one(
    make_parts: Callable[..., ModelSpec], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    spec = make_parts([b"GGUF", b"weights"], name="fake-local")
    monkeypatch.setitem(registry.MODELS, spec.name, spec)
    monkeypatch.setenv("FDA_LM__DRY_MULTIPLIER", "0.8")
    s = Settings().lm.model_copy(
        update={"model": "local:fake-local", "cache": False, "judge_model": "local:fake-local"}
    )
    assert s.dry_multiplier == 0.8
    with LocalRuntime(tmp_path / "models", threads=1, command=fake_command("ok")) as rt:
        base = rt.server_for(spec).api_base.removesuffix("/v1")
        with dspy.context(lm=make_lm(s, runtime=rt), adapter=dspy.ChatAdapter()):
            dspy.Predict("question -> answer")(question="What is FastAPI?")
        sent = httpx.get(f"{base}/last").json()
        assert sent["dry_multiplier"] == 0.8 and sent["model"] == "fake-local"  # top level, where llama.cpp reads it
        with dspy.context(lm=make_lm(s, runtime=rt, role="judge"), adapter=dspy.ChatAdapter()):
            dspy.Predict("question -> answer")(question="Is it?")
        assert "dry_multiplier" not in httpx.get(f"{base}/last").json()  # the answer model's only
    hosted = make_lm(s.model_copy(update={"model": "openai/a"}), environ={}).kwargs
    assert "dry_multiplier" not in json.dumps(hosted, default=str)  # a provider would refuse an unknown field
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        LMSettings(dry_multiplier=-1.0)


def test_provider_keys_stay_in_the_environment() -> None:
    lm = make_lm(LMSettings(model="openai/gpt-4o-mini"), environ={"OPENAI_API_KEY": SECRET})
    assert SECRET not in json.dumps(lm.dump_state(), default=str) and "api_key" not in lm.kwargs


def test_placeholder_provider_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY holds a placeholder"):
        make_lm(LMSettings(model="openai/gpt-4o-mini"), environ={"OPENAI_API_KEY": "sk-xxx"})


def test_api_base_and_its_key_are_passed_but_not_saved() -> None:
    s = LMSettings(model="openai/qwen", api_base="http://127.0.0.1:9/v1", api_key=SECRET)  # type: ignore[arg-type]
    lm = make_lm(s, environ={})
    assert lm.kwargs["api_base"] == "http://127.0.0.1:9/v1" and lm.kwargs["api_key"] == SECRET
    assert SECRET not in json.dumps(lm.dump_state(), default=str)


def test_roles_fall_back_to_the_main_model() -> None:
    s = LMSettings(model="openai/a", judge_model="anthropic/b")
    assert (model_for(s), model_for(s, "judge"), model_for(s, "teacher")) == ("openai/a", "anthropic/b", "openai/a")
    assert make_lm(s, role="judge", environ={}).model == "anthropic/b"


def test_a_local_model_needs_a_runtime() -> None:
    with pytest.raises(ConfigError, match="LocalRuntime"):
        make_lm(LMSettings(model="local:qwen2.5-coder-0.5b"))


def test_runtime_from_settings_uses_state_dir(tmp_path: Path) -> None:
    s = Settings(state_dir=tmp_path, lm={"threads": 1, "context_size": 1024})  # type: ignore[arg-type]
    rt = runtime_from_settings(s)
    assert rt.models_dir == tmp_path / "models" and rt.log_dir == tmp_path / "logs"
    assert (rt.threads, rt.context_size) == (1, 1024)


def test_local_model_end_to_end_through_a_fake_server(
    make_parts: Callable[..., ModelSpec], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """local:<name> -> assembled file -> managed server -> dspy.LM('openai/<name>') -> a DSPy prediction."""
    spec = make_parts([b"GGUF", b"weights"], name="fake-local")
    monkeypatch.setitem(registry.MODELS, spec.name, spec)
    s = LMSettings(model="local:fake-local", cache=False)  # valid: the registry now holds it
    with LocalRuntime(tmp_path / "models", threads=1, command=fake_command("ok")) as rt:
        lm = make_lm(s, runtime=rt)
        assert lm.model == "openai/fake-local" and lm.kwargs["api_base"] == rt.server_for(spec).api_base
        assert lm.kwargs["api_key"] == "local"
        with dspy.context(lm=lm, adapter=dspy.ChatAdapter()):
            pred = dspy.Predict("question -> answer")(question="What is FastAPI?")
    assert pred.answer == "fake answer"
    assert (tmp_path / "models" / "fake-local.gguf").read_bytes() == b"GGUFweights"
