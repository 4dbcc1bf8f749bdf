# Day 5-3 network-monitoring course.
#   make lab    create .venv if needed, install the course, start JupyterLab
#   make test   create .venv if needed, install, run unit tests and every notebook (nbval)
#   make data   regenerate the committed sample under data/
#   make bench  print the benchmark figures
#   make lint   ruff
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JUPYTER_ARGS ?=
# Jupyter refuses to run as root (containers, CI) unless told it is intended.
AS_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test data bench lint clean

# Reinstall only when the dependency list changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab $(AS_ROOT) --ServerApp.root_dir="$(CURDIR)" $(JUPYTER_ARGS) \
		notebooks/00-setup.ipynb

test: $(STAMP)
	$(BIN)/python -m pytest

data: $(STAMP)
	$(BIN)/python -m helpers.sample data

bench: $(STAMP)
	@for f in tests/benchmarks/bench_*.py; do $(BIN)/python $$f || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check helpers tests

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
