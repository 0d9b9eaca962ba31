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

Three of nbgrader's steps are replaced by faster equivalents, because they were most of
the bookkeeping left per notebook: :class:`CheckCellMetadataOnce` checks the metadata
schema once rather than once per cell, :class:`OverwriteCellsOnce` reads the course's
cells from the gradebook once rather than once per cell and submission, and
:class:`FeedbackHTMLExporter` renders the same template without nbconvert's BeautifulSoup
pass (it re-parses the whole page to add alt text to images; a regular expression adds
the same). Each pass validates the notebook once, after its last preprocessor
(nbconvert's ``optimistic_validation``), instead of after each.

What nbgrader's converter does around the preprocessors for each submission (the student
and submission rows, the assignment's other files next to the notebook) is
:meth:`NotebookPipeline.prepare`.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import traceback
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jsonschema
import nbformat
from jinja2 import pass_context
from nbconvert.exporters import Exporter, HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbgrader import utils
from nbgrader.api import MissingEntry
from nbgrader.converters import Autograde, GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from nbgrader.nbgraderformat import MetadataValidator, ValidationError
from nbgrader.nbgraderformat.common import (
    BaseMetadataValidator,
    SchemaTooNewError,
    SchemaTooOldError,
)
from nbgrader.preprocessors import CheckCellMetadata, NbGraderPreprocessor, OverwriteCells
from traitlets.config import Config
from traitlets.utils.importstring import import_item

from .execute import GuardedExecute
from .provisioner import KernelTemplate


@functools.cache
def _schema_validator(schema_json: str):
    """A validator for nbgrader's cell metadata schema, its schema checked once."""
    import json

    schema = json.loads(schema_json)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


class _SchemaOnce(BaseMetadataValidator):
    """``BaseMetadataValidator.validate_cell`` with the schema checked once."""

    def validate_cell(self, cell: nbformat.NotebookNode) -> None:
        if "nbgrader" not in cell.metadata:
            return
        schema = cell.metadata["nbgrader"].get("schema_version", 0)
        if schema < self.schema_version:
            raise SchemaTooOldError(
                f"Outdated schema version: {schema} (expected {self.schema_version})",
                schema,
                self.schema_version,
            )
        if schema > self.schema_version:
            raise SchemaTooNewError(
                f"Schema version is too new: {schema} (expected {self.schema_version})",
                schema,
                self.schema_version,
            )
        import json

        validator = _schema_validator(json.dumps(self.schema, sort_keys=True))
        error = jsonschema.exceptions.best_match(validator.iter_errors(cell.metadata["nbgrader"]))
        if error is not None:
            raise error


class _MetadataValidatorOnce(MetadataValidator, _SchemaOnce):
    """nbgrader's metadata validator (its own checks), with the schema checked once."""


class CheckCellMetadataOnce(CheckCellMetadata):
    """nbgrader's ``CheckCellMetadata``, with the schema checked once instead of per cell."""

    def preprocess(self, nb, resources):
        try:
            _MetadataValidatorOnce().validate_nb(nb)
        except ValidationError:
            self.log.error(traceback.format_exc())
            msg = "Notebook failed to validate; the nbgrader metadata may be corrupted."
            self.log.error(msg)
            raise ValidationError(msg) from None
        return nb, resources


_IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\balt=)", re.IGNORECASE)
NO_ALT = "No description has been provided for this image"


class _CachedHighlight:
    """nbconvert's code highlighting, remembered: most cells are the same for every student."""

    def __init__(self, highlight, size: int = 4096):
        self.highlight = highlight
        self.size = size
        self.seen: dict[tuple, str] = {}

    def __call__(self, source, language=None, metadata=None):
        magics = (metadata or {}).get("magics_language")
        key = (source, language, magics)
        if key not in self.seen:
            if len(self.seen) >= self.size:
                self.seen.clear()
            self.seen[key] = self.highlight(source, language, metadata)
        return self.seen[key]


_NON_ASCII_ENTITY = re.compile(r"&#(12[89]|1[3-9]\d|[2-9]\d\d|[1-9]\d{3,6});")
"""A numeric character reference to a code point above 127 (never markup)."""


class FeedbackHTMLExporter(HTMLExporter):
    """nbconvert's HTML exporter, faster on the pages of a whole class.

    ``HTMLExporter.from_notebook_node`` renders the template, then parses the page to add
    alt text to images and ``tabindex`` to JupyterLab-style cells; nbgrader's feedback
    template (classic) has no such cells, and the alt text is added here directly. Code
    highlighting and markdown are remembered from one page to the next (the course's cells
    repeat in every submission).
    """

    _highlighters: dict[str | None, _CachedHighlight]
    _markdown: dict[tuple, str]

    @pass_context
    def markdown2html(self, context, source):
        cell = context.get("cell", {})
        if cell.get("attachments"):
            return HTMLExporter.markdown2html(self, context, source)
        path = context.get("resources", {}).get("metadata", {}).get("path", "")
        key = (source, path if self.embed_images else None)
        if not hasattr(self, "_markdown") or len(self._markdown) > 4096:
            self._markdown = {}
        if key not in self._markdown:
            self._markdown[key] = HTMLExporter.markdown2html(self, context, source)
        return self._markdown[key]

    def from_notebook_node(self, nb, resources=None, **kw):
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        if not hasattr(self, "_highlighters"):
            self._highlighters = {}
        if lexer not in self._highlighters:
            plain = Highlight2HTML(pygments_lexer=lexer, parent=self)
            self._highlighters[lexer] = _CachedHighlight(plain)
        highlight_code = self.filters.get("highlight_code", self._highlighters[lexer])
        resources = self._init_resources(resources)
        filter_data_type = WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources
        )
        self.register_filter("highlight_code", highlight_code)
        self.register_filter("filter_data_type", filter_data_type)
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        html = _IMG_WITHOUT_ALT.sub(f'<img alt="{NO_ALT}"', html)
        # Markdown comes out with non-ASCII text as numeric entities (nbconvert's own path
        # turns them back while re-parsing the page, which this one skips): the page is
        # UTF-8, so Chinese text is written as itself, readable and searchable.
        return _NON_ASCII_ENTITY.sub(lambda m: chr(int(m.group(1))), html), resources


class _CourseCells:
    """The course's own cells of one notebook, read once from the worker's gradebook.

    They never change in a worker's private course, and ``OverwriteCells`` asks for each of
    them by name for every submission (a query per cell); here they are answered from
    memory, with the same attributes and the same ``MissingEntry`` for an unknown name.
    """

    def __init__(self, gb, notebook: str, assignment: str):
        found = gb.find_notebook(notebook, assignment)

        def plain(cell, *names: str) -> SimpleNamespace:
            return SimpleNamespace(**{name: getattr(cell, name) for name in names})

        attrs = ("name", "cell_type", "locked", "checksum", "source")
        self.source = {c.name: plain(c, *attrs) for c in found.source_cells}
        self.graded = {c.name: plain(c, "name", "max_score") for c in found.grade_cells}
        tasks = {c.name: plain(c, "name", "max_score") for c in found.task_cells}
        self.notebook = SimpleNamespace(
            source_cells=list(self.source.values()),
            grade_cells=list(self.graded.values()),
            solution_cells=[plain(c, "name") for c in found.solution_cells],
            task_cells=list(tasks.values()),
        )
        self.graded.update({k: v for k, v in tasks.items() if k not in self.graded})
        self.where = (notebook, assignment)

    def _check(self, notebook: str, assignment: str) -> None:
        if (notebook, assignment) != self.where:
            raise MissingEntry(f"No such notebook: {assignment}/{notebook}")

    def find_notebook(self, name: str, assignment: str):
        self._check(name, assignment)
        return self.notebook

    def find_source_cell(self, name: str, notebook: str, assignment: str):
        self._check(notebook, assignment)
        if name not in self.source:
            raise MissingEntry(f"No such source cell: {assignment}/{notebook}/{name}")
        return self.source[name]

    def find_graded_cell(self, name: str, notebook: str, assignment: str):
        self._check(notebook, assignment)
        if name not in self.graded:
            raise MissingEntry(f"No such graded cell: {assignment}/{notebook}/{name}")
        return self.graded[name]

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None


class OverwriteCellsOnce(OverwriteCells):
    """nbgrader's ``OverwriteCells``, with the course's cells read once per notebook."""

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook

        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        self.db_url = resources["nbgrader"]["db_url"]
        known: dict = self.__dict__.setdefault("_known", {})
        key = (self.db_url, self.notebook_id, self.assignment_id)
        if key not in known:
            with Gradebook(self.db_url) as gb:
                known[key] = _CourseCells(gb, self.notebook_id, self.assignment_id)
        self.gradebook = known[key]
        with self.gradebook:
            nb, resources = NbGraderPreprocessor.preprocess(self, nb, resources)
            if self.add_missing_cells:
                nb, resources = self.add_missing_grade_cells(nb, resources)
                nb, resources = self.add_missing_task_cells(nb, resources)
        return nb, resources


_FASTER = {CheckCellMetadata: CheckCellMetadataOnce, OverwriteCells: OverwriteCellsOnce}


class NotebookPipeline:
    """nbgrader's converters for one private course, ready to grade notebook after notebook."""

    def __init__(self, coursedir: CourseDirectory, config: Config):
        self.coursedir = coursedir
        self.db_url = coursedir.db_url
        autograde = Autograde(coursedir=coursedir, config=config)
        feedback = GenerateFeedback(coursedir=coursedir, config=config)
        # the notebook passes hand the notebook on in memory (nbgrader writes and reads it)
        self._sanitize, _ = self._exporter(autograde, Exporter, autograde.sanitize_preprocessors)
        self._autograde, steps = self._exporter(
            autograde, Exporter, autograde.autograde_preprocessors
        )
        html = feedback.exporter_class
        html = FeedbackHTMLExporter if html is HTMLExporter else html
        self._feedback, _ = self._exporter(feedback, html, feedback.preprocessors)
        self.executors = [step for step in steps if isinstance(step, GuardedExecute)]

    @staticmethod
    def _exporter(converter, exporter_class, preprocessors) -> tuple[Any, list]:
        """The converter's exporter with these preprocessors, as nbgrader registers them."""
        # validated once after all the preprocessors, not after each (nbconvert's option)
        exporter = exporter_class(
            parent=converter, config=converter.config, optimistic_validation=True
        )
        steps = []
        for preprocessor in preprocessors:
            if isinstance(preprocessor, str):
                preprocessor = import_item(preprocessor)
            preprocessor = _FASTER.get(preprocessor, preprocessor)
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

    def sanitize(
        self, nb: nbformat.NotebookNode, student: str, assignment: str, name: str, folder: Path
    ) -> nbformat.NotebookNode:
        """The notebook as it will run: outputs cleared, the course's own cells put back."""
        nb, _ = self._sanitize.from_notebook_node(
            nb, self._resources(student, assignment, name, folder)
        )
        return nb

    def autograde(
        self, nb: nbformat.NotebookNode, student: str, assignment: str, name: str, folder: Path
    ) -> tuple[nbformat.NotebookNode, dict[str, Any]]:
        """Sanitize and autograde one notebook (its kernel runs in ``folder``)."""
        nb = self.sanitize(nb, student, assignment, name, folder)
        resources = self._resources(student, assignment, name, folder)
        with utils.setenv(NBGRADER_EXECUTION="autograde"):
            nb, resources = self._autograde.from_notebook_node(nb, resources)
        return nb, resources

    def feedback(
        self, nb: nbformat.NotebookNode, student: str, assignment: str, name: str, folder: Path
    ) -> str:
        """The feedback page of an autograded notebook, as ``generate_feedback`` renders it."""
        html, _ = self._feedback.from_notebook_node(
            nb, self._resources(student, assignment, name, folder)
        )
        return html
