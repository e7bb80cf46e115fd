# fundmgr — the README's commands. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000
# The demo runs on its own SQLite file, with no broker (Celery eager) and console e-mail.
DEMO_ENV := DATABASE_URL=sqlite:///$(CURDIR)/var/demo.sqlite3 REDIS_URL= DEBUG=true

.PHONY: install install-browser demo demo-data test test-sqlite test-browser lint format migrations-check messages bench schema fuzz clean

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

# The real-browser tests of the admin (tests/browser) need the `browser` extra (Playwright for
# Python) and Debian's chromium: `apt-get install chromium chromium-driver fonts-noto-cjk`
# (.ci/run does both). Never `playwright install`: it downloads browsers. Without either, `make
# test` skips those tests and says why.
install-browser: install
	$(PY) -m pip install --quiet -e ".[dev,browser]"

test-browser: install-browser
	$(PY) -m pytest tests/browser $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The English catalogue (fundmgr/locale/en): collect every string marked for translation into
# the .po (new ones arrive untranslated: translate them there), then compile the .mo that is
# committed beside it. Needs GNU gettext (Debian's `gettext`); tests/test_translations.py
# fails when a marked string has no English or the .mo is stale.
messages: install
	$(PY) manage.py makemessages -l en --no-obsolete --ignore=.venv --ignore=tests --ignore=benchmarks --ignore=var
	$(PY) manage.py compilemessages -l en --ignore=.venv

migrations-check: install
	$(PY) manage.py makemigrations --check --dry-run

schema: install
	@mkdir -p var
	$(PY) manage.py spectacular --validate --fail-on-warn --file var/openapi.yaml

# Fuzz the API from its OpenAPI document against a throwaway demo server: any 5xx fails.
# Needs the optional `fuzz` extra (schemathesis); takes a few minutes.
FUZZ_ENV := DATABASE_URL=sqlite:///$(CURDIR)/var/fuzz.sqlite3 REDIS_URL= DEBUG=false \
	SECRET_KEY=fuzz-only-not-a-secret-0123456789abcdefghijklmnop ALLOWED_HOSTS=127.0.0.1 \
	API_THROTTLE_RATE=1000000/hour FUNDMGR_BUSINESS_DATE=2026-11-21 SECURE_SSL_REDIRECT=false SECURE_COOKIES=false
FUZZ_EXAMPLES ?= 30
FUZZ_PHASES ?= examples,coverage,fuzzing,stateful
FUZZ_CHECKS ?= not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance
fuzz: install
	$(PY) -m pip install --quiet -e ".[dev,fuzz]"
	rm -f var/fuzz.sqlite3 && mkdir -p var
	$(FUZZ_ENV) $(PY) manage.py migrate --noinput -v0 && $(FUZZ_ENV) $(PY) manage.py seed_demo >/dev/null
	$(FUZZ_ENV) $(PY) manage.py spectacular --format openapi-json --file var/fuzz-schema.json
	KEY=$$($(FUZZ_ENV) $(PY) manage.py issue_api_key zqrcb | tail -1); \
	TOKEN=$$($(FUZZ_ENV) $(PY) manage.py issue_token officer | tail -1); \
	REGULATOR=$$($(FUZZ_ENV) $(PY) manage.py issue_token regulator-zhaoqing | tail -1); \
	$(FUZZ_ENV) $(PY) manage.py runserver 127.0.0.1:8799 --noreload >var/fuzz-server.log 2>&1 & SERVER=$$!; \
	sleep 4; STATUS=0; \
	for AUTH in "Api-Key $$KEY" "Token $$TOKEN" "Token $$REGULATOR"; do \
	  echo "== fuzzing as $${AUTH%% *} ($$(echo $$AUTH | cut -c1-14)…)"; \
	  $(VENV)/bin/schemathesis run var/fuzz-schema.json --url http://127.0.0.1:8799 -H "Authorization: $$AUTH" \
	    --checks $(FUZZ_CHECKS) --max-examples $(FUZZ_EXAMPLES) --phases $(FUZZ_PHASES) || STATUS=1; \
	done; kill $$SERVER; exit $$STATUS

# Province scale on PostgreSQL (SQLite at a tenth when it does not answer); the throughput
# case serves the API with gunicorn, the `prod` extra.
bench: install
	$(PY) -m pip install --quiet -e ".[dev,prod]"
	$(PY) -m benchmarks.run

clean:
	rm -rf $(VENV) var/demo.sqlite3 var/test.sqlite3 .pytest_cache
