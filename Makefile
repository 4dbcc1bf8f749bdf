# Day 5-3 network-monitoring course.
#   make lab    create .venv if needed, install the course, start JupyterLab
#   make test   create .venv if needed, install, run unit tests and every notebook (nbval)
#   make data   regenerate the committed sample under data/
#   make bench  print the benchmark figures
#   make lint   ruff
#   make labs   rebuild the graded labs' student copies (labs/student) from their masters
#   make grade SUBMISSIONS=folder [OUT=grades.csv] [LAB=lab3] [TIMEOUT=60]
#               grade every .ipynb of the folder: OUT and per-student feedback
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JUPYTER_ARGS ?=
SUBMISSIONS ?=
OUT ?= grades.csv
LAB ?=
TIMEOUT ?= 60
# Jupyter refuses to run as root (containers, CI) unless told it is intended.
AS_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test data bench lint labs grade clean

# Reinstall only when the dependency list changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@# No "official Jupyter news?" prompt for students (JupyterLab 4 asks at first start).
	$(BIN)/jupyter labextension disable --level=sys_prefix \
		"@jupyterlab/apputils-extension:announcements" >/dev/null 2>&1 || true
	@touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab $(AS_ROOT) --ServerApp.root_dir="$(CURDIR)" --LabApp.news_url=None \
		--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate $(JUPYTER_ARGS) \
		notebooks/00-setup.ipynb

test: $(STAMP)
	$(BIN)/python -m pytest

data: $(STAMP)
	$(BIN)/python -m helpers.sample data

bench: $(STAMP)
	@for f in tests/benchmarks/bench_*.py; do $(BIN)/python $$f || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check helpers tests labs/assign.py labs/grade.py

labs: $(STAMP)
	$(BIN)/python labs/assign.py

grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=<folder of .ipynb> [OUT=grades.csv] [LAB=lab3] [TIMEOUT=60]"; exit 2; }
	$(BIN)/python labs/grade.py "$(SUBMISSIONS)" --out "$(OUT)" --timeout "$(TIMEOUT)" $(if $(LAB),--lab "$(LAB)",)

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
