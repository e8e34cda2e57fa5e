# The only commands anyone needs. `make run` serves; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
STAMP_BENCH := $(VENV)/.installed-bench
NODE_PEERS := bench/peers/node
# inside node_modules, so that removing node_modules installs again
STAMP_NODE := $(NODE_PEERS)/node_modules/.installed-bench
# The JavaScript SDK (clients/js): its dev dependencies from its lockfile.
SDK := clients/js
STAMP_SDK := $(SDK)/node_modules/.installed

.PHONY: run migrate test lint typecheck screenshots bench bench-quick cluster clean help

help:
	@echo "make run          serve on http://127.0.0.1:8000 (embedded SQLite under ./data)"
	@echo "make test         install test dependencies and run the whole suite"
	@echo "make lint         ruff + mypy + no import cycle in the web client"
	@echo "make screenshots  remake every picture in docs/screenshots from the browser tests"
	@echo "make bench        benchmarks beside the peers; writes docs/benchmarks.md"
	@echo "make bench-quick  the same, small (under 3 minutes)"
	@echo "make cluster      two instances + PostgreSQL + a Kafka-protocol broker (docs/operations.md)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

$(STAMP_BENCH): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,bench]'
	@touch $@

# The Node.js peers (wsnode, socketionode). Without npm they are reported as not run.
$(STAMP_NODE): $(NODE_PEERS)/package.json $(NODE_PEERS)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(NODE_PEERS) --no-audit --no-fund && touch $@; \
	else \
		echo "npm not found: the Node.js peers (wsnode, socketionode) will not run"; \
	fi

$(STAMP_SDK): $(SDK)/package.json $(SDK)/package-lock.json
	npm ci --prefix $(SDK) --no-audit --no-fund
	@touch $@

run: $(STAMP_RUN)
	$(BIN)/roomchat serve

migrate: $(STAMP_RUN)
	$(BIN)/roomchat migrate

test: $(STAMP_TEST) $(STAMP_SDK)
	bash scripts/ensure-chromium.sh
	$(BIN)/ruff check src tests
	$(BIN)/mypy
	$(BIN)/lint-imports
	node scripts/check-js-cycles.mjs
	npm run lint --prefix $(SDK)
	$(BIN)/pytest $(PYTEST_ARGS)
	npm test --prefix $(SDK)

lint: $(STAMP_TEST) $(STAMP_SDK)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy
	$(BIN)/lint-imports
	node scripts/check-js-cycles.mjs
	npm run lint --prefix $(SDK)

# The docs' pictures, taken by the browser tests' shot() calls (every test file that has
# one; tests/browser/test_screenshots.py holds the scenes staged for the docs). They are
# taken into a scratch directory, then replace docs/screenshots as a whole, so a picture
# no test takes any more goes and a failing run changes nothing. CI=true: no Chromium
# fails instead of skipping. tests/unit/test_screenshots_current.py checks the result.
SHOTS := docs/screenshots
SHOTS_NEW := $(VENV)/screenshots.new
SHOT_TESTS = ${shell grep -l '[^.a-z_]shot(' tests/browser/test_*.py}

screenshots: $(STAMP_TEST)
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-screenshot-fonts.sh
	rm -rf $(SHOTS_NEW)
	CI=true ROOMCHAT_SCREENSHOT_DIR=$(SHOTS_NEW) $(BIN)/pytest -q $(PYTEST_ARGS) $(SHOT_TESTS)
	rm -f $(SHOTS)/*.png
	mkdir -p $(SHOTS)
	mv $(SHOTS_NEW)/*.png $(SHOTS)/
	rm -rf $(SHOTS_NEW)
	$(BIN)/pytest -q tests/unit/test_screenshots_current.py

bench: $(STAMP_BENCH) $(STAMP_NODE)
	$(BIN)/python bench/run.py

bench-quick: $(STAMP_BENCH) $(STAMP_NODE)
	$(BIN)/python bench/run.py --quick

cluster: $(STAMP_TEST)
	$(BIN)/python scripts/cluster.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache $(NODE_PEERS)/node_modules \
		$(SDK)/node_modules $(SDK)/dist
