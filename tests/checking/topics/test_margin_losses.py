"""The inputs and known mistakes of topic 05 (margin losses): the reference numbers hold,
every option and edge case is drawn, every named mistake is a real, catchable mistake."""

import pytest
import torch
import torch.nn.functional as F

from autograder.checking import CheckFailed, check_function, compare
from autograder.checking.topics import margin_losses as mc

LOSSES = {
    "margin_ranking": (mc.margin_ranking_cases, mc.margin_ranking_mistakes, F.margin_ranking_loss),
    "hinge_embedding": (
        mc.hinge_embedding_cases,
        mc.hinge_embedding_mistakes,
        F.hinge_embedding_loss,
    ),
    "cosine_embedding": (
        mc.cosine_embedding_cases,
        mc.cosine_embedding_mistakes,
        F.cosine_embedding_loss,
    ),
    "multi_margin": (mc.multi_margin_cases, mc.multi_margin_mistakes, F.multi_margin_loss),
    "multilabel_margin": (
        mc.multilabel_margin_cases,
        mc.multilabel_margin_mistakes,
        F.multilabel_margin_loss,
    ),
    "triplet": (mc.triplet_cases, mc.triplet_mistakes, F.triplet_margin_loss),
    "triplet_distance": (
        mc.triplet_distance_cases,
        mc.triplet_distance_mistakes,
        F.triplet_margin_with_distance_loss,
    ),
}


def test_reference_numbers_of_the_notes():
    t = torch.tensor
    ranking = F.margin_ranking_loss(
        t([1.0, 2, 3]), t([2.0, 2, 2]), t([1.0, 1, -1]), reduction="none"
    )
    assert ranking.tolist() == [1.0, 0.0, 1.0]
    with pytest.raises(RuntimeError):
        F.margin_ranking_loss(t([[1.0], [2], [3]]), t([[2.0], [2], [2]]), t([1.0, 1, -1]))
    hinge = F.hinge_embedding_loss(t([[1.0, 0.8, 0.5]]), t([[1, 1, -1]]), reduction="none")
    assert torch.allclose(hinge, t([[1.0, 0.8, 0.5]]))
    a, b = t([[0.3, 0.5, 0.7]] * 2), t([[0.1, 0.3, 0.5]] * 2)
    cosine = F.cosine_embedding_loss(a, b, t([1.0, -1.0]), reduction="none")
    assert torch.allclose(cosine, t([0.0167, 0.9833]), atol=5e-5)
    with pytest.raises(RuntimeError):
        F.cosine_embedding_loss(a, b, t([[1.0, -1.0]]))
    multi = F.multi_margin_loss(t([[0.1, 0.2, 0.7], [0.2, 0.5, 0.3]]), t([1, 2]), reduction="none")
    assert torch.allclose(multi, t([0.8, 0.7]))
    multilabel = F.multilabel_margin_loss(t([[0.1, 0.2, 0.4, 0.8]]), t([[0, 3, -1, -1]]))
    assert abs(multilabel.item() - 0.85) < 1e-6
    triplet = F.triplet_margin_loss(t([[1.0]]), t([[2.0]]), t([[0.5]]), margin=1.0, p=1)
    assert abs(triplet.item() - 1.5) < 1e-5


@pytest.mark.parametrize("loss", LOSSES)
def test_cases_are_reproducible_and_fresh_ones_differ(loss):
    make = LOSSES[loss][0]
    first, again = make(seed=11), make(seed=11)
    assert [c.label for c in first] == [c.label for c in again]
    assert all(
        compare(c.args, d.args, rtol=0, atol=0) is None for c, d in zip(first, again, strict=True)
    )
    fresh1, fresh2 = make(seed=None), make(seed=None)
    assert any(compare(c.args, d.args, rtol=0, atol=0) for c, d in zip(fresh1, fresh2, strict=True))


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_reduction_and_both_dtypes(loss, seed):
    cases = LOSSES[loss][0](seed=seed)
    assert {c.kwargs["reduction"] for c in cases} == {"none", "sum", "mean"}
    assert {c.args[0].dtype for c in cases} == {torch.float32, torch.float64}


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("seed", [1, 2, None])
def test_a_one_percent_error_fails(loss, seed):
    make, _, reference = LOSSES[loss]

    def off(*args, **kwargs):
        return reference(*args, **kwargs) * 1.01

    with pytest.raises(CheckFailed):
        check_function(off, reference, make(seed=seed), name="off")
    check_function(reference, reference, make(seed=seed), name="reference")


@pytest.mark.parametrize("loss", LOSSES)
def test_every_named_mistake_is_wrong_somewhere_and_named(loss):
    """Each mistake applies to some case, differs from torch there, and the checks name it."""
    make, mistakes, reference = LOSSES[loss]
    cases = make(seed=1) + make(seed=2) + make(seed=3)
    for name, wrong in mistakes().items():
        differs = False
        for case in cases:
            value = wrong(*case.args, **case.kwargs)
            if value is None:
                continue
            expected = reference(*case.args, **case.kwargs)
            if compare(value, expected, rtol=1e-6, atol=1e-8, dtype=False):
                differs = True
                break
        assert differs, f"{loss}: mistake {name!r} never differs from torch"

        def student(*args, _wrong=wrong, **kwargs):
            value = _wrong(*args, **kwargs)
            return reference(*args, **kwargs) if value is None else value

        with pytest.raises(CheckFailed, match="known mistake"):
            check_function(student, reference, cases, name="student", mistakes=mistakes())


def test_margin_ranking_covers_ties_and_margins():
    cases = mc.margin_ranking_cases(seed=None, draws=8)
    assert {c.kwargs["margin"] for c in cases} >= {0.0, 0.5, 1.0, 2.0}
    assert any(bool((c.args[0] == c.args[1]).any()) for c in cases)
    assert all(set(c.args[2].unique().tolist()) <= {-1.0, 1.0} for c in cases)


def test_hinge_covers_both_labels_and_the_margin_itself():
    cases = mc.hinge_embedding_cases(seed=None)
    assert {c.kwargs["margin"] for c in cases} >= {0.0, 0.5, 1.0, 2.0}
    assert any(bool((c.args[0] == c.kwargs["margin"]).any()) for c in cases)
    assert any(bool((c.args[1] == 1).any() and (c.args[1] == -1).any()) for c in cases)


def test_cosine_has_a_zero_row_and_a_parallel_pair():
    cases = mc.cosine_embedding_cases(seed=None)
    assert any(bool((c.args[0].abs().sum(dim=1) == 0).any()) for c in cases)
    losses = [F.cosine_embedding_loss(*c.args, reduction="none", margin=c.kwargs["margin"])
              for c in cases]  # fmt: skip
    assert all(torch.isfinite(x).all() for x in losses)
    assert all(c.args[2].dim() == 1 for c in cases)
    assert {c.kwargs["margin"] for c in cases} >= {0.0, 0.5, -0.3, 0.9}


def test_multi_margin_covers_every_p_and_weight_combination():
    cases = mc.multi_margin_cases(seed=None)
    combos = {(c.kwargs["p"], "weight" in c.kwargs, c.args[0].dtype) for c in cases}
    assert len(combos) == 8
    assert any(c.args[0].shape[0] == 1 for c in cases)
    assert any(c.args[0].shape[1] == 2 for c in cases)


def test_multilabel_targets_stop_at_the_first_minus_one():
    cases = mc.multilabel_margin_cases(seed=None)
    rows = [row for c in cases for row in c.args[1].tolist()]
    assert any(row[0] == -1 for row in rows), "a row without labels"
    assert any(-1 not in row for row in rows), "a full row without -1"
    junk = [row for row in rows if -1 in row and max(row[row.index(-1) :]) >= 0]
    assert junk, "class indices after the first -1"
    for row in rows:
        labels = mc._labels(torch.tensor(row))
        assert len(labels) == len(set(labels)), "labels are distinct"
        assert all(0 <= j < len(row) for j in row if j != -1)


def test_triplet_covers_p_swap_and_eps_and_swap_matters():
    cases = mc.triplet_cases(seed=None)
    assert {(c.kwargs["p"], c.kwargs["swap"]) for c in cases} == {
        (p, s) for p in (1.0, 2.0, 3.0) for s in (False, True)
    }
    assert {c.kwargs["eps"] for c in cases} == {1e-6, 0.0, 0.3}
    swapped = [c for c in cases if c.kwargs["swap"] and c.kwargs["reduction"] == "none"]
    assert any(
        not torch.equal(
            F.triplet_margin_loss(*c.args, **c.kwargs),
            F.triplet_margin_loss(*c.args, **{**c.kwargs, "swap": False}),
        )
        for c in swapped
    )


def test_triplet_distance_covers_every_distance():
    cases = mc.triplet_distance_cases(seed=None)
    assert {c.kwargs["distance_function"] for c in cases} == set(mc.DISTANCES)
    assert all(c.kwargs["margin"] > 0 for c in cases)


def test_every_forbidden_name_in_the_notebook_exists_in_torch():
    """A misspelt name in a ``_forbid`` list would guard nothing under another name."""
    import ast

    from autograder import paths
    from autograder.checking.forbid import resolve

    text = (paths.NOTEBOOKS / "07_margin_losses.py").read_text(encoding="utf-8")
    lists = [
        ast.literal_eval(node.value)
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "_forbid" for t in node.targets)
    ]
    assert len(lists) == 7
    for names in lists:
        for name in names:
            assert resolve(name) is not None, name


def test_check_rejects_bad_reduction():
    case = mc.margin_ranking_cases(seed=1)[0]

    def strict(input1, input2, target, margin=0.0, reduction="mean"):
        if reduction not in ("none", "sum", "mean"):
            raise ValueError(reduction)
        return F.margin_ranking_loss(input1, input2, target, margin=margin, reduction=reduction)

    def lenient(input1, input2, target, margin=0.0, reduction="mean"):
        return F.margin_ranking_loss(input1, input2, target, margin=margin)

    def key_error(input1, input2, target, margin=0.0, reduction="mean"):
        return {"mean": 0.0}[reduction]

    mc.check_rejects_bad_reduction(strict, case)
    with pytest.raises(CheckFailed, match="should raise a ValueError"):
        mc.check_rejects_bad_reduction(lenient, case)
    with pytest.raises(CheckFailed, match="raised KeyError"):
        mc.check_rejects_bad_reduction(key_error, case)


def test_the_cases_hold_the_inputs_torch_tests():
    """Issue 12: 0-dim inputs, int64 hinge targets, a negative margin with class weights of
    both signs, and a distance given as an nn.Module."""
    assert any(c.args[0].dim() == 0 for c in mc.margin_ranking_cases(seed=None))
    hinge = mc.hinge_embedding_cases(seed=None)
    assert any(c.args[0].dim() == 0 for c in hinge)
    assert any(c.args[1].dtype == torch.int64 for c in hinge)
    multi = mc.multi_margin_cases(seed=None)
    assert any(
        c.kwargs["margin"] < 0 and "weight" in c.kwargs and bool((c.kwargs["weight"] < 0).any())
        for c in multi
    )
    distances = [c.kwargs["distance_function"] for c in mc.triplet_distance_cases(seed=None)]
    assert any(isinstance(d, torch.nn.Module) for d in distances)
