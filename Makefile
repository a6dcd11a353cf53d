# The two commands: `make run` and `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test test-sqlite test-postgres bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $(RUN_STAMP)

$(TEST_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(TEST_STAMP) $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/pinfold admin bootstrap --if-needed
	$(BIN)/pinfold serve

# The whole suite on SQLite, then again on PostgreSQL (which must be there when CI=true).
test: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(MAKE) test-sqlite
	$(MAKE) test-postgres

test-sqlite: $(TEST_STAMP)
	PINFOLD_TEST_DATABASE=sqlite $(BIN)/python -m pytest -n 2 -q

test-postgres: $(TEST_STAMP)
	PINFOLD_TEST_DATABASE=$(PG_URL) $(BIN)/python -m pytest -n 2 -q

bench: $(TEST_STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .pinfold .pytest_cache .hypothesis
