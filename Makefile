# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install serve bench screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)  ## install, load the bundled demo data, serve on http://127.0.0.1:8000
	$(BIN)/paperboard demo

test: $(STAMP)  ## install, check the import layers (pyproject.toml) and run the whole suite (PAPERBOARD_DATABASE_URL picks the database)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

screenshots: $(STAMP)  ## refresh docs/img/ from the browser tests
	PAPERBOARD_SCREENSHOTS=docs/img $(BIN)/python -m pytest -q tests/test_browser.py

bench: $(STAMP)  ## import benchmark (SQLite + PostgreSQL) and HTTP load (SQLite); results in bench/results/
	$(BIN)/python bench/import_corpus.py
	$(BIN)/python bench/http_load.py --db sqlite

serve: $(STAMP)
	$(BIN)/paperboard serve

clean:
	rm -rf $(VENV) var .pytest_cache
