# The two commands: `make run` and `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
STAMP := $(VENV)/.installed

.PHONY: run test test-sqlite test-postgres bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/pinfold admin bootstrap --if-needed
	$(BIN)/pinfold serve

# The whole suite on SQLite, then again on PostgreSQL (which must be there when CI=true).
test: $(STAMP)
	$(MAKE) test-sqlite
	$(MAKE) test-postgres

test-sqlite: $(STAMP)
	PINFOLD_TEST_DATABASE=sqlite $(BIN)/python -m pytest -n 2 -q

test-postgres: $(STAMP)
	PINFOLD_TEST_DATABASE=$(PG_URL) $(BIN)/python -m pytest -n 2 -q

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .pinfold .pytest_cache .hypothesis
