"""nbgrader's steps built once per worker do what nbgrader's own commands do.

The pipeline (``autograder.grading.pipeline``) replaces three of nbgrader's steps with
faster ones and runs the others in memory; these tests hold it to nbgrader's own results:
the same points per cell as ``NbGraderAPI.autograde``, the same sanitized notebooks as
``OverwriteCells``, the same refusals as ``CheckCellMetadata``, and feedback pages that show
what nbconvert's own exporter shows.
"""

from __future__ import annotations

import copy
import shutil

import nbformat
import pytest
from nbgrader.nbgraderformat import ValidationError
from nbgrader.preprocessors import CheckCellMetadata, OverwriteCells

from autograder import paths
from autograder.grading.grader import CourseGrader
from autograder.grading.pipeline import CheckCellMetadataOnce, OverwriteCellsOnce
from autograder.nbgrader_setup import grading_config, nbgrader_api
from tests.hostile import corpus

pytestmark = pytest.mark.slow
KEEP = ("correct", "untouched", "edited_tests", "deleted_tests", "inflated_points")


@pytest.fixture(scope="module")
def grader():
    with CourseGrader([corpus.TOPIC]) as g:
        yield g


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    root = tmp_path_factory.mktemp("subs")
    subs = [s for s in corpus.build() if s.name in KEEP]
    corpus.write(root, subs)
    return root, subs


def _resources(grader, student):
    return {
        "nbgrader": {
            "student": student,
            "assignment": corpus.TOPIC,
            "notebook": corpus.TOPIC,
            "db_url": grader.db_url,
        },
        "metadata": {"name": corpus.TOPIC, "path": str(grader.root)},
    }


def test_the_course_cells_are_put_back_as_overwrite_cells_does(grader, submissions):
    root, subs = submissions
    grader.pipeline.prepare("someone", corpus.TOPIC, grader.root)
    stock = OverwriteCells(add_missing_cells=True)
    once = OverwriteCellsOnce(add_missing_cells=True)
    for sub in subs:
        nb = nbformat.read(root / sub.name / corpus.TOPIC / f"{corpus.TOPIC}.ipynb", 4)
        expected, _ = stock.preprocess(copy.deepcopy(nb), _resources(grader, "someone"))
        for _ in range(2):  # the second time from what it remembered
            got, _ = once.preprocess(copy.deepcopy(nb), _resources(grader, "someone"))
            assert got == expected, sub.name


def test_the_metadata_check_refuses_what_nbgraders_refuses():
    nb = nbformat.read(paths.source_notebook(corpus.TOPIC), as_version=4)
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    duplicated = copy.deepcopy(nb)
    duplicated.cells.append(copy.deepcopy(graded[0]))
    no_points = copy.deepcopy(nb)
    next(c for c in no_points.cells if c.metadata["nbgrader"].get("grade")).metadata[
        "nbgrader"
    ].pop("points")
    wrong_type = copy.deepcopy(nb)
    next(c for c in wrong_type.cells if c.metadata["nbgrader"].get("grade")).metadata["nbgrader"][
        "points"
    ] = "many"
    for broken in (duplicated, no_points, wrong_type):
        for check in (CheckCellMetadata(), CheckCellMetadataOnce()):
            with pytest.raises(ValidationError):
                check.preprocess(copy.deepcopy(broken), {})
    for check in (CheckCellMetadata(), CheckCellMetadataOnce()):
        check.preprocess(copy.deepcopy(nb), {})  # the course's own notebook passes


def test_the_points_are_nbgraders_own(grader, submissions, tmp_path):
    """``NbGraderAPI.autograde`` (kernels started anew) and the pipeline agree cell by cell."""
    from nbgrader.api import Gradebook

    root, subs = submissions
    course = tmp_path / "course"
    api = nbgrader_api(course, grading_config(course, grader.limits))
    shutil.copytree(paths.SOURCE / corpus.TOPIC, course / "source" / corpus.TOPIC)
    assert api.generate_assignment(corpus.TOPIC, force=True, create=True)["success"]
    for sub in subs:
        folder = root / sub.name / corpus.TOPIC
        shutil.copytree(folder, course / "submitted" / sub.name / corpus.TOPIC)
        assert api.autograde(corpus.TOPIC, sub.name, force=True, create=True)["success"]
        with Gradebook(api.coursedir.db_url) as gb:
            nb = gb.find_submission_notebook(corpus.TOPIC, corpus.TOPIC, sub.name)
            stock = {g.name: g.score for g in nb.grades}
        ours = grader.grade(sub.name, corpus.TOPIC, folder)[corpus.TOPIC]
        assert {c.grade_id: c.points for c in ours.cells} == stock, sub.name
        assert stock == sub.expected, sub.name


def test_the_feedback_page_shows_what_nbconverts_exporter_shows(grader, submissions):
    from bs4 import BeautifulSoup
    from nbconvert.exporters import HTMLExporter
    from nbgrader.converters import GenerateFeedback

    root, subs = submissions
    sub = next(s for s in subs if s.name == "edited_tests")  # failures and their messages
    folder = root / sub.name / corpus.TOPIC
    nb = nbformat.read(folder / f"{corpus.TOPIC}.ipynb", as_version=4)
    grader.grade(sub.name, corpus.TOPIC, folder)  # its grades, in the worker's gradebook
    autograded, _ = grader.pipeline.autograde(nb, sub.name, corpus.TOPIC, corpus.TOPIC, root)
    ours = grader.pipeline.feedback(autograded, sub.name, corpus.TOPIC, corpus.TOPIC, root)
    again = grader.pipeline.feedback(autograded, sub.name, corpus.TOPIC, corpus.TOPIC, root)
    assert again == ours  # what it remembered renders the same
    feedback = GenerateFeedback(coursedir=grader.api.coursedir, config=grader.api.config)
    stock_exporter = HTMLExporter(parent=feedback, config=feedback.config)
    for step in feedback.preprocessors:
        stock_exporter.register_preprocessor(step(parent=stock_exporter))
    stock, _ = stock_exporter.from_notebook_node(
        autograded,
        {
            "nbgrader": {
                "student": sub.name,
                "assignment": corpus.TOPIC,
                "notebook": corpus.TOPIC,
                "db_url": grader.db_url,
            },
            "metadata": {"name": corpus.TOPIC, "path": str(root)},
        },
    )
    mine, theirs = BeautifulSoup(ours, "html.parser"), BeautifulSoup(stock, "html.parser")
    assert mine.get_text() == theirs.get_text()
    assert [img.get("alt") for img in mine.find_all("img")] == [
        img.get("alt") for img in theirs.find_all("img")
    ]
    assert "BEGIN HIDDEN TESTS" not in ours and "Score:" in mine.get_text()
