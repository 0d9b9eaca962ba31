"""Read what a student handed in, before nbgrader sees it.

Each notebook the course expects is either usable (parsed, cell ids made unique so
copy-pasted cells do not break nbformat's validation) or gets a message that says what
is wrong with it; such a notebook scores 0 and the others are still graded.
"""

from __future__ import annotations

import json
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat

MAX_BYTES = 50 * 2**20


@dataclass
class Inspected:
    name: str
    notebook: nbformat.NotebookNode | None = None
    problem: str | None = None
    notes: tuple[str, ...] = ()


def read_notebook(path: Path) -> tuple[nbformat.NotebookNode | None, str | None, list[str]]:
    """``(notebook, problem, notes)``: the notebook when usable, else why not."""
    notes: list[str] = []
    size = path.stat().st_size
    if size > MAX_BYTES:
        return (
            None,
            f"{path.name} is {size / 2**20:.0f} MB; a notebook here is at most 50 MB",
            notes,
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, f"{path.name} is not a notebook: it is not even UTF-8 text", notes
    if not text.strip():
        return None, f"{path.name} is empty (0 cells): was it saved?", notes
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        stripped = text.strip()
        cut = stripped.startswith("{") and not stripped.endswith("}")
        hint = (
            "it ends in the middle, as if the file was cut off while saving (a truncated notebook)"
            if cut
            else "it is not JSON, so not a notebook Jupyter saved"
        )
        return None, f"{path.name} cannot be read: {hint} (line {error.lineno}: {error.msg})", notes
    if not isinstance(data, dict) or "nbformat" not in data:
        return None, f"{path.name} is JSON but not a Jupyter notebook (no 'nbformat')", notes
    version = data.get("nbformat")
    if version != 4:
        return (
            None,
            f"{path.name} is an nbformat {version} notebook; this course grades nbformat 4. "
            "Open it in JupyterLab and save it, then hand it in again",
            notes,
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicated cell ids: repaired below
            nb = nbformat.reads(text, as_version=4)
    except Exception as error:  # nbformat raises several kinds
        return None, f"{path.name} is not a valid notebook: {error}", notes
    notes += _deduplicate_grade_ids(nb)
    seen: set[str] = set()
    for cell in nb.cells:
        cell_id = cell.get("id")
        if not cell_id or cell_id in seen:
            cell["id"] = uuid.uuid4().hex[:8]
            if cell_id:
                notes.append(f"cell id {cell_id!r} appeared twice (a copied cell); renamed")
        seen.add(cell["id"])
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as error:
        return None, f"{path.name} is not a valid notebook: {error.message}", notes
    return nb, None, notes


def _deduplicate_grade_ids(nb) -> list[str]:
    """Copied cells share their nbgrader id: keep the last copy's, as nbgrader does.

    nbgrader's own ``DeduplicateIds`` leaves an empty ``nbgrader`` entry on the other
    copies, which crashes ``OverwriteCells`` when it re-adds missing cells; removing the
    entry makes those copies ordinary cells.
    """
    notes = []
    seen: set[str] = set()
    for cell in reversed(nb.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is None:
            continue
        if grade_id in seen:
            del cell.metadata["nbgrader"]
            notes.append(f"cell {grade_id!r} appears more than once; only its last copy counts")
        seen.add(grade_id)
    return sorted(set(notes))


def inspect_folder(folder: Path, expected: list[str]) -> dict[str, Inspected]:
    """Every expected notebook of one assignment folder, usable or with its problem."""
    found = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
    strays = [p.name for p in found if p.stem not in expected]
    result: dict[str, Inspected] = {}
    for name in expected:
        path = folder / f"{name}.ipynb"
        if not path.is_file():
            problem: str
            if not folder.is_dir():
                problem = f"no folder {folder.name}/ was handed in"
            elif strays:
                problem = (
                    f"no {name}.ipynb; found {', '.join(strays)} instead. Notebooks are graded by "
                    f"their name: rename yours to {name}.ipynb"
                )
            elif not any(folder.iterdir()):
                problem = f"the folder {folder.name}/ is empty: no {name}.ipynb was handed in"
            else:
                problem = f"no {name}.ipynb was handed in"
            result[name] = Inspected(name, problem=problem)
            continue
        nb, why, notes = read_notebook(path)
        result[name] = Inspected(name, notebook=nb, problem=why, notes=tuple(notes))
    return result
