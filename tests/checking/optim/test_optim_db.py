"""The course's own solutions agree with torch on PyTorch's optimizer test configurations.

``torch.testing._internal.common_optimizers.optim_db`` lists, per optimizer, the keyword
arguments PyTorch's own test suite runs it with. Every hand-written step function of
notebooks 10 and 11 (the solutions, read from the notebooks themselves) is run next to
``torch.optim`` on every real-valued configuration in the exercises' scope, at the
configured learning rate and with that rate changed part-way, and must agree at every step.

Out of scope, and listed by the test: implementation switches the step functions do not
take (``foreach``, ``fused``, ``capturable``, ``differentiable``). A learning rate given as a
tensor (for CUDA graphs) is passed as the float it holds: the exercises take a float.
"""

from __future__ import annotations

import inspect
import zlib

import jupytext
import pytest
import torch

from autograder import paths
from autograder.checking.optim import SPECS, check_muon, check_optimizer, make_case
from autograder.checking.optim.cases import Spec, lr_schedule

common_optimizers = pytest.importorskip("torch.testing._internal.common_optimizers")

STEP_FUNCTIONS = {
    "SGD": "sgd_step",
    "ASGD": "asgd_step",
    "Adagrad": "adagrad_step",
    "RMSprop": "rmsprop_step",
    "Adadelta": "adadelta_step",
    "Rprop": "rprop_step",
    "Adam": "adam_step",
    "AdamW": "adamw_step",
    "Adamax": "adamax_step",
    "NAdam": "nadam_step",
    "RAdam": "radam_step",
    "Adafactor": "adafactor_step",
    "Muon": "muon_step",
}
NOT_HAND_WRITTEN = {"LBFGS", "SparseAdam"}  # a closure exercise and a demonstration
SWITCHES = {"foreach", "fused", "capturable", "differentiable"}
STATE_KEYS = {"ASGD": ["ax"]}


def solutions() -> dict:
    """Every answer cell of notebooks 10 and 11, executed: the course's solutions."""
    namespace: dict = {}
    exec("import io, math\nimport torch\n", namespace)
    for topic in ("10_sgd_momentum", "11_adaptive_methods"):
        nb = jupytext.read(paths.NOTEBOOKS / f"{topic}.py")
        for cell in nb.cells:
            if cell.cell_type == "code" and "answer" in cell.metadata:
                exec(compile(cell.source, f"{topic}:{cell.metadata['answer']}", "exec"), namespace)
    return namespace


SOLUTIONS = solutions()


def configurations() -> list[tuple[str, str, dict]]:
    """``(optimizer, description, kwargs)`` for every configuration optim_db lists on CPU."""
    found = []
    for info in common_optimizers.optim_db:
        name = info.optim_cls.__name__
        try:
            inputs = info.optim_inputs_func(device="cpu", dtype=torch.float64)
        except TypeError:
            inputs = info.optim_inputs_func(device="cpu")
        for optim_input in inputs:
            found.append((name, optim_input.desc, dict(optim_input.kwargs)))
    return found


CONFIGURATIONS = configurations()


def in_scope(name: str, kwargs: dict) -> tuple[str, dict] | None:
    """The step function and keyword arguments for one configuration, or None if outside."""
    if name in NOT_HAND_WRITTEN or SWITCHES & set(kwargs):
        return None
    kwargs = {k: float(v) if isinstance(v, torch.Tensor) else v for k, v in kwargs.items()}
    if name == "Adam" and kwargs.pop("decoupled_weight_decay", False):
        # Adam(decoupled_weight_decay=True) is AdamW, with Adam's default weight decay, 0.
        return "adamw_step", {"weight_decay": 0.0} | kwargs
    return STEP_FUNCTIONS[name], kwargs


def default_lr(cls: type) -> float:
    return inspect.signature(cls.__init__).parameters["lr"].default


def test_every_optimizer_in_optim_db_is_hand_written_or_named_out_of_scope():
    names = {name for name, _, _ in CONFIGURATIONS}
    assert names <= set(STEP_FUNCTIONS) | NOT_HAND_WRITTEN, names - set(STEP_FUNCTIONS)
    assert set(STEP_FUNCTIONS) <= names, set(STEP_FUNCTIONS) - names
    for function in STEP_FUNCTIONS.values():
        assert callable(SOLUTIONS.get(function)), function


IN_SCOPE = [c for c in CONFIGURATIONS if in_scope(c[0], c[2]) is not None]


def test_what_is_left_out_is_only_what_the_module_docstring_names():
    """Only LBFGS, SparseAdam and implementation switches stay out; nothing else is skipped."""
    left_out = [c for c in CONFIGURATIONS if in_scope(c[0], c[2]) is None]
    for name, desc, kwargs in left_out:
        assert name in NOT_HAND_WRITTEN or SWITCHES & set(kwargs), (name, desc, kwargs)


@pytest.mark.parametrize(
    ("name", "desc", "kwargs"),
    IN_SCOPE,
    ids=[f"{name}-{desc}" for name, desc, _ in IN_SCOPE],
)
def test_the_solution_agrees_with_torch(name, desc, kwargs):
    scope = in_scope(name, kwargs)
    assert scope is not None
    function, hyper = scope
    cls = getattr(torch.optim, name)
    torch_kwargs = (
        {"decoupled_weight_decay": True} if function == "adamw_step" and name == "Adam" else {}
    )
    spec = SPECS.get(name.lower(), Spec())
    gen = torch.Generator().manual_seed(zlib.crc32(f"{name} {desc}".encode()))
    steps = max(spec.steps, 12)
    lr = hyper.get("lr", default_lr(cls))
    cases = [
        make_case(
            f"optim_db {name} '{desc}'", hyper, gen, 0, public=True, steps=steps, shapes=spec.shapes
        ),
        make_case(
            f"optim_db {name} '{desc}', lr changed",
            hyper | {"lr": lr},
            gen,
            0,
            public=True,
            lrs=lr_schedule(gen, lr, steps, public=True),
            shapes=spec.shapes,
        ),
    ]
    step_fn = SOLUTIONS[function]
    if name == "Muon":
        check_muon(step_fn, cases)
    else:
        check_optimizer(
            step_fn, cls, cases, state_keys=STATE_KEYS.get(name, ()), torch_kwargs=torch_kwargs
        )


def test_most_configurations_are_in_scope():
    scoped = IN_SCOPE
    hand_written = [c for c in CONFIGURATIONS if c[0] not in NOT_HAND_WRITTEN]
    assert len(scoped) >= 0.9 * len(hand_written), (len(scoped), len(hand_written))
