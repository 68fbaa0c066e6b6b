# clusterlab developer commands. `make demo` and `make test` work on a fresh machine that has
# Python >= 3.10 and make: they create .venv and install what they need.
# The PostgreSQL tests run when Debian's postgresql package is installed (a throwaway cluster on
# loopback) and are skipped otherwise; `CLUSTERLAB_REQUIRE_POSTGRES=1 make test` (as .ci/run does)
# makes them fail instead of skipping.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
PYTEST_ARGS ?= -n 2

.PHONY: demo test bench lint clean venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(STAMP_RUN)

venv: $(STAMP_DEV)

demo: $(STAMP_RUN)
	$(BIN)/python -m clusterlab demo

test: $(STAMP_DEV)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP_DEV)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python -m benchmarks.run

lint: $(STAMP_DEV)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache
	# numba invalidates a cached kernel only when its own file changes, not a kernel it inlines
	find src -name '*.nbi' -delete -o -name '*.nbc' -delete
