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


@pytest.mark.parametrize("language", paths.LANGUAGES)
def test_every_topic_has_committed_source_and_release(language):
    for topic in paths.topics():
        assert paths.source_notebook(topic, paths.source_root(language)).exists(), topic
        assert paths.release_notebook(topic, paths.release_root(language)).exists(), topic


@pytest.mark.parametrize(
    "root",
    [r for lang in paths.LANGUAGES for r in (paths.source_root(lang), paths.release_root(lang))],
)
def test_generated_notebooks_carry_no_outputs(root):
    for path in root.rglob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            assert not cell.get("outputs"), f"{path}: outputs committed"


@pytest.mark.parametrize("language", paths.LANGUAGES)
def test_release_hides_solutions_and_hidden_tests(topic, language):
    source = paths.source_notebook(topic, paths.source_root(language)).read_text()
    release = paths.release_notebook(topic, paths.release_root(language)).read_text()
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


def _course_copy(tmp_path, topic="01_basic_losses"):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    (notebooks / f"{topic}.py").write_text((paths.NOTEBOOKS / f"{topic}.py").read_text())
    return notebooks, tmp_path / "source", tmp_path / "release"


@pytest.mark.slow
def test_a_source_notebook_changed_outside_the_build_is_refused_not_overwritten(tmp_path):
    """Running a source notebook in Jupyter saves outputs into it; the build must not eat them."""
    topic = "01_basic_losses"
    notebooks, source, release = _course_copy(tmp_path, topic)
    where = {"notebooks": notebooks, "source": source, "release": release}
    build.build(**where)
    path = paths.source_notebook(topic, source)
    nb = nbformat.read(path, as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran in Jupyter\n")]
    nbformat.write(nb, path)
    edited = path.read_text()
    with pytest.raises(build.EditedOutsideBuild) as refused:
        build.build(**where)
    message = str(refused.value)
    assert str(notebooks / f"{topic}.py") in message and "outside the build" in message
    assert path.read_text() == edited  # nothing was written
    # an edit where it belongs (notebooks/) is still refused while source/ holds the hand edit
    text = (notebooks / f"{topic}.py").read_text()
    (notebooks / f"{topic}.py").write_text(text.replace("# # 1. What a loss is", "# # 1. A loss"))
    with pytest.raises(build.EditedOutsideBuild):
        build.build(**where)
    assert build.build(overwrite=True, **where)  # the instructor discards the hand edit
    assert "ran in Jupyter" not in path.read_text() and "# 1. A loss" in path.read_text()
    assert not build.edited_outside_build(path.read_text())
    assert build.STAMP not in paths.release_notebook(topic, release).read_text()


def test_the_stamp_tells_a_built_notebook_from_an_edited_one():
    nb = convert(GOOD)
    text = build.stamped_text(nb, "notebooks/x.py")
    assert not build.edited_outside_build(text)
    assert build.edited_outside_build(text.replace("return 1", "return 2"))
    committed = paths.source_notebook(paths.topics()[0]).read_text()
    assert build.STAMP in committed and not build.edited_outside_build(committed)


def test_grade_class_output_is_kept_out_of_git():
    """graded/ holds students' work and its results: git must ignore it."""
    import subprocess

    for path in ("graded/results/alice/01_basic_losses.json", "graded/gradebook.db"):
        result = subprocess.run(["git", "check-ignore", "-q", path], cwd=paths.ROOT)
        assert result.returncode == 0, f"{path} is not ignored by git"
