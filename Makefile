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

# Postfix's smtp-sink is a real SMTP server for the email tests: installed when missing and this
# user may (root with apt); otherwise its tests skip, or fail under CI=true.
SMTP_SINK := /usr/sbin/smtp-sink
$(SMTP_SINK):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing postfix for smtp-sink"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q postfix >/dev/null 2>&1 || \
	    (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q postfix >/dev/null 2>&1) || true; \
	  postfix stop >/dev/null 2>&1 || true; \
	else echo "smtp-sink (Postfix) is missing: its tests will skip, or fail under CI=true"; fi

# Kannel (bearerbox, smsbox, and kannel-extras' fakesmsc) is the real SMS gateway the SMS tests run on
# loopback (tests/kannel.py): installed the same way, nothing started by the packages.
BEARERBOX := /usr/sbin/bearerbox
$(BEARERBOX):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing kannel and kannel-extras for the SMS tests"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q kannel kannel-extras >/dev/null 2>&1 || \
	    (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q kannel kannel-extras >/dev/null 2>&1) || true; \
	  /etc/init.d/kannel stop >/dev/null 2>&1 || true; \
	else echo "Kannel is missing: the SMS gateway tests will skip, or fail under CI=true"; fi

# The AWS CLI v1 that Debian and pip still install (botocore 1.43.0) sends the older bindings of
# some SES v2 operations; tests/wire/test_older_bindings.py drives it (skips without it, fails under CI=true).
OLD_AWSCLI := .venv-awscli-old/bin/aws
$(OLD_AWSCLI):
	$(PYTHON) -m venv .venv-awscli-old
	.venv-awscli-old/bin/pip install --quiet awscli==1.45.0 botocore==1.43.0

# The whole suite on SQLite, then again on PostgreSQL (which must be there when CI=true); tests/unit
# touch no database, so the second pass leaves them out.
test: $(TEST_STAMP) $(SMTP_SINK) $(BEARERBOX) $(OLD_AWSCLI)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(MAKE) test-sqlite
	$(MAKE) test-postgres

test-sqlite: $(TEST_STAMP)
	PINFOLD_TEST_DATABASE=sqlite $(BIN)/python -m pytest -n 2 -q

test-postgres: $(TEST_STAMP)
	PINFOLD_TEST_DATABASE=$(PG_URL) $(BIN)/python -m pytest -n 2 -q tests/service tests/wire

bench: $(TEST_STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .venv-awscli-old .pinfold .pytest_cache .hypothesis
