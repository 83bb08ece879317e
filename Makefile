# Staj Asistanı — every target sets itself up from nothing (Python 3.10 venv, locked deps, model).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
NODE_ASSETS := node_modules/.package-lock.json
PIP_VERSION := 24.0

.DEFAULT_GOAL := help
.PHONY: help install train migrate run shell test eval bench-db bench-review bench-channels lint lock clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(PY):
	@py310=$$(scripts/find-python310.sh) && echo "Creating $(VENV) with $$py310" && "$$py310" -m venv $(VENV)

$(INSTALLED): $(PY) requirements.lock pyproject.toml
	$(PY) -m pip install --quiet --disable-pip-version-check pip==$(PIP_VERSION)
	$(PY) -m pip install --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

$(NODE_ASSETS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

install: $(INSTALLED) $(NODE_ASSETS)  ## create .venv, install the locked Python and npm dependencies

train: $(INSTALLED)  ## train the model unless one matches the current data and config
	$(PY) -m bot train

migrate: $(INSTALLED)  ## apply database migrations (DATABASE_URL, else var/staj.db)
	$(PY) -m bot migrate

run: train $(NODE_ASSETS)  ## start the action server, Rasa and the demo portal on 127.0.0.1; Ctrl-C stops all
	$(PY) -m bot run

shell: train  ## chat with the assistant in the terminal
	$(PY) -m bot shell

test: train $(NODE_ASSETS)  ## run the whole test suite (installs Debian's chromium if missing)
	scripts/ensure-chromium.sh
	$(PY) -m pytest

eval: train  ## measure NLU on tests/data/nlu_test.yml against Rasa's default pipeline
	$(PY) -m bot eval

bench-db: $(INSTALLED)  ## time the status queries on 200k students / 1M offers (PostgreSQL, SQLite)
	$(PY) -m bot.benchmarks.db

bench-review: $(INSTALLED)  ## time the staff review pages on 100k conversations in PostgreSQL
	$(PY) -m bot.review.benchmark

bench-channels: train $(NODE_ASSETS)  ## Telegram + web chat under load, saturation beside the rasa init bot, profile
	$(PY) -m bot.benchmarks.channels

lint: $(INSTALLED)  ## ruff
	$(PY) -m ruff check .

lock:  ## re-resolve pyproject.toml's dependencies in a scratch venv and rewrite requirements.lock
	@py310=$$(scripts/find-python310.sh) && rm -rf var/lock-venv && "$$py310" -m venv var/lock-venv
	var/lock-venv/bin/pip install --quiet pip==$(PIP_VERSION)
	var/lock-venv/bin/pip install --quiet ".[dev]"
	@{ echo "# Locked dependencies for Python 3.10 (rasa 3.6.21 + python-telegram-bot 22.8 + test tools)."; \
	   echo "# Regenerate: make lock   (resolves pyproject.toml's dependencies in a fresh venv and freezes them)"; \
	   var/lock-venv/bin/pip freeze --all --exclude-editable | grep -v -E '^(pip|staj-asistani)=='; } > requirements.lock
	rm -rf var/lock-venv

clean:  ## remove trained models and caches (keeps .venv)
	rm -rf models .rasa var/eval
