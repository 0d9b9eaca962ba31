"""The one-way pipeline: notebooks/ -> source/ -> release/, and the cell convention."""

import nbformat
import pytest

from autograder import paths
from autograder.authoring import build
from autograder.authoring.cells import AuthoringError, convert


def test_source_and_release_are_in_sync_with_notebooks():
    stale = build.build(check=True)
    assert not stale, "stale against notebooks/ (run `make build`): " + ", ".join(
        str(p.relative_to(paths.ROOT)) for p in stale
    )


def test_every_topic_has_committed_source_and_release():
    for topic in paths.topics():
        assert paths.source_notebook(topic).exists(), topic
        assert paths.release_notebook(topic).exists(), topic


@pytest.mark.parametrize("root", [paths.SOURCE, paths.RELEASE])
def test_generated_notebooks_carry_no_outputs(root):
    for path in root.rglob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            assert not cell.get("outputs"), f"{path}: outputs committed"


def test_release_hides_solutions_and_hidden_tests(topic):
    source = paths.source_notebook(topic).read_text()
    release = paths.release_notebook(topic).read_text()
    assert "### BEGIN SOLUTION" in source and "### BEGIN SOLUTION" not in release
    assert "BEGIN HIDDEN TESTS" not in release
    assert "raise NotImplementedError()" in release


GOOD = """# %% [markdown]
# Intro

# %% answer="f"
def f():
    ### BEGIN SOLUTION
    return 1
    ### END SOLUTION

# %% tests="f" points=2
assert f() == 1

# %% tests="f" points=1
assert f() + 1 == 2
"""


def test_convention_becomes_nbgrader_metadata():
    nb = convert(GOOD)
    intro, answer, tests, more = (c.metadata["nbgrader"] for c in nb.cells)
    assert intro["locked"] and not intro["grade"] and not intro["solution"]
    assert answer == {
        "grade": False,
        "grade_id": "f",
        "locked": False,
        "schema_version": 3,
        "solution": True,
    }
    assert tests["grade"] and tests["locked"] and tests["points"] == 2
    assert tests["grade_id"] == "test_f" and more["grade_id"] == "test_f_2"
    assert nb.cells[2].metadata["course"] == {"answer": "f"}


@pytest.mark.parametrize(
    "text, message",
    [
        ('# %% answer="f"\nx = 1\n', "needs a code cell with a solution"),
        ('# %% answer="f"\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n', "no tests cell"),
        ('# %% tests="g" points=1\nassert True\n', "unknown answers"),
        (GOOD.replace("points=2", "points=0"), "points=N with N > 0"),
        (GOOD + '\n# %% answer="f"\n### BEGIN SOLUTION\n### END SOLUTION\n', "used twice"),
    ],
)
def test_convention_errors_name_the_problem(text, message):
    with pytest.raises(AuthoringError, match=message):
        convert(text)
