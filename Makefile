# Two commands do all the set-up: `make demo` and `make test` create .venv and install the
# package when needed (again whenever pyproject.toml changes).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.okrsim-installed

.PHONY: demo test lab exercises lint bench figures clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/okrsim demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest --nbval notebooks/ exercises/solutions/ --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

exercises: $(STAMP)
	$(BIN)/jupyter lab exercises

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_core.py
	$(BIN)/python benchmarks/bench_explorer.py
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/bench_memory.py

figures: $(STAMP)
	$(BIN)/python scripts/make_figures.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
