"""Hand-written optimizers, checked step by step against ``torch.optim``.

* :mod:`.cases`: the runs (hyper-parameters covering every option, parameters, gradients,
  a learning rate that changes part-way);
* :mod:`.running`: :func:`check_optimizer`, which runs a step function next to torch;
* :mod:`.mistakes`: wrong step functions that name common mistakes;
* :mod:`.muon`: Muon in float64, and its checks that allow for torch's bfloat16;
* :mod:`.api`: helpers for checks of exercises that call ``torch.optim`` itself.
"""

from .. import integrity
from . import api, cases, mistakes, muon, running
from .cases import (
    FORBID,
    HYPER_SETS,
    SPECS,
    OptimCase,
    lr_schedule,
    make_case,
    optimizer_cases,
    schedule_cases,
    with_hyper,
)
from .mistakes import (
    ADADELTA_MISTAKES,
    ADAFACTOR_MISTAKES,
    ADAGRAD_MISTAKES,
    ADAM_MISTAKES,
    ADAMAX_MISTAKES,
    ADAMW_MISTAKES,
    ASGD_MISTAKES,
    NADAM_MISTAKES,
    RADAM_MISTAKES,
    RMSPROP_MISTAKES,
    RPROP_MISTAKES,
    SGD_MISTAKES,
    SGD_OTHER_MISTAKES,
    sgd_other_convention,
)
from .muon import MUON_MISTAKES, check_muon
from .running import GRAD_CHANGED, check_optimizer, reference_path

__all__ = [
    "ADADELTA_MISTAKES",
    "ADAFACTOR_MISTAKES",
    "ADAGRAD_MISTAKES",
    "ADAMAX_MISTAKES",
    "ADAMW_MISTAKES",
    "ADAM_MISTAKES",
    "ASGD_MISTAKES",
    "FORBID",
    "GRAD_CHANGED",
    "HYPER_SETS",
    "MUON_MISTAKES",
    "NADAM_MISTAKES",
    "RADAM_MISTAKES",
    "RMSPROP_MISTAKES",
    "RPROP_MISTAKES",
    "SGD_MISTAKES",
    "SGD_OTHER_MISTAKES",
    "SPECS",
    "OptimCase",
    "check_muon",
    "check_optimizer",
    "lr_schedule",
    "make_case",
    "optimizer_cases",
    "reference_path",
    "schedule_cases",
    "sgd_other_convention",
    "with_hyper",
]

for _module in (api, cases, mistakes, muon, running):
    integrity.watch(_module)
del _module
integrity.watch(__import__(__name__, fromlist=["*"]))
