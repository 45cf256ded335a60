# The two commands of the README:
#   make run    install what the app needs (first time only) and start it
#   make test   install everything the tests need, Chromium included, and run every test
# Both work on a fresh Debian machine with Python 3.11; `make test` needs root (or an
# already installed /usr/bin/chromium) for the browser.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test lint unit browser screenshots bench chromium clean

run: $(VENV)/.installed-app
	$(BIN)/streamlit run Home.py --server.port $(PORT)

test: $(VENV)/.installed-dev chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n 2 --dist loadfile

# Quicker loops while developing.
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
unit: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n 2 --dist loadfile --ignore=tests/browser
browser: $(VENV)/.installed-dev chromium
	$(BIN)/python -m pytest tests/browser
# Full-page screenshots of every page into artifacts/screenshots/.
screenshots: browser
# Page-load and slider-redraw times in a real browser (see bench/browser_latency.py).
bench: $(VENV)/.installed-dev chromium
	$(BIN)/python bench/browser_latency.py

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-app: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed-app
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

chromium:
	@bash scripts/ensure_chromium.sh

clean:
	rm -rf $(VENV) artifacts .pytest_cache .ruff_cache .hypothesis
