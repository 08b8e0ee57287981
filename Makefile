# `make preview` and `make test` work on a fresh clone: each creates ./venv first.
PYTHON ?= python3
VENV := venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install preview test lint bench clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

preview: $(STAMP)
	$(PY) plan.py dev

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Part two (real Sentinel failover) takes about 12 minutes: chart defaults wait 60 s a crash.
bench: $(STAMP)
	$(PY) benchmarks/bench.py
	$(PY) benchmarks/failover.py
	$(PY) benchmarks/sizing.py
