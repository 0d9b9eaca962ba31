"""JupyterLab for the course's three kinds of users, and the Validate button they press.

* :mod:`.modes`: ``python -m autograder lab`` starts JupyterLab for self-study, for a
  student of a class, or for the instructor, each with only the tools that apply
  (configuration in ``config/<mode>/``); ``python -m autograder join`` connects a
  student's folder to a class's exchange;
* :mod:`.validate`: the server side of nbgrader's Validate button, with a short report
  that names the failing checks.
"""
