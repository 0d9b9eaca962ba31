"""The autograd topic's inputs, references and checks: right, and able to tell mistakes apart."""

import pytest
import torch
import torch.nn.functional as F

from autograder.checking import CheckFailed, check_function, compare
from autograder.checking.topics import autograd_basics as ab


def test_l1_cases_contain_ties_and_autograd_gives_zero_there():
    reference = ab.autograd_input_grad(F.l1_loss)
    tied = 0
    for case in ab.regression_grad_cases(seed=0):
        input, target = case.args
        ties = input == target
        tied += int(ties.sum())
        grad = reference(input, target, **case.kwargs)
        assert grad.dtype == torch.float64 and grad.shape == input.shape
        assert torch.all(grad[ties] == 0)
    assert tied > 0


def test_none_reduction_gets_a_grad_output_of_the_loss_shape():
    for case in ab.regression_grad_cases(seed=1):
        grad_output = case.kwargs.get("grad_output")
        if case.kwargs["reduction"] == "none":
            assert grad_output.shape == case.args[0].shape
        else:
            assert grad_output is None


@pytest.mark.parametrize(
    ("loss", "mistakes"),
    [(F.l1_loss, ab.l1_grad_mistakes), (F.mse_loss, ab.mse_grad_mistakes)],
    ids=["l1", "mse"],
)
def test_every_grad_mistake_differs_from_the_truth_somewhere(loss, mistakes):
    reference = ab.autograd_input_grad(loss)
    cases = ab.regression_grad_cases(seed=2, draws=5)
    for name, mistake in mistakes(reference).items():
        differs = False
        for case in cases:
            wrong = mistake(*case.args, **case.kwargs)
            if wrong is None:
                continue
            truth = reference(*case.args, **case.kwargs)
            differs = differs or compare(wrong, truth, rtol=1e-6, atol=1e-8) is not None
        assert differs, name


def test_a_mean_over_the_first_dimension_is_not_called_the_gradient_of_the_sum():
    """Issue 12: dividing by N instead of numel was named "the gradient of the sum" because
    the first failing case had one row; a mistake must explain every failing case."""
    reference = ab.autograd_input_grad(F.mse_loss)

    def by_rows(input, target, reduction="mean", grad_output=None):
        g = 2 * (input - target)
        if reduction == "none":
            return g * grad_output
        return g / input.shape[0] if reduction == "mean" else g

    cases = [c for c in ab.regression_grad_cases(seed=0, draws=5)]
    with pytest.raises(CheckFailed) as raised:
        check_function(by_rows, reference, cases, mistakes=ab.mse_grad_mistakes(reference))
    assert "first dimension" in str(raised.value)
    assert "gradient of the sum" not in str(raised.value)


def test_central_difference_is_close_to_autograd_and_forward_difference_is_not():
    for case in ab.numerical_cases(seed=4):
        f, x = case.args
        leaf = x.clone().requires_grad_(True)
        f(leaf).backward()
        central = ab.central_difference(f, x, **case.kwargs)
        forward = ab.forward_difference(f, x, **case.kwargs)
        assert torch.allclose(central, leaf.grad, rtol=1e-4, atol=1e-6)
        assert not torch.allclose(forward, central, rtol=1e-7, atol=1e-9)


def test_snapshots_show_none_accumulation_and_zeroing():
    model, input, target = ab.snapshot_model(5)
    found = ab.reference_snapshots(model, input, target)
    assert found["before"] is None and found["after_zero_grad"] is None
    assert torch.allclose(found["after_two"], 2 * found["after_one"])
    assert torch.all(found["after_zero_grad_false"] == 0)
    for wrong in ab.snapshot_mistakes(found).values():
        assert compare(wrong, found, rtol=1e-10, atol=1e-12) is not None

    model, input, target = ab.snapshot_model(5, primed=True)
    primed = ab.reference_snapshots(model, input, target)
    assert primed["before"] is not None and primed["before"].abs().sum() > 0


def student_snapshots(model, input, target):
    """A correct answer written apart from the course's reference (which it may not call)."""
    weight = model[0].weight
    found = {}

    def keep(key):
        found[key] = None if weight.grad is None else weight.grad.detach().clone()

    keep("before")
    for key in ("after_one", "after_two"):
        F.cross_entropy(model(input), target).backward()
        keep(key)
    model.zero_grad()
    keep("after_zero_grad")
    F.cross_entropy(model(input), target).backward()
    model.zero_grad(set_to_none=False)
    keep("after_zero_grad_false")
    return found


def test_gradient_snapshots_check_uses_one_model_for_hidden_seeds():
    """A fresh seed is drawn once: the student's model and the reference's are twins."""
    ab.check_gradient_snapshots(student_snapshots, seed=None, public=False)
    ab.check_gradient_snapshots(student_snapshots, seed=None, primed=True, public=False)


def zeros_for_none(model, input, target):
    """Believes zero_grad() fills the gradients with zeros."""
    weight = model[0].weight

    def record():
        return torch.zeros_like(weight) if weight.grad is None else weight.grad.clone()

    found = {"before": None if weight.grad is None else weight.grad.clone()}
    F.cross_entropy(model(input), target).backward()
    found["after_one"] = record()
    F.cross_entropy(model(input), target).backward()
    found["after_two"] = record()
    model.zero_grad()
    found["after_zero_grad"] = record()
    F.cross_entropy(model(input), target).backward()
    model.zero_grad(set_to_none=False)
    found["after_zero_grad_false"] = record()
    return found


def test_gradient_snapshots_check_names_zeros_for_none():
    with pytest.raises(CheckFailed, match="zero_grad\\(\\) leaves None"):
        ab.check_gradient_snapshots(zeros_for_none, seed=3)


# --- reading the graph ------------------------------------------------------------------


def graph_facts(t):
    return {
        "requires_grad": t.requires_grad,
        "is_leaf": t.is_leaf,
        "grad_fn": None if t.grad_fn is None else type(t.grad_fn).__name__,
        "gets_grad": t.requires_grad and (t.is_leaf or t.retains_grad),
    }


def graph_facts_requires_grad_only(t):
    return {**graph_facts(t), "gets_grad": t.requires_grad}


def graph_facts_object(t):
    return {**graph_facts(t), "grad_fn": t.grad_fn}


@pytest.mark.parametrize("seed", range(20))
def test_graph_facts_accepts_a_right_answer(seed):
    ab.check_graph_facts(graph_facts, seed=seed)


def test_graph_facts_graphs_cover_every_kind_of_tensor():
    seen = set()
    for seed in range(30):
        tensors, _ = ab.graph_tensors(seed)
        for t in tensors.values():
            facts = ab.reference_graph_facts(t)
            seen.add((facts["requires_grad"], facts["is_leaf"], facts["gets_grad"]))
    # leaves with and without gradients, intermediate results, retained ones
    assert {(True, True, True), (False, True, False), (True, False, False)} <= seen
    assert (True, False, True) in seen


@pytest.mark.parametrize(
    ("answer", "named"),
    [
        (graph_facts_requires_grad_only, "requiring a gradient is not enough"),
        (graph_facts_object, "the grad_fn object, not its name"),
    ],
)
def test_graph_facts_names_known_mistakes(answer, named):
    with pytest.raises(CheckFailed, match=named):
        for seed in range(10):
            ab.check_graph_facts(answer, seed=seed)


# --- the numerical checker and the planted bug ------------------------------------------


def nudging_in_place(f, x, eps=1e-6):
    """Nudges the caller's x and undoes it by arithmetic: not bitwise the same afterwards."""
    flat = x.view(-1)
    out = torch.empty_like(flat)
    for i in range(flat.numel()):
        flat[i] += eps
        plus = float(f(x))
        flat[i] -= 2 * eps
        minus = float(f(x))
        flat[i] += eps
        out[i] = (plus - minus) / (2 * eps)
    return out.reshape(x.shape)


def test_numerical_gradient_that_nudges_the_callers_x_is_caught():
    cases = ab.numerical_cases(seed=9)
    # it computes the right numbers...
    for case in cases:
        f, x = case.args
        got = nudging_in_place(f, x.clone(), **case.kwargs)
        assert torch.allclose(got, ab.central_difference(f, x, **case.kwargs), rtol=1e-7)
    # ...but leaves the caller's tensor changed
    with pytest.raises(CheckFailed, match="changed the caller's x"):
        for case in cases:
            ab.check_leaves_x_alone(nudging_in_place, case)
    for case in cases:
        ab.check_leaves_x_alone(ab.central_difference, case)


@pytest.mark.parametrize("seed", range(25))
def test_every_planted_bug_is_found_and_every_right_gradient_passes(seed):
    for case in ab.planted_bug_cases(seed=seed):
        candidates, probe = case.args
        verdict = ab.reference_check_gradients(candidates, probe)
        for name, (f, grad_f) in candidates.items():
            leaf = probe.clone().requires_grad_(True)
            f(leaf).backward()
            truly_right = torch.allclose(grad_f(probe), leaf.grad, rtol=1e-5, atol=1e-7)
            assert verdict[name] == truly_right
            assert truly_right == (grad_f is ab.GRADIENT_POOL[name][1])
        assert 1 <= list(verdict.values()).count(False) <= 2
        for wrong in ab.check_gradients_mistakes().values():
            assert wrong(candidates, probe) != verdict


def test_every_graph_facts_mistake_differs_from_the_truth_on_some_graph():
    tensors = {}
    for seed in range(20):
        found, _ = ab.graph_tensors(seed)
        tensors.update({f"{label} {seed}": t for label, t in found.items()})
    for name, wrong in ab.graph_facts_mistakes().items():
        assert any(
            compare(wrong(t), ab.reference_graph_facts(t), rtol=0, atol=0) is not None
            for t in tensors.values()
        ), name


def test_graph_facts_names_a_mistake_only_when_it_explains_every_failing_tensor():
    def two_mistakes(t):
        return {
            **ab.reference_graph_facts(t),
            "grad_fn": t.grad_fn,
            "gets_grad": bool(t.requires_grad),
        }

    with pytest.raises(CheckFailed) as raised:
        ab.check_graph_facts(two_mistakes, seed=1)
    assert "known mistake" not in str(raised.value)
