"""The server side of nbgrader's Validate button, with a report a student can read.

nbgrader's own handler lists, for every failed tests cell, the cell's whole source and
its whole traceback: about 190 lines for a notebook half done. This Jupyter server
extension answers the same request (``/assignments/validate``, which nbgrader's
JupyterLab button posts to) from the same validator, run the same way, but reports each
failing check by its name and points, with its message alone. Each mode's configuration
(``config/<mode>/``) turns it on in place of ``nbgrader.server_extensions.validate_assignment``.
"""

from __future__ import annotations

import json
import textwrap
import traceback
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

MAX_LINES = 8
WIDTH = 90


def check_name(cell) -> str:
    """How the report names a cell: its tests' name and points, or what kind of cell it is."""
    meta = cell.metadata.get("nbgrader", {})
    grade_id = meta.get("grade_id", "")
    if utils.is_grade(cell):
        points = meta.get("points", 0)
        answer = cell.metadata.get("course", {}).get("answer")
        what = f"the checks of {answer}" if answer else "a tests cell"
        return f"{what} ({grade_id}, {points:g} point{'' if points == 1 else 's'})"
    return f"a read-only cell ({grade_id})" if grade_id else "a cell"


def brief_error(cell) -> str:
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
        lines = ["no error was shown, but the cell did not earn its points"]
    lines = [wrapped for line in lines for wrapped in _wrap(line)]
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES] + [f"... ({len(lines) - MAX_LINES} more lines in the notebook)"]
    return "\n".join(lines)


def _wrap(line: str, width: int = WIDTH) -> list[str]:
    """A long line as several, indented like the first (the dialog does not wrap)."""
    indent = line[: len(line) - len(line.lstrip())]
    return textwrap.wrap(line, width, subsequent_indent=indent + "  ") or [line]


class BriefValidator(Validator):
    """nbgrader's validator; each failed cell is reported by name, with its message alone."""

    def _get_failed_cells(self, nb):
        self._failed_cells = super()._get_failed_cells(nb)
        return self._failed_cells

    def validate(self, filename: str):
        self._failed_cells = []
        results = super().validate(filename)
        if "failed" in results:
            results["failed"] = [
                {
                    "source": check_name(cell),
                    "error": ansi2html(brief_error(cell)),
                    "raw_error": brief_error(cell),
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
