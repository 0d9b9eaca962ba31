"""What student kernels import: comparisons, random inputs, named mistakes, per-topic checks.

This package runs inside every student's kernel, next to their code. It imports torch and
numpy, never nbgrader nor the rest of :mod:`autograder` (``tests/test_architecture.py``
enforces this), so a kernel stays light and cannot reach the grader.

The notebooks use the names below; each topic's cases, checks and named mistakes live in
:mod:`autograder.checking.topics`, one module per notebook, named like it.
"""

from . import integrity
from .checks import (
    Case,
    CheckFailed,
    begin_check,
    call_quietly,
    check_function,
    check_kind,
    check_value,
    describe_call,
    refuse_if_tampered,
    student_errors,
)
from .comparison import compare, copy_inputs, describe, widened_tolerance
from .draw import REDUCTIONS, fresh_seed, generator
from .forbid import forbid_calls, watching
from .mistakes import reduce_losses, reduction_mistakes
from .promises import ArgumentSnapshot, result_problem

__all__ = [
    "REDUCTIONS",
    "ArgumentSnapshot",
    "Case",
    "CheckFailed",
    "begin_check",
    "call_quietly",
    "check_function",
    "check_kind",
    "check_value",
    "compare",
    "copy_inputs",
    "describe",
    "describe_call",
    "forbid_calls",
    "fresh_seed",
    "generator",
    "reduce_losses",
    "reduction_mistakes",
    "refuse_if_tampered",
    "result_problem",
    "student_errors",
    "watching",
    "widened_tolerance",
]

# The checks call these modules' functions by their global names: a notebook that replaces
# one (``autograder.checking.comparison.compare = ...``) is caught and undone by integrity.
from . import checks, comparison, draw, forbid, mistakes, promises  # noqa: E402

for _module in (checks, comparison, draw, forbid, mistakes, promises):
    integrity.watch(_module)
del _module
integrity.watch(__import__(__name__, fromlist=["*"]))
