"""Hand-written optimizers, checked step by step against ``torch.optim``.

* :mod:`.cases`: the runs (hyper-parameters covering every option, parameters, gradients);
* :mod:`.running`: :func:`check_optimizer`, which runs a step function next to torch;
* :mod:`.mistakes`: wrong step functions that name common mistakes.
"""

from .. import integrity
from . import cases, mistakes, running
from .cases import FORBID, HYPER_SETS, OptimCase, make_case, optimizer_cases, schedule_cases
from .mistakes import ADAM_MISTAKES, ADAMW_MISTAKES, SGD_MISTAKES, sgd_other_convention
from .running import check_optimizer, reference_path

__all__ = [
    "ADAMW_MISTAKES",
    "ADAM_MISTAKES",
    "FORBID",
    "HYPER_SETS",
    "SGD_MISTAKES",
    "OptimCase",
    "check_optimizer",
    "make_case",
    "optimizer_cases",
    "reference_path",
    "schedule_cases",
    "sgd_other_convention",
]

for _module in (cases, mistakes, running):
    integrity.watch(_module)
del _module
integrity.watch(__import__(__name__, fromlist=["*"]))
