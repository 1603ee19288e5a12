# The two commands for a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= $(or $(LEAPSLD_HOST),127.0.0.1)
PORT ?= $(or $(LEAPSLD_PORT),8000)

.PHONY: install serve test lint validate bench clean assets

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

validate: $(STAMP)
	$(BIN)/leapsld validate

serve: validate
	@echo "Serving the LEAPS dataset at http://$(HOST):$(PORT)/"
	$(BIN)/leapsld serve --host $(HOST) --port $(PORT)

# The query editor (YASGUI) and the browser tests' accessibility checker (axe-core), from the
# npm registry at pinned versions, with their licences: the files are committed, so only an
# upgrade needs this (and npm).
assets:
	bash scripts/assets.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: $(STAMP) lint
	$(BIN)/leapsld validate
	$(BIN)/pytest

# Side by side with Oxigraph server and rdflib-endpoint at 1M triples (benchmarks/run.py makes
# the data if missing), then Granian against gunicorn and waitress, then leapsld in front of
# Oxigraph server and Virtuoso (benchmarks/remote.py); about 40 minutes on 2 cores.
# `make bench BENCH_ARGS="--triples 100000"` for a quicker look.
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/http.py --server all
	$(BIN)/python benchmarks/load.py --seconds 60 --connections 64
	$(BIN)/python benchmarks/remote.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache .mypy_cache
