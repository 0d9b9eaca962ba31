"""The build, on the instructor's machine: ``notebooks/`` -> ``source/`` -> ``release/``.

* :mod:`.cells`: the authoring convention (cell-header keys) turned into nbgrader metadata;
* :mod:`.build`: the one-way build, with nbgrader's own ``generate_assignment``;
* :mod:`.student_copy`: the student's working copy of ``release/``, never overwritten.
"""
