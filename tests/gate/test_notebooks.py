"""Every topic, end to end: it executes, it grades 0 untouched and full when solved, and
every answer loses its points when it is slightly wrong."""

import time

import nbformat
import pytest

from autograder import paths
from autograder.grading.grader import CourseGrader
from tests.gate.mutation import run_gate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def gate(timings):
    """One kernel run (with its mutants) per topic, shared by the tests below."""
    results = {}

    def run(topic):
        if topic not in results:
            results[topic] = run_gate(paths.source_notebook(topic))
            timings("execute source", topic, results[topic].seconds)
        return results[topic]

    return run


def test_source_executes_and_solutions_pass_their_checks(gate, topic):
    result = gate(topic)
    assert not result.errors, "\n".join(result.errors)
    failing = {a: f for a, f in result.baseline.items() if f < 1.0}
    assert not failing, f"solutions that do not earn full points: {failing}"


def test_every_answer_loses_points_when_slightly_wrong(gate, topic):
    result = gate(topic)
    assert result.outcomes, "no answers were mutated"
    missed = [
        f"{o.mutant.answer} [{o.mutant.kind}] kept {o.points:g}/{o.max_points:g} points"
        for o in result.outcomes
        if not o.caught
    ]
    assert not missed, "wrong answers that kept their points:\n" + "\n".join(missed)
    assert {o.mutant.answer for o in result.outcomes} == set(result.baseline)


def test_a_plot_comes_before_the_first_exercise(gate, topic):
    """ "Run All" on a fresh release stops at the first stub, so a picture must come first."""
    result = gate(topic)
    assert result.first_image is not None, "the notebook shows no plot"
    assert result.first_answer is None or result.first_image < result.first_answer, (
        f"the first plot (cell {result.first_image + 1}) comes after the first answer cell "
        f"(cell {result.first_answer + 1})"
    )


@pytest.fixture(scope="module")
def grader(workdir):
    """One private nbgrader course per topic, graded with the course's hardened executor."""
    graders = {}

    def get(topic):
        if topic not in graders:
            graders[topic] = CourseGrader([topic], workdir=workdir)
        return graders[topic]

    yield get
    for g in graders.values():
        g.close()


@pytest.mark.parametrize("kind", ["release", "source"])
def test_nbgrader_scores_release_zero_and_solutions_full(topic, kind, grader, timings):
    folder = (paths.RELEASE if kind == "release" else paths.SOURCE) / topic
    start = time.perf_counter()
    result = grader(topic).grade(kind, topic, folder)[topic]
    timings(f"nbgrader {kind}", topic, time.perf_counter() - start)
    assert result.max_score > 0 and result.status == "graded", result.message
    if kind == "release":
        earned = [c for c in result.cells if c.points > 0]
        assert result.score == 0, f"untouched release earned points: {earned}"
    else:
        # Written answers (manually graded cells) wait for a human: autograding gives them 0.
        manual = manual_grade_ids(topic)
        auto = [c for c in result.cells if c.grade_id not in manual]
        lost = [(c.grade_id, c.message) for c in auto if not c.passed]
        assert not lost, f"solutions lost points: {lost}"


def manual_grade_ids(topic: str) -> set[str]:
    """The grade ids of a topic's manually graded cells (``manual="..."`` in its source)."""
    nb = nbformat.read(paths.source_notebook(topic), as_version=4)
    return {
        cell.metadata["nbgrader"]["grade_id"]
        for cell in nb.cells
        if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("grade")
    }
