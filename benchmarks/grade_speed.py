"""``make bench-grade``: stock ``nbgrader autograde`` (serial) against ``grade-class``.

Twenty synthetic students hand in every topic found in ``source/``: some with the
solutions, the others with one to three answers made wrong (their results 1.01x off) or
left unanswered, chosen by a fixed seed. The same ``submitted/`` folder is graded

1. by stock nbgrader through its Python API (``NbGraderAPI.autograde``), one student after
   another, in one course directory, as ``nbgrader autograde`` does;
2. by ``grade-class`` (parallel workers, the hardened executor, feedback pages included).

It prints seconds per student for each, their ratio, the floor (a fresh kernel that
imports torch, measured once per notebook) and the per-notebook cost above that floor.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT), *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]]
)

from autograder import paths  # noqa: E402
from autograder.grading.grade_one import known_assignments  # noqa: E402
from autograder.nbgrader_setup import nbgrader_api  # noqa: E402


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def solved(topic: str) -> nbformat.NotebookNode:
    solutions = {
        _meta(c)["grade_id"]: c.source
        for c in nbformat.read(paths.source_notebook(topic), as_version=4).cells
        if _meta(c).get("solution")
    }
    nb = nbformat.read(paths.release_notebook(topic), as_version=4)
    for cell in nb.cells:
        if _meta(cell).get("solution") and cell.cell_type == "code":
            cell.source = solutions[_meta(cell)["grade_id"]]
    return nb


def student_notebook(topic: str, rng: random.Random, correct: bool) -> nbformat.NotebookNode:
    nb = solved(topic)
    if correct:
        return nb
    release = nbformat.read(paths.release_notebook(topic), as_version=4)
    answers = [
        i for i, c in enumerate(nb.cells) if _meta(c).get("solution") and c.cell_type == "code"
    ]  # noqa: E501
    for i in rng.sample(answers, k=min(len(answers), rng.randint(1, 3))):
        name = _meta(nb.cells[i])["grade_id"]
        if rng.random() < 0.3:
            nb.cells[i].source = release.cells[i].source  # left unanswered
        else:
            nb.cells[i].source += (
                f"\n_right_{name} = {name}\n"
                f"if callable(_right_{name}):\n"
                f"    def {name}(*args, **kwargs):\n"
                f"        return 1.01 * _right_{name}(*args, **kwargs)\n"
                f"else:\n"
                f"    {name} = 1.01 * _right_{name}\n"
            )
    return nb


def make_class(submitted: Path, topics: list[str], students: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    for s in range(students):
        for topic in topics:
            folder = submitted / f"student{s:02d}" / topic
            folder.mkdir(parents=True)
            nb = student_notebook(topic, rng, correct=s % 4 == 0)
            nbformat.write(nb, folder / f"{topic}.ipynb")


def stock(submitted: Path, topics: list[str], work: Path) -> tuple[float, float]:
    """Stock nbgrader, serial. Returns (setup seconds, grading seconds)."""
    from nbgrader.api import Gradebook

    root = work / "stock"
    start = time.perf_counter()
    api = nbgrader_api(root)
    for topic in topics:
        shutil.copytree(paths.SOURCE / topic, root / "source" / topic)
        assert api.generate_assignment(topic, force=True, create=True)["success"]
    setup = time.perf_counter() - start
    shutil.copytree(submitted, root / "submitted")
    start = time.perf_counter()
    for student in sorted(p.name for p in submitted.iterdir()):
        for topic in topics:
            result = api.autograde(topic, student, force=True, create=True)
            assert result["success"], result["log"][-2000:]
    seconds = time.perf_counter() - start
    with Gradebook(api.coursedir.db_url) as gb:
        scores = [s.score for a in gb.assignments for s in a.submissions]
    print(f"  stock: {len(scores)} submissions graded, mean score {statistics.mean(scores):.2f}")
    return setup, seconds


def floor(topics: list[str], repeats: int = 3) -> float:
    """Seconds for a fresh kernel that imports torch (start, import, shut down)."""
    from jupyter_client.manager import start_new_kernel

    times = []
    for _ in range(repeats):
        for _topic in topics:
            start = time.perf_counter()
            km, kc = start_new_kernel(kernel_name="python3")
            try:
                reply = kc.execute_interactive("import torch", timeout=120)
                assert reply["content"]["status"] == "ok"
            finally:
                kc.stop_channels()
                km.shutdown_kernel(now=True)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    import logging
    import warnings

    from sqlalchemy.exc import SAWarning

    from autograder.grading.grade_class import grade_class
    from autograder.nbgrader_setup import fast_gradebook

    warnings.filterwarnings("ignore", category=SAWarning)
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    fast_gradebook()  # both sides create gradebooks the same (fast) way

    topics = known_assignments()
    notebooks = args.students * len(topics)
    print(f"topics: {', '.join(topics)}; {args.students} students; {notebooks} notebooks")
    print(f"cores: {os.cpu_count()}, grade-class workers: {args.workers}")
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        work = Path(tmp)
        make_class(work / "submitted", topics, args.students)

        print("floor: a fresh kernel importing torch ...")
        kernel_floor = floor(topics)

        print("stock nbgrader autograde, one student after another ...")
        stock_setup, stock_seconds = stock(work / "submitted", topics, work)

        print("grade-class ...")
        start = time.perf_counter()
        summary = grade_class(
            work / "submitted",
            out=work / "graded",
            workers=args.workers,
            assignments=topics,
            progress=False,
        )
        ours = time.perf_counter() - start
        assert not summary.failed, summary.failed

    per_stock = (stock_setup + stock_seconds) / args.students
    per_ours = ours / args.students
    per_notebook = ours * summary.workers / notebooks  # worker-seconds per notebook
    overhead = per_notebook - kernel_floor
    print()
    print(f"stock nbgrader (serial): {per_stock:6.2f} s per student "
          f"(setup {stock_setup:.1f} s, grading {stock_seconds:.1f} s)")  # fmt: skip
    print(f"grade-class ({summary.workers} workers): {per_ours:6.2f} s per student "
          f"({ours:.1f} s in all, setup and feedback included)")  # fmt: skip
    print(f"speed-up: {per_stock / per_ours:.2f}x (target >= 1.7x)")
    print(f"floor (fresh kernel + import torch): {kernel_floor:.2f} s per notebook")
    print(f"grade-class cost per notebook: {per_notebook:.2f} worker-seconds; "
          f"above the floor: {overhead:.2f} s = {overhead / kernel_floor:.2f}x the floor "
          "(target <= 1.5x)")  # fmt: skip
    stock_per_notebook = (stock_setup + stock_seconds) / notebooks
    print(f"stock cost per notebook: {stock_per_notebook:.2f} s; above the floor: "
          f"{stock_per_notebook - kernel_floor:.2f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
