"""The Chinese edition as an nbgrader course directory of its own (中文版课程目录).

A class taught in Chinese runs nbgrader here, in zh/: `make instructor LANG=zh` (or
`python -m autograder course-setup` and `python -m autograder lab --mode instructor` in
this folder), then the formgrader, `nbgrader release_assignment`, `python -m autograder
grade-class submitted/`... exactly as in the English course directory one level up, whose
configuration this file loads first (the grading pipeline, the limits, the exchange). What
differs: this folder is the root (zh/source/, zh/release/, its own gradebook and its own
submitted/, autograded/ and feedback/), and the course id is torch-losses-zh, so that both
classes can share one exchange. Students of this class join it with
`python -m autograder join --language zh EXCHANGE FOLDER`.
"""

import os

c = get_config()  # noqa: F821  (nbgrader injects get_config)
load_subconfig(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "nbgrader_config.py"))  # noqa: F821

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "torch-losses-zh"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")
