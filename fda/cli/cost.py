"""``fda cost``: what the Azure deployment (infra/azure/main.bicep) costs a month and per 1,000 questions, from
the token counts an eval run measured here and the price sheet ops/cost/prices.json (docs/cost-model.md).

fda cost                                          # 100,000 questions a month, the default run's tokens
fda cost -q 1000000 --cache-hit-rate 0.3 --semantic-ranker
fda cost --run eval/results/<run>.jsonl --price lm_input_per_million=0.5 --price lm_output_per_million=1.5
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fda.console import console, fail
from fda.errors import ConfigError
from ops.cost import Deployment, load_prices, measured_usage, monthly_cost, per_thousand

# a 1.5B rag run on gold v2 dev-select whose answers called the LM (not served from cache): real token counts
DEFAULT_RUN = Path(__file__).resolve().parents[2] / "eval" / "results" / "20261205-092924-rag-fused-dev-select.jsonl"


def _overrides(pairs: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            fail(ConfigError(f"--price {pair!r} is not NAME=NUMBER", hint="e.g. --price lm_input_per_million=0.5"))
    return out


def cost_cmd(
    questions: Annotated[int, typer.Option("--questions", "-q", min=1, help="Questions a month.")] = 100_000,
    run: Annotated[Path, typer.Option(help="Eval run whose per-question token usage is the measure.")] = DEFAULT_RUN,
    cache_hit_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share answered from the answer cache.")
    ] = 0.2,
    search_tier: Annotated[str, typer.Option(help="basic | standard (Azure AI Search).")] = "basic",
    semantic_ranker: Annotated[bool, typer.Option(help="Bill the semantic ranker per query.")] = False,
    api_replicas: Annotated[float, typer.Option(min=0.0, help="Mean API replicas running over the month.")] = 1.0,
    telemetry_kb: Annotated[float, typer.Option(min=0.0, help="Log Analytics KB per question.")] = 6.0,
    price: Annotated[list[str] | None, typer.Option(help="Override a price of ops/cost/prices.json: NAME=USD.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The table as JSON.")] = False,
) -> None:
    """Monthly Azure cost and cost per 1,000 questions (prices unverified here: check them, docs/cost-model.md)."""
    if search_tier not in ("basic", "standard"):
        fail(ConfigError(f"--search-tier {search_tier!r}", hint="Use basic or standard."))
    try:
        usage = measured_usage(run)
        prices = load_prices(overrides=_overrides(price or []))
    except (OSError, ValueError, KeyError) as err:
        fail(
            ConfigError(
                f"cannot compute the cost: {err}", hint="Pass --run eval/results/<a run>.jsonl, or fix --price."
            )
        )
    deployment = Deployment(
        questions_per_month=questions, cache_hit_rate=cache_hit_rate, search_tier=search_tier,
        semantic_ranker=semantic_ranker, api_replicas=api_replicas, telemetry_kb_per_question=telemetry_kb,
    )  # fmt: skip
    costs = monthly_cost(usage, deployment, prices)
    total, thousand = sum(costs.values()), per_thousand(costs, questions)
    if as_json:
        console.print_json(
            json.dumps({"usage": usage.__dict__, "monthly": costs, "total": total, "per_1000": thousand})
        )
        return
    table = Table(title=f"Azure, {questions:,} questions a month ({cache_hit_rate:.0%} from cache)")
    table.add_column("component")
    table.add_column("USD / month", justify="right")
    table.add_column("share", justify="right")
    for name, value in costs.items():
        table.add_row(name, f"{value:,.2f}", f"{value / total:.0%}" if total else "-")
    table.add_row("[bold]total[/]", f"[bold]{total:,.2f}[/]", "")
    console.print(table)
    console.print(
        f"per 1,000 questions: [bold]{thousand:,.3f} USD[/]; measured in {run.name}: {usage.lm_share:.0%} of "
        f"questions reach the LM, {usage.prompt_tokens:,.0f} prompt + {usage.completion_tokens:,.0f} completion "
        f"tokens each ({usage.lm_calls:.2f} calls). Prices: ops/cost/prices.json (unverified; check them)."
    )
