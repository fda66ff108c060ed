from pathlib import Path

import pytest
from pydantic import ValidationError

from fda.settings import Settings, get_settings


def test_defaults_point_at_repo_state_and_shared_corpus() -> None:
    s = Settings()
    assert s.state_dir.name == "state" and s.db_path == s.state_dir / "fda.duckdb"
    assert s.corpus.sources[0].endswith("shared/corpus")
    assert s.chunking.max_tokens == 220


def test_env_vars_nested_and_prefixed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FDA_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("FDA_CHUNKING__MAX_TOKENS", "128")
    monkeypatch.setenv("FDA_CORPUS__SOURCES", '["/data/a.jsonl", "github:fastapi/fastapi@0.100.0"]')
    s = get_settings()
    assert s.state_dir == tmp_path and s.chunking.max_tokens == 128
    assert s.corpus.sources == ["/data/a.jsonl", "github:fastapi/fastapi@0.100.0"]


def test_preset_applies_and_explicit_values_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FDA_PRESET", "fast")
    assert get_settings().chunking.max_tokens == 160
    get_settings.cache_clear()
    monkeypatch.setenv("FDA_CHUNKING__MAX_TOKENS", "100")
    s = get_settings()
    assert s.chunking.max_tokens == 100 and s.logging.level == "WARNING"


@pytest.mark.parametrize(
    ("env", "value"),
    [("FDA_PRESET", "turbo"), ("FDA_CHUNKING__MAX_TOKENS", "5"), ("FDA_LOGGING__LEVEL", "LOUD")],
)
def test_bad_values_are_rejected(monkeypatch: pytest.MonkeyPatch, env: str, value: str) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ValidationError):
        Settings()


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError):
        Settings(chunking={"max_tokens": 100, "typo": 1})  # type: ignore[arg-type]
