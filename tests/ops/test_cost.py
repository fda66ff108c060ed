"""ops/cost and `fda cost`: the cost model's arithmetic on a run whose counts are known."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fda.cli.app import app
from ops.cost import Deployment, load_prices, measured_usage, monthly_cost, per_thousand


def write_run(path: Path) -> Path:
    rows = [
        {"usage": {"prompt_tokens": 1000, "completion_tokens": 200, "lm_calls": 1}},
        {"usage": {"prompt_tokens": 800, "completion_tokens": 100, "lm_calls": 1}},
        {"usage": {"prompt_tokens": 0, "completion_tokens": 0, "lm_calls": 0}},  # answered from DSPy's cache
        {"usage": {"prompt_tokens": 0, "completion_tokens": 0, "lm_calls": 0}, "declined": True},  # the scope gate
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_usage_counts_cached_answers_as_paid_and_declined_ones_as_free(tmp_path: Path) -> None:
    usage = measured_usage(write_run(tmp_path / "run.jsonl"))
    assert (usage.questions, usage.lm_questions) == (4, 3)
    assert (usage.prompt_tokens, usage.completion_tokens) == (900, 150)


def test_token_cost_is_tokens_times_prices(tmp_path: Path) -> None:
    usage = measured_usage(write_run(tmp_path / "run.jsonl"))
    prices = load_prices(overrides={"lm_input_per_million": 1.0, "lm_output_per_million": 2.0})
    costs = monthly_cost(usage, Deployment(questions_per_month=40_000, cache_hit_rate=0.5), prices)
    # 20,000 fresh questions, 3 in 4 reach the LM: 15,000 x (900 x 1 + 150 x 2) / 1e6
    assert costs["Azure OpenAI tokens"] == pytest.approx(15_000 * 1_200 / 1e6)
    assert per_thousand(costs, 40_000) == pytest.approx(sum(costs.values()) / 40)
    more = monthly_cost(usage, Deployment(questions_per_month=40_000, semantic_ranker=True), prices)
    assert more["Azure AI Search"] > costs["Azure AI Search"]


def test_an_unknown_price_and_an_all_cached_run_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="no price"):
        load_prices(overrides={"gpt5_per_token": 1.0})
    cached = tmp_path / "cached.jsonl"
    cached.write_text(json.dumps({"usage": {"prompt_tokens": 0}}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no row carries token usage"):
        measured_usage(cached)


def test_the_command_prints_the_table_and_json(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run.jsonl")
    out = CliRunner().invoke(app, ["cost", "--run", str(run), "-q", "1000", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["per_1000"] == pytest.approx(data["total"])
    bad = CliRunner().invoke(app, ["cost", "--run", str(run), "--price", "lm_input_per_million"])
    assert bad.exit_code != 0 and "NAME=NUMBER" in bad.output
