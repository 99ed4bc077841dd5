# Two commands on a fresh machine with Python 3.11 and make: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# The test suite runs its storage tests on SQLite and on this PostgreSQL (skipped if unreachable,
# unless XIUHUA_REQUIRE_PG=1, as CI sets, turns that into a failure).
export XIUHUA_TEST_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/xiuhua_test

.PHONY: setup demo test lint bench clean browser

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# The web console's libraries come from npm (web/package-lock.json) and are copied into the package.
VENDOR := src/xiuhua/entrypoints/web/static/vendor/.installed-stamp
$(VENDOR): web/package.json web/package-lock.json web/copy-vendor.mjs
	cd web && npm ci --no-audit --no-fund --loglevel=error && node copy-vendor.mjs
	@touch $@

setup: $(STAMP) $(VENDOR)

# The browser tests drive Debian's chromium (never a browser downloaded by Playwright).
browser:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
	@fc-list :lang=zh | grep -q . || (apt-get update && apt-get install -y fonts-wqy-microhei)  # 中文 in screenshots

demo: setup
	$(BIN)/xiuhua demo

lint: setup
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/mypy
	$(BIN)/lint-imports  # the house's import rules (docs/architecture.md)

test: lint browser
	$(BIN)/pytest

# Each benchmark exits 1 when it misses its goal; the others still run.
# Most take minutes; components.py and evaluation.py generate a million rows each (the better part of an hour).
bench: setup
	-$(BIN)/python bench/deadlines.py
	-$(BIN)/python bench/lifecycle.py
	-$(BIN)/python bench/locate.py
	-PYTHONPATH=. $(BIN)/python bench/components.py
	-$(BIN)/python bench/tiles.py
	-$(BIN)/python bench/api_throughput.py
	-$(BIN)/python bench/sensing.py
	-$(BIN)/python bench/evaluation.py
	-$(BIN)/python bench/vision.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
