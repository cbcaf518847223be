# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= data
HOST ?= 127.0.0.1
PORT ?= 8000
BABEL_KEYWORDS := -k _ -k gettext -k N_ -k QunyunError -k InvalidInput -k NotFound -k Forbidden \
	-k Unauthorized -k Conflict -k add:2

.PHONY: run test install lint types pytest i18n bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Start qunyun on SQLite in ./data (migrates on start); an empty database gets the demo first
## (its login is printed once).
run: $(STAMP)
	QUNYUN_DATA_DIR=$(DATA_DIR) QUNYUN_HOST=$(HOST) QUNYUN_PORT=$(PORT) $(BIN)/qunyun demo --if-empty
	QUNYUN_DATA_DIR=$(DATA_DIR) $(BIN)/qunyun serve --host $(HOST) --port $(PORT)

## The whole suite: lint, types, tests (SQLite; PostgreSQL too if QUNYUN_TEST_DATABASE_URL is set).
test: lint types pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests

types: $(STAMP)
	$(BIN)/mypy

# The browser tests drive Chromium through Playwright's own event loop: they run in a pytest
# process of their own so that loop never meets the async tests' loops.
pytest: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadfile -q -m "not browser"
	$(BIN)/pytest -q -m browser

## Re-extract user-facing strings into the catalogs (then translate the new zh_CN entries).
i18n: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-default-keywords $(BABEL_KEYWORDS) \
		--sort-by-file --no-location -o src/qunyun/locales/messages.pot src
	for locale in zh_CN en; do \
		$(BIN)/pybabel update --no-fuzzy-matching --omit-header -i src/qunyun/locales/messages.pot \
			-d src/qunyun/locales -l $$locale || \
		$(BIN)/pybabel init -i src/qunyun/locales/messages.pot -d src/qunyun/locales -l $$locale; \
	done

bench: $(STAMP)
	$(BIN)/qunyun bench pipeline

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
