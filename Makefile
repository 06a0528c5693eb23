# Two commands do all the set-up: `make demo` and `make test` create .venv and install the
# package with every extra, from the lock (requirements/constraints.txt), when needed: again
# whenever pyproject.toml or the lock changes.  `make lock` regenerates the lock.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.okrsim-installed
LOCK := requirements/constraints.txt
#: JupyterLab for people, set up by jupyter/lab/settings/overrides.json and the flags below:
#: no "official Jupyter news?" pop-up and no update check (the room may be offline; the pop-up is
#: asked by the frontend whenever its fetchNews setting is unset, and the server flags stop
#: fetching altogether); widget messages on the kernel's main shell (overrides.json turns off
#: JupyterLab's "comms over subshells", which runs widget callbacks on a second kernel thread
#: while cells run: see docs/architecture.md); --allow-root because training VMs and containers
#: run as root (ignored for other users).
LAB_FLAGS := --allow-root --LabApp.app_settings_dir=$(CURDIR)/jupyter/lab/settings --LabApp.news_url=None \
	--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate
#: Both test steps run in parallel on every core (pytest-xdist); a file's tests stay on one worker
#: (a notebook's cells share its kernel). Kernels use IPC sockets in tests (tests/ipc_kernels.py).
PARALLEL := -n auto --dist loadfile
NBVAL := --nbval notebooks/ exercises/solutions/ --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider

.PHONY: demo test lab exercises lint lock golden bench figures clean

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e ".[all,dev]"
	touch $(STAMP)

# The lock: every package of `.[all,dev]` pinned, for Linux, macOS and Windows on Python 3.11+.
# Pins already in the file are kept while they satisfy pyproject.toml, so after adding a
# dependency only that one (and what it needs) is new; `make lock UPGRADE=1` moves every pin
# to the newest release within the bounds (then run `make test`, and `make golden` if only
# numpy's or scipy's random variates moved).
lock:
	$(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet -c $(LOCK) uv
	$(BIN)/uv pip compile pyproject.toml --extra all --extra dev --universal --python-version 3.11 \
		--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade) -o $(LOCK)

demo: $(STAMP)
	$(BIN)/okrsim demo

# Every step runs even when an earlier one failed, so one run reports everything; the
# summary at the end names the failed steps and the exit status is non-zero if any failed.
test: $(STAMP)
	@failed=""; \
	step() { name=$$1; shift; echo "$$*"; start=$$(date +%s); \
	         "$$@" || failed="$$failed $$name (exit $$?)"; echo "make test: $$name took $$(( $$(date +%s) - start )) s"; }; \
	step ruff $(BIN)/ruff check .; \
	step pytest $(BIN)/python -m pytest $(PARALLEL); \
	step nbval $(BIN)/python -m pytest $(PARALLEL) $(NBVAL); \
	if [ -n "$$failed" ]; then echo "make test: FAILED:$$failed"; exit 1; fi; \
	echo "make test: ruff, pytest and nbval passed"

lab: $(STAMP)
	$(BIN)/jupyter lab $(LAB_FLAGS) notebooks

exercises: $(STAMP)
	$(BIN)/jupyter lab $(LAB_FLAGS) exercises

lint: $(STAMP)
	$(BIN)/ruff check .

# The golden back-test's KPIs (tests/golden/kpis.csv): regenerate only for an intended change
# of the model's results, and commit the CSV's diff with it.
golden: $(STAMP)
	$(BIN)/python scripts/golden.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_core.py
	$(BIN)/python benchmarks/bench_explorer.py
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/bench_memory.py

figures: $(STAMP)
	$(BIN)/python scripts/make_figures.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
