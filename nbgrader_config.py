"""Makes this repository an nbgrader course directory (source/ -> release/, gradebook in SQLite)."""

import os

c = get_config()  # noqa: F821  (nbgrader injects get_config)

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
# A local exchange, so release and collect work on one machine; use a shared path for a class.
c.Exchange.root = os.path.join(c.CourseDirectory.root, "exchange")
