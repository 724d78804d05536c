# GalactoView — two commands: `make run` and `make test` (see README.md).
# Everything installs into a local virtual environment (.venv) from pinned versions.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE_SEED := 7
NODE_DIR := tests/interop/node
NODE_STAMP := $(NODE_DIR)/node_modules/.installed

.PHONY: run run-pacs orthanc test check lint bench eval system-deps sample-data screenshot clean help

help:
	@echo "make run          set up .venv and open GalactoView on the bundled sample study"
	@echo "make test         set up .venv and run pytest, ruff, mypy and import-linter"
	@echo "make orthanc      a local Orthanc PACS holding the sample studies (Ctrl+C stops it)"
	@echo "make run-pacs     open GalactoView on that Orthanc's Query/Retrieve panel"
	@echo "make sample-data  regenerate sample_data/ from the seeded phantom generator"
	@echo "make bench        decode / window-change benchmark on 30 Mpix images -> build/bench.json"
	@echo "make eval         duct-tree / filling-defect suggestions on 12 phantoms -> build/eval.json"
	@echo "make screenshot   window screenshots under Xvfb into docs/ (1920x1080, 800x600, prior 4-up, ...)"
	@echo "make clean        remove .venv and build outputs"

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "GalactoView needs Python >= 3.11; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	@touch $@

run: $(STAMP)
	@$(BIN)/python -m galactoview.ui.shell.platform_probe
	$(BIN)/galactoview

# Try the PACS features: `make orthanc` in one terminal, `make run-pacs` in another.
orthanc: $(STAMP) system-deps
	$(BIN)/python tools/local_orthanc.py

run-pacs: $(STAMP)
	@test -s build/local-orthanc/url || { echo "no local Orthanc: run 'make orthanc' first (in another terminal)" >&2; exit 1; }
	GALACTOVIEW_PACS_URL=$$(cat build/local-orthanc/url) $(BIN)/galactoview --pacs

test: $(STAMP) system-deps $(NODE_STAMP)
	$(BIN)/python -m pytest
	$(MAKE) --no-print-directory lint

lint: $(STAMP)
	$(BIN)/ruff check galactoview tests benchmarks tools
	$(BIN)/ruff format --check galactoview tests benchmarks tools
	$(BIN)/mypy
	$(BIN)/lint-imports

# Debian tools some tests use as independent references (dciodvfy). Installed when we are
# root with apt-get (as in CI); elsewhere those tests skip and say why.
system-deps:
	@sh .ci/install-system-deps.sh

# dcmjs and the Cornerstone3D SR adapter (tests/interop), from the lock file, when npm is here.
# Never fails: without npm, or when `npm ci` fails, those tests skip and say why.
$(NODE_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
	  echo "note: npm not found; the dcmjs interop tests (tests/interop) skip" >&2; \
	elif (cd $(NODE_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error); then \
	  touch $@; \
	else \
	  echo "warning: npm ci failed in $(NODE_DIR); the dcmjs interop tests skip" >&2; \
	fi

sample-data: $(STAMP)
	rm -rf sample_data/dicom sample_data/previews
	$(BIN)/python -m galactoview.phantom --seed $(SAMPLE_SEED) --side L --out sample_data

# Not part of `make test`: timings belong here. ~4 min; writes build/bench.json, prints a table.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench

# Not part of `make test`: issue 16's validation of the image analysis on held-out phantom
# seeds (~5 min); writes build/eval.json, prints a table (docs/analysis.md).
eval: $(STAMP)
	$(BIN)/python -m benchmarks.analysis_eval

screenshot: $(STAMP)
	$(BIN)/python tools/screenshot.py docs/screenshot.png --layout galactography --size 1920x1080
	$(BIN)/python tools/screenshot.py docs/screenshot-800x600.png --layout galactography --size 800x600
	$(BIN)/python tools/screenshot.py docs/screenshot-prior-4up.png --layout prior-4up
	$(BIN)/python tools/screenshot.py docs/screenshot-review.png --layout review
	$(BIN)/python tools/screenshot.py docs/screenshot-colour.png --layout colour
	$(BIN)/python tools/screenshot.py docs/screenshot-ohif-sr.png --layout ohif
	$(BIN)/python tools/screenshot.py docs/screenshot-suggestions.png --layout suggestions --size 1920x1080

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
