# The two commands a user needs: `make run` (main job) and `make test` (tests).
# Both create the virtual environment on first use and work offline.
VENV ?= .venv
PY := $(VENV)/bin/python
ANTQ := $(VENV)/bin/antq

export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export MLFLOW_DISABLE_TELEMETRY := true
export DVC_NO_ANALYTICS := 1
export DO_NOT_TRACK := 1
# dvc.yaml stages call `antq`: the environment's bin comes first on PATH.
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: setup run serve test test-fast bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.installed

run: setup
	$(ANTQ) run

serve: setup
	$(ANTQ) serve

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

bench: setup
	$(PY) benchmarks/tag_throughput.py
	$(PY) benchmarks/encoder_throughput.py

clean:
	rm -rf data/interim data/corpus models reports mlflow.db mlartifacts dvc_plots
