# The two commands of the README:
#   make run    install what the app needs (first time only) and start it
#   make test   install everything the tests need (Python packages, axe-core from npm, Debian's
#               chromium and haproxy) and run every test
# Both work on a fresh Debian machine with Python 3.11, Node.js and npm; `make test` needs root
# (or chromium and haproxy already installed) for the Debian packages.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
# One retry and a short timeout: requirements.txt names PyTorch's CPU index for Community
# Cloud, and on a closed network pip would otherwise spend a minute retrying it.
PIP := $(BIN)/python -m pip --retries 1 --timeout 20

.PHONY: run test lint unit browser screenshots bench packages mutants workshop-answers clean

run: $(VENV)/.installed-app
	$(BIN)/streamlit run Home.py --server.port $(PORT) $(ARGS)

test: $(VENV)/.installed-dev node_modules/.installed packages
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n 2 --dist loadfile

# Quicker loops while developing.
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
unit: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n 2 --dist loadfile --ignore=tests/browser
browser: $(VENV)/.installed-dev node_modules/.installed packages
	$(BIN)/python -m pytest tests/browser
# Full-page screenshots of every page into artifacts/screenshots/.
screenshots: browser
# Page-load and slider-redraw times in a real browser (see bench/browser_latency.py).
bench: $(VENV)/.installed-dev packages
	$(BIN)/python bench/browser_latency.py

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-app: requirements.txt | $(BIN)/python
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed-app
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

# axe-core, the accessibility engine the browser tests inject (pinned in package-lock.json).
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js and npm (Debian: apt-get install -y nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

packages:
	@bash scripts/ensure_packages.sh

# The instructor's answer key, recomputed from the views docs/workshop.md links.
workshop-answers: $(VENV)/.installed-app
	$(BIN)/python scripts/workshop_answers.py

# Mutation testing of one module of the teaching core with its unit tests (docs/testing.md).
# Minutes per module, so not part of `make test`:
#   make mutants MODULE=lab/attention.py TESTS="tests/test_attention.py"
MODULE ?= lab/attention.py
TESTS ?= tests/test_attention.py
mutants: $(VENV)/.installed-dev
	$(BIN)/python scripts/mutants.py $(MODULE) $(TESTS)

clean:
	rm -rf $(VENV) node_modules artifacts .pytest_cache .ruff_cache .hypothesis

# Several Streamlit processes behind HAProxy with session affinity (docs/deploy.md):
#   make serve WORKERS=4 PORT=8501     Ctrl-C stops HAProxy and every worker
# The benchmarks of issue #11 (each prints a table and writes artifacts/bench/*.json):
#   make bench-rerun                   server time of a rerun per page and control
#   make bench-room PARTICIPANTS=30 DURATION=60 RETRAINERS=0   (one server; WORKERS=2: two
#                                      workers behind HAProxy, started by scripts/serve.py)
#   make bench-browser                 key press -> pixels and first chart, in Chromium
WORKERS ?= 2
PARTICIPANTS ?= 30
DURATION ?= 60
RETRAINERS ?= 0
.PHONY: serve bench-rerun bench-room bench-browser
serve: $(VENV)/.installed-app
	$(BIN)/python scripts/serve.py --workers $(WORKERS) --port $(PORT)
bench-rerun: $(VENV)/.installed-app
	$(BIN)/python bench/rerun_cost.py
bench-room: $(VENV)/.installed-app
	$(BIN)/python bench/room.py --participants $(PARTICIPANTS) \
		--workers $(if $(filter command line environment,$(origin WORKERS)),$(WORKERS),1) \
		--duration $(DURATION) --retrainers $(RETRAINERS)
bench-browser: $(VENV)/.installed-dev node_modules/.installed packages
	$(BIN)/python bench/browser_latency.py
