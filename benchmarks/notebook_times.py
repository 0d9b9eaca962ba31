"""How long each notebook takes to run from top to bottom on a CPU, against its budget.

The course promises that every notebook runs in under 20 s on a CPU and the training loop in
under 30 s (issue 14). A test cannot hold a machine to that (a loaded CI runner is slower),
so the test suite only catches a notebook far over its budget, and this benchmark measures
the figures: each source notebook (the solutions filled in) executed in its own kernel,
kernel start excluded, one thread as the tests run it, best of ``--repeats`` runs.

    python benchmarks/notebook_times.py [topics ...] [--repeats 1] [--language en|zh]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

from autograder import paths  # noqa: E402

DEFAULT_BUDGET = 20.0
BUDGETS = {"13_training_loop": 30.0}
"""Seconds a notebook may take (two kernels side by side, one thread each, as the tests)."""


def budget(topic: str) -> float:
    return BUDGETS.get(topic, DEFAULT_BUDGET)


def run_once(path: Path) -> float:
    """Seconds to execute every cell of ``path`` once its kernel is up."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    with client.setup_kernel():
        start = time.perf_counter()
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("topics", nargs="*", help="topic names (default: all)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--language", default="en", choices=["en", "zh"])
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("COURSE_CIFAR10", "generated")
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(paths.ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    )
    topics = args.topics or paths.topics()
    root = paths.source_root(args.language)
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores, {args.language}")
    over = 0
    for topic in topics:
        seconds = min(run_once(paths.source_notebook(topic, root)) for _ in range(args.repeats))
        verdict = "ok" if seconds < budget(topic) else "OVER"
        over += verdict == "OVER"
        print(
            f"{topic:28s} {seconds:6.1f} s   budget {budget(topic):4.0f} s   {verdict}", flush=True
        )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
