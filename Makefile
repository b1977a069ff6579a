# Two commands: `make run` serves everything on embedded defaults; `make test` runs ruff, the import
# layer contracts (lint-imports, pyproject.toml) and the whole suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: install run test lint bench soak migrate seed clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

run: install
	PORT=$(PORT) bin/dev-run

test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: install
	bench/run

# Chaos soak (bench/soak.py): 10,000 randomized operations under injected faults, then the ledger proof.
soak: install
	bench/soak

clean:
	rm -rf $(VENV) staticfiles media db.sqlite3* test-artifacts .import_linter_cache
