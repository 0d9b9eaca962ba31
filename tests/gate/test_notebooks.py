"""Every topic, end to end: it executes, it grades 0 untouched and full when solved, and
every answer loses its points when it is slightly wrong; in English and in Chinese (the
Chinese gate runs for the topics already translated, tests/translation/pending.py)."""

import time

import nbformat
import pytest

from autograder import paths
from autograder.grading.grader import CourseGrader
from benchmarks.notebook_times import budget
from tests.gate.mutation import run_gate
from tests.translation.pending import PENDING

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


# A notebook's budget (20 s on a CPU, 30 s for the training loop) is measured by
# `make bench-notebooks`; a test cannot hold a loaded machine to it, so this one catches a
# notebook far over its budget (a runaway loop, a check gone quadratic), not load.
RUNAWAY = 2.5


def test_the_notebook_runs_within_its_time_limit(gate, topic):
    limit = RUNAWAY * budget(topic)
    seconds = gate(topic).seconds
    assert seconds < limit, (
        f"{topic} took {seconds:.1f} s to run; its budget is {budget(topic):g} s "
        f"(make bench-notebooks measures it), this test's limit {limit:g} s"
    )


def test_a_plot_comes_before_the_first_exercise(gate, topic):
    """ "Run All" on a fresh release stops at the first stub, so a picture must come first."""
    result = gate(topic)
    assert result.first_image is not None, "the notebook shows no plot"
    assert result.first_answer is None or result.first_image < result.first_answer, (
        f"the first plot (cell {result.first_image + 1}) comes after the first answer cell "
        f"(cell {result.first_answer + 1})"
    )


def test_the_chinese_edition_loses_points_when_slightly_wrong(topic, timings):
    """The wrong-answer gate on the Chinese source: same code, so the same verdicts."""
    if topic in PENDING:
        pytest.skip("translation pending: its Chinese code is the English code, gated above")
    result = run_gate(paths.source_notebook(topic, paths.source_root("zh")))
    timings("execute source zh", topic, result.seconds)
    assert not result.errors, "\n".join(result.errors)
    assert all(f == 1.0 for f in result.baseline.values()), result.baseline
    missed = [o.mutant.kind for o in result.outcomes if not o.caught]
    assert result.outcomes and not missed, missed


@pytest.fixture(scope="module")
def grader(workdir):
    """One private nbgrader course per topic and edition, graded with the hardened executor."""
    graders = {}

    def get(topic, language="en"):
        if (topic, language) not in graders:
            graders[topic, language] = CourseGrader([topic], workdir=workdir, language=language)
        return graders[topic, language]

    yield get
    for g in graders.values():
        g.close()


def manual_cells(topic: str) -> set[str]:
    """The written answers of a topic: nbgrader leaves their points to the instructor."""
    nb = nbformat.read(paths.source_notebook(topic), as_version=4)
    return {
        cell.metadata["nbgrader"]["grade_id"]
        for cell in nb.cells
        if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("grade")
    }


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("kind", ["release", "source"])
def test_nbgrader_scores_release_zero_and_solutions_full(topic, kind, language, grader, timings):
    root = paths.release_root(language) if kind == "release" else paths.source_root(language)
    folder = root / topic
    start = time.perf_counter()
    result = grader(topic, language).grade(kind, topic, folder)[topic]
    timings(f"nbgrader {kind} {language}", topic, time.perf_counter() - start)
    assert result.max_score > 0 and result.status == "graded", result.message
    if kind == "release":
        earned = [c for c in result.cells if c.points > 0]
        assert result.score == 0, f"untouched release earned points: {earned}"
    else:
        manual = manual_cells(topic)
        lost = [(c.grade_id, c.message) for c in result.cells if not c.passed]
        assert [g for g, _ in lost if g not in manual] == [], f"solutions lost points: {lost}"
        autograded = [c for c in result.cells if c.grade_id not in manual]
        assert sum(c.points for c in autograded) == sum(c.max_points for c in autograded)
        # a written answer waits for the instructor: autograding gives it nothing
        assert all(c.points == 0 for c in result.cells if c.grade_id in manual)
