"""Makes this repository an nbgrader course directory (source/ -> release/, gradebook in SQLite).

`python -m autograder course-setup` (run by `make instructor`) creates the exchange and
records the assignments in the gradebook; grade-class, run here, grades into that gradebook.
"""

import os

from pathlib import Path

from autograder.grading.sandbox import Limits
from autograder.nbgrader_setup import grading_config

c = get_config()  # noqa: F821  (nbgrader injects get_config)

# The formgrader's buttons grade as grade-class does: Autograde runs the hardened executor
# (limits, restored state, proof that the tests ran), Generate Feedback hides the hidden tests.
c.merge(grading_config(Path(__file__).resolve().parent, Limits()))

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "torch-losses"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.Execute.timeout = 300
# The exchange, where students fetch from and submit to. Here, inside the course directory:
# every student must be able to write to it. For a class on a shared machine, point it at a
# shared folder (for example /srv/nbgrader/exchange) and give that path to the students.
c.Exchange.root = os.path.join(c.CourseDirectory.root, "exchange")
