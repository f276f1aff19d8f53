# The two commands a cooperative needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The 3D viewer's three.js, from npm (package-lock.json), copied where the pages load it.
VENDOR := web/static/vendor/three/three.module.js
# Brotli and gzip copies of the static files, served to browsers that accept them.
PRECOMPRESSED := web/static/compressed/.built

# Local development defaults for `make run` only; the environment overrides them.
RUN_ENV := OURDESIGN_DATA_DIR=$${OURDESIGN_DATA_DIR:-data} \
	OURDESIGN_DOMAIN=$${OURDESIGN_DOMAIN:-localhost:8000} \
	OURDESIGN_SCHEME=$${OURDESIGN_SCHEME:-http}

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

$(VENDOR): package.json package-lock.json scripts/vendor_three.py
	npm ci --no-audit --no-fund
	$(PYTHON) scripts/vendor_three.py

$(PRECOMPRESSED): $(STAMP) $(VENDOR) $(wildcard web/static/*.js web/static/*.css) web/static_assets.py
	$(BIN)/python -m web.static_assets precompress
	touch $(PRECOMPRESSED)

run: $(STAMP) $(VENDOR) $(PRECOMPRESSED)  ## Start an instance on SQLite at http://localhost:8000
	$(RUN_ENV) $(BIN)/ourdesign serve --host 127.0.0.1 --port 8000

test: $(STAMP) $(VENDOR) $(PRECOMPRESSED)  ## Run the test suite (SQLite, and PostgreSQL when reachable)
	$(BIN)/pytest -q

lint: $(STAMP)  ## ruff, mypy (strict on federation/) and the import-layer contract
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/inbox.py --db sqlite
	$(BIN)/python bench/fanout.py --db sqlite
	$(BIN)/python bench/thumbnail.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache node_modules web/static/vendor web/static/compressed
