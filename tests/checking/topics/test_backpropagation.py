"""The backpropagation topic's inputs and references: right, and able to tell mistakes apart."""

import pytest
import torch
import torch.nn.functional as F

from autograder.checking import CheckFailed, compare
from autograder.checking.topics import backpropagation as bc


def test_retain_cases_include_graphs_that_can_and_cannot_be_walked_twice():
    outcomes = {
        bc.second_backward_raises_reference(*case.args)
        for seed in range(5)
        for case in bc.retain_cases(seed=seed)
    }
    assert outcomes == {True, False}


def test_two_backwards_sum_their_gradients():
    for case in bc.retain_cases(seed=1):
        f, x = case.args
        leaf = x.clone().requires_grad_(True)
        f(leaf).backward()
        assert torch.allclose(bc.grad_after_two_backwards_reference(f, x), 2 * leaf.grad)


def test_explicit_vjp_agrees_with_backward():
    for case in bc.vjp_cases(seed=3):
        f, x, v = case.args
        leaf = x.clone().requires_grad_(True)
        f(leaf).backward(v)
        assert torch.allclose(bc.explicit_vjp(f, x, v), leaf.grad, rtol=1e-12, atol=1e-12)


def vjp_on_the_callers_x(f, x, v):
    """Right numbers on the first call, but it makes the caller's x require a gradient."""
    x.requires_grad_()
    f(x).backward(v)
    return x.grad


def vjp_right(f, x, v):
    leaf = x.detach().clone().requires_grad_(True)
    f(leaf).backward(v)
    return leaf.grad


def test_a_vjp_that_changes_the_callers_x_is_caught():
    case = bc.vjp_cases(seed=4)[0]
    f, x, v = case.args
    assert torch.allclose(vjp_on_the_callers_x(f, x.clone(), v), bc.explicit_vjp(f, x, v))
    with pytest.raises(CheckFailed, match="changed the caller's x"):
        bc.check_vjp_leaves_x_alone(vjp_on_the_callers_x, case)
    for case in bc.vjp_cases(seed=4):
        bc.check_vjp_leaves_x_alone(vjp_right, case)


def test_linear_reference_and_mistakes():
    for case in bc.linear_cases(seed=5):
        input, weight, bias, grad_output = case.args
        truth = bc.autograd_linear_backward(*case.args)
        assert (
            compare(
                truth,
                {
                    "input": grad_output @ weight,
                    "weight": grad_output.T @ input,
                    "bias": grad_output.sum(0),
                },
                rtol=1e-12,
                atol=1e-12,
            )
            is None
        )
        for wrong in bc.linear_mistakes().values():
            value = wrong(*case.args)
            if value is not None:
                assert compare(value, truth, rtol=1e-6, atol=1e-8) is not None


def test_two_layer_reference_and_mistakes():
    for case in bc.two_layer_cases(seed=6)[1:]:
        truth = bc.autograd_two_layer_grads(*case.args, **case.kwargs)
        assert [tuple(truth[k].shape) for k in bc.PARAMETERS] == [
            tuple(p.shape) for p in case.args[2:]
        ]
        for wrong in bc.two_layer_mistakes().values():
            value = wrong(*case.args, **case.kwargs)
            if value is not None:
                assert compare(value, truth, rtol=1e-6, atol=1e-8) is not None


def test_two_layer_loss_is_nn_linear_convention():
    case = bc.two_layer_cases(seed=7)[0]
    input, target, W1, b1, W2, b2 = case.args
    hidden = F.relu(F.linear(input, W1, b1))
    expected = F.cross_entropy(F.linear(hidden, W2, b2), target)
    assert torch.allclose(bc.two_layer_loss(input, target, W1, b1, W2, b2), expected)


def test_every_two_layer_and_linear_mistake_differs_from_autograd():
    for reference, mistakes, cases in (
        (bc.autograd_two_layer_grads, bc.two_layer_mistakes(), bc.two_layer_cases(seed=0)),
        (bc.autograd_linear_backward, bc.linear_mistakes(), bc.linear_cases(seed=0)),
    ):
        for name, wrong in mistakes.items():
            differs = False
            for case in cases:
                value = wrong(*case.args, **case.kwargs)
                if value is not None:
                    truth = reference(*case.args, **case.kwargs)
                    differs = differs or compare(value, truth, rtol=1e-6, atol=1e-8) is not None
            assert differs, name
