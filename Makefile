# Everything a fresh machine needs, from Python 3.11 and make alone.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
# The demo runs in its own home outside the checkout, so its key never sits in the repo.
DEMO_HOME ?= $(HOME)/.local/share/databank-demo

.PHONY: setup browser demo test lint dev bench clean

$(BIN)/databank: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip==26.3"
	$(BIN)/pip install --quiet -c requirements.lock -e ".[dev]"
	touch $(BIN)/databank

setup: $(BIN)/databank

# The dashboard test drives the system's Chromium (Playwright never downloads a browser here).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	test -x /usr/bin/chromium || ($(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq --no-install-recommends chromium)

demo: setup
	rm -rf "$(DEMO_HOME)"
	DATABANK_HOME="$(DEMO_HOME)" $(BIN)/databank demo

test: setup browser
	$(BIN)/ruff check .
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check .

# The Dagster UI on the demo home (run `make demo` first).
dev: setup
	DATABANK_HOME="$(DEMO_HOME)" $(BIN)/databank dev

bench: setup
	$(BIN)/python -m pipelines.bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
