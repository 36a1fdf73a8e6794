# Two commands: `make run` (install, migrate, demo data, serve) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app app
HOST   ?= 127.0.0.1
PORT   ?= 5000
PYTEST_ARGS ?=

.PHONY: run worker test install install-dev axe translations extract-messages lint format check-migrations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

install: $(VENV)/.installed translations

install-dev: $(VENV)/.installed-dev translations axe

# axe-core (npm registry) for the browser journeys' accessibility checks; without npm the
# journeys skip locally (CI installs npm and requires them).
AXE := tests/browser/node_modules/axe-core/axe.min.js

axe:
	@if [ -f $(AXE) ]; then :; elif command -v npm >/dev/null; then \
		cd tests/browser && npm ci --no-audit --no-fund --silent; \
	else echo "npm not found: the browser journeys will skip (apt-get install -y npm)"; fi

# Message catalogs are compiled on install so that a fresh clone speaks Chinese and English
# (only when a catalog changed, so that parallel `make test` runs never rewrite it at once).
CATALOGS := $(patsubst %.po,%.mo,$(wildcard portal/translations/*/LC_MESSAGES/messages.po))

translations: $(CATALOGS)

portal/translations/%/LC_MESSAGES/messages.mo: portal/translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile --domain messages --directory portal/translations --locale $*

extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract --mapping-file babel.cfg --keywords _l --no-location --sort-output \
		--project Rectify --output-file portal/translations/messages.pot .
	$(BIN)/pybabel update --input-file portal/translations/messages.pot \
		--output-dir portal/translations --no-fuzzy-matching --ignore-obsolete

run: install
	$(FLASK) db upgrade
	$(FLASK) demo load
	$(FLASK) run --host $(HOST) --port $(PORT)

# The background worker (portal.worker): checkpoints now; Redis when REDIS_URL is set.
worker: install
	$(BIN)/huey_consumer portal.worker.huey --workers 2 --worker-type thread

test: install-dev
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Models and migrations agree: upgrade an empty database, then ask Alembic for differences.
check-migrations: install
	rm -f instance/migration-check.db
	DATABASE_URL=sqlite:///$(CURDIR)/instance/migration-check.db $(FLASK) db upgrade
	DATABASE_URL=sqlite:///$(CURDIR)/instance/migration-check.db $(FLASK) db check
	rm -f instance/migration-check.db*
