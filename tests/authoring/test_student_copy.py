"""The student's working copy: created when missing, never overwritten."""

from autograder.authoring.student_copy import sync


def test_copies_missing_notebooks_and_never_overwrites(tmp_path):
    release, student = tmp_path / "release", tmp_path / "student"
    (release / "01_a").mkdir(parents=True)
    (release / "01_a" / "01_a.ipynb").write_text("course v1")
    assert sync(release, student) == [student / "01_a" / "01_a.ipynb"]
    (student / "01_a" / "01_a.ipynb").write_text("my answers")
    (release / "01_a" / "01_a.ipynb").write_text("course v2")
    (release / "02_b").mkdir()
    (release / "02_b" / "02_b.ipynb").write_text("new topic")
    assert sync(release, student) == [student / "02_b" / "02_b.ipynb"]
    assert (student / "01_a" / "01_a.ipynb").read_text() == "my answers"
    assert (student / "02_b" / "02_b.ipynb").read_text() == "new topic"
