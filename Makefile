# Everything runs in a local virtual environment (.venv) built from PyPI only.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PERIOD ?= 2022Q4
STANDARD ?= beichen-2021
JOBS ?= 2

.PHONY: setup demo test evaluate sample-data benchmark clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

setup: $(STAMP)

## demo: the main job — the full quarterly report set for the sample district
demo: $(STAMP)
	$(BIN)/balance-metrics report --data-dir data/raw --period $(PERIOD) --standard $(STANDARD) --schools all --format html,pdf --jobs $(JOBS) --out reports

## test: the whole test suite (unit, end-to-end, doctests, notebooks)
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 tests
	$(BIN)/python -m pytest --doctest-modules -p no:randomly src/balance_metrics
	$(BIN)/python -m pytest --nbval-lax -p no:randomly notebooks/

evaluate: $(STAMP)
	$(BIN)/balance-metrics evaluate data/raw/$(PERIOD) --standard $(STANDARD)

sample-data: $(STAMP)
	$(BIN)/python scripts/make_sample_data.py --out data/raw --seed 2021

benchmark: $(STAMP)
	$(BIN)/python benchmarks/bench_reports.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis reports/*/ data/processed/*/
