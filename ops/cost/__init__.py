"""The Azure cost model (docs/cost-model.md): cost per month and per 1,000 questions from the token counts an
eval run measured here, the deployment's fixed parts (infra/azure/main.bicep) and a price sheet.

    usage = measured_usage(Path("eval/results/20261205-092924-rag-fused-dev-select.jsonl"))
    table = monthly_cost(usage, Deployment(questions_per_month=100_000), load_prices())

What is measured: prompt and completion tokens per LM call and the share of questions that reach the LM (the
trust checks decline some before it), from the run's per-question ``usage``. What is assumed (each a flag of
``fda cost``): the answer-cache hit rate, replicas and their size, telemetry bytes per question, the prices.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path

PRICES = Path(__file__).with_name("prices.json")
SECONDS_PER_MONTH = 30 * 24 * 3600


@dataclass(frozen=True)
class Usage:
    questions: int  # rows of the run
    lm_questions: int  # rows whose answer cost LM tokens (not declined before the LM, not cached in the run)
    prompt_tokens: float  # mean per LM-answered question
    completion_tokens: float
    lm_calls: float

    @property
    def lm_share(self) -> float:
        return self.lm_questions / self.questions if self.questions else 0.0


def measured_usage(run: Path) -> Usage:
    """Token counts of one eval run (eval/results/<run>.jsonl). Rows served from DSPy's cache carry no usage
    and are left out of the means; declined rows count as questions that cost no tokens."""
    rows = [json.loads(line) for line in run.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not rows:
        raise ValueError(f"{run} holds no rows")
    paid = [r["usage"] for r in rows if (r.get("usage") or {}).get("prompt_tokens", 0) > 0]
    declined = sum(1 for r in rows if r.get("declined") or r.get("refused"))
    if not paid:
        raise ValueError(f"{run}: no row carries token usage (an all-cached run?); pick a run that called the LM")
    answered = len(rows) - declined
    return Usage(
        questions=len(rows),
        lm_questions=max(answered, len(paid)),
        prompt_tokens=statistics.fmean(u["prompt_tokens"] for u in paid),
        completion_tokens=statistics.fmean(u["completion_tokens"] for u in paid),
        lm_calls=statistics.fmean(u.get("lm_calls") or 1 for u in paid),
    )


@dataclass(frozen=True)
class Deployment:
    questions_per_month: int = 100_000
    cache_hit_rate: float = 0.2  # answers served from the answer cache: no LM, no search
    search_tier: str = "basic"
    semantic_ranker: bool = False
    api_replicas: float = 1.0  # mean replicas running over the month (minReplicas 1, scaling up under load)
    api_vcpu: float = 2.0
    api_gib: float = 4.0
    ui_replicas: float = 0.2  # scales to zero
    ui_vcpu: float = 0.5
    ui_gib: float = 1.0
    telemetry_kb_per_question: float = 6.0  # spans + logs per question in Log Analytics
    postgres_storage_gb: float = 32.0
    corpus_gb: float = 0.1


def load_prices(path: Path = PRICES, overrides: dict[str, float] | None = None) -> dict[str, float]:
    prices = {k: float(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items() if not k.startswith("_")
              and k != "as_of"}  # fmt: skip
    for key, value in (overrides or {}).items():
        if key not in prices:
            raise KeyError(f"no price {key!r}; known: {', '.join(sorted(prices))}")
        prices[key] = value
    return prices


def monthly_cost(usage: Usage, d: Deployment, prices: dict[str, float]) -> dict[str, float]:
    """USD per month, by component, for ``d.questions_per_month`` questions."""
    fresh = d.questions_per_month * (1 - d.cache_hit_rate)
    lm_questions = fresh * usage.lm_share
    lm = (
        lm_questions
        * (
            usage.prompt_tokens * prices["lm_input_per_million"]
            + usage.completion_tokens * prices["lm_output_per_million"]
        )
        / 1e6
    )
    search = prices[f"search_{d.search_tier}_per_month"]
    if d.semantic_ranker:
        search += (
            max(0.0, fresh - prices["semantic_ranker_free_queries_per_month"])
            / 1000
            * prices["semantic_ranker_per_1000_queries"]
        )
    vcpu_s = (d.api_replicas * d.api_vcpu + d.ui_replicas * d.ui_vcpu) * SECONDS_PER_MONTH
    gib_s = (d.api_replicas * d.api_gib + d.ui_replicas * d.ui_gib) * SECONDS_PER_MONTH
    apps = (
        max(0.0, vcpu_s - prices["container_apps_free_vcpu_seconds"]) * prices["container_apps_vcpu_second"]
        + max(0.0, gib_s - prices["container_apps_free_gib_seconds"]) * prices["container_apps_gib_second"]
    )
    postgres = prices["postgres_b1ms_per_month"] + d.postgres_storage_gb * prices["postgres_storage_gb_month"]
    telemetry = d.questions_per_month * d.telemetry_kb_per_question / 1e6 * prices["log_analytics_per_gb"]
    # Key Vault: a handful of reads per replica start; the registry and the corpus share are flat
    other = prices["container_registry_basic_per_month"] + d.corpus_gb * prices["storage_files_gb_month"] + 0.01
    return {
        "Azure OpenAI tokens": lm,
        "Azure AI Search": search,
        "Container Apps (api, ui)": apps,
        "PostgreSQL (query log)": postgres,
        "Log Analytics / App Insights": telemetry,
        "registry, files, Key Vault": other,
    }


def per_thousand(costs: dict[str, float], questions_per_month: int) -> float:
    return sum(costs.values()) / questions_per_month * 1000
