"""Shared fixtures: one run per topic of the expensive steps, and a timing summary."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from autograder import paths

ARTIFACTS = paths.ROOT / "artifacts"
TIMINGS = ARTIFACTS / "timings"


def record_timing(kind: str, name: str, seconds: float) -> None:
    """Write a timing where the terminal summary (on the xdist controller) can read it."""
    TIMINGS.mkdir(parents=True, exist_ok=True)
    (TIMINGS / f"{kind}--{name}.json").write_text(json.dumps({"seconds": seconds}))


def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput") and TIMINGS.exists():
        for old in TIMINGS.glob("*.json"):
            old.unlink()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if hasattr(config, "workerinput") or not TIMINGS.exists():
        return
    rows = sorted(TIMINGS.glob("*.json"))
    if rows:
        terminalreporter.section("timings (seconds)")
        for path in rows:
            kind, name = path.stem.split("--", 1)
            seconds = json.loads(path.read_text())["seconds"]
            terminalreporter.write_line(f"{kind:<22} {name:<40} {seconds:7.1f}")


def pytest_generate_tests(metafunc):
    if "topic" in metafunc.fixturenames:
        metafunc.parametrize("topic", paths.topics())


@pytest.fixture(scope="session")
def timings():
    """``timings(kind, name, seconds)`` adds a row to the summary printed at the end."""
    return record_timing


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("work")


os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
# Kernels started by the tests import this checkout (autograder, and the gate's tests.gate).
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(paths.ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
)
# Tests run two kernels at once on two cores: one thread each avoids oversubscription,
# which makes small torch operations tens of times slower. Kernels inherit this.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Notebooks (and their kernels, which inherit this) use the generated CIFAR10 stand-in,
# online or not: autograder.checking.cifar10.load_cifar10 reads this variable.
os.environ.setdefault("COURSE_CIFAR10", "generated")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Keep each topic's notebook tests on one xdist worker, so its gate runs once."""
    for item in items:
        topic = getattr(item, "callspec", None) and item.callspec.params.get("topic")
        if topic and item.module.__name__.endswith("test_notebooks"):
            item.add_marker(pytest.mark.xdist_group(topic))
