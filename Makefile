# The two commands a user needs are `make run` and `make test`; everything
# they depend on is installed here from pyproject.toml and uv.lock: `make run`
# the application and its embedded servers (the `embedded` extra), `make test`
# and `make bench` also the test tools (the `dev` extra).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test lint format bench lock clean-data install install-dev

# --inexact: never uninstall, so `make run` after `make test` keeps the test tools.
SYNC = $(BIN)/uv sync --frozen --inexact --python $(BIN)/python -q

$(BIN)/uv:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/python -m pip install -q "uv==$(UV_VERSION)"

$(BIN)/.installed-run: pyproject.toml uv.lock | $(BIN)/uv
	$(SYNC) --extra embedded
	touch $@

$(BIN)/.installed-dev: pyproject.toml uv.lock | $(BIN)/uv
	$(SYNC) --extra embedded --extra dev
	touch $@ $(BIN)/.installed-run

## install: what `make run` needs; install-dev: also the test and lint tools
install: $(BIN)/.installed-run
install-dev: $(BIN)/.installed-dev

## run: start api + scheduler + workers (embedded Postgres and Redis unless DATABASE_URL/REDIS_URL are set)
run: $(BIN)/.installed-run
	$(BIN)/conveyor up

## test: lint, then unit, integration and acceptance tests against real Postgres and Redis
test: $(BIN)/.installed-dev
	$(BIN)/ruff check app workers scheduler tests bench sql
	$(BIN)/python -m pytest tests

lint: $(BIN)/.installed-dev
	$(BIN)/ruff check app workers scheduler tests bench sql
	$(BIN)/ruff format --check app workers scheduler tests bench sql

format: $(BIN)/.installed-dev
	$(BIN)/ruff check --fix app workers scheduler tests bench sql
	$(BIN)/ruff format app workers scheduler tests bench sql

## bench: benchmarks; each prints name, value, unit and the ratio to its reference
bench: $(BIN)/.installed-dev
	$(BIN)/python -m bench

## lock: refresh uv.lock after changing dependencies in pyproject.toml
lock:
	test -x $(BIN)/uv || (test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)) && $(BIN)/python -m pip install -q "uv==$(UV_VERSION)"
	$(BIN)/uv lock --python $(BIN)/python

clean-data:
	rm -rf .conveyor
