# Two commands do all the set-up on a fresh machine (Python 3.11 + g++):
#   make demo   creates .venv when missing, installs the toolkit, runs the main job on the built-in default
#   make test   the same set-up, then the whole test suite (what CI runs)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU build of torch; an unpinned torch makes pip pull a multi-GB CUDA build.
TORCH ?= torch==2.13.0
PYTEST_ARGS ?=

.PHONY: setup demo test lint bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

demo: setup
	$(BIN)/codesign demo

test: setup
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check codesign cost_models hw_templates tests scripts examples
	$(BIN)/ruff format --check codesign cost_models hw_templates tests scripts examples

bench: setup
	$(BIN)/python scripts/bench_cost_model.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
