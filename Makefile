# krc — two commands: `make demo` (build a demo database and serve it) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
KRC_DATABASE_URL ?= sqlite:///krc-demo.db
export KRC_DATABASE_URL

.PHONY: demo test lint install install-test chromium serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## demo: create the virtualenv, build a fresh demo database (SQLite) and serve it on :8000
demo: install
	$(BIN)/krc demo --fresh

## chromium: install Debian's chromium for the browser tests when it is missing
chromium:
	@bash scripts/ensure-chromium

lint: install-test
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

## test: install what the tests need, lint, type-check and run every test (SQLite + PostgreSQL)
test: install-test chromium lint
	$(BIN)/pytest -n 2 -rs -q

clean:
	rm -rf $(VENV) krc-demo.db* .pytest_cache .mypy_cache .ruff_cache
