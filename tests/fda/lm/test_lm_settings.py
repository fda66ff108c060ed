import pytest
from pydantic import ValidationError

from fda.lm.secrets import is_placeholder_secret
from fda.settings import LMSettings, Settings, get_settings


@pytest.mark.parametrize(
    ("value", "placeholder"),
    [
        ("changeme", True),
        ("CHANGE_ME", True),
        ("sk-xxx", True),
        ("sk-xxxxxxxxxxxx", True),
        ("sk-...", True),
        ("sk-your-key-here", True),
        ("<your-api-key>", True),
        ("${OPENAI_API_KEY}", True),
        ("your_api_key", True),
        ("", True),
        ("   ", True),
        ("***", True),
        ("sk-proj-3fQk8T2mZr9LxV7aB1cD", False),
        ("sk-ant-api03-AbC123dEf456", False),
        ("0123456789abcdef0123456789abcdef", False),
    ],
)
def test_placeholder_secrets(value: str, placeholder: bool) -> None:
    assert is_placeholder_secret(value) is placeholder


def test_defaults_are_the_embedded_model() -> None:
    s = Settings().lm
    assert s.model == "local:qwen2.5-coder-1.5b" and s.api_key is None and s.teacher_model is None


def test_placeholder_key_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FDA_LM__API_KEY", "changeme")
    with pytest.raises(ValidationError, match="placeholder"):
        Settings()


def test_a_real_key_is_kept_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FDA_LM__API_KEY", "sk-proj-3fQk8T2mZr9LxV7aB1cD")
    s = get_settings()
    assert s.lm.api_key is not None and s.lm.api_key.get_secret_value() == "sk-proj-3fQk8T2mZr9LxV7aB1cD"
    assert "3fQk8T2" not in repr(s) and "3fQk8T2" not in s.model_dump_json()


@pytest.mark.parametrize(
    "model", ["local:qwen2.5-coder-0.5b", "openai/gpt-4o-mini", "ollama_chat/llama3.2", "azure/my-deploy"]
)
def test_model_strings_accepted(model: str) -> None:
    assert LMSettings(model=model, judge_model=model).model == model


@pytest.mark.parametrize("model", ["local:gpt-9", "gpt-4o", "openai/", ""])
def test_model_strings_refused(model: str) -> None:
    with pytest.raises(ValidationError):
        LMSettings(model=model)


@pytest.mark.parametrize(("field", "value"), [("timeout_s", 0), ("max_tokens", 0), ("threads", 0), ("temperature", 3)])
def test_out_of_range_values_refused(field: str, value: float) -> None:
    with pytest.raises(ValidationError):
        LMSettings(**{field: value})


def test_fast_preset_picks_the_small_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The adapted 0.5B (r8d): a model `fda models fetch --all` assembles, with its adapter committed."""
    from fda.lm.registry import check_adapter, get_spec

    monkeypatch.setenv("FDA_PRESET", "fast")
    model = get_settings().lm.model
    assert model == "local:qwen2.5-coder-0.5b-fda-distil2"
    spec = get_spec(model)
    assert spec.base == "qwen2.5-coder-0.5b" and check_adapter(spec) is not None  # committed, hash checked
    get_settings.cache_clear()
    monkeypatch.setenv("FDA_LM__MODEL", "openai/gpt-4o-mini")
    assert get_settings().lm.model == "openai/gpt-4o-mini"
