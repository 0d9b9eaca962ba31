# The course's commands. Every target creates .venv from the pins when it is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
# nbgrader calls `alembic` from PATH: put the virtual environment first.
export PATH := $(BIN):$(PATH)
export PYTHONDONTWRITEBYTECODE := 1

LAB_ARGS ?=
# The student's working copy of release/: created when missing, never overwritten.
STUDENT_DIR ?= student
# Jupyter refuses to run as root without this (containers, CI machines).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
PYTEST_ARGS ?= -n 2 --dist loadgroup

.PHONY: help build check lab instructor test lint format bench-train bench-grade clean

help:
	@echo "make lab    build the course and open your working copy (student/) in JupyterLab"
	@echo "make test   run the whole test suite"
	@echo "make instructor  JupyterLab on the course directory, with nbgrader's formgrader"
	@echo "make build  regenerate source/ and release/ from notebooks/"
	@echo "make lint   ruff (check and format) and mypy"
	@echo "make bench-train   images/s of the CIFAR10 training loop, fed three ways"

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

build: $(STAMP)
	$(BIN)/python -m autograder build

check: $(STAMP)
	$(BIN)/python -m autograder build --check

lab: build
	$(BIN)/python -m autograder student-copy $(STUDENT_DIR)
	$(BIN)/jupyter lab --ServerApp.root_dir=$(STUDENT_DIR) $(ALLOW_ROOT) $(LAB_ARGS)

# Instructors: JupyterLab on the course directory itself, so nbgrader's formgrader works
# (it needs the course root inside the server root).
instructor: build
	$(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) $(ALLOW_ROOT) $(LAB_ARGS)

# Lint first (ruff and mypy), so that CI checks both.
test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check autograder notebooks tests benchmarks
	$(BIN)/ruff format --check autograder notebooks tests benchmarks
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix autograder notebooks tests benchmarks
	$(BIN)/ruff format autograder notebooks tests benchmarks

# images/s of the training loop fed three ways (CPU, or CUDA when present); BENCH_ARGS=--help
bench-train: $(STAMP)
	PYTHONUNBUFFERED=1 $(BIN)/python benchmarks/train_speed.py $(BENCH_ARGS)

bench-grade: $(STAMP)
	PYTHONUNBUFFERED=1 PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/grade_speed.py $(BENCH_ARGS)

clean:
	rm -rf .venv .pytest_cache .ruff_cache gradebook.db artifacts
