# Kontor's tasks. `./dev RECIPE` runs them on a fresh machine (it installs uv and just first).

set shell := ["bash", "-euo", "pipefail", "-c"]
# recipe arguments reach the commands as they were typed: `./dev test -k "a or b"` works
set positional-arguments

export UV_PYTHON_DOWNLOADS := "never"
export UV_PROJECT_ENVIRONMENT := justfile_directory() / ".venv"

# list the recipes
default:
    @just --list

# create .venv from uv.lock (Python 3.11)
sync:
    uv sync --frozen --python 3.11 --quiet

# start the whole platform: PostgreSQL, NATS JetStream, API and workers (Ctrl-C stops it)
up: sync
    uv run --frozen --no-sync kontor up

# run the whole test suite: unit, then integration (real PostgreSQL and NATS), then e2e
test *ARGS: sync browser
    uv run --frozen --no-sync pytest "$@"

# Debian's chromium for the browser tests (Playwright cannot download its own browser here)
browser:
    #!/usr/bin/env bash
    set -euo pipefail
    command -v chromium >/dev/null 2>&1 && exit 0
    echo "dev: installing Debian's chromium for the browser tests (once)" >&2
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium >/dev/null

# the unit tier only: pure, no I/O
test-unit *ARGS: sync
    uv run --frozen --no-sync pytest tests/unit "$@"

# the integration tier only: real PostgreSQL and NATS JetStream
test-integration *ARGS: sync
    uv run --frozen --no-sync pytest tests/integration "$@"

# the e2e tier only: the platform as real processes
test-e2e *ARGS: sync browser
    uv run --frozen --no-sync pytest tests/e2e "$@"

# ruff (lint and format check), mypy --strict, import-linter
lint: sync
    uv run --frozen --no-sync ruff check .
    uv run --frozen --no-sync ruff format --check .
    uv run --frozen --no-sync mypy
    uv run --frozen --no-sync lint-imports

# format the code and apply ruff's safe fixes
fmt: sync
    uv run --frozen --no-sync ruff format .
    uv run --frozen --no-sync ruff check --fix .

# run a benchmark: `./dev bench ledger --json` (see `kontor bench --help`)
bench *ARGS: sync
    uv run --frozen --no-sync kontor bench "$@"

# schemathesis --checks all against a real API with a customer, the admin and finance's key
schemathesis *ARGS: sync
    uv run --frozen --no-sync python -m tests.support.schema_check "$@"

# any kontor command: `./dev kontor staff add ...`, `./dev kontor mail`, `./dev kontor settings`
kontor *ARGS: sync
    uv run --frozen --no-sync kontor "$@"
