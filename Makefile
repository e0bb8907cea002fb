# Ceping: the two set-up commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2

.PHONY: run test install install-dev translations lint bench clean extract-messages

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed translations

install-dev: $(VENV)/.installed-dev translations

## axe-core for the browser tests' accessibility checks, from the npm registry into a git-ignored
## folder. Without npm the accessibility tests skip (and fail in CI, where .ci/run installs npm).
AXE := tests/browser/vendor/node_modules/axe-core/axe.min.js
$(AXE):
	@if command -v npm >/dev/null; then \
	  mkdir -p tests/browser/vendor && \
	  npm install --silent --prefix tests/browser/vendor axe-core@4.10.3 >/dev/null; \
	else echo "npm not found: the accessibility tests will be skipped"; fi

## Compile the translation catalogs (binaries are built here, never committed).
translations: $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d survey/translations -D messages >/dev/null

## Install, create the SQLite database with the demo campaign, and serve on http://$(HOST):$(PORT)
# Slips and printed links point at the address served here, unless configured otherwise.
run: export CEPING_BASE_URL ?= http://$(HOST):$(PORT)
run: install
	$(FLASK) init-db
	$(FLASK) load-demo
	$(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) wsgi:app

## Install the test dependencies and run the whole suite.
test: install-dev $(AXE)
	$(BIN)/ruff check .
	$(BIN)/vulture
	$(BIN)/python -m pytest -n 2 -q $(PYTEST_ARGS)

## Lint: ruff, the formatting, and vulture for dead code (its settings are in pyproject.toml).
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/vulture

## Benchmarks (see benchmarks/README.md).
bench: install-dev
	BENCH_DATABASE_URL="$${BENCH_DATABASE_URL:-$${TEST_DATABASE_URL:-$$(scripts/local-postgres || true)}}" \
	  $(BIN)/python -m benchmarks.run

## Re-extract the translatable strings and merge them into the catalogs.
extract-messages: install-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o survey/translations/messages.pot .
	$(BIN)/pybabel update -i survey/translations/messages.pot -d survey/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
