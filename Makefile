# One short command for each routine task, the same here and in CI.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test test-fast lint bench eval clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]' --config-settings editable_mode=compat
	$(BIN)/python -m compileall -q tether
	@touch $(STAMP)

# A real Claude Code session against the scripted model, guarded and recorded, ending with the log.
demo: setup
	$(BIN)/python -m harness.demo

# Everything, including the real-client end-to-end tests (installs the pinned Claude Code CLI from npm).
test: setup
	$(BIN)/python -m pytest

# Without the real-client tests.
test-fast: setup
	$(BIN)/python -m pytest -m "not e2e"

lint: setup
	$(BIN)/ruff check tether tests harness bench eval
	$(BIN)/mypy

bench: setup
	$(BIN)/python -m bench

eval: setup
	$(BIN)/python -m eval

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
