"""The instructor's nbgrader course directory: where its gradebook, exchange and feedback are.

A folder is a course directory when it holds an ``nbgrader_config.py`` (this repository
does). grade-class run in one writes into *its* gradebook, the one the formgrader and
``nbgrader export`` read, and puts each feedback page where ``nbgrader release_feedback``
looks for it, beside the ``timestamp.txt`` and ``submission_secret.txt`` it needs.

``python -m autograder course-setup`` prepares a course before the first release: the
exchange exists (the formgrader shows Release and Collect, students' Assignment Lists
work) and every assignment is in the gradebook.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .. import paths
from ..nbgrader_setup import COURSE_ID, fast_gradebook, nbgrader_api, nbgrader_config, quiet_logs

CONFIG_FILE = "nbgrader_config.py"
# what nbgrader's collect puts beside a submission, and release_feedback reads beside feedback
SUBMISSION_FILES = ("timestamp.txt", "submission_secret.txt")


@dataclass(frozen=True)
class Course:
    """The parts of a course directory that grading writes to."""

    root: Path
    course_id: str
    db_url: str
    exchange: Path | None
    """The exchange root (nbgrader's file exchange), when the config names one."""
    directory_structure: str
    feedback_directory: str
    autograded_directory: str
    submitted_directory: str
    source_directory: str

    def folder(self, step: str, student: str, assignment: str) -> Path:
        """nbgrader's ``CourseDirectory.format_path``: ``<root>/<step>/<student>/<assignment>``."""
        relative = self.directory_structure.format(
            nbgrader_step=step, student_id=student, assignment_id=assignment
        )
        return self.root / relative

    def feedback(self, student: str, assignment: str) -> Path:
        return self.folder(self.feedback_directory, student, assignment)

    def autograded(self, student: str, assignment: str) -> Path:
        return self.folder(self.autograded_directory, student, assignment)

    @property
    def submitted(self) -> Path:
        return self.root / self.submitted_directory


def find_course(folder: Path | None = None) -> Course | None:
    """The course whose ``nbgrader_config.py`` is in ``folder`` (default: the current one)."""
    folder = (folder or Path.cwd()).resolve()
    config_file = folder / CONFIG_FILE
    if not config_file.is_file():
        return None
    return load_course(config_file)


def load_course(config_file: Path) -> Course:
    """Read a course's ``nbgrader_config.py`` the way nbgrader does."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    quiet_logs()
    loader = PyFileConfigLoader(config_file.name, path=str(config_file.parent))
    config = loader.load_config()
    if "root" not in config.get("CourseDirectory", {}):
        config.CourseDirectory.root = str(config_file.parent)
    coursedir = CourseDirectory(config=config)
    exchange = config.get("Exchange", {}).get("root")
    return Course(
        root=Path(coursedir.root),
        course_id=coursedir.course_id or COURSE_ID,
        db_url=coursedir.db_url,
        exchange=Path(exchange) if exchange else None,
        directory_structure=coursedir.directory_structure,
        feedback_directory=coursedir.feedback_directory,
        autograded_directory=coursedir.autograded_directory,
        submitted_directory=coursedir.submitted_directory,
        source_directory=coursedir.source_directory,
    )


def copy_submission_files(submission: Path, destination: Path) -> list[str]:
    """Copy ``timestamp.txt`` and ``submission_secret.txt``; return those that were missing."""
    missing = []
    destination.mkdir(parents=True, exist_ok=True)
    for name in SUBMISSION_FILES:
        if (submission / name).is_file():
            shutil.copy(submission / name, destination / name)
        else:
            missing.append(name)
    return missing


def record_assignments(db_url: str, assignments: list[str], source: Path = paths.SOURCE) -> None:
    """Put each assignment (its notebooks and graded cells) in the gradebook, once.

    nbgrader's ``generate_assignment`` does it, run in a throw-away course pointed at this
    gradebook, so the course's committed ``release/`` is never rewritten.
    """
    from nbgrader.api import Gradebook, MissingEntry

    from .grader import GradingError

    fast_gradebook()
    quiet_logs()
    todo = []
    with Gradebook(db_url) as gb:
        for assignment in assignments:
            try:
                gb.find_assignment(assignment)
            except MissingEntry:
                todo.append(assignment)
    if not todo:
        return
    with tempfile.TemporaryDirectory(prefix="course-record-") as tmp:
        root = Path(tmp)
        config = nbgrader_config(root)
        config.CourseDirectory.db_url = db_url
        api = nbgrader_api(root, config)
        for assignment in todo:
            shutil.copytree(source / assignment, root / "source" / assignment)
            result = api.generate_assignment(assignment, force=True, create=True)
            if not result["success"]:
                raise GradingError(f"generate_assignment {assignment} failed:\n{result['log']}")


def create_exchange(course: Course) -> Path:
    """The exchange root and the course's inbound, outbound and feedback folders.

    nbgrader's own release code creates them, with its permissions (the root writable by
    everyone, ``inbound`` writable but not listable), so that nothing waits for the first
    release.
    """
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default import ExchangeReleaseAssignment, ExchangeReleaseFeedback
    from traitlets.config import Config

    if course.exchange is None:
        raise ValueError(f"{course.root / CONFIG_FILE} sets no Exchange.root")
    config = Config()
    config.Exchange.root = str(course.exchange)
    config.CourseDirectory.root = str(course.root)
    config.CourseDirectory.course_id = course.course_id
    coursedir = CourseDirectory(config=config)
    release = ExchangeReleaseAssignment(coursedir=coursedir, config=config)
    release.ensure_root()
    release.init_dest()
    feedback = ExchangeReleaseFeedback(coursedir=coursedir, config=config)
    feedback.init_dest()
    return course.exchange / course.course_id


def setup(course: Course, assignments: list[str] | None = None) -> list[str]:
    """Create the exchange and record the assignments; return what was done, for people."""
    done = [f"exchange: {create_exchange(course)}"]
    assignments = assignments or [
        p.name for p in sorted((course.root / course.source_directory).iterdir()) if p.is_dir()
    ]
    record_assignments(course.db_url, assignments, course.root / course.source_directory)
    done.append(f"gradebook: {course.db_url} ({len(assignments)} assignments)")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder course-setup", description=__doc__.split("\n\n")[2]
    )
    parser.add_argument(
        "course", nargs="?", type=Path, default=Path.cwd(), help="course directory (default: .)"
    )
    args = parser.parse_args(argv)
    course = find_course(args.course)
    if course is None:
        where = args.course.resolve()
        print(f"{where} is not a course directory: no {CONFIG_FILE}", file=sys.stderr)
        return 2
    try:
        for line in setup(course):
            print(line)
    except (OSError, ValueError) as error:
        print(f"course-setup failed: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
