"""The optimizer notebooks' releases: every stub defines its answer's names, and every
check of an untouched release says "not implemented yet", never ``NameError``."""

from __future__ import annotations

import ast

import nbformat
import pytest

from autograder import paths
from tests.gate.mutation import defined_names

TOPICS = ["10_sgd_momentum", "11_adaptive_methods", "12_schedules_clipping"]


def answer_cells(nb) -> dict[str, str]:
    return {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for cell in nb.cells
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution")
    }


@pytest.mark.parametrize("notebook", TOPICS)
def test_every_stub_defines_the_names_of_its_answer(notebook):
    source = answer_cells(nbformat.read(paths.source_notebook(notebook), as_version=4))
    release = answer_cells(nbformat.read(paths.release_notebook(notebook), as_version=4))
    assert source.keys() == release.keys()
    for answer, text in release.items():
        assert defined_names(text) == defined_names(source[answer]), answer
        for node in ast.parse(text).body:
            assert isinstance(node, ast.FunctionDef), f"{answer}: a stub holds functions only"
            raises = [n for n in ast.walk(node) if isinstance(n, ast.Raise)]
            assert raises, f"{answer}: {node.name} should raise NotImplementedError"


@pytest.mark.slow
@pytest.mark.parametrize("notebook", TOPICS)
def test_an_untouched_release_is_told_not_implemented_yet(notebook):
    from nbclient import NotebookClient

    path = paths.release_notebook(notebook)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )  # fmt: skip
    client.execute()
    tests = [
        cell
        for cell in nb.cells
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade")
    ]
    assert tests
    for cell in tests:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        assert errors, f"{grade_id}: an untouched release passed its check"
        assert errors[0].ename == "CheckFailed", (
            f"{grade_id}: {errors[0].ename}: {errors[0].evalue}"
        )
        assert "is not implemented yet" in errors[0].evalue, f"{grade_id}: {errors[0].evalue}"
