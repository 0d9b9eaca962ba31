"""Feedback without the hidden tests.

nbgrader's stock ``generate_feedback`` renders the autograded notebook, hidden tests
included, and the tracebacks of failed tests quote the hidden lines too. The preprocessor
below runs last in ``GenerateFeedback.preprocessors``: it cuts every region between
``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` and replaces the tracebacks of
tests cells by their one-line message (which is written for the student).
"""

from __future__ import annotations

import html
from pathlib import Path

from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
PLACEHOLDER = "# (hidden tests run here when the notebook is graded; they are not shown)"


def strip_hidden(source: str) -> str:
    lines, out, hiding = source.split("\n"), [], False
    for line in lines:
        if line.strip() == BEGIN:
            hiding = True
            out.append(line[: len(line) - len(line.lstrip())] + PLACEHOLDER)
        elif line.strip() == END:
            hiding = False
        elif not hiding:
            out.append(line)
    return "\n".join(out)


class HideHiddenTests(NbGraderPreprocessor):
    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and BEGIN in cell.source:
            cell.source = strip_hidden(cell.source)
        if cell.cell_type == "code" and utils.is_grade(cell):
            for out in cell.get("outputs", []):
                if out.output_type == "error":
                    out.traceback = [f"{out.ename}: {out.evalue}"]
        return cell, resources


def message_page(title: str, message: str) -> str:
    """A small feedback page for a notebook that could not be graded."""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p>Score: 0</p><p>{html.escape(message)}</p>"
        "</body></html>\n"
    )


def write_message_page(path: Path, title: str, message: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(message_page(title, message), encoding="utf-8")
