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

.PHONY: run test lint format bench lock clean-data install install-dev console console-if-node console-check chromium

# --inexact: never uninstall, so `make run` after `make test` keeps the test tools.
# --compile-bytecode: every process (the tests start hundreds) then reads compiled modules; where
# PYTHONDONTWRITEBYTECODE is set (this machine, many CI images) Python would otherwise compile the
# dependencies from source at every start, 7.4 CPU-s per api/worker process here instead of 2.6.
SYNC = $(BIN)/uv sync --frozen --inexact --compile-bytecode --python $(BIN)/python -q
# Conveyor's own modules, compiled for the same reason (into __pycache__, which git ignores).
COMPILE = $(BIN)/python -m compileall -q -j 0 app workers scheduler bench

$(BIN)/uv:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/python -m pip install -q "uv==$(UV_VERSION)"

$(BIN)/.installed-run: pyproject.toml uv.lock | $(BIN)/uv
	$(SYNC) --extra embedded
	touch $@

$(BIN)/.installed-dev: pyproject.toml uv.lock | $(BIN)/uv
	$(SYNC) --extra embedded --extra dev
	touch $@ $(BIN)/.installed-run

# Modules that assemble SQL from fragments: basedpyright checks every fragment is a LiteralString (static text).
TYPED_SQL = app/domain/metrics.py app/domain/metric_catalog.py app/domain/metric_sources.py

## install: what `make run` needs; install-dev: also the test and lint tools
install: $(BIN)/.installed-run
install-dev: $(BIN)/.installed-dev

## run: start api + scheduler + workers (embedded Postgres and Redis unless DATABASE_URL/REDIS_URL are set)
run: $(BIN)/.installed-run console-if-node
	@$(COMPILE)
	$(BIN)/conveyor up

## test: lint (ruff, import-linter's layer contracts in pyproject.toml, basedpyright on TYPED_SQL), then unit, integration and acceptance tests against real Postgres and Redis
test: $(BIN)/.installed-dev console-check
	$(BIN)/ruff check app workers scheduler tests bench sql
	$(BIN)/lint-imports --no-cache
	$(BIN)/basedpyright --pythonpath $(BIN)/python $(TYPED_SQL)
	@$(COMPILE)
	$(BIN)/python -m pytest -n auto --maxprocesses 4 tests

lint: $(BIN)/.installed-dev
	$(BIN)/ruff check app workers scheduler tests bench sql
	$(BIN)/ruff format --check app workers scheduler tests bench sql
	$(BIN)/lint-imports --no-cache
	$(BIN)/basedpyright --pythonpath $(BIN)/python $(TYPED_SQL)

format: $(BIN)/.installed-dev
	$(BIN)/ruff check --fix app workers scheduler tests bench sql
	$(BIN)/ruff format app workers scheduler tests bench sql

## bench: benchmarks; each prints name, value, unit and the ratio to its reference
bench: $(BIN)/.installed-dev
	@$(COMPILE)
	$(BIN)/python -m bench

## lock: refresh uv.lock after changing dependencies in pyproject.toml
lock:
	test -x $(BIN)/uv || (test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)) && $(BIN)/python -m pip install -q "uv==$(UV_VERSION)"
	$(BIN)/uv lock --python $(BIN)/python

clean-data:
	rm -rf .conveyor

# ---- the console (app/console): built when Node.js >= 20 is here and the build is missing or stale
CONSOLE := app/console
CONSOLE_SOURCES := $(shell find $(CONSOLE)/src $(CONSOLE)/public -type f 2>/dev/null) \
	$(addprefix $(CONSOLE)/,index.html vite.config.ts tsconfig.json tsconfig.app.json)
NODE_OK := $(shell node -e 'process.exit(Number(+process.versions.node.split(".")[0] < 20))' 2>/dev/null && echo yes)

$(CONSOLE)/node_modules/.package-lock.json: $(CONSOLE)/package-lock.json
	cd $(CONSOLE) && npm ci --no-audit --no-fund

$(CONSOLE)/dist/index.html: $(CONSOLE)/node_modules/.package-lock.json $(CONSOLE_SOURCES)
	cd $(CONSOLE) && npx vite build

## console: build the web console (needs Node.js >= 20)
console: $(CONSOLE)/dist/index.html

console-if-node:
ifeq ($(NODE_OK),yes)
	@$(MAKE) --no-print-directory console
else
	@echo "Console not built: install Node.js 20 or later and run 'make run' again (the API and /api/docs work without it)."
endif

## console-check: build, lint, type-check and unit-test the console; install Chromium for its browser tests
console-check:
ifeq ($(NODE_OK),yes)
	@$(MAKE) --no-print-directory console chromium
	cd $(CONSOLE) && npx eslint src tests && npx vue-tsc --noEmit -p tsconfig.app.json && npx vitest run
else
	@echo "Console checks skipped: Node.js 20 or later is not installed."
endif

chromium:
	@test -x /usr/bin/chromium || (apt-get update -q && apt-get install -y -q chromium)
	@# a small CJK font, so zh-CN pages (and their screenshots) show characters, not boxes
	@fc-list :lang=zh | grep -q . || apt-get install -y -q fonts-wqy-microhei
