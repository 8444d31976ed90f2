# Quick start: `make demo` (installs everything, then runs the main job) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DEMO := demo_out

.PHONY: install demo test test-slow bench clean

install: $(INSTALLED)

$(INSTALLED): setup.cfg pyproject.toml tools/install_system_deps.sh
	tools/install_system_deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

demo: $(INSTALLED)
	$(BIN)/nsynth-synth demo --out $(DEMO)

# Two workers (CI has 2 cores); tests sharing an expensive fixture stay on one (tests/conftest.py).
TEST_WORKERS ?= 2

test: $(INSTALLED)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

test-slow: $(INSTALLED)
	$(BIN)/python -m pytest -m slow -n $(TEST_WORKERS) --dist loadgroup

bench: $(INSTALLED)
	$(BIN)/python tools/bench_data.py

clean:
	rm -rf $(DEMO) bench_out saved_models/demo_synthnet_small
