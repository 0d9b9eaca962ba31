"""Grade a student's answer cell inside its source notebook, the way the gate grades mutants.

The notebook runs once in one kernel. Each answer then replaces its cell, the cells from
there to the answer's last tests cell run again (hidden checks included: source notebooks
hold them), and nbgrader's own ``determine_grade`` scores the tests cells. The original
cells then run again and the names the answer added are removed, so that the next answer
starts from the notebook's own state and cannot lean on a helper a previous answer left.

As at grading time, the course's kernel guard runs around the cells
(:mod:`autograder.grading.kernel_guard`): before each tests cell it restores what notebook
code replaced, so an answer that rebinds a worked example's ``logits`` is graded as the
grader would grade it.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell

from .notebooks import AnswerCell

GUARD = "__import__('autograder.grading.kernel_guard').grading.kernel_guard"


@dataclass
class Graded:
    points: float
    max_points: float
    messages: list[str] = field(default_factory=list)
    """What the tests cells raised (the student's feedback), one per failing cell."""

    @property
    def full(self) -> bool:
        return self.max_points > 0 and self.points >= self.max_points


@dataclass
class TopicRun:
    results: dict[str, Graded]
    """By corpus entry name."""
    errors: list[str]
    """Cells of the untouched notebook that raised (the harness's own trouble)."""
    seconds: float


def _message(cell) -> str | None:
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            return f"{output.ename}: {output.evalue}"
    return None


def grade_answers(
    path: Path, answers: Iterable[tuple[str, AnswerCell, str]], timeout: int = 600
) -> TopicRun:
    """Grade ``(name, cell, source)`` answers of one source notebook in one kernel."""
    from nbclient import NotebookClient
    from nbgrader.utils import determine_grade, is_grade, is_locked, is_solution

    nb = nbformat.read(path, as_version=4)
    # nbclient's execute_cell stores the cell it ran at nb.cells[index]: the notebook's own
    # cells are kept apart, or a restore would run the previous answer (or a guard) again
    original = [copy.deepcopy(cell) for cell in nb.cells]
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    results: dict[str, Graded] = {}
    errors: list[str] = []

    def guard(call: str) -> None:
        client.execute_cell(new_code_cell(f"{GUARD}.{call}"), 0, store_history=False)

    def run(cell, index: int) -> None:
        """One cell, with the guard's calls around it as the course's executor makes them."""
        if cell.cell_type != "code":
            return
        locked = is_locked(cell) and not is_solution(cell)
        if is_grade(cell):
            guard("before_test()")
        elif locked:
            guard("before_locked()")
        client.execute_cell(cell, index)
        if locked:
            guard("after_locked()")

    with client.setup_kernel():
        start = time.perf_counter()
        guard("install()")
        for index, cell in enumerate(nb.cells):
            run(cell, index)
            message = _message(cell)
            if message:
                errors.append(f"cell {index + 1}: {message}")
        seconds = time.perf_counter() - start
        for name, answer, source in answers:
            span = range(answer.index, max(answer.tests) + 1)
            client.execute_cell(new_code_cell("__corpus_names = set(globals())"), answer.index)
            cells = {i: copy.deepcopy(original[i]) for i in span}
            cells[answer.index].source = source
            for i in span:
                run(cells[i], i)
            graded = Graded(0.0, 0.0)
            for i in answer.tests:
                if not is_grade(cells[i]):
                    continue
                points, max_points = determine_grade(cells[i])
                graded.points += points or 0
                graded.max_points += max_points
                message = _message(cells[i])
                if message:
                    graded.messages.append(message)
            results[name] = graded
            for i in span:  # restore the notebook's own state for the next answer
                run(copy.deepcopy(original[i]), i)
            client.execute_cell(
                new_code_cell(
                    "for _name in set(globals()) - __corpus_names - {'__corpus_names', '_name'}:\n"
                    "    del globals()[_name]"
                ),
                answer.index,
            )
    return TopicRun(results, errors, seconds)
