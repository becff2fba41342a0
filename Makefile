# Every routine task. Each target creates ./.venv and installs what it needs on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

LOCK := requirements.lock

.PHONY: serve test lint lock bench bench-api bench-miss bench-memory build validate clean openapi-examples i18n

# Everything installs from the lock, every file checked against its hash (pip, setuptools and the
# other tools included), then the project itself from this checkout with that setuptools and no
# dependencies of its own; `pip check` fails when the lock misses something pyproject.toml needs.
$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

serve: $(STAMP)  ## validate, build (if needed) and serve at http://127.0.0.1:8000
	$(BIN)/kb serve

test: $(STAMP)  ## the whole test suite (PostgreSQL tests too when KB_TEST_DATABASE_URL is set)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check kb kbcli api search_index tests bench
	$(BIN)/ruff format --check kb kbcli api search_index tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo  # the layering contracts in pyproject.toml

# After a change to the dependencies in pyproject.toml: resolves what is new and keeps every other
# pin (LOCK_ARGS=--upgrade moves them all, LOCK_ARGS='--upgrade-package NAME' one). It resolves
# against the package index alone: this machine's pip configuration files, find-links and extra
# indexes must neither shape the lock nor appear in it. Needs only pip-tools from the current lock,
# so it runs while the lock is out of date. pip-compile warns that the project's own entry (a
# file:// URL, from the dev extra naming protocol-kb[test]) has no hash: the last step removes it.
lock:  ## regenerate requirements.lock (hashed, every package) from pyproject.toml
	test -x $(BIN)/pip-compile || { test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); \
		$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK); }
	env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL -u PIP_CONSTRAINT PIP_CONFIG_FILE=/dev/null \
		CUSTOM_COMPILE_COMMAND='make lock' \
		$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --all-build-deps \
		--extra dev --strip-extras --no-emit-index-url --no-emit-find-links \
		$(LOCK_ARGS) --output-file $(LOCK) pyproject.toml
	$(BIN)/python -m tests.dependency_lock finish $(LOCK)

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

screenshots: $(STAMP)  ## docs/img/*.png of the pages, laptop and phone (needs /usr/bin/chromium)
	$(BIN)/python -m tests.web.screenshots

validate: $(STAMP)
	$(BIN)/kb validate

# The catalogues (api/locale/<lang>/LC_MESSAGES/messages.po) are the translations' source; the
# server compiles them in memory, so no .mo file is built or committed (docs/i18n.md).
i18n: $(STAMP)  ## extract the strings to translate, update every catalogue, report what is left
	mkdir -p var
	$(BIN)/pybabel --quiet extract -F babel.cfg -k N_ --add-location=file --sort-output --no-wrap \
		--project=protocol-kb --version=0 -o var/messages.pot .
	$(BIN)/pybabel --quiet update -i var/messages.pot -d api/locale -D messages --no-wrap \
		--no-fuzzy-matching --ignore-obsolete
	$(BIN)/python -m api.i18n

openapi-examples: $(STAMP)  ## rewrite api/openapi-examples.json from a build of protocols/
	$(BIN)/python -m api.examples

build: $(STAMP)
	$(BIN)/kb build

clean:
	rm -rf $(VENV) var
