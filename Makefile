# The two commands a user needs are `make run` and `make test`; everything
# they depend on is installed here from pyproject.toml and uv.lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test lint format bench lock clean-data install

$(BIN)/.installed: pyproject.toml uv.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/python -m pip install -q "uv==$(UV_VERSION)"
	$(BIN)/uv sync --frozen --all-extras --python $(BIN)/python -q
	touch $@

install: $(BIN)/.installed

## run: start api + scheduler + workers (embedded Postgres and Redis unless DATABASE_URL/REDIS_URL are set)
run: $(BIN)/.installed
	$(BIN)/conveyor up

## test: lint, then unit, integration and acceptance tests against real Postgres and Redis
test: $(BIN)/.installed
	$(BIN)/ruff check app workers scheduler tests bench sql
	$(BIN)/python -m pytest tests

lint: $(BIN)/.installed
	$(BIN)/ruff check app workers scheduler tests bench sql
	$(BIN)/ruff format --check app workers scheduler tests bench sql

format: $(BIN)/.installed
	$(BIN)/ruff check --fix app workers scheduler tests bench sql
	$(BIN)/ruff format app workers scheduler tests bench sql

## bench: benchmarks; each prints name, value, unit and the ratio to its reference
bench: $(BIN)/.installed
	$(BIN)/python -m bench

## lock: refresh uv.lock after changing dependencies in pyproject.toml
lock:
	test -x $(BIN)/uv || (test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)) && $(BIN)/python -m pip install -q "uv==$(UV_VERSION)"
	$(BIN)/uv lock --python $(BIN)/python

clean-data:
	rm -rf .conveyor
