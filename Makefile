# make test: create .venv if missing, install the project (+ dev, tf, beam extras), run the tests.
# make demo: create .venv if missing and run the main job (see README): one canvas (CO, PySCF),
#   then build quantum_canvas/paper75 from the shipped records, train the constant predictor, a
#   CNN and SchNet, print test MAE, save figures.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# PySCF and XLA are 5-20x slower when their threads fight over the two cores; tests use one each.
export OMP_NUM_THREADS ?= 1

.PHONY: test demo notebooks lint bench clean

$(STAMP): setup.cfg constraints.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev,tf,beam]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -n 2 -q

demo: $(STAMP)
	$(PY) -m qc_app.molecule_demo
	$(PY) -m qc_app.dataset_demo

# Runs the notebooks with their defaults and saves them with their outputs (notebooks/execute.py).
notebooks: $(STAMP)
	$(PY) notebooks/execute.py

bench: $(STAMP)
	$(PY) benchmarks/kernel_vs_pyscf.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
