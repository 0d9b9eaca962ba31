"""The server side of nbgrader's Validate button, with a report a student can read.

nbgrader's own handler lists, for every failed tests cell, the cell's whole source and
its whole traceback: about 190 lines for a notebook half done. This Jupyter server
extension answers the same request (``/assignments/validate``, which nbgrader's
JupyterLab button posts to) from the same validator, run the same way, but reports each
failing check by its name and points, with its message alone. Each mode's configuration
(``config/<mode>/``) turns it on in place of ``nbgrader.server_extensions.validate_assignment``.

The report, and the checks' messages in it, come out in the notebook's language (the one
the build wrote into its metadata), unless JupyterLab was started with one
(``python -m autograder lab --language zh``).
"""

from __future__ import annotations

import contextlib
import json
import os
import textwrap
import traceback
from collections.abc import Iterator
from pathlib import Path

from jupyter_server.utils import url_path_join
from nbconvert.filters import ansi2html
from nbgrader import utils
from nbgrader.nbgraderformat import SchemaTooNewError, SchemaTooOldError
from nbgrader.server_extensions.validate_assignment.handlers import (
    NbGraderVersionHandler,
    ValidateAssignmentHandler,
)
from nbgrader.validator import Validator
from tornado import web

from ..checking import i18n
from ..checking.i18n import ENGLISH, translated

MAX_LINES = 8
WIDTH = 90


def check_name(cell, language: str = ENGLISH) -> str:
    """How the report names a cell: its tests' name and points, or what kind of cell it is."""
    meta = cell.metadata.get("nbgrader", {})
    grade_id = meta.get("grade_id", "")
    if utils.is_grade(cell):
        points = meta.get("points", 0)
        answer = cell.metadata.get("course", {}).get("answer")
        values = {"answer": answer, "grade_id": grade_id, "points": f"{points:g}"}
        if answer and points == 1:
            return translated("the checks of {answer} ({grade_id}, 1 point)", language, **values)
        if answer:
            return translated(
                "the checks of {answer} ({grade_id}, {points} points)", language, **values
            )
        if points == 1:
            return translated("a tests cell ({grade_id}, 1 point)", language, **values)
        return translated("a tests cell ({grade_id}, {points} points)", language, **values)
    if grade_id:
        return translated("a read-only cell ({grade_id})", language, grade_id=grade_id)
    return translated("a cell", language)


@contextlib.contextmanager
def kernels_in(language: str) -> Iterator[None]:
    """Kernels started in this block show the checks' messages in ``language``.

    The validator starts its kernel from this process's environment; the server handles
    one Validate at a time (its handler blocks), so the variable is set for that one only.
    """
    before = os.environ.get(i18n.ENV)
    os.environ[i18n.ENV] = language
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(i18n.ENV, None)
        else:
            os.environ[i18n.ENV] = before


def brief_error(cell, language: str = ENGLISH) -> str:
    """The cell's error as the student needs it: ``name: message``, a few lines at most."""
    lines: list[str] = []
    for out in cell.get("outputs", []):
        if out.output_type == "error":
            message = str(out.get("evalue", "")).strip()
            lines += (message if out.ename == "CheckFailed" else f"{out.ename}: {message}").split(
                "\n"
            )
        elif out.output_type == "stream" and out.name == "stderr":
            lines += out.text.strip().split("\n")
    if not lines:
        lines = [translated("no error was shown, but the cell did not earn its points", language)]
    lines = [wrapped for line in lines for wrapped in _wrap(line)]
    if len(lines) > MAX_LINES:
        more = translated(
            "... ({count} more lines in the notebook)", language, count=len(lines) - MAX_LINES
        )
        lines = lines[:MAX_LINES] + [more]
    return "\n".join(lines)


def _wrap(line: str, width: int = WIDTH) -> list[str]:
    """A long line as several, indented like the first (the dialog does not wrap).

    Chinese characters are two columns wide: ``width`` counts columns, not characters.
    """
    indent = line[: len(line) - len(line.lstrip())]
    wide = sum(1 for char in line if ord(char) >= 0x2E80)
    if wide:
        return _wrap_columns(line, width, indent + "  ")
    return textwrap.wrap(line, width, subsequent_indent=indent + "  ") or [line]


def _wrap_columns(line: str, width: int, indent: str) -> list[str]:
    """Cut a line with wide characters at ``width`` columns (spaces preferred)."""
    out: list[str] = []
    current, columns = "", 0
    for char in line:
        size = 2 if ord(char) >= 0x2E80 else 1
        if columns + size > width and current.strip():
            cut = current.rfind(" ")
            if cut > len(indent) + 10 and size == 1:
                out.append(current[:cut])
                current = indent + current[cut + 1 :]
            else:
                out.append(current)
                current = indent
            columns = sum(2 if ord(c) >= 0x2E80 else 1 for c in current)
        current += char
        columns += size
    if current.strip():
        out.append(current)
    return out or [line]


class BriefValidator(Validator):
    """nbgrader's validator; each failed cell is reported by name, with its message alone."""

    def _get_failed_cells(self, nb):
        self._failed_cells = super()._get_failed_cells(nb)
        return self._failed_cells

    def validate(self, filename: str):
        self._failed_cells = []
        language = i18n.language_for(filename)
        with kernels_in(language):
            results = super().validate(filename)
        if "failed" in results:
            results["failed"] = [
                {
                    "source": check_name(cell, language),
                    "error": ansi2html(brief_error(cell, language)),
                    "raw_error": brief_error(cell, language),
                }
                for cell in self._failed_cells
            ]
        return results


class BriefValidateHandler(ValidateAssignmentHandler):
    def validate_notebook(self, path):
        root = Path(self.root_dir).resolve()
        target = (root / path).resolve()
        if not target.is_relative_to(root):
            raise web.HTTPError(403, "Access denied: path outside allowed directory")
        try:
            result = BriefValidator(config=self.load_config()).validate(str(target))
        except (SchemaTooOldError, SchemaTooNewError) as error:
            return {"success": False, "value": f"{target.name}: {error}"}
        except Exception:
            self.log.error(traceback.format_exc())
            return {"success": False, "value": traceback.format_exc()}
        return {"success": True, "value": result}

    @web.authenticated
    def post(self):
        try:
            path = self.get_argument("path")
        except web.MissingArgumentError:
            path = self.get_json_body()["path"]
        self.finish(json.dumps(self.validate_notebook(path)))


def _jupyter_server_extension_points():
    return [{"module": "autograder.lab.validate"}]


def _load_jupyter_server_extension(serverapp) -> None:
    webapp = serverapp.web_app
    webapp.settings.setdefault("root_dir", serverapp.root_dir)  # as nbgrader's extension does
    base_url = webapp.settings["base_url"]
    webapp.add_handlers(
        ".*$",
        [
            (url_path_join(base_url, "/assignments/validate"), BriefValidateHandler),
            (url_path_join(base_url, "/nbgrader_version"), NbGraderVersionHandler),
        ],
    )
    serverapp.log.info("autograder: Validate reports each failing check by name")
