# Every routine task. Each target creates ./.venv and installs what it needs on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test lint bench bench-api bench-miss bench-memory build validate clean

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

# Datasette is measured beside the API but is no dependency of ours: it lives in its own venv,
# on the uvicorn version the product runs on, so that both are served the same way.
BENCH_VENV := var/bench-venv
$(BENCH_VENV)/.installed: $(STAMP)
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet 'datasette==0.65.5' \
		"uvicorn==$$($(BIN)/python -c 'import uvicorn; print(uvicorn.__version__)')"
	touch $@

bench-api: $(STAMP) $(BENCH_VENV)/.installed  ## the JSON API under load, beside a bare ASGI ceiling and Datasette (needs wrk)
	$(BIN)/python bench/api.py $(BENCH_ARGS)

bench-miss: $(STAMP) $(BENCH_VENV)/.installed  ## every URL new (the miss path), pages and API, beside Datasette (needs wrk)
	$(BIN)/python bench/miss.py $(BENCH_ARGS)

bench-memory: $(STAMP)  ## the server's RSS over 100,000 unique requests, sampled in pieces (needs wrk)
	$(BIN)/python bench/memory.py $(BENCH_ARGS)

screenshots: $(STAMP)  ## docs/img/*.png of the overview, compare and diff pages (needs /usr/bin/chromium)
	$(BIN)/python -m tests.web.screenshots

validate: $(STAMP)
	$(BIN)/kb validate

build: $(STAMP)
	$(BIN)/kb build

clean:
	rm -rf $(VENV) var
