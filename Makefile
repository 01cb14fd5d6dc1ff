# Two commands set everything up on a fresh machine (Python >= 3.11 with pip):
#   make build   install the project into .venv and build seeds/ into build/
#   make test    install the test extra and run the whole suite (what .ci/run runs)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: build test lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

build: $(VENV)/.installed
	$(BIN)/aflm-graph build seeds --out build

test: $(VENV)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest

bench: $(VENV)/.installed
	$(BIN)/python bench/benchmark.py

clean:
	rm -rf build test-output .pytest_cache .hypothesis
