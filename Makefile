# Thin targets over the `fda` CLI. `make run` and `make test` work on a fresh clone: they build the
# environment first. Pins live in pyproject.toml; torch goes in first as the local CPU wheel.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FDA := $(VENV)/bin/fda
STAMP := $(VENV)/.installed

export LITELLM_LOCAL_MODEL_COST_MAP ?= True
export MLFLOW_DISABLE_TELEMETRY ?= true
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export OMP_NUM_THREADS ?= 1
export TORCH_EXTENSIONS_DIR ?= $(CURDIR)/state/torch_extensions
export DSPY_CACHEDIR ?= $(CURDIR)/state/dspy_cache

.PHONY: help setup run ingest stats test test-fast test-slow lint format bench gold clean

help:  ## List targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	@if $(PY) -m pip list 2>/dev/null | grep -qi '^nvidia-'; then echo "error: a CUDA torch build slipped in"; exit 1; fi
	@touch $(STAMP)

setup: $(STAMP)  ## Create .venv and install everything (pinned in pyproject.toml)

ingest: setup  ## Parse the docs (../shared/corpus by default) into state/fda.duckdb
	$(FDA) ingest

stats: setup  ## Counts per version and section type
	$(FDA) corpus stats

run: ingest  ## Set everything up (the service itself arrives with the API issue)
	$(FDA) corpus stats
	@echo "Corpus ready in state/fda.duckdb. Serving (fda serve) is not built yet: see the API issue."

test: setup  ## Offline tests: fast tier + real-corpus tier (CI runs this)
	$(PY) -m pytest

test-fast: setup  ## Only the fast tier (fixtures and fakes)
	$(PY) -m pytest -m 'not slow and not corpus'

test-slow: setup  ## Real models and servers (minutes)
	$(PY) -m pytest -m slow; rc=$$?; if [ $$rc -eq 5 ]; then echo "no slow tests collected"; else exit $$rc; fi

lint: setup  ## ruff + mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: setup  ## Apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: setup  ## Benchmarks (tables; results go in docs/benchmarks.md)
	$(FDA) bench ingest --repeat 3

gold: setup  ## Validate the gold set against the ingested corpus
	$(FDA) gold validate

clean:  ## Remove the state folder (store, indexes, caches); keeps .venv
	rm -rf state
