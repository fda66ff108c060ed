"""fda bench lm's plumbing against the fake worker (streamed chunks + llama.cpp-style timings)."""

from collections.abc import Callable
from pathlib import Path

import pytest

from fda.lm import registry
from fda.lm.registry import ModelSpec
from ops.bench.lm import bench_prompt, run_bench
from tests.fda.lm.conftest import fake_command, make_parts  # noqa: F401 - make_parts is a fixture


def test_prompt_grows_with_the_word_budget() -> None:
    short, long = bench_prompt(50), bench_prompt(800)
    assert len(long[1]["content"].split()) > 10 * len(short[1]["content"].split()) / 2
    assert [m["role"] for m in long] == ["system", "user"]


def test_run_bench_reads_ttft_and_server_timings(
    make_parts: Callable[..., ModelSpec],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = make_parts([b"GGUF"], name="fake-bench")
    monkeypatch.setitem(registry.MODELS, spec.name, spec)
    df = run_bench(tmp_path, ["fake-bench"], [1, 2], repeat=2, prompt_words=20, command=fake_command("ok"))
    assert list(df["threads"]) == [1, 2] and set(df["model"]) == {"fake-bench"}
    row = df.iloc[0]
    assert (row["prompt_tokens"], row["prompt_tok_s"], row["decode_tok_s"], row["json_tok_s"]) == (
        10,
        100.0,
        20.0,
        20.0,
    )
    assert 0 < row["ttft_s"] <= row["total_s"]
