# Every routine task. Each target creates ./.venv and installs what it needs on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test lint bench build validate clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)  ## validate, build (if needed) and serve at http://127.0.0.1:8000
	$(BIN)/kb serve

test: $(STAMP)  ## the whole test suite (PostgreSQL tests too when KB_TEST_DATABASE_URL is set)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check kb api search_index tests bench
	$(BIN)/ruff format --check kb api search_index tests bench
	$(BIN)/mypy

bench: $(STAMP)  ## benchmarks: they print numbers (docs/performance.md)
	$(BIN)/python bench/build.py

validate: $(STAMP)
	$(BIN)/kb validate

build: $(STAMP)
	$(BIN)/kb build

clean:
	rm -rf $(VENV) var
