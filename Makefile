# Two entry points for a fresh machine with Python 3.11 and pip:
#   make demo   release -> submissions -> grade -> feedback -> CSV (the main job)
#   make test   the whole test suite (fast tier and slow tier)
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast bench lectures wheel clean

$(STAMP): setup.cfg pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH (or run: make PYTHON=python3 ...)"; exit 1; }
	@echo "installing into $(VENV) (editable, with the dev, jax and torch extras) ..."
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --upgrade pip setuptools wheel
	@$(BIN)/pip install --quiet -e ".[dev,jax,torch]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/course demo

# Test files run on PYTEST_JOBS processes (pytest-xdist), a file per process at a time, so a
# module's shared trained results are computed once; the heaviest files first, in the order
# tests/conftest.py gives them. Trainers and sandboxes are single-threaded,
# and tests also wait (wall-clock limits, timeouts, processes starting): on a 2-core machine two
# processes kept 1.67 cores busy on average, three keep 1.79-1.86 (user + system time over wall
# time; 1.86 with the heaviest files first); four kept only 1.77 busy, for the same CPU time
# (55.7 CPU-minutes: 31.4 min wall, against three's 29.6 min a few commits before, 2026-12-05).
PYTEST_JOBS ?= 3
test: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_JOBS) --dist loadfile --no-loadscope-reorder

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_JOBS) --dist loadfile --no-loadscope-reorder -m "not slow"

bench: $(STAMP)
	$(BIN)/python bench/overhead.py --backend tensorflow --backend jax

lectures: $(STAMP)
	$(BIN)/course lectures

# The student wheel (README "Two audiences"). setuptools reuses build/lib, where files from an
# older build would ride along into the wheel: start from an empty one.
wheel: $(STAMP)
	rm -rf build/lib build/bdist.*
	$(BIN)/pip wheel --quiet --no-deps --no-build-isolation -w dist .
	@ls dist/keras_course-*.whl

clean:
	rm -rf build .pytest_cache
