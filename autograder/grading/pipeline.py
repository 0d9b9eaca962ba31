"""nbgrader's autograde and feedback steps, built once per worker and run per notebook.

``NbGraderAPI.autograde`` and ``generate_feedback`` build a new application for every
call: configuration, exporters, preprocessors, HTML templates compiled again, files
written and read back between steps. :class:`NotebookPipeline` builds nbgrader's own
converters once, takes their exporters and preprocessors exactly as they would register
them (same classes, same order, same configuration), and runs them on each notebook in
memory:

1. sanitize: ``Autograde.sanitize_preprocessors`` (clear outputs, deduplicate ids, the
   course's kernelspec, the course's read-only and tests cells, metadata checks);
2. autograde: ``Autograde.autograde_preprocessors`` (the hardened executor first, then
   nbgrader's scoring, which stores the grades in the worker's gradebook);
3. feedback: ``GenerateFeedback.preprocessors`` and its HTML exporter, with nbgrader's
   feedback template (compiled once).

What nbgrader's converter does around the preprocessors for each submission (the student
and submission rows, the assignment's other files next to the notebook) is
:meth:`NotebookPipeline.prepare`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import nbformat
from nbgrader import utils
from nbgrader.converters import Autograde, GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config
from traitlets.utils.importstring import import_item

from .execute import GuardedExecute
from .provisioner import KernelTemplate


class NotebookPipeline:
    """nbgrader's converters for one private course, ready to grade notebook after notebook."""

    def __init__(self, coursedir: CourseDirectory, config: Config):
        self.coursedir = coursedir
        self.db_url = coursedir.db_url
        autograde = Autograde(coursedir=coursedir, config=config)
        feedback = GenerateFeedback(coursedir=coursedir, config=config)
        self._sanitize, _ = self._exporter(autograde, autograde.sanitize_preprocessors)
        self._autograde, steps = self._exporter(autograde, autograde.autograde_preprocessors)
        self._feedback, _ = self._exporter(feedback, feedback.preprocessors)
        self.executors = [step for step in steps if isinstance(step, GuardedExecute)]

    @staticmethod
    def _exporter(converter, preprocessors) -> tuple[Any, list]:
        """The converter's exporter with these preprocessors, as nbgrader registers them."""
        exporter = converter.exporter_class(parent=converter, config=converter.config)
        steps = []
        for preprocessor in preprocessors:
            if isinstance(preprocessor, str):
                preprocessor = import_item(preprocessor)
            step = preprocessor(parent=exporter) if isinstance(preprocessor, type) else preprocessor
            exporter.register_preprocessor(step)
            steps.append(step)
        return exporter, steps

    def use_kernels(self, template: KernelTemplate | None) -> None:
        """Fork every kernel from ``template`` (``None``: start each one as a new process)."""
        for executor in self.executors:
            executor.kernel_template = template

    def prepare(self, student: str, assignment: str, folder: Path) -> None:
        """Per submission, as ``Autograde.init_assignment``: the rows and the other files."""
        from nbgrader.api import Gradebook

        with Gradebook(self.db_url, self.coursedir.course_id) as gb:
            gb.update_or_create_student(student)
            gb.update_or_create_submission(assignment, student)
        source = Path(self.coursedir.format_path(self.coursedir.source_directory, ".", assignment))
        for name in utils.find_all_files(str(source), self.coursedir.ignore + ["*.ipynb"]):
            target = folder / os.path.relpath(name, source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(name, target)

    def _resources(self, student: str, assignment: str, name: str, folder: Path) -> dict:
        """What nbgrader's converters hand each preprocessor about the notebook."""
        return {
            "unique_key": name,
            "output_files_dir": f"{name}_files",
            "nbgrader": {
                "student": student,
                "assignment": assignment,
                "notebook": name,
                "db_url": self.db_url,
            },
            "metadata": {"name": name, "path": str(folder)},
        }

    def autograde(
        self, nb: nbformat.NotebookNode, student: str, assignment: str, name: str, folder: Path
    ) -> tuple[nbformat.NotebookNode, dict[str, Any]]:
        """Sanitize and autograde one notebook (its kernel runs in ``folder``)."""
        text, _ = self._sanitize.from_notebook_node(
            nb, self._resources(student, assignment, name, folder)
        )
        resources = self._resources(student, assignment, name, folder)
        with utils.setenv(NBGRADER_EXECUTION="autograde"):
            text, resources = self._autograde.from_notebook_node(
                nbformat.reads(text, as_version=4), resources
            )
        return nbformat.reads(text, as_version=4), resources

    def feedback(
        self, nb: nbformat.NotebookNode, student: str, assignment: str, name: str, folder: Path
    ) -> str:
        """The feedback page of an autograded notebook, as ``generate_feedback`` renders it."""
        html, _ = self._feedback.from_notebook_node(
            nb, self._resources(student, assignment, name, folder)
        )
        return html
