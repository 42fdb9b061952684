# ces: set-up and common tasks. `make run` and `make test` work on a fresh machine with Python 3.11.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
FLAGSHIP ?= configs/flagship.yaml

.PHONY: install run test test-browser bench fuzz clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/ces run $(FLAGSHIP)

test: install
	$(BIN)/python -m pytest

# the HTML report in a real browser: installs headless Chromium from the OS packages (Debian/Ubuntu, root)
test-browser: install
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
	CES_SCREENSHOT_DIR=docs $(BIN)/python -m pytest tests/test_html_report.py -rs

bench: install
	$(BIN)/python bench/floor_compare.py
	$(BIN)/python bench/own_floor.py
	$(BIN)/python bench/run.py
	$(BIN)/python bench/analysis.py

# Long fuzz run: mutates every file in models/ and configs/ and generated models for
# FUZZ_SECONDS (default 600); prints the number of runs and defects and writes fuzz-report.txt.
FUZZ_SECONDS ?= 600
fuzz: install
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(BIN)/python -m pytest -q -s -p no:cacheprovider tests/test_fuzz.py -k fuzz_long

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
