# The README's two commands: `make run` serves the demo portal, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test

$(INSTALLED): pyproject.toml
	@echo "Installing the portal and its tools into $(VENV) (a few minutes the first time)..."
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable '.[test]'
	touch $@

run: $(INSTALLED)
	$(BIN)/portal serve --demo

test: $(INSTALLED)
	scripts/test-prerequisites
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit --quiet --configfile pyproject.toml --recursive portal
	$(BIN)/pytest -n 2
