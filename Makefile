# fundmgr — the README's commands. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000
# The demo runs on its own SQLite file, with no broker (Celery eager) and console e-mail.
DEMO_ENV := DATABASE_URL=sqlite:///$(CURDIR)/var/demo.sqlite3 REDIS_URL= DEBUG=true

.PHONY: install demo demo-data test test-sqlite lint format migrations-check bench schema clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

demo-data: install
	@mkdir -p var
	$(DEMO_ENV) $(PY) manage.py migrate --noinput
	$(DEMO_ENV) $(PY) manage.py seed_demo

demo: demo-data
	@$(DEMO_ENV) $(PY) manage.py demo_banner --host $(HOST) --port $(PORT)
	$(DEMO_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

# The whole suite. Uses DATABASE_URL / REDIS_URL from the environment when set
# (PostgreSQL and Redis in CI), otherwise a throwaway SQLite database.
test: install
	$(PY) -m pytest $(PYTEST_ARGS)

test-sqlite: install
	DATABASE_URL=sqlite:///$(CURDIR)/var/test.sqlite3 REDIS_URL= $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrations-check: install
	$(PY) manage.py makemigrations --check --dry-run

schema: install
	@mkdir -p var
	$(PY) manage.py spectacular --validate --fail-on-warn --file var/openapi.yaml

bench: install
	$(PY) -m benchmarks.run

clean:
	rm -rf $(VENV) var/demo.sqlite3 var/test.sqlite3 .pytest_cache
