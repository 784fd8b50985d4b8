# cardiosynth: `make run` sets everything up and runs the pipeline; `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# torch 2.13.0 is a CPU build; installing it before sdv keeps pip from pulling a multi-GB CUDA build.
TORCH ?= torch==2.13.0

.PHONY: install run worker test test-unit test-integration bench clean stop-broker

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -c requirements.lock -e '.[test]'
	touch $(STAMP)

run: install
	DEMO_ON_START=true $(VENV)/bin/cardiosynth worker -l info

worker: install
	$(VENV)/bin/cardiosynth worker -l info

test: install
	bash scripts/test_tools.sh
	$(VENV)/bin/lint-imports --no-cache  # the import layers of .importlinter
	$(PY) -m pytest -q -p no:cacheprovider --durations=15

test-unit: install
	$(PY) -m pytest -q -p no:cacheprovider -m "not integration"

test-integration: install
	$(PY) -m pytest -q -p no:cacheprovider -m integration

bench: install
	$(PY) benchmarks/stream_bench.py
	$(PY) benchmarks/warehouse_bench.py
	$(PY) benchmarks/latency_bench.py
	$(PY) benchmarks/load_bench.py
	$(PY) benchmarks/scale_bench.py
	$(PY) benchmarks/dashboard_bench.py
	$(PY) benchmarks/training_bench.py
	$(PY) benchmarks/quality_bench.py

clean:
	rm -rf var models .pytest_cache
