# The developer's front door. `make run` and `make test` install what they need on first use.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
DEV_SECRET := .data/dev-jwt-secret

# uv uses the Python it is given and never downloads one; the system CA store works behind TLS proxies too.
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)
export UV_SYSTEM_CERTS := 1
export UV_NO_PROGRESS := 1

# Local runs sign and verify with a generated secret unless a key source is configured.
WITH_DEV_SECRET = if [ -z "$${JWT_SECRET}$${BETTER_AUTH_SECRET}$${JWT_JWKS_URL}" ]; then export JWT_SECRET="$$(cat $(DEV_SECRET))"; fi;

.PHONY: help install run test lint migrate purge token bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet
	@touch $@

$(DEV_SECRET):
	@mkdir -p $(dir $@)
	@$(PYTHON) -c "import secrets; print(secrets.token_urlsafe(48))" > $@
	@chmod 600 $@

install: $(VENV)/.installed ## install the locked dependencies into .venv

run: install $(DEV_SECRET) ## serve on PORT (8000); embedded PostgreSQL under .data/ unless DATABASE_URL is set
	@$(WITH_DEV_SECRET) exec $(PY) -m service serve

test: install ## run the whole suite (embedded PostgreSQL, or TEST_DATABASE_URL)
	$(PY) -m pytest

lint: install ## ruff and mypy --strict (service, tests, bench)
	$(VENV)/bin/ruff check service tests bench
	$(VENV)/bin/ruff format --check service tests bench
	$(VENV)/bin/mypy service tests bench

migrate: install ## apply pending migrations (DATABASE_URL, or the embedded PostgreSQL)
	$(PY) -m service migrate

purge: install ## drop tombstones older than SYNC_RETENTION_DAYS (30) from the change feed; run daily
	$(PY) -m service purge

token: install $(DEV_SECRET) ## print a token for USER (make token USER=alice)
	@test -n "$(USER)" || { echo "usage: make token USER=alice" >&2; exit 2; }
	@$(WITH_DEV_SECRET) $(PY) -m service token "$(USER)"

bench: install ## load benchmark: wrk against the service, the HTTP floor and pgbench; JSON in bench/results/
	@command -v wrk >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }; \
		else echo "make bench needs wrk: install it (sudo apt-get install wrk, or brew install wrk) and run again" >&2; exit 1; fi; }
	$(PY) bench/run.py

clean: ## remove the virtualenvs and caches (keeps .data/)
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
