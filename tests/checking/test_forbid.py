"""Forbidden calls: the rule is about what is called, never about how a name is spelled.

The first half grades correct answers from issue 12 that the old rule (any name equal to a
forbidden function's last part) refused: a student's own helper named like a torch function
is theirs. The second half grades every alias of a forbidden function a student could reach
for, which must still be refused, and shows that calls made by torch itself, or inside what
the check passes in, are not the student's.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from autograder.checking import Case, CheckFailed, check_function, forbid_calls, integrity
from autograder.checking.forbid import watching

from .student import cell, generator, logits_and_classes, logits_and_labels, pairs

CE_FORBID = [
    "torch.nn.functional.cross_entropy",
    "torch.nn.functional.nll_loss",
    "torch.nn.functional.log_softmax",
    "torch.log_softmax",
    "torch.logsumexp",
    "torch.nn.CrossEntropyLoss",
    "torch.nn.NLLLoss",
    "torch.nn.LogSoftmax",
    "torch.softmax",
    "torch.nn.functional.softmax",
]
SOFTPLUS_FORBID = [
    "torch.nn.functional.softplus",
    "torch.nn.Softplus",
    "torch.nn.functional.logsigmoid",
    "torch.nn.LogSigmoid",
    "torch.logaddexp",
    "torch.special.log_expit",
]
BCE_FORBID = [
    "torch.nn.functional.binary_cross_entropy",
    "torch.nn.BCELoss",
    "torch.nn.functional.binary_cross_entropy_with_logits",
    "torch.nn.BCEWithLogitsLoss",
    "torch.binary_cross_entropy_with_logits",
]
MULTILABEL_FORBID = [
    *SOFTPLUS_FORBID,
    *BCE_FORBID,
    "torch.nn.functional.multilabel_soft_margin_loss",
    "torch.nn.MultiLabelSoftMarginLoss",
]
COSINE_FORBID = [
    "torch.nn.functional.cosine_embedding_loss",
    "torch.cosine_embedding_loss",
    "torch.nn.CosineEmbeddingLoss",
    "torch.nn.functional.cosine_similarity",
    "torch.cosine_similarity",
    "torch.nn.CosineSimilarity",
]
TRIPLET_FORBID = [
    "torch.nn.functional.triplet_margin_loss",
    "torch.triplet_margin_loss",
    "torch.nn.TripletMarginLoss",
    "torch.nn.functional.pairwise_distance",
    "torch.pairwise_distance",
    "torch.nn.PairwiseDistance",
]
AUTOGRAD_FORBID = [
    "torch.autograd.backward",
    "torch.Tensor.backward",
    "torch.func.grad",
    "torch.autograd.grad",
    "torch.Tensor.requires_grad_",
    "torch.autograd.functional.jacobian",
    "torch.autograd.functional.vjp",
    "torch.func.vjp",
    "torch.autograd",
    "torch.func",
]
L1 = ["torch.nn.functional.l1_loss", "torch.nn.L1Loss"]


def passes(student, reference, cases, forbid, **options):
    check_function(student, reference, cases, forbid=forbid, **options)
    assert forbid_calls(student, forbid) is None
    assert integrity.verify() == []


# -- correct answers with helpers named like torch's functions: they must pass ------------


def test_an_inner_softplus_in_multilabel_soft_margin_is_the_students_own():
    student = cell(
        """
        def multilabel_soft_margin(input, target, weight=None, reduction="mean"):
            def softplus(z):
                return torch.clamp(z, min=0) + torch.log1p(torch.exp(-z.abs()))

            per_class = target * softplus(-input) + (1 - target) * softplus(input)
            if weight is not None:
                per_class = per_class * weight
            losses = per_class.mean(dim=1)
            if reduction == "none":
                return losses
            if reduction == "sum":
                return losses.sum()
            if reduction == "mean":
                return losses.mean()
            raise ValueError(reduction)
        """,
        "multilabel_soft_margin",
    )
    cases = logits_and_labels(1) + logits_and_labels(2, scale=1000.0, weight=True)
    passes(student, F.multilabel_soft_margin_loss, cases, MULTILABEL_FORBID)


def test_a_helper_named_logsumexp_in_stable_cross_entropy_is_the_students_own():
    student = cell(
        """
        def logsumexp(x):
            m = x.max(dim=1, keepdim=True).values
            return m.squeeze(1) + torch.log(torch.exp(x - m).sum(dim=1))

        def stable_cross_entropy(input, target, reduction="mean"):
            losses = logsumexp(input) - input[torch.arange(len(target)), target]
            if reduction == "none":
                return losses
            return losses.sum() if reduction == "sum" else losses.mean()
        """,
        "stable_cross_entropy",
    )
    cases = logits_and_classes(3) + logits_and_classes(4, scale=1000.0)
    passes(student, F.cross_entropy, cases, CE_FORBID, rtol=1e-5)


def test_a_helper_named_softplus_in_bce_with_logits_is_the_students_own():
    student = cell(
        """
        def softplus(z):
            return z.clamp(min=0) + (-z.abs()).exp().log1p()

        def bce_with_logits(input, target, reduction="mean"):
            losses = (1 - target) * input + softplus(-input)
            return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]
        """,
        "bce_with_logits",
    )
    cases = logits_and_labels(5) + logits_and_labels(6, scale=1000.0)
    passes(student, F.binary_cross_entropy_with_logits, cases, SOFTPLUS_FORBID + BCE_FORBID)


def test_a_helper_named_cosine_similarity_is_the_students_own():
    student = cell(
        """
        def cosine_similarity(a, b, eps=1e-12):
            dot = (a * b).sum(dim=1)
            return dot / (((a * a).sum(dim=1) + eps) * ((b * b).sum(dim=1) + eps)).sqrt()

        def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction="mean"):
            cos = cosine_similarity(input1, input2)
            losses = torch.where(target == 1, 1 - cos, (cos - margin).clamp(min=0))
            if reduction == "none":
                return losses
            if reduction == "sum":
                return losses.sum()
            if reduction == "mean":
                return losses.mean()
            raise ValueError(f"unknown reduction {reduction}")
        """,
        "cosine_embedding_loss",
    )
    gen = generator(7)
    cases = []
    for n, d in [(1, 3), (4, 5)]:
        a, b = torch.randn(n, d, generator=gen), torch.randn(n, d, generator=gen)
        t = torch.randint(0, 2, (n,), generator=gen) * 2 - 1
        for margin in (0.0, 0.5, -0.3):
            for r in ("none", "sum", "mean"):
                cases.append(
                    Case(f"{n}x{d} m={margin} {r}", (a, b, t), {"margin": margin, "reduction": r})
                )
    passes(student, F.cosine_embedding_loss, cases, COSINE_FORBID, rtol=1e-5)


def test_a_helper_named_pairwise_distance_is_the_students_own():
    student = cell(
        """
        def pairwise_distance(x1, x2, p=2.0, eps=1e-6):
            return ((x1 - x2 + eps).abs() ** p).sum(dim=-1) ** (1 / p)

        def triplet_margin_loss(
            anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"
        ):
            d_pos = pairwise_distance(anchor, positive, p, eps)
            d_neg = pairwise_distance(anchor, negative, p, eps)
            if swap:
                d_neg = torch.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
            losses = (margin + d_pos - d_neg).clamp(min=0)
            if reduction == "none":
                return losses
            if reduction == "sum":
                return losses.sum()
            if reduction == "mean":
                return losses.mean()
            raise ValueError(reduction)
        """,
        "triplet_margin_loss",
    )
    gen = generator(8)
    a, b, c = (torch.randn(4, 3, generator=gen, dtype=torch.float64) for _ in range(3))
    cases = [
        Case(f"p={p} swap={swap} {r}", (a, b, c), {"p": p, "swap": swap, "reduction": r})
        for p in (1.0, 2.0, 3.0)
        for swap in (False, True)
        for r in ("none", "sum", "mean")
    ]
    passes(student, F.triplet_margin_loss, cases, TRIPLET_FORBID)


def autograd_input_grad(loss_fn):
    def reference(input, target, reduction="mean", grad_output=None):
        leaf = input.detach().clone().requires_grad_(True)
        loss_fn(leaf, target, reduction=reduction).backward(grad_output)
        return leaf.grad

    return reference


def grad_cases(seed: int) -> list[Case]:
    gen = generator(seed)
    cases = []
    for shape in [(3,), (2, 4)]:
        x = torch.randn(shape, generator=gen, dtype=torch.float64)
        y = torch.randn(shape, generator=gen, dtype=torch.float64)
        u = torch.randn(shape, generator=gen, dtype=torch.float64)
        cases.append(Case(f"{shape} none", (x, y), {"reduction": "none", "grad_output": u}))
        cases += [Case(f"{shape} {r}", (x, y), {"reduction": r}) for r in ("sum", "mean")]
    return cases


def test_a_local_variable_named_grad_is_not_torch_func_grad():
    student = cell(
        """
        def mse_loss_grad(input, target, reduction="mean", grad_output=None):
            grad = 2 * (input - target)
            if reduction == "none":
                grad = grad * grad_output
            elif reduction == "mean":
                grad = grad / input.numel()
            elif reduction != "sum":
                raise ValueError(reduction)
            return grad
        """,
        "mse_loss_grad",
    )
    passes(student, autograd_input_grad(F.mse_loss), grad_cases(9), AUTOGRAD_FORBID)


def test_no_grad_and_torch_internals_do_not_trip_a_forbidden_module():
    """``torch.autograd`` forbidden: ``torch.no_grad()`` and torch's own dispatch helpers
    (``has_torch_function``, re-exported there) are not its functions."""
    student = cell(
        """
        def mse_loss_grad(input, target, reduction="mean", grad_output=None):
            with torch.no_grad():
                local = F.mse_loss(input, target, reduction="none") * 0 + 2 * (input - target)
            if reduction == "none":
                return local * grad_output
            return local / input.numel() if reduction == "mean" else local
        """,
        "mse_loss_grad",
    )
    passes(
        student,
        autograd_input_grad(F.mse_loss),
        grad_cases(10),
        AUTOGRAD_FORBID,
    )


def test_calls_made_inside_what_the_check_passes_in_are_the_courses():
    """A function the check hands over may itself use the forbidden function."""
    student = cell(
        """
        def apply(loss_fn, input, target):
            return loss_fn(input, target) * 2
        """,
        "apply",
    )
    x, y = torch.randn(3), torch.randn(3)
    module = torch.nn.L1Loss()
    for given in (F.l1_loss, module, lambda a, b: F.l1_loss(a, b)):
        check_function(
            student,
            lambda f, a, b: F.l1_loss(a, b) * 2,
            [Case("given", (given, x, y))],
            forbid=L1,
        )


# -- aliases of a forbidden function: refused -------------------------------------------

ALIASES = {
    "a global alias": """
        g = F.l1_loss
        def l1_loss(input, target, reduction="mean"):
            return g(input, target, reduction=reduction)
        """,
    "getattr with a computed name": """
        def l1_loss(input, target, reduction="mean"):
            return getattr(F, "l1_" + "loss")(input, target, reduction=reduction)
        """,
    "getattr with a constant name": """
        def l1_loss(input, target, reduction="mean"):
            return getattr(F, "l1_loss")(input, target, reduction=reduction)
        """,
    "an import inside the function": """
        def l1_loss(input, target, reduction="mean"):
            from torch.nn.functional import l1_loss as f
            return f(input, target, reduction=reduction)
        """,
    "an import at the top of the cell": """
        from torch.nn.functional import l1_loss as f
        def l1_loss(input, target, reduction="mean"):
            return f(input, target, reduction=reduction)
        """,
    "nn.L1Loss made inside": """
        def l1_loss(input, target, reduction="mean"):
            return nn.L1Loss(reduction=reduction)(input, target)
        """,
    "nn.L1Loss made outside": """
        criteria = {r: nn.L1Loss(reduction=r) for r in ("none", "sum", "mean")}
        def l1_loss(input, target, reduction="mean"):
            return criteria[reduction](input, target)
        """,
    "a subclass of nn.L1Loss": """
        class Mine(nn.L1Loss):
            pass
        def l1_loss(input, target, reduction="mean"):
            return Mine(reduction=reduction)(input, target)
        """,
    "a helper": """
        def helper(a, b, r):
            return F.l1_loss(a, b, reduction=r)
        def l1_loss(input, target, reduction="mean"):
            return helper(input, target, reduction)
        """,
    "a closure": """
        def make():
            f = F.l1_loss
            def inner(input, target, reduction="mean"):
                return f(input, target, reduction=reduction)
            return inner
        l1_loss = make()
        """,
    "a default argument": """
        def l1_loss(input, target, reduction="mean", f=F.l1_loss):
            return f(input, target, reduction=reduction)
        """,
    "functools.partial": """
        import functools
        f = functools.partial(F.l1_loss)
        def l1_loss(input, target, reduction="mean"):
            return f(input, target, reduction=reduction)
        """,
    "the op under its C name": """
        def l1_loss(input, target, reduction="mean"):
            code = {"none": 0, "mean": 1, "sum": 2}[reduction]
            return torch._C._nn.l1_loss(input, target, code)
        """,
    "eval": """
        def l1_loss(input, target, reduction="mean"):
            return eval("F.l1_" + "loss")(input, target, reduction=reduction)
        """,
    "__import__ and the module dict": """
        def l1_loss(input, target, reduction="mean"):
            functional = __import__("torch").nn.functional.__dict__
            return functional["l1_" + "loss"](input, target, reduction=reduction)
        """,
}


@pytest.mark.parametrize("how", list(ALIASES))
def test_an_alias_of_a_forbidden_function_is_refused(how):
    student = cell(ALIASES[how], "l1_loss")
    with pytest.raises(CheckFailed, match="l1_loss|L1Loss"):
        check_function(student, F.l1_loss, pairs(11), forbid=L1)
    assert integrity.verify() == []


@pytest.mark.parametrize("how", list(ALIASES))
def test_every_alias_trips_while_the_function_runs(how):
    """The watch alone, without reading the code, catches each alias when it is called."""
    student = cell(ALIASES[how], "l1_loss")
    x, y = torch.randn(3), torch.randn(3)
    with watching(L1, exempt=((x, y), {})) as watch:
        student(x, y, reduction="sum")
    assert watch.hit in L1


@pytest.mark.parametrize(
    "source",
    [
        "def f(x):\n    return x.logsumexp(dim=1)",
        "def f(x):\n    return torch.Tensor.logsumexp(x, 1)",
        "def f(x):\n    return torch.special.logsumexp(x, 1)",
    ],
)
def test_a_forbidden_op_is_forbidden_under_its_other_names(source):
    student = cell(source, "f")
    with watching(["torch.logsumexp"]) as watch:
        student(torch.randn(2, 3))
    assert watch.hit == "torch.logsumexp"


def test_backward_through_a_tensor_method_is_caught():
    student = cell(
        """
        def mse_loss_grad(input, target, reduction="mean", grad_output=None):
            leaf = input.detach().clone()
            leaf.requires_grad = True
            F.mse_loss(leaf, target, reduction=reduction).backward(grad_output)
            return leaf.grad
        """,
        "mse_loss_grad",
    )
    with pytest.raises(CheckFailed, match="torch.Tensor.backward"):
        check_function(
            student, autograd_input_grad(F.mse_loss), grad_cases(12), forbid=AUTOGRAD_FORBID
        )


def test_taking_the_watch_away_is_refused():
    student = cell(
        """
        import sys
        def l1_loss(input, target, reduction="mean"):
            sys.setprofile(None)
            return eval("F.l1_" + "loss")(input, target, reduction=reduction)
        """,
        "l1_loss",
    )
    with pytest.raises(CheckFailed, match="refused.*sys.setprofile"):
        check_function(student, F.l1_loss, pairs(13), forbid=L1)


def test_the_watch_is_gone_after_the_check():
    import sys

    before = sys.getprofile()
    student = cell(ALIASES["eval"], "l1_loss")
    with pytest.raises(CheckFailed):
        check_function(student, F.l1_loss, pairs(14), forbid=L1)
    assert sys.getprofile() is before


def test_a_check_built_on_begin_check_watches_call_quietly():
    """Topic checks that call the student through ``call_quietly`` after ``begin_check``
    (the optimizer steps, for instance) get the watch without changing a line."""
    from autograder.checking import begin_check, call_quietly

    student = cell(ALIASES["eval"], "l1_loss")
    begin_check(student, public=True, forbid=L1)
    x, y = torch.randn(3), torch.randn(3)
    with pytest.raises(CheckFailed, match="called torch.nn.functional.l1_loss"):
        call_quietly(student, x, y)
    assert call_quietly(F.l1_loss, x, y) is not None  # the course's own calls are not watched
    honest = cell(
        "def l1_loss(input, target):\n    return (input - target).abs().mean()", "l1_loss"
    )
    begin_check(honest, public=True, forbid=L1)
    call_quietly(honest, x, y)


@pytest.mark.parametrize(
    "source",
    [
        "def l1_loss(input, target):\n    return torch.ops.aten.l1_loss(input, target)",
        "def l1_loss(input, target):\n    return torch.ops.aten.l1_loss.default(input, target)",
        """
        import threading
        def l1_loss(input, target):
            out = []
            worker = threading.Thread(target=lambda: out.append(F.l1_loss(input, target)))
            worker.start()
            worker.join()
            return out[0]
        """,
    ],
    ids=["torch.ops", "an overload of torch.ops", "a thread"],
)
def test_the_op_reached_through_dispatch_or_a_thread_trips(source):
    student = cell(source, "l1_loss")
    x, y = torch.randn(3), torch.randn(3)
    with watching(L1, exempt=((x, y), {})) as watch:
        student(x, y)
    assert watch.hit == "torch.nn.functional.l1_loss"
