"""The backpropagation topic's inputs and references: right, and able to tell mistakes apart."""

import torch
import torch.nn.functional as F

from autograder.checking import compare
from autograder.checking.topics import backpropagation as bc


def test_l1_cases_contain_ties_and_autograd_gives_zero_there():
    reference = bc.autograd_input_grad(F.l1_loss)
    tied = 0
    for case in bc.regression_grad_cases(seed=0):
        input, target = case.args
        ties = input == target
        tied += int(ties.sum())
        grad = reference(input, target, **case.kwargs)
        assert grad.dtype == torch.float64 and grad.shape == input.shape
        assert torch.all(grad[ties] == 0)
    assert tied > 0


def test_none_reduction_gets_a_grad_output_of_the_loss_shape():
    for cases, shape in (
        (bc.regression_grad_cases(seed=1), lambda x: x.shape),
        (bc.classification_grad_cases(seed=1), lambda x: x.shape[:1]),
        (bc.binary_grad_cases(seed=1), lambda x: x.shape),
    ):
        for case in cases:
            grad_output = case.kwargs.get("grad_output")
            if case.kwargs["reduction"] == "none":
                assert grad_output.shape == shape(case.args[0])
            else:
                assert grad_output is None


def test_grad_mistakes_differ_from_the_truth():
    reference = bc.autograd_input_grad(F.mse_loss)
    mistakes = bc.grad_mistakes(reference)
    for case in bc.regression_grad_cases(seed=2)[3:6]:  # shape (5,), every reduction
        truth = reference(*case.args, **case.kwargs)
        wrong = [m(*case.args, **case.kwargs) for m in mistakes.values()]
        applicable = [w for w in wrong if w is not None]
        assert len(applicable) == 1
        assert compare(applicable[0], truth, rtol=1e-6, atol=1e-8) is not None


def test_explicit_vjp_agrees_with_backward():
    for case in bc.vjp_cases(seed=3):
        f, x, v = case.args
        leaf = x.clone().requires_grad_(True)
        f(leaf).backward(v)
        assert torch.allclose(bc.explicit_vjp(f, x, v), leaf.grad, rtol=1e-12, atol=1e-12)


def test_central_difference_is_close_to_autograd_and_forward_difference_is_not():
    for case in bc.numerical_cases(seed=4):
        f, x = case.args
        leaf = x.clone().requires_grad_(True)
        f(leaf).backward()
        central = bc.central_difference(f, x, **case.kwargs)
        forward = bc.forward_difference(f, x, **case.kwargs)
        assert torch.allclose(central, leaf.grad, rtol=1e-4, atol=1e-6)
        assert not torch.allclose(forward, central, rtol=1e-7, atol=1e-9)


def test_snapshots_show_none_accumulation_and_zeroing():
    model, input, target = bc.snapshot_model(5)
    found = bc.reference_snapshots(model, input, target)
    assert found["before"] is None and found["after_zero_grad"] is None
    assert torch.allclose(found["after_two"], 2 * found["after_one"])
    assert torch.all(found["after_zero_grad_false"] == 0)
    for wrong in bc.snapshot_mistakes(found).values():
        assert compare(wrong, found, rtol=1e-10, atol=1e-12) is not None

    model, input, target = bc.snapshot_model(5, primed=True)
    primed = bc.reference_snapshots(model, input, target)
    assert primed["before"] is not None and primed["before"].abs().sum() > 0


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
