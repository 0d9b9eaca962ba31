"""Every topic, end to end: it executes, it grades 0 untouched and full when solved, and
every answer loses its points when it is slightly wrong."""

import time

import pytest

from autograder import course
from autograder.grading import grade_notebooks
from autograder.mutation import run_gate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def gate(timings):
    """One kernel run (with its mutants) per topic, shared by the tests below."""
    results = {}

    def run(topic):
        if topic not in results:
            results[topic] = run_gate(course.source_notebook(topic))
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


@pytest.mark.parametrize("kind", ["release", "source"])
def test_nbgrader_scores_release_zero_and_solutions_full(topic, kind, workdir, timings):
    notebook = (course.release_notebook if kind == "release" else course.source_notebook)(topic)
    start = time.perf_counter()
    grade = grade_notebooks({topic: notebook}, workdir=workdir)[topic]
    timings(f"nbgrader {kind}", topic, time.perf_counter() - start)
    assert grade.max_score > 0
    if kind == "release":
        assert grade.score == 0, f"untouched release earned {grade.score}: {grade.cells}"
    else:
        lost = [c for c in grade.cells if c.score < c.max_score]
        assert grade.score == grade.max_score, f"solutions lost points: {lost}"
