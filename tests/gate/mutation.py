"""The wrong-answer gate: every answer must lose its points when it is slightly wrong.

For each answer cell of a source notebook, mutants are made from its solution:

* ``scale``: everything the cell defines gives results 1.01 times off (functions'
  return values and in-place updates of their tensor arguments, and plain values);
* ``mean->sum`` / ``sum->mean``: one ``.mean(`` or ``.sum(`` in the solution swapped
  (a line may opt out with the comment ``# mutant: skip``).

The notebook runs once in one kernel; then each mutant replaces its answer cell, the
cells from there to the answer's last tests cell re-run, and nbgrader's own
``determine_grade`` scores those tests cells. The original is then restored.
"""

from __future__ import annotations

import ast
import copy
import functools
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import torch

from autograder.authoring.cells import answer_of

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
FACTOR = 1.01


@dataclass
class Mutant:
    answer: str
    kind: str
    source: str


def perturb(value: Any) -> Any:
    """A value slightly off from ``value``, of the same kind."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * FACTOR if value != 0 else 0.01
    if isinstance(value, torch.Tensor):
        with torch.no_grad():
            if value.is_floating_point() or value.is_complex():
                return value * FACTOR + (value == 0) * 0.01
            return value + 1
    if isinstance(value, torch.Size):
        return torch.Size([value[0] + 1, *value[1:]]) if len(value) else torch.Size([1])
    if isinstance(value, tuple | list):
        return type(value)(perturb(v) for v in value)
    if isinstance(value, dict):
        return {k: perturb(v) for k, v in value.items()}
    if isinstance(value, str):
        return value + "?"
    return value


def _tensors(value: Any, depth: int = 0) -> Iterator[torch.Tensor]:
    if depth > 3:
        return
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, torch.nn.Module):
        yield from value.parameters()
    elif isinstance(value, tuple | list):
        for v in value:
            yield from _tensors(v, depth + 1)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _tensors(v, depth + 1)


def off_by_a_little(func):
    """Wrap ``func`` so that its results, and its in-place tensor updates, are 1% off."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        tensors = [t for t in _tensors((args, kwargs)) if t.is_floating_point()]
        before = [t.detach().clone() for t in tensors]
        result = func(*args, **kwargs)
        with torch.no_grad():
            for t, old in zip(tensors, before, strict=True):
                if t.shape == old.shape and not torch.equal(t, old):
                    t.copy_(old + (t - old) * FACTOR)
        return perturb(result)

    return wrapper


def perturb_names(namespace: dict, names: list[str]) -> None:
    """Make every name a cell defined give slightly wrong results."""
    for name in names:
        value = namespace.get(name)
        if isinstance(value, type):
            for attr, member in list(vars(value).items()):
                if callable(member) and (not attr.startswith("_") or attr == "__call__"):
                    setattr(value, attr, off_by_a_little(member))
        elif callable(value):
            namespace[name] = off_by_a_little(value)
        elif value is not None:
            namespace[name] = perturb(value)


def defined_names(source: str) -> list[str]:
    """Top-level names a cell binds: functions, classes and assigned variables."""
    names: list[str] = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        names.append(sub.id)
    return list(dict.fromkeys(names))


def _solution_lines(source: str) -> range:
    lines = source.splitlines()
    start = next(i for i, line in enumerate(lines) if BEGIN in line)
    end = next(i for i, line in enumerate(lines) if END in line)
    return range(start + 1, end)


def mutants(answer: str, source: str) -> list[Mutant]:
    """Every mutant of one answer cell."""
    names = defined_names(source)
    call = f"__import__('tests.gate.mutation').gate.mutation.perturb_names(globals(), {names!r})"
    found = [Mutant(answer, "scale", source.rstrip() + "\n" + call + "\n")]
    lines = source.splitlines()
    for i in _solution_lines(source):
        if "# mutant: skip" in lines[i]:
            continue
        for old, new in ((".mean(", ".sum("), (".sum(", ".mean(")):
            for match in re.finditer(re.escape(old), lines[i]):
                changed = list(lines)
                line = lines[i]
                changed[i] = line[: match.start()] + new + line[match.end() :]
                kind = f"{old[1:-1]}->{new[1:-1]} (line {i + 1})"
                found.append(Mutant(answer, kind, "\n".join(changed) + "\n"))
    return found


@dataclass
class Outcome:
    mutant: Mutant
    points: float
    max_points: float

    @property
    def caught(self) -> bool:
        return self.points < self.max_points


@dataclass
class GateResult:
    outcomes: list[Outcome]
    baseline: dict[str, float]  # fraction of each answer's points the solution earns
    errors: list[str]  # cells of the unmutated notebook that raised
    seconds: float  # time to execute the unmutated notebook once
    first_image: int | None  # index of the first cell that showed an image
    first_answer: int | None  # index of the first answer cell


def run_gate(path: Path, timeout: int = 300) -> GateResult:
    """Execute one source notebook, then every mutant of each of its answers."""
    from nbclient import NotebookClient
    from nbgrader.utils import determine_grade, is_grade

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    answers = {}
    tests: dict[str, list[int]] = {}
    for index, cell in enumerate(nb.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code":
            answers[grade_id] = index
        if answer_of(cell):
            tests.setdefault(answer_of(cell), []).append(index)

    def score(cells) -> tuple[float, float]:
        got = total = 0.0
        for cell in cells:
            points, max_points = determine_grade(cell)
            got, total = got + (points or 0), total + max_points
        return got, total

    outcomes: list[Outcome] = []
    baseline: dict[str, float] = {}
    errors: list[str] = []
    # nbclient's execute_cell stores the cell it ran at nb.cells[index]: the notebook's own
    # cells are kept apart, or the restore after a mutant would run the mutant again
    original = [copy.deepcopy(cell) for cell in nb.cells]
    with client.setup_kernel():
        start = time.perf_counter()
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    errors.append(f"cell {index + 1}: {output.ename}: {output.evalue}")
        seconds = time.perf_counter() - start
        for answer in answers:
            got, total = score(nb.cells[i] for i in tests[answer])
            baseline[answer] = got / total if total else 0.0
        for answer, index in answers.items():
            last = max(tests[answer])
            span = range(index, last + 1)
            for mutant in mutants(answer, original[index].source):
                cells = {i: copy.deepcopy(original[i]) for i in span}
                cells[index].source = mutant.source
                for i in span:
                    if nb.cells[i].cell_type == "code":
                        client.execute_cell(cells[i], i)
                graded = [cells[i] for i in tests[answer] if is_grade(cells[i])]
                got, total = score(graded)
                outcomes.append(Outcome(mutant, got, total))
                for i in span:  # restore the correct state for the next mutant
                    if nb.cells[i].cell_type == "code":
                        client.execute_cell(copy.deepcopy(original[i]), i)
    images = [
        i
        for i, cell in enumerate(nb.cells)
        if any("image/png" in o.get("data", {}) for o in cell.get("outputs", []))
    ]
    first_image = images[0] if images else None
    first_answer = min(answers.values()) if answers else None
    return GateResult(outcomes, baseline, errors, seconds, first_image, first_answer)
