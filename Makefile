# Two commands on a fresh machine with Python 3.11 and make: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# The test suite runs its storage tests on SQLite and on this PostgreSQL (skipped if unreachable,
# unless XIUHUA_REQUIRE_PG=1, as CI sets, turns that into a failure).
export XIUHUA_TEST_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/xiuhua_test

.PHONY: setup demo test lint bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/xiuhua demo

lint: setup
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

# Each benchmark exits 1 when it misses its goal; the others still run.
bench: setup
	-$(BIN)/python bench/deadlines.py
	-$(BIN)/python bench/lifecycle.py
	-$(BIN)/python bench/locate.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
