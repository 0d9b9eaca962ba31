"""What an exercise promises besides the value, kept by one mechanism for every check.

The wrong answers are issue 12's, written as plain functions and checked with
``check_function`` against references computed here with torch and autograd: each earned
full points before the promises were checked. Next to each, correct answers written
differently (a copy made another way, in-place work on the copy, another exception
where only refusal is promised) must keep passing.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from autograder.checking import Case, CheckFailed, check_function, check_value
from autograder.checking.promises import ArgumentSnapshot, result_problem

from .student import cell, generator, pairs

# -- a central-difference gradient: "Do not change the caller's x: work on a copy" --------


def central_difference(f, x, eps=1e-6):
    """The reference, on its own copy."""
    flat = x.detach().clone().reshape(-1)
    out = torch.empty_like(flat)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + eps
        plus = float(f(flat.reshape(x.shape)))
        flat[i] = old - eps
        minus = float(f(flat.reshape(x.shape)))
        flat[i] = old
        out[i] = (plus - minus) / (2 * eps)
    return out.reshape(x.shape)


def numerical_cases(seed: int) -> list[Case]:
    gen = generator(seed)
    functions = {
        "sum of x sin x": lambda t: (t * t.sin()).sum(),
        "log-sum-exp": lambda t: t.exp().sum().log(),
        "sum of squares": lambda t: (t**2).sum(),
    }
    cases = []
    for i, (label, f) in enumerate(functions.items()):
        shape = [(4,), (2, 3), (2, 2, 2)][i]
        x = torch.randn(shape, generator=gen, dtype=torch.float64)
        for eps in (1e-3, 1e-4):
            cases.append(Case(f"{label}, shape {shape}, eps={eps}", (f, x), {"eps": eps}))
    return cases


NUDGES_THE_CALLERS_X = """
def numerical_gradient(f, x, eps=1e-6):
    flat = x.reshape(-1)  # a view of the caller's x, not a copy
    grad = torch.empty_like(flat)
    for i in range(flat.numel()):
        flat[i] += eps
        plus = float(f(x))
        flat[i] -= 2 * eps
        minus = float(f(x))
        flat[i] += eps  # "undone" by arithmetic
        grad[i] = (plus - minus) / (2 * eps)
    return grad.reshape(x.shape)
"""


def test_wrong_answer_3_nudging_the_callers_x_in_place_is_caught():
    student = cell(NUDGES_THE_CALLERS_X, "numerical_gradient")
    with pytest.raises(CheckFailed, match="caller's x was (changed|written to) in place"):
        check_function(student, central_difference, numerical_cases(41), rtol=1e-7, atol=1e-9)


def test_the_nudge_changes_the_callers_x_even_when_the_values_come_back():
    """Put back exactly (the old value saved), the in-place writes are still seen."""
    student = cell(
        """
        def numerical_gradient(f, x, eps=1e-6):
            flat = x.view(-1)
            grad = torch.empty_like(flat)
            for i in range(flat.numel()):
                old = flat[i].item()
                flat[i] = old + eps
                plus = float(f(x))
                flat[i] = old - eps
                minus = float(f(x))
                flat[i] = old
                grad[i] = (plus - minus) / (2 * eps)
            return grad.reshape(x.shape)
        """,
        "numerical_gradient",
    )
    with pytest.raises(
        CheckFailed, match="written to in place \\(even if its values were put back"
    ):
        check_function(student, central_difference, numerical_cases(42), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize(
    "source",
    [
        """
        def numerical_gradient(f, x, eps=1e-6):
            x = x.clone()
            flat = x.view(-1)
            grad = torch.zeros_like(flat)
            for i in range(flat.numel()):
                flat[i] += eps
                plus = f(x).item()
                flat[i] -= 2 * eps
                minus = f(x).item()
                flat[i] += eps
                grad[i] = (plus - minus) / (2 * eps)
            return grad.view_as(x)
        """,
        """
        def numerical_gradient(f, x, eps=1e-6):
            grad = torch.zeros_like(x)
            for index in torch.cartesian_prod(*[torch.arange(n) for n in x.shape]).reshape(
                -1, x.dim()
            ):
                step = torch.zeros_like(x)
                step[tuple(index)] = eps
                grad[tuple(index)] = (f(x + step) - f(x - step)) / (2 * eps)
            return grad
        """,
    ],
)
def test_a_central_difference_on_a_copy_passes(source):
    student = cell(source, "numerical_gradient")
    check_function(student, central_difference, numerical_cases(43), rtol=1e-7, atol=1e-9)


# -- a vector-Jacobian product: "x does not require a gradient ... make a leaf copy" ------


def explicit_vjp(f, x, v):
    jacobian = torch.autograd.functional.jacobian(f, x)
    return v.reshape(-1) @ jacobian.reshape(v.numel(), x.numel())


def vjp_cases(seed: int) -> list[Case]:
    gen = generator(seed)
    x = torch.randn(4, generator=gen, dtype=torch.float64)
    functions = {
        "elementwise": (lambda t: t.sin() * t, (4,)),
        "cumulative": (lambda t: t.cumsum(0) ** 2, (4,)),
        "outer product": (lambda t: torch.outer(t, t), (4, 4)),
    }
    return [
        Case(label, (f, x, torch.randn(shape, generator=gen, dtype=torch.float64)))
        for label, (f, shape) in functions.items()
    ]


SETS_REQUIRES_GRAD = """
def vector_jacobian_product(f, x, v):
    x.requires_grad_()
    f(x).backward(v)
    return x.grad
"""


def test_wrong_answer_4_requires_grad_on_the_callers_tensor_is_caught():
    student = cell(SETS_REQUIRES_GRAD, "vector_jacobian_product")
    with pytest.raises(CheckFailed, match="caller's x now requires a gradient"):
        check_function(student, explicit_vjp, vjp_cases(21))


def test_why_it_is_wrong_a_second_call_returns_twice_the_gradient():
    student = cell(SETS_REQUIRES_GRAD, "vector_jacobian_product")
    f, x, v = vjp_cases(22)[0].args
    first = student(f, x, v).clone()
    second = student(f, x, v)
    assert torch.allclose(second, 2 * first)


@pytest.mark.parametrize(
    "source",
    [
        """
        def vector_jacobian_product(f, x, v):
            leaf = x.detach().clone().requires_grad_(True)
            f(leaf).backward(v)
            return leaf.grad
        """,
        """
        def vector_jacobian_product(f, x, v):
            leaf = torch.tensor(x.tolist(), dtype=x.dtype, requires_grad=True)
            (f(leaf) * v).sum().backward()
            return leaf.grad
        """,
        """
        def vector_jacobian_product(f, x, v):
            leaf = x.clone()
            leaf.requires_grad = True
            return torch.autograd.grad(f(leaf), leaf, v)[0]
        """,
    ],
)
def test_a_vjp_on_a_leaf_copy_passes(source):
    student = cell(source, "vector_jacobian_product")
    check_function(student, explicit_vjp, vjp_cases(23))


# -- an unknown reduction: "Raise a ValueError for any other reduction" ------------------

TAKES_UNKNOWN_AS_MEAN = """
def l1_loss(input, target, reduction="mean"):
    losses = (input - target).abs()
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.mean()
"""


def test_wrong_answer_5_an_unknown_reduction_taken_as_mean_is_caught():
    student = cell(TAKES_UNKNOWN_AS_MEAN, "l1_loss")
    check_function(student, F.l1_loss, pairs(1))  # every value is right
    with pytest.raises(CheckFailed, match="reduction='max'.*instead of raising a ValueError"):
        check_function(student, F.l1_loss, pairs(1), unknown_reduction=True)


def test_the_promise_is_a_value_error():
    raises_key_error = cell(
        """
        def l1_loss(input, target, reduction="mean"):
            losses = (input - target).abs()
            return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]
        """,
        "l1_loss",
    )
    with pytest.raises(CheckFailed, match="raised KeyError.*should raise a ValueError"):
        check_function(raises_key_error, F.l1_loss, pairs(2), unknown_reduction=True)


@pytest.mark.parametrize(
    "source",
    [
        """
        def l1_loss(input, target, reduction="mean"):
            if reduction not in ("none", "sum", "mean"):
                raise ValueError(f"{reduction} is not a valid value for reduction")
            losses = (input - target).abs()
            return losses if reduction == "none" else getattr(losses, reduction)()
        """,
        """
        def l1_loss(input, target, reduction="mean"):
            losses = (input - target).abs()
            try:
                return {"none": lambda: losses, "sum": losses.sum, "mean": losses.mean}[reduction]()
            except KeyError:
                raise ValueError(reduction) from None
        """,
    ],
)
def test_a_value_error_keeps_the_promise(source):
    check_function(cell(source, "l1_loss"), F.l1_loss, pairs(3), unknown_reduction=True)


def test_where_the_text_promises_nothing_nothing_is_checked():
    """The default: an exercise that does not promise the ValueError does not ask for it,
    so a correct answer written from its text never loses points over it."""
    check_function(cell(TAKES_UNKNOWN_AS_MEAN, "l1_loss"), F.l1_loss, pairs(4))


# -- arguments changed in place, and where an exercise allows it -------------------------


def test_a_loss_that_overwrites_its_input_is_caught_and_says_which_argument():
    student = cell(
        """
        def l1_loss(input, target, reduction="mean"):
            target = target.float()  # returns the same tensor when it is float32 already
            target.sub_(input).abs_()
            return {"none": target, "sum": target.sum(), "mean": target.mean()}[reduction]
        """,
        "l1_loss",
    )
    cases = [c for c in pairs(5, shapes=((3,), (4,))) if c.args[0].dtype == torch.float32]
    with pytest.raises(CheckFailed, match="caller's target was changed in place"):
        check_function(student, F.l1_loss, cases)


STEP = """
def sgd_step(param, grad, lr, weight_decay=0.0):
    {grad_line}
    param.sub_(lr * {g})
    return param
"""


def sgd_reference(param, grad, lr, weight_decay=0.0):
    return param - lr * (grad + weight_decay * param)


def step_cases() -> list[Case]:
    gen = generator(6)
    p, g = (
        torch.randn(5, generator=gen, dtype=torch.float64),
        torch.randn(5, generator=gen, dtype=torch.float64),
    )
    return [
        Case(f"lr={lr}, weight_decay={wd}", (p, g, lr), {"weight_decay": wd})
        for lr in (0.1, 0.01)
        for wd in (0.0, 0.1)
    ]


def test_an_exercise_may_allow_changes_to_some_arguments_only():
    """``may_change`` opens ``param`` to in-place updates; ``grad`` stays closed."""
    in_place_param = cell(
        STEP.format(grad_line="g = grad + weight_decay * param", g="g"), "sgd_step"
    )
    check_function(in_place_param, sgd_reference, step_cases(), may_change=["param"])
    with pytest.raises(CheckFailed, match="caller's param was changed in place"):
        check_function(in_place_param, sgd_reference, step_cases())
    changes_grad = cell(
        STEP.format(grad_line="grad.add_(param, alpha=weight_decay)", g="grad"), "sgd_step"
    )
    with pytest.raises(CheckFailed, match="caller's grad was (changed|written to) in place"):
        check_function(changes_grad, sgd_reference, step_cases(), may_change=["param"])
    check_function(changes_grad, sgd_reference, step_cases(), may_change=True)


def test_the_snapshot_sees_grads_and_module_parameters():
    x = torch.ones(3, requires_grad=True)
    model = torch.nn.Linear(2, 1)

    def f(x, model):
        (x * 2).sum().backward()
        with torch.no_grad():
            model.weight.add_(1.0)

    snapshot = ArgumentSnapshot(f, (x, model), {})
    f(x, model)
    changes = snapshot.changes()
    assert any("x.grad changed" in c for c in changes)
    assert any("model.weight was changed in place" in c for c in changes)
    assert snapshot.changes(may_change=["x", "model"]) == []


# -- results: "return a float", "return a detached tensor" --------------------------------


def test_floats_refuse_tensors_and_say_when_they_carry_a_graph():
    w = torch.ones(2, requires_grad=True)
    losses = [((w - 3) ** 2).sum() for _ in range(2)]
    problem = result_problem(losses, floats=True)
    assert problem is not None and "the result[0]" in problem and "graph" in problem
    assert result_problem([loss.item() for loss in losses], floats=True) is None
    assert result_problem(3, floats=True) is None
    with pytest.raises(CheckFailed, match="should be a Python float"):
        check_value("losses", losses, [8.0, 8.0], floats=True)
    check_value("losses", [8.0, 8.0], [8.0, 8.0], floats=True)


def test_floats_take_a_python_bool_as_a_flag_but_not_numpys():
    """03's initial_loss_check returns (a float, a float, a bool)."""
    import numpy as np

    assert result_problem((2.3, 2.302, True), floats=True) is None
    problem = result_problem((2.3, 2.302, np.bool_(True)), floats=True)
    assert problem is not None and "the result[2]" in problem and "numpy" in problem


def test_detached_refuses_a_result_that_still_requires_grad():
    student = cell(
        """
        def minimise(start):
            x = start.clone().requires_grad_(True)
            for _ in range(50):
                loss = ((x - 1) ** 2).sum()
                (g,) = torch.autograd.grad(loss, x)
                x = (x - 0.25 * g).detach().requires_grad_(True)
            return x
        """,
        "minimise",
    )
    cases = [Case("from zero", (torch.zeros(2, dtype=torch.float64),))]
    reference = lambda start: torch.ones(2, dtype=torch.float64)  # noqa: E731
    check_function(student, reference, cases, rtol=1e-6, atol=1e-6)  # values agree
    with pytest.raises(CheckFailed, match="still carries an autograd graph"):
        check_function(student, reference, cases, rtol=1e-6, atol=1e-6, detached=True)
