# The developer's front door. `make run` and `make test` install what they need on first use.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
# `make wait` and `make demo` talk to the server `make run` started.
URL = http://127.0.0.1:$${PORT:-8000}
WAIT ?= 180
CLIENT := clients/typescript

# uv uses the Python it is given and never downloads one; the system CA store works behind TLS proxies too.
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)
export UV_SYSTEM_CERTS := 1
export UV_NO_PROGRESS := 1

# Targets that install can run at once (`make run &` then `make token`): each installs under one lock,
# so the second waits and finds the work done. fcntl, not flock(1), which macOS lacks.
LOCKED = $(PYTHON) -c 'import fcntl, subprocess, sys; lock = open(sys.argv[1], "a"); fcntl.flock(lock, fcntl.LOCK_EX); sys.exit(subprocess.call(sys.argv[2:]))'

.PHONY: help install run wait test lint migrate purge token demo reset client bench fuzz clean .need-name

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

# Progress goes to stderr: `TOKEN=$$(make -s token NAME=alice)` must capture the token alone.
$(UV):
	@echo "installing uv $(UV_VERSION) into $(TOOLS)/" >&2
	@$(PYTHON) -m venv $(TOOLS)
	@$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION) >&2

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	@echo "installing the locked dependencies into $(VENV)/" >&2
	@$(UV) sync --frozen --quiet
	@touch $@

install: ## install the locked dependencies into .venv
	@mkdir -p $(TOOLS)
	@$(LOCKED) $(TOOLS)/install.lock $(MAKE) --no-print-directory -s $(VENV)/.installed

run: install ## serve on PORT (8000); embedded PostgreSQL under .data/ unless DATABASE_URL is set
	@exec $(PY) -m service serve

wait: ## wait until the server on PORT (8000) is ready, at most WAIT (180) seconds
	@for _ in $$(seq $(WAIT)); do \
		curl -sf -o /dev/null --max-time 2 $(URL)/health/ready && { echo "ready: $(URL)" >&2; exit 0; }; \
		sleep 1; \
	done; echo "not ready after $(WAIT) s: $(URL)/health/ready (see the output of make run)" >&2; exit 1

# The TypeScript client's locked packages; without npm its tests skip and say why.
$(CLIENT)/node_modules/.installed: $(CLIENT)/package-lock.json $(CLIENT)/package.json
	@if command -v npm >/dev/null; then \
		cd $(CLIENT) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm not found: the TypeScript client's tests will skip" >&2; fi

test: install $(CLIENT)/node_modules/.installed ## run the whole suite (embedded PostgreSQL, or TEST_DATABASE_URL)
	$(PY) -m pytest

lint: install ## ruff and mypy --strict (service, tests, bench)
	$(VENV)/bin/ruff check service tests bench
	$(VENV)/bin/ruff format --check service tests bench
	$(VENV)/bin/mypy service tests bench

migrate: install ## apply pending migrations (DATABASE_URL, or the embedded PostgreSQL)
	$(PY) -m service migrate

purge: install ## drop tombstones older than SYNC_RETENTION_DAYS (30) from the change feed; run daily
	$(PY) -m service purge

# NAME only from the command line: a variable every shell exports (USER) would mint tokens silently.
.need-name:
	@$(if $(filter command line,$(origin NAME)),true,echo "usage: make $(firstword $(MAKECMDGOALS)) NAME=alice" >&2; exit 2)

token: .need-name install ## print a token for NAME (make token NAME=alice), signed like make run verifies
	@$(PY) -m service token "$(NAME)"

demo: .need-name install ## create a few example tasks for NAME on the running server (make demo NAME=alice)
	@$(PY) -m service.demo "$(NAME)" $(URL)

reset: install ## delete the local database (.data/postgres); refuses while make run serves it
	@$(PY) -m service.devdb reset

client: install $(CLIENT)/node_modules/.installed ## regenerate the TypeScript client from the service's OpenAPI document
	$(PY) -m service openapi > $(CLIENT)/openapi.json.tmp && mv $(CLIENT)/openapi.json.tmp $(CLIENT)/openapi.json
	cd $(CLIENT) && npm run -s generate && npm run -s build

bench: install ## load benchmark: wrk against the service, the HTTP floor and pgbench; JSON in bench/results/
	@command -v wrk >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }; \
		else echo "make bench needs wrk: install it (sudo apt-get install wrk, or brew install wrk) and run again" >&2; exit 1; fi; }
	$(PY) bench/run.py

fuzz: install ## schemathesis, every phase, against the service on a scratch database (FUZZ_MAX_EXAMPLES=100)
	FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-100} $(PY) -m pytest tests/ops/test_fuzz.py -s

clean: ## remove the virtualenvs and caches (keeps .data/)
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
