"""Grading submissions: in the grader's process, and in the kernels it guards.

In the grader's process:

* :mod:`.grader`: a private nbgrader course that grades one submission at a time;
* :mod:`.pipeline`: nbgrader's autograde and feedback steps, built once per worker;
* :mod:`.execute`: nbgrader's ``Execute``, hardened (limits, proof tokens, restoring);
* :mod:`.sandbox`: the kernel's launcher, which applies the limits (standard library only);
* :mod:`.kernel_template` and :mod:`.provisioner`: a process that imports torch once and
  forks a fresh, sandboxed kernel per notebook, and the kernel provisioner that asks it;
* :mod:`.submission`: reading what a student handed in, before nbgrader sees it;
* :mod:`.review`: flags for a human where code reaches into the grader's machinery;
* :mod:`.feedback`: feedback pages without the hidden tests;
* :mod:`.results`: the typed results, per notebook and per tests cell;
* :mod:`.grade_one` and :mod:`.grade_class`: the two commands; :mod:`.tasks`,
  :mod:`.workers` and :mod:`.scheduler`: grade-class's workers, here or on a Dask cluster;
  :mod:`.report`: the class report.

In the student's kernel, at grading time only: :mod:`.kernel_guard`, which restores a clean
state before each tests cell and proves that the cell ran to its end.

This package's ``__init__`` imports nothing: the sandbox launcher starts every kernel.
"""
