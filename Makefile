# The course's commands. Every target creates .venv from the pins when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
# nbgrader calls `alembic` from PATH: put the virtual environment first.
export PATH := $(BIN):$(PATH)
export PYTHONDONTWRITEBYTECODE := 1

LAB_ARGS ?=
PYTEST_ARGS ?= -n 2 --dist loadgroup

.PHONY: help build check lab test lint format bench-train bench-grade clean

help:
	@echo "make lab    build the course and open your working copy (student/) in JupyterLab"
	@echo "make test   run the whole test suite"
	@echo "make build  regenerate source/ and release/ from notebooks/"
	@echo "make lint   ruff check and format check"

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

build: $(STAMP)
	$(BIN)/python -m autograder.build

check: $(STAMP)
	$(BIN)/python -m autograder.build --check

lab: build
	$(BIN)/python -m autograder.student_copy
	$(BIN)/jupyter lab --ServerApp.root_dir=student $(LAB_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check autograder notebooks tests
	$(BIN)/ruff format --check autograder notebooks tests

format: $(STAMP)
	$(BIN)/ruff check --fix autograder notebooks tests
	$(BIN)/ruff format autograder notebooks tests

bench-grade: $(STAMP)
	PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/grade_speed.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache gradebook.db
