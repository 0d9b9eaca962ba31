# The course's commands. Every target creates .venv from the pins when it is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
# nbgrader calls `alembic` from PATH: put the virtual environment first.
export PATH := $(BIN):$(PATH)
export PYTHONDONTWRITEBYTECODE := 1

LAB_ARGS ?=
# The edition: `make lab LANG=zh` (or `make instructor LANG=zh`) opens the Chinese one.
# Every shell also sets LANG, to a locale (en_US.UTF-8): only a LANG given on make's command
# line chooses the edition, and it is then kept out of the commands' environment, where
# programs would take it for a locale.
ifeq ($(origin LANG),command line)
EDITION := $(LANG)
unexport LANG
else
EDITION := en
endif
# Each edition's course directory: the repository (English), or zh/ (Chinese).
COURSE_DIR := $(if $(filter en,$(EDITION)),$(CURDIR),$(CURDIR)/$(EDITION))
# The student's working copy of release/: created when missing, never overwritten.
STUDENT_DIR ?= $(COURSE_DIR)/student
PYTEST_ARGS ?= -n 2 --dist loadgroup

.PHONY: help build check lab instructor course-setup catalogs check-catalogs test lint format \
	bench-train bench-grade bench-notebooks clean

help:
	@echo "make lab    build the course and open your working copy (student/) in JupyterLab"
	@echo "make lab LANG=zh   the same in Chinese (zh/student/); 中文版"
	@echo "make test   run the whole test suite"
	@echo "make instructor  the course directory in JupyterLab, with nbgrader's formgrader"
	@echo "make build  regenerate source/ and release/ (and zh/) from notebooks/"
	@echo "make catalogs   update the translation catalogs after an English change"
	@echo "make check-catalogs   every string translated, none fuzzy, formulas kept"
	@echo "make lint   ruff (check and format) and mypy"
	@echo "make bench-train   images/s of the CIFAR10 training loop, fed three ways"
	@echo "make bench-notebooks  seconds each notebook takes to run, against its budget"

# pip shows its progress: the first install downloads PyTorch and its libraries (gigabytes).
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "installing the pinned versions of constraints.txt into $(VENV)/ (the first time downloads PyTorch)"
	$(BIN)/python -m pip install --progress-bar on -c constraints.txt -e '.[dev]'
	touch $@

build: $(STAMP)
	$(BIN)/python -m autograder build

check: $(STAMP)
	$(BIN)/python -m autograder build --check

# Self-study: JupyterLab on the working copy, with Validate and without the classroom's tools.
lab: build
	$(BIN)/python -m autograder student-copy --language $(EDITION) $(STUDENT_DIR)
	$(BIN)/python -m autograder lab --mode self-study --language $(EDITION) $(STUDENT_DIR) $(LAB_ARGS)

# The exchange and the gradebook, before the first release (run again at any time).
course-setup: build
	$(BIN)/python -m autograder course-setup $(COURSE_DIR)

# Instructors: JupyterLab on the course directory itself, so nbgrader's formgrader works
# (it needs the course root inside the server root).
instructor: course-setup
	$(BIN)/python -m autograder lab --mode instructor --language $(EDITION) $(COURSE_DIR) $(LAB_ARGS)

# Translators: after an English change, then before committing (docs/translating.md).
catalogs: $(STAMP)
	$(BIN)/python -m autograder catalogs update

check-catalogs: $(STAMP)
	$(BIN)/python -m autograder catalogs check

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

bench-notebooks: $(STAMP)
	PYTHONUNBUFFERED=1 $(BIN)/python benchmarks/notebook_times.py $(BENCH_ARGS)

bench-grade: $(STAMP)
	PYTHONUNBUFFERED=1 PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/grade_speed.py $(BENCH_ARGS)

clean:
	rm -rf .venv .pytest_cache .ruff_cache artifacts
