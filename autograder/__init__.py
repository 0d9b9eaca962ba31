"""The package behind the course, in three rooms that run in different places.

* :mod:`.authoring`: the build, on the instructor's machine (text -> source -> release);
* :mod:`.checking`: imported by every student kernel (comparisons, inputs, named mistakes);
* :mod:`.grading`: the grader's process and the kernels it guards.

:mod:`.paths` says where the course lives; :mod:`.nbgrader_setup` configures nbgrader.
"""

__version__ = "0.1.0"
