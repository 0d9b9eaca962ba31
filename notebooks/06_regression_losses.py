# %% [markdown]
# # 6. Regression and distribution losses: SmoothL1, Huber, Poisson, Gaussian and KL
#
# Topic 1 met the two workhorses of regression, L1 and MSE. This notebook covers the losses
# a practitioner reaches for when those two are not the right fit: when outliers should
# count less than MSE counts them, when the targets are counts, when the model should also
# say how sure it is, and when the target is a whole probability distribution.
#
# | loss | PyTorch | pick it when |
# | --- | --- | --- |
# | smooth L1 | `nn.SmoothL1Loss` | regression with outliers; boxes in object detection |
# | Huber | `nn.HuberLoss` | the same, with small errors costing what MSE charges |
# | Poisson NLL | `nn.PoissonNLLLoss` | the targets are counts: events, clicks, photons |
# | Gaussian NLL | `nn.GaussianNLLLoss` | the model predicts a mean *and* a variance |
# | KL divergence | `nn.KLDivLoss` | the target is a distribution: distillation, VAEs |
#
# (NLL: negative log-likelihood. Each module has a function in `torch.nn.functional`:
# `F.smooth_l1_loss`, `F.huber_loss`, `F.poisson_nll_loss`, `F.gaussian_nll_loss`,
# `F.kl_div`.)
#
# Every exercise asks you to implement one of these losses exactly as PyTorch defines it,
# with all its options and reductions: compute the per-element losses and finish with
# `return reduce(losses, reduction)`, the course's version of your function from notebook 1
# (imported in the first cell). As before, the cell after each exercise holds
# *public checks* (silence means they passed), and grading adds *hidden checks* on fresh
# random inputs.

# %%
import math
import warnings

import matplotlib.pyplot as plt
import torch
import torch.nn as nn
import torch.nn.functional as F

import autograder.checking.topics.regression_losses  # noqa: F401 (the checks load first)
from autograder.checking.topics.basic_losses import reduce  # your reduce from notebook 1

torch.set_printoptions(precision=4)

# %% [markdown]
# ## Smooth L1 and Huber: a quadratic valley with linear walls
#
# MSE squares every error, so a single outlier 10 units off weighs as much as a hundred
# points 1 unit off, and its gradient $2(x - y)$ drags the model towards the outlier. L1 is
# robust to that, but its gradient is $\pm 1$ everywhere, even a hair away from the target,
# which makes the last steps of training jittery. Both losses below join the good halves:
# quadratic for small errors, linear for large ones.
#
# With $d_i = x_i - y_i$ (input minus target), **smooth L1** with threshold $\beta$ is
#
# $$
# \ell_i^{\text{SmoothL1}} =
# \begin{cases}
#   \dfrac{0.5\, d_i^2}{\beta} & \text{if } |d_i| < \beta \\[1ex]
#   |d_i| - 0.5\,\beta & \text{otherwise}
# \end{cases}
# $$
#
# and the **Huber** loss with threshold $\delta$ is
#
# $$
# \ell_i^{\text{Huber}} =
# \begin{cases}
#   0.5\, d_i^2 & \text{if } |d_i| \le \delta \\[1ex]
#   \delta\,(|d_i| - 0.5\,\delta) & \text{otherwise}
# \end{cases}
# $$
#
# The two pieces meet smoothly at the threshold: same value, same slope. The difference is
# in the scaling. Smooth L1 keeps the *linear* part fixed at slope 1 (it is L1 with the tip
# rounded off), so as $\beta \to 0$ it becomes L1; PyTorch accepts `beta=0` and then computes
# exactly L1. Huber keeps the *quadratic* part fixed at $0.5\,d^2$ (half the squared error),
# and its walls have slope $\delta$. Object detectors (the R-CNN family) use smooth L1 for
# box coordinates, some implementations with a small $\beta$ such as $1/9$; robust regression
# and reinforcement learning (DQN) use Huber, where $\delta = 1$ is the usual choice and the two
# losses coincide.
#
# `F.huber_loss` also takes an optional `weight` of the input's shape: each per-element loss
# is multiplied by its weight, and `mean` is then the plain mean of the weighted losses.

# %% [markdown]
# ### Worked example
#
# Errors $d = (0.5, -2, 3)$ (input $(0.5, -2, 3)$, target $0$). With $\beta = \delta = 1$ both
# losses give $(0.125,\ 1.5,\ 2.5)$, mean $1.375$. With $\beta = \delta = 2$ they part:
# smooth L1 gives $(0.0625,\ 1,\ 2)$ and Huber $(0.125,\ 2,\ 4)$, exactly twice as much.

# %%
errors = torch.tensor([0.5, -2.0, 3.0])
zeros = torch.zeros(3)
for t in (1.0, 2.0):
    print(f"threshold {t:g}")
    print("  smooth L1:", nn.SmoothL1Loss(reduction="none", beta=t)(errors, zeros))
    print("  Huber    :", nn.HuberLoss(reduction="none", delta=t)(errors, zeros))

# %% [markdown]
# ### A picture: smooth L1 against L1 and MSE
#
# On the left, the per-element loss as a function of the error; on the right, its slope
# (the gradient `backward()` sends to the prediction), computed with autograd. Near zero
# smooth L1 is a quadratic valley like MSE (half of MSE, for $\beta = 1$), but its gradient
# is capped at $\pm 1$ like L1's, so an outlier pulls no harder than any other wrong point.
# A smaller $\beta$ narrows the valley towards plain L1.

# %%
d = torch.linspace(-3, 3, 601, requires_grad=True)
zero = torch.zeros_like(d)
curves = {
    "L1": F.l1_loss(d, zero, reduction="none"),
    "MSE": F.mse_loss(d, zero, reduction="none"),
    "smooth L1, beta=1": F.smooth_l1_loss(d, zero, reduction="none"),
    "smooth L1, beta=0.3": F.smooth_l1_loss(d, zero, reduction="none", beta=0.3),
}
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
for label, loss in curves.items():
    (slope,) = torch.autograd.grad(loss.sum(), d)
    left.plot(d.detach(), loss.detach(), label=label)
    right.plot(d.detach(), slope, label=label)
left.set(xlabel="error x - y", ylabel="per-element loss", ylim=(0, 4), title="loss")
right.set(xlabel="error x - y", ylabel="d loss / d x", ylim=(-3.2, 3.2), title="gradient")
left.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Exercise 1: `smooth_l1_loss` (3 points)
#
# Implement `smooth_l1_loss(input, target, reduction="mean", beta=1.0)` as
# `F.smooth_l1_loss` defines it: `input` and `target` of the same shape (any shape),
# reductions `none`, `sum` and `mean`, and a `ValueError` for any other `reduction`. Return
# a tensor of the input's dtype: 0-dim for `sum` and `mean`, the input's shape for `none`.
#
# Take care with `beta=0`: the result must be plain L1, but the quadratic piece then
# divides by zero (`0/0` is `nan`). Pick between the two pieces with `torch.where`, which
# selects values, so a `nan` in the piece not chosen is dropped; a blend with a 0/1 mask
# such as `m * a + (1 - m) * b` keeps it, because `0 * nan` is `nan`. Or treat `beta == 0`
# on its own.
#
# Not allowed: `F.smooth_l1_loss`, `F.huber_loss`, `F.l1_loss` and their `nn` modules.
#
# The checks try the worked example, then random shapes (a 0-dim pair, a batch of one and
# a 4-D batch included) in float32 and float64, with errors on both sides of the threshold,
# `beta` in $\{0, 0.5, 1, 2\}$ and random values, every reduction, and
# `reduction="average"`, which must raise `ValueError`. They recognise Huber's formula, a
# forgotten factor $1/2$, a forgotten $-\beta/2$, a mask blend that turns `beta=0` into
# `nan`, and a mean over the first dimension only.


# %% answer="smooth_l1_loss"
def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    ### BEGIN SOLUTION
    error = (input - target).abs()
    if beta == 0:
        losses = error
    else:
        losses = torch.where(error < beta, 0.5 * error**2 / beta, error - 0.5 * beta)
    return reduce(losses, reduction)
    ### END SOLUTION


# %% tests="smooth_l1_loss" points=3
# Public checks: the worked example and fixed random inputs. Silence means they passed.
import torch
import torch.nn.functional as F

from autograder.checking import Case, check_function, reduce_losses, reduction_mistakes
from autograder.checking.topics import regression_losses as cases
from autograder.checking.topics.basic_losses import (
    FIRST_DIM,
    check_rejects_bad_reduction,
    mean_over_first_dim,
)

SMOOTH_FORBID = [
    "torch.nn.functional.smooth_l1_loss",
    "torch.nn.SmoothL1Loss",
    "torch.nn.functional.huber_loss",
    "torch.nn.HuberLoss",
    "torch.nn.functional.l1_loss",
    "torch.nn.L1Loss",
    "torch._C._nn.smooth_l1_loss",
    "torch._C._nn.huber_loss",
    "torch._C._nn.l1_loss",
]


def _smooth_mistakes():
    def huber_formula(input, target, reduction="mean", beta=1.0):
        if beta <= 0:
            return None
        return F.huber_loss(input, target, reduction=reduction, delta=beta)

    def no_half(input, target, reduction="mean", beta=1.0):
        e = (input - target).abs()
        if beta == 0:
            return None
        return reduce_losses(torch.where(e < beta, e**2 / beta, e - 0.5 * beta), reduction)

    def no_shift(input, target, reduction="mean", beta=1.0):
        e = (input - target).abs()
        if beta == 0:
            return None
        return reduce_losses(torch.where(e < beta, 0.5 * e**2 / beta, e), reduction)

    def mask_blend(input, target, reduction="mean", beta=1.0):
        if beta != 0:
            return None
        e = (input - target).abs()
        m = (e < beta).to(e.dtype)
        return reduce_losses(m * (0.5 * e**2 / beta) + (1 - m) * (e - 0.5 * beta), reduction)

    return {
        "a 0/1 mask blend m * a + (1 - m) * b: at beta=0 the unused piece is 0/0 or x/0, and "
        "0 * nan (or 0 * inf) is nan; select with torch.where": mask_blend,
        FIRST_DIM: mean_over_first_dim(F.smooth_l1_loss),
        "Huber's formula (the squared part not divided by beta)": huber_formula,
        "the squared part without the factor 1/2": no_half,
        "the linear part without the shift -beta/2": no_shift,
        "plain MSE": lambda input, target, reduction="mean", beta=1.0: F.mse_loss(
            input, target, reduction=reduction
        ),
    }


_mistakes = cases.distinct_mistakes(
    F.smooth_l1_loss, {**reduction_mistakes(F.smooth_l1_loss), **_smooth_mistakes()}
)
_example = [
    Case(
        f"worked example, beta={b:g}, reduction={r!r}", (errors, zeros), {"reduction": r, "beta": b}
    )
    for b in (1.0, 2.0)
    for r in ("none", "sum", "mean")
]
check_function(
    smooth_l1_loss,
    F.smooth_l1_loss,
    _example + cases.threshold_cases(seed=41),
    mistakes=_mistakes,
    forbid=SMOOTH_FORBID,
)
check_rejects_bad_reduction(smooth_l1_loss, _example[0])
### BEGIN HIDDEN TESTS
check_function(
    smooth_l1_loss,
    F.smooth_l1_loss,
    cases.threshold_cases(seed=None, draws=8),
    public=False,
    mistakes=_mistakes,
    forbid=SMOOTH_FORBID,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 2: `huber_loss` (2 points)
#
# Implement `huber_loss(input, target, reduction="mean", delta=1.0, weight=None)` as
# `F.huber_loss` defines it, straight from the Huber formula above (not by calling a smooth
# L1). When `weight` is given (a tensor of the input's shape), multiply each per-element
# loss by it before reducing; `mean` stays the plain mean over the elements, it does **not**
# divide by the sum of the weights (unlike `cross_entropy` with class weights). `delta` is
# always positive here, as PyTorch requires.
#
# Not allowed: `F.huber_loss`, `F.smooth_l1_loss`, `F.l1_loss`, `F.mse_loss` and their `nn`
# modules. The checks are like those of Exercise 1, with `delta` in $\{0.1, 0.5, 1, 2\}$ and
# random values, and per-element weights in some cases; they name smooth L1's formula, a
# forgotten factor $1/2$, an unused weight and a mean divided by the summed weights.


# %% answer="huber_loss"
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    ### BEGIN SOLUTION
    error = (input - target).abs()
    losses = torch.where(error <= delta, 0.5 * error**2, delta * (error - 0.5 * delta))
    if weight is not None:
        losses = losses * weight
    return reduce(losses, reduction)
    ### END SOLUTION


# %% tests="huber_loss" points=2
# Public checks: the worked example and fixed random inputs. Silence means they passed.
import torch
import torch.nn.functional as F

from autograder.checking import (
    Case,
    check_function,
    reduce_losses,  # noqa: F811 (this cell uses it)
    reduction_mistakes,
)
from autograder.checking.topics import regression_losses as cases
from autograder.checking.topics.basic_losses import check_rejects_bad_reduction

HUBER_FORBID = [
    "torch.nn.functional.huber_loss",
    "torch.nn.HuberLoss",
    "torch._C._nn.huber_loss",
    "torch.nn.functional.smooth_l1_loss",
    "torch.nn.SmoothL1Loss",
    "torch._C._nn.smooth_l1_loss",
    "torch.nn.functional.l1_loss",
    "torch.nn.L1Loss",
    "torch._C._nn.l1_loss",
    "torch.nn.functional.mse_loss",
    "torch.nn.MSELoss",
    "torch._C._nn.mse_loss",
]


def _huber_mistakes():
    def smooth_formula(input, target, reduction="mean", delta=1.0, weight=None):
        losses = F.smooth_l1_loss(input, target, reduction="none", beta=delta)
        return reduce_losses(losses if weight is None else losses * weight, reduction)

    def no_half(input, target, reduction="mean", delta=1.0, weight=None):
        e = (input - target).abs()
        losses = torch.where(e <= delta, e**2, delta * (e - 0.5 * delta))
        return reduce_losses(losses if weight is None else losses * weight, reduction)

    def weight_ignored(input, target, reduction="mean", delta=1.0, weight=None):
        if weight is None:
            return None
        return F.huber_loss(input, target, reduction=reduction, delta=delta)

    def weighted_mean(input, target, reduction="mean", delta=1.0, weight=None):
        if weight is None or reduction != "mean":
            return None
        losses = F.huber_loss(input, target, reduction="none", delta=delta) * weight
        return losses.sum() / weight.sum()

    return {
        "smooth L1's formula (the linear part not scaled by delta)": smooth_formula,
        "the squared part without the factor 1/2": no_half,
        "the weight ignored": weight_ignored,
        "mean divided by the sum of the weights": weighted_mean,
    }


_mistakes = cases.distinct_mistakes(
    F.huber_loss, {**reduction_mistakes(F.huber_loss), **_huber_mistakes()}
)
_example = [
    Case(
        f"worked example, delta={t:g}, reduction={r!r}",
        (errors, zeros),
        {"reduction": r, "delta": t},
    )
    for t in (1.0, 2.0)
    for r in ("none", "sum", "mean")
]
check_function(
    huber_loss,
    F.huber_loss,
    _example + cases.threshold_cases(seed=42, option="delta", weight=True),
    mistakes=_mistakes,
    forbid=HUBER_FORBID,
)
check_rejects_bad_reduction(huber_loss, _example[0])
### BEGIN HIDDEN TESTS
check_function(
    huber_loss,
    F.huber_loss,
    cases.threshold_cases(seed=None, draws=8, option="delta", weight=True),
    public=False,
    mistakes=_mistakes,
    forbid=HUBER_FORBID,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 3: one loss through the other (2 points)
#
# Compare the two formulas piece by piece with $\delta = \beta$. For a small error Huber gives
# $0.5\,d^2$ and smooth L1 gives $0.5\,d^2/\beta$; for a large one Huber gives
# $\beta(|d| - 0.5\beta)$ and smooth L1 $|d| - 0.5\beta$. In both regions Huber is $\beta$ times
# smooth L1, and the reductions are linear, so for every $\delta > 0$
#
# $$
# \text{Huber}_\delta(x, y) = \delta \cdot \text{SmoothL1}_{\beta = \delta}(x, y).
# $$
#
# (At the boundary $|d| = \delta$ it does not matter which piece is used: both give the same value.)
# Practically: if you tune $\beta$ for smooth L1 and switch to Huber, the loss, and with it
# every gradient, grows by the factor $\delta$, so with plain SGD the learning rate that
# worked should be divided by $\delta$ (Adam rescales gradients and barely notices).
#
# Write two one-liners that use this identity:
#
# * `huber_via_smooth_l1(input, target, reduction="mean", delta=1.0)`: the Huber loss,
#   computed with `F.smooth_l1_loss` (not allowed here: `F.huber_loss`, `nn.HuberLoss`);
# * `smooth_l1_via_huber(input, target, reduction="mean", beta=1.0)`: the smooth L1 loss,
#   computed with `F.huber_loss` (not allowed here: `F.smooth_l1_loss`, `nn.SmoothL1Loss`).
#   Huber refuses `delta=0`, so treat `beta=0` separately: smooth L1 is then plain L1, and
#   `F.l1_loss` is allowed.
#
# The checks compare both with PyTorch on the cases of Exercises 1 and 2 (`beta=0`
# included), and recognise a division where a multiplication belongs and a forgotten factor.


# %% answer="huber_smooth_l1_relation"
def huber_via_smooth_l1(input, target, reduction="mean", delta=1.0):
    ### BEGIN SOLUTION
    return delta * F.smooth_l1_loss(input, target, reduction=reduction, beta=delta)
    ### END SOLUTION


def smooth_l1_via_huber(input, target, reduction="mean", beta=1.0):
    ### BEGIN SOLUTION
    if beta == 0:
        return F.l1_loss(input, target, reduction=reduction)
    return F.huber_loss(input, target, reduction=reduction, delta=beta) / beta
    ### END SOLUTION


# %% tests="huber_smooth_l1_relation" points=2
# Public checks: both directions of the identity. Silence means they passed.
import torch.nn.functional as F

from autograder.checking import check_function
from autograder.checking.topics import regression_losses as cases
from autograder.checking.topics.basic_losses import check_rejects_bad_reduction


def _huber(input, target, reduction="mean", delta=1.0):
    return F.huber_loss(input, target, reduction=reduction, delta=delta)


def _to_huber_mistakes():
    def divided(input, target, reduction="mean", delta=1.0):
        return F.smooth_l1_loss(input, target, reduction=reduction, beta=delta) / delta

    def unscaled(input, target, reduction="mean", delta=1.0):
        return F.smooth_l1_loss(input, target, reduction=reduction, beta=delta)

    return {
        "smooth L1 divided by delta, where it should be multiplied": divided,
        "the factor forgotten: smooth L1 unchanged": unscaled,
    }


def _to_smooth_mistakes():
    def multiplied(input, target, reduction="mean", beta=1.0):
        if beta == 0:
            return None
        return _huber(input, target, reduction=reduction, delta=beta) * beta

    def unscaled(input, target, reduction="mean", beta=1.0):
        if beta == 0:
            return None
        return _huber(input, target, reduction=reduction, delta=beta)

    return {
        "Huber multiplied by beta, where it should be divided": multiplied,
        "the factor forgotten: Huber unchanged": unscaled,
    }


_to_huber = cases.distinct_mistakes(_huber, _to_huber_mistakes())
_to_smooth = cases.distinct_mistakes(F.smooth_l1_loss, _to_smooth_mistakes())
_no_huber = ["torch.nn.functional.huber_loss", "torch.nn.HuberLoss", "torch._C._nn.huber_loss"]
_no_smooth = [
    "torch.nn.functional.smooth_l1_loss",
    "torch.nn.SmoothL1Loss",
    "torch._C._nn.smooth_l1_loss",
]
check_function(
    huber_via_smooth_l1,
    _huber,
    cases.threshold_cases(seed=43, option="delta"),
    mistakes=_to_huber,
    forbid=_no_huber,
)
check_function(
    smooth_l1_via_huber,
    F.smooth_l1_loss,
    cases.threshold_cases(seed=44),
    mistakes=_to_smooth,
    forbid=_no_smooth,
)
### BEGIN HIDDEN TESTS
check_function(
    huber_via_smooth_l1,
    _huber,
    cases.threshold_cases(seed=None, option="delta"),
    public=False,
    mistakes=_to_huber,
    forbid=_no_huber,
)
check_function(
    smooth_l1_via_huber,
    F.smooth_l1_loss,
    cases.threshold_cases(seed=None),
    public=False,
    mistakes=_to_smooth,
    forbid=_no_smooth,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Poisson negative log-likelihood: losses for counts
#
# Some targets are counts: calls to a help desk per hour, photons hitting a pixel, goals in
# a match. Counts are never negative and their spread grows with their size, which MSE
# ignores. The natural model is a Poisson distribution with rate $\lambda > 0$:
#
# $$
# P(y \mid \lambda) = \frac{\lambda^y e^{-\lambda}}{y!}, \qquad
# -\log P(y \mid \lambda) = \lambda - y \log \lambda + \log(y!)
# $$
#
# Training a model to predict $\lambda$ by minimising this negative log-likelihood is
# *Poisson regression*. `F.poisson_nll_loss(input, target, log_input=True, full=False,
# eps=1e-8, reduction="mean")` offers two ways to hand it the rate:
#
# * `log_input=True` (the default): the input is $\log\lambda$, any real number, and the
#   loss is $\ell_i = e^{x_i} - y_i\, x_i$. This is the usual choice: a linear layer's output
#   can be used as is, and the loss never takes a log of something that might be 0.
#   (In float32, $e^{x}$ overflows to `inf` once $x$ passes about 88.7; in float64, about
#   709.)
# * `log_input=False`: the input is $\lambda$ itself (for example after a softplus), and the
#   loss is $\ell_i = x_i - y_i \log(x_i + \varepsilon)$, where `eps` $= \varepsilon$ keeps the
#   log finite when a predicted rate is exactly 0. `eps` plays no part with `log_input=True`.
#
# The term $\log(y!)$ does not depend on the prediction, so it changes no gradient and is
# left out by default. With `full=True` it is added, in Stirling's approximation
#
# $$
# \log(y!) \approx y \log y - y + \tfrac12 \log(2\pi y),
# $$
#
# **only where $y > 1$**. For $y \in \{0, 1\}$, $\log(y!) = 0$ exactly, while Stirling's
# formula would give $-0.081$ at $y = 1$ and is undefined at $y = 0$. Use `full=True` when the
# value of the loss matters, not only its minimum: to report a true log-likelihood, or to
# compare it with another model's.

# %% [markdown]
# ### Worked example
#
# Counts $y = (0, 1, 3)$, predicted rates $\lambda = (0.5, 1, 2)$, given as rates
# (`log_input=False`): $\ell = (0.5 - 0,\ 1 - 1\cdot\log 1,\ 2 - 3 \log 2) = (0.5,\ 1,\ -0.0794)$.
# With `full=True` only the third count gets the Stirling term
# $3\log 3 - 3 + \tfrac12\log(6\pi) = 1.7641$ (the exact $\log 3! = \log 6 = 1.7918$), so the
# third loss becomes $1.6846$. Passing $\log\lambda$ with `log_input=True` gives the same
# losses.

# %%
rates = torch.tensor([0.5, 1.0, 2.0])
counts = torch.tensor([0.0, 1.0, 3.0])
print("rates, full=False :", F.poisson_nll_loss(rates, counts, log_input=False, reduction="none"))
print(
    "rates, full=True  :",
    F.poisson_nll_loss(rates, counts, log_input=False, full=True, reduction="none"),
)
print("log-rates         :", F.poisson_nll_loss(rates.log(), counts, reduction="none"))
print("Stirling at 3      :", 3 * math.log(3) - 3 + 0.5 * math.log(6 * math.pi))
print("exact log(3!)      :", math.lgamma(4))

# %% [markdown]
# ### A correction: counts are never negative
#
# Some study notes demonstrate `nn.PoissonNLLLoss` with `target = torch.randn(2, 2)`, that
# is with *negative* counts. PyTorch computes a number without complaint, but it means
# nothing: a Poisson distribution gives probability 0 to a negative count, so there is no
# likelihood to speak of. Worse, the "loss" then has no minimum. With `log_input=True` and
# $y < 0$, $\ell = e^x - y\,x = e^x + |y|\,x$ keeps falling as $x \to -\infty$, so a model
# trained on it drives its prediction down without end. Targets must be counts
# ($0, 1, 2, \dots$, or at least non-negative rates).

# %%
negative = torch.tensor([-0.7])
for x in (0.0, -5.0, -50.0, -500.0):
    loss = F.poisson_nll_loss(torch.tensor([x]), negative)
    print(f"target -0.7, log-rate {x:7.1f}: loss {loss.item():9.2f}")
print(
    "target 3 has its minimum at log 3:",
    F.poisson_nll_loss(torch.tensor([math.log(3)]), torch.tensor([3.0])).item(),
)

# %% [markdown]
# ## Exercise 4: `poisson_nll_loss` (3 points)
#
# Implement `poisson_nll_loss(input, target, log_input=True, full=False, eps=1e-8,
# reduction="mean")` as `F.poisson_nll_loss` defines it, for tensors of any (equal) shape,
# with all three reductions and a `ValueError` for any other.
#
# As in Exercise 1, mind the piece that is not used: where the target is 0, the Stirling
# formula computes $0 \cdot \log 0$, which is `nan`. Select with `torch.where`, not with a
# product by a 0/1 mask.
#
# Not allowed: `F.poisson_nll_loss`, `torch.poisson_nll_loss`, `nn.PoissonNLLLoss`.
#
# The checks try the worked example, then random counts (0, 1 and larger values always
# among them) with every combination of `log_input` and `full`, `eps` from $10^{-9}$ to
# $0.1$, predicted rates of exactly 0 and $10^{-9}$ (where `eps` matters), float32 and
# float64, a 0-dim pair, a batch of one, a 4-D batch, every reduction and an unknown one.
# They recognise a forgotten `eps` (or one added outside the log), the Stirling term
# applied to every count, the exact $\log(y!)$ in place of Stirling's, and `log_input` read
# the wrong way round.


# %% answer="poisson_nll_loss"
def poisson_nll_loss(input, target, log_input=True, full=False, eps=1e-8, reduction="mean"):
    ### BEGIN SOLUTION
    if log_input:
        losses = torch.exp(input) - target * input
    else:
        losses = input - target * torch.log(input + eps)
    if full:
        stirling = target * torch.log(target) - target + 0.5 * torch.log(2 * math.pi * target)
        losses = losses + torch.where(target > 1, stirling, torch.zeros_like(stirling))
    return reduce(losses, reduction)
    ### END SOLUTION


# %% tests="poisson_nll_loss" points=3
# Public checks: the worked example and fixed random counts. Silence means they passed.
import math

import torch
import torch.nn.functional as F

from autograder.checking import (
    Case,
    check_function,
    reduce_losses,  # noqa: F811 (this cell uses it)
    reduction_mistakes,
)
from autograder.checking.topics import regression_losses as cases
from autograder.checking.topics.basic_losses import check_rejects_bad_reduction

POISSON_FORBID = [
    "torch.nn.functional.poisson_nll_loss",
    "torch.poisson_nll_loss",
    "torch.nn.PoissonNLLLoss",
]


LOG_2PI = math.log(2 * math.pi)


def _poisson_mistakes():
    def base(input, target, log_input, eps):
        if log_input:
            return torch.exp(input) - target * input
        return input - target * torch.log(input + eps)

    def no_eps(input, target, log_input=True, full=False, eps=1e-8, reduction="mean"):
        if log_input:
            return None
        return F.poisson_nll_loss(input, target, False, full, eps=0.0, reduction=reduction)

    def flipped(input, target, log_input=True, full=False, eps=1e-8, reduction="mean"):
        return F.poisson_nll_loss(input, target, not log_input, full, eps=eps, reduction=reduction)

    def stirling_everywhere(input, target, log_input=True, full=False, eps=1e-8, reduction="mean"):
        if not full:
            return None
        term = target * torch.log(target) - target + 0.5 * (LOG_2PI + torch.log(target))
        return reduce_losses(base(input, target, log_input, eps) + term, reduction)

    def stirling_at_one(input, target, log_input=True, full=False, eps=1e-8, reduction="mean"):
        if not full:
            return None
        term = target * torch.log(target) - target + 0.5 * (LOG_2PI + torch.log(target))
        term = torch.where(target >= 1, term, torch.zeros_like(term))
        return reduce_losses(base(input, target, log_input, eps) + term, reduction)

    def exact_factorial(input, target, log_input=True, full=False, eps=1e-8, reduction="mean"):
        if not full:
            return None
        return reduce_losses(
            base(input, target, log_input, eps) + torch.lgamma(target + 1), reduction
        )

    def full_ignored(input, target, log_input=True, full=False, eps=1e-8, reduction="mean"):
        if not full:
            return None
        return F.poisson_nll_loss(input, target, log_input, False, eps=eps, reduction=reduction)

    def eps_outside(input, target, log_input=True, full=False, eps=1e-8, reduction="mean"):
        if log_input:
            return None
        shifted = F.poisson_nll_loss(input, target, False, full, eps=0.0, reduction="none")
        return reduce_losses(shifted - target * eps, reduction)

    return {
        "eps forgotten: log(input) instead of log(input + eps)": no_eps,
        "eps added outside the log: log(input) + eps instead of log(input + eps)": eps_outside,
        "log_input read the wrong way round": flipped,
        "the Stirling term added for every count, not only where target > 1": stirling_everywhere,
        "the Stirling term also where target = 1 (only target > 1 gets it)": stirling_at_one,
        "the exact log(target!) instead of Stirling's approximation": exact_factorial,
        "full ignored (no Stirling term)": full_ignored,
    }


_mistakes = cases.distinct_mistakes(
    F.poisson_nll_loss, {**reduction_mistakes(F.poisson_nll_loss), **_poisson_mistakes()}
)
_example = [
    Case(
        f"worked example, log_input={li}, full={fu}, reduction={r!r}",
        (rates if not li else rates.log(), counts),
        {"log_input": li, "full": fu, "reduction": r},
    )
    for li in (False, True)
    for fu in (False, True)
    for r in ("none", "sum", "mean")
]
check_function(
    poisson_nll_loss,
    F.poisson_nll_loss,
    _example + cases.poisson_cases(seed=45),
    mistakes=_mistakes,
    forbid=POISSON_FORBID,
)
check_rejects_bad_reduction(poisson_nll_loss, _example[0])
### BEGIN HIDDEN TESTS
check_function(
    poisson_nll_loss,
    F.poisson_nll_loss,
    cases.poisson_cases(seed=None, draws=8),
    public=False,
    mistakes=_mistakes,
    forbid=POISSON_FORBID,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Gaussian negative log-likelihood: a prediction that knows its uncertainty
#
# MSE is what you get from a Gaussian likelihood with a *fixed* variance. If the model also
# predicts the variance $\sigma^2$ of its guess, the negative log-likelihood of the target
# $y$ under $\mathcal{N}(x, \sigma^2)$ is
#
# $$
# -\log p(y \mid x, \sigma^2)
#   = \tfrac12 \log(2\pi) + \tfrac12\left(\log \sigma^2 + \frac{(x - y)^2}{\sigma^2}\right).
# $$
#
# The two terms pull against each other: a large variance excuses a large error, but costs
# $\log\sigma^2$. For one error $d$ the loss is smallest at $\sigma^2 = d^2$, so the model
# learns to report a variance that matches the errors it actually makes. Practitioners use
# this for probabilistic regression: forecasts with error bars, deep ensembles, any
# regression whose confidence feeds a decision.
#
# `F.gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean")` computes
#
# $$
# \ell_i = \tfrac12\left(\log v_i + \frac{(x_i - y_i)^2}{v_i}\right),
# \qquad v_i = \max(\text{var}_i, \varepsilon),
# $$
#
# plus the constant $\tfrac12\log(2\pi)$ when `full=True`. The variance is *clamped* from
# below at `eps` (not increased by it), so a variance of 0 does not give $\log 0$. (PyTorch
# clamps outside autograd, so gradients still reach a clamped variance; only the forward
# value matters here.) `mean` averages over all elements of the input.
#
# **Which shapes `var` may have.** With one variance per element (`var` of the input's
# shape) the noise may differ from one output to the next: the *heteroscedastic* case.
# When one variance is shared, the case is *homoscedastic*, and PyTorch accepts:
#
# * a Python `float`, used for every element;
# * the input's shape without its last dimension, for example `(N,)` for input `(N, D)`:
#   one variance per sample, shared by its $D$ outputs (PyTorch appends a dimension of size 1);
# * the input's number of dimensions with **exactly one** dimension of size 1 where the
#   input's is larger, for example `(N, 1)` or `(1, D)` for `(N, D)`; it broadcasts.
#
# Any other shape (say `(1, 1)` for `(N, D)`, or `(D,)`) raises `ValueError("var is of
# incorrect size")`, and so does a negative variance (`"var has negative entry/entries"`).

# %% [markdown]
# ### Worked example
#
# Prediction $x = 1$, target $y = 2$, variance $0.5$:
# $\ell = \tfrac12(\log 0.5 + 1/0.5) = \tfrac12(-0.6931 + 2) = 0.6534$, and with `full=True`
# $0.6534 + 0.9189 = 1.5724$. Sweeping the variance shows the minimum at $\sigma^2 = d^2 = 1$.

# %%
one, two = torch.tensor([1.0]), torch.tensor([2.0])
print("var 0.5            :", F.gaussian_nll_loss(one, two, torch.tensor([0.5])))
print("var 0.5, full=True :", F.gaussian_nll_loss(one, two, torch.tensor([0.5]), full=True))
for v in (0.25, 0.5, 1.0, 2.0, 4.0):
    print(f"var {v:<4}: loss {F.gaussian_nll_loss(one, two, torch.tensor([v])):.4f}")
batch = torch.zeros(4, 3)
for shape in [(4, 3), (4,), (4, 1), (1, 3), (1, 1)]:
    try:
        out = F.gaussian_nll_loss(batch, batch + 1, torch.ones(shape), reduction="none")
        print(f"var of shape {shape}: accepted, loss of shape {tuple(out.shape)}")
    except ValueError as error:
        print(f"var of shape {shape}: ValueError: {error}")

# %% [markdown]
# ## Exercise 5: `gaussian_nll_loss` (3 points)
#
# Implement `gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean")`
# as `F.gaussian_nll_loss` defines it:
#
# * `var` is a float or a tensor of one of the shapes listed above; bring it to a shape that
#   broadcasts against the input (`unsqueeze(-1)` where the last dimension is missing);
# * raise `ValueError` for a `var` shape PyTorch refuses, for a negative variance and for
#   an unknown `reduction`;
# * clamp the variance at `eps` without changing the caller's `var` (no in-place edits);
# * return a tensor of the input's shape for `none`, 0-dim for `sum` and `mean`.
#
# Not allowed: `F.gaussian_nll_loss`, `nn.GaussianNLLLoss`, and `torch.distributions`.
#
# The checks try the worked example, then inputs of one to three dimensions in float32 and
# float64 (a batch of one included) with every accepted layout of `var`, variances of 0 and
# $10^{-7}$ among them (where the clamp matters), `full` on and off, several `eps`, and every
# reduction; and they check that a wrongly shaped or negative `var` raises `ValueError`.
# They recognise a forgotten clamp, `eps` added instead of clamped, a forgotten $\tfrac12$ and
# a forgotten constant.


# %% answer="gaussian_nll_loss"
def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    ### BEGIN SOLUTION
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = torch.full_like(input, var)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if var.shape == input.shape[:-1]:
            var = var.unsqueeze(-1)
        elif var.dim() != input.dim() or [
            v for i, v in zip(input.shape, var.shape, strict=True) if i != v
        ] != [1]:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "sum", "mean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    var = var.clamp(min=eps)
    losses = 0.5 * (torch.log(var) + (input - target) ** 2 / var)
    if full:
        losses = losses + 0.5 * math.log(2 * math.pi)
    return reduce(losses, reduction)
    ### END SOLUTION


# %% tests="gaussian_nll_loss" points=3
# Public checks: the worked example, fixed random inputs and refused shapes.
import math

import torch
import torch.nn.functional as F

from autograder.checking import (
    Case,
    CheckFailed,
    call_quietly,
    check_function,
    reduce_losses,  # noqa: F811 (this cell uses it)
    reduction_mistakes,
)
from autograder.checking.topics import regression_losses as cases
from autograder.checking.topics.basic_losses import check_rejects_bad_reduction

GAUSSIAN_FORBID = [
    "torch.nn.functional.gaussian_nll_loss",
    "torch.nn.GaussianNLLLoss",
    "torch.distributions",
    "torch.distributions.Normal",
]


def _layout(input, var):
    """var brought to a shape that broadcasts (mistakes only see layouts torch accepts)."""
    var = torch.full_like(input, var) if isinstance(var, float) else var
    return var.unsqueeze(-1) if var.dim() == input.dim() - 1 else var


HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _gaussian_mistakes():
    def make(vary, factor=0.5, constant=HALF_LOG_2PI):
        def wrong(input, target, var, full=False, eps=1e-6, reduction="mean"):
            v = vary(_layout(input, var), eps)
            losses = factor * (torch.log(v) + (input - target) ** 2 / v)
            return reduce_losses(losses + (constant if full else 0.0), reduction)

        return wrong

    def full_ignored(input, target, var, full=False, eps=1e-6, reduction="mean"):
        if not full:
            return None
        return F.gaussian_nll_loss(input, target, var, eps=eps, reduction=reduction)

    clamp = lambda v, eps: v.clamp(min=eps)  # noqa: E731
    return {
        "variance not clamped at eps": make(lambda v, eps: v),
        "eps added to the variance instead of clamping it": make(lambda v, eps: v + eps),
        "the factor 1/2 forgotten": make(clamp, factor=1.0),
        "log(2*pi) without the factor 1/2 for full=True": make(
            clamp, factor=0.5, constant=math.log(2 * math.pi)
        ),
        "full ignored (no constant)": full_ignored,
    }


def _refuses(label, *args):
    try:
        call_quietly(gaussian_nll_loss, *args)
    except NotImplementedError:
        raise CheckFailed("gaussian_nll_loss is not implemented yet.") from None
    except ValueError:
        return
    except Exception as error:
        raise CheckFailed(f"{label}: expected ValueError, got {type(error).__name__}") from None
    raise CheckFailed(f"{label}: expected ValueError, but nothing was raised")


_mistakes = cases.distinct_mistakes(
    F.gaussian_nll_loss, {**reduction_mistakes(F.gaussian_nll_loss), **_gaussian_mistakes()}
)
_example = [
    Case(f"worked example, full={fu}", (one, two, torch.tensor([0.5])), {"full": fu})
    for fu in (False, True)
]
check_function(
    gaussian_nll_loss,
    F.gaussian_nll_loss,
    _example + cases.gaussian_cases(seed=46),
    mistakes=_mistakes,
    forbid=GAUSSIAN_FORBID,
)
check_rejects_bad_reduction(gaussian_nll_loss, _example[0])
_x = torch.zeros(4, 3)
_refuses("var of shape (1, 1) for input (4, 3)", _x, _x, torch.ones(1, 1))
_refuses("var of shape (3,) for input (4, 3)", _x, _x, torch.ones(3))
_refuses("var of shape (4, 2) for input (4, 3)", _x, _x, torch.ones(4, 2))
_refuses("a negative variance", _x, _x, -torch.ones(4, 3))
_refuses("a negative float variance", _x, _x, -1.0)
_var = torch.tensor([[0.0, 1e-9, 2.0]], dtype=torch.float64)
_kept = _var.clone()
call_quietly(gaussian_nll_loss, torch.zeros(1, 3, dtype=torch.float64), _var + 1, _kept)
if not torch.equal(_kept, _var):
    raise CheckFailed("gaussian_nll_loss changed the caller's var in place: clamp a copy.")
### BEGIN HIDDEN TESTS
check_function(
    gaussian_nll_loss,
    F.gaussian_nll_loss,
    cases.gaussian_cases(seed=None, draws=4),
    public=False,
    mistakes=_mistakes,
    forbid=GAUSSIAN_FORBID,
)
_refuses(
    "var of shape (2, 4, 1) for input (2, 4, 3)",
    torch.zeros(2, 4, 3),
    torch.zeros(2, 4, 3),
    torch.ones(2, 1, 1),
)
_refuses(
    "var of shape (4,) for input (4, 3)",
    _x,
    _x,
    torch.ones(4) * torch.tensor([1.0, -1.0, 1.0, 1.0]),
)
### END HIDDEN TESTS

# %% [markdown]
# ## KL divergence: comparing two distributions
#
# When the target is not one right answer but a whole distribution $P$ (a teacher
# network's soft predictions in knowledge distillation, smoothed labels, the prior in a
# variational autoencoder) the loss measures how far the model's distribution $Q$ is from
# it. The Kullback-Leibler divergence does that:
#
# $$
# D_{\text{KL}}(P \,\|\, Q) = \sum_{c} p_c \log \frac{p_c}{q_c} = \sum_c p_c\,(\log p_c - \log q_c).
# $$
#
# It is never negative, is 0 exactly when $P = Q$, and is not symmetric. It equals the
# cross-entropy $-\sum_c p_c \log q_c$ minus the entropy of $P$, which does not depend on the
# model; so minimising KL and cross-entropy moves the model the same way, but only KL
# reaches 0 at a perfect match. Terms with $p_c = 0$ count as 0 ($0 \log 0 = 0$).
#
# `F.kl_div(input, target, reduction="mean", log_target=False)` has an unusual convention:
#
# * **`input` is $\log q$, log-probabilities**, such as the output of `F.log_softmax`;
# * `target` is $p$, probabilities, or $\log p$ when `log_target=True` (safer when the
#   probabilities can be tiny); the per-element loss is
#   $\ell = p\,(\log p - \text{input})$, computed as $e^{t}(t - \text{input})$ for a log target $t$.
#
# The reductions: `none`, `sum`, `mean` (the sum divided by the number of **elements**) and
# `batchmean` (the sum divided by the **batch size**, `input.size(0)`). For a batch of $N$
# distributions over $C$ classes, the KL of each distribution is a sum over its $C$ classes,
# so the average KL over the batch is the sum divided by $N$: that is `batchmean`. `mean`
# divides by $N \cdot C$ and so reports the true KL divided by the number of classes, a
# number that shrinks when you add classes. PyTorch warns about this whenever `mean` is
# used; use `batchmean`. (For a 1-D input, the "batch size" is `input.size(0)`, the number of
# classes: give a single distribution the shape `(1, C)`.)

# %% [markdown]
# ### A correction: probabilities passed where log-probabilities belong
#
# Some study notes take model probabilities $Q = ((0.5, 0.3, 0.2), (0.2, 0.3, 0.5))$ and
# targets $P = ((0.9, 0.05, 0.05), (0.1, 0.7, 0.2))$, pass $Q$ itself as the input, and
# report a `batchmean` of $-1.0006$. A KL divergence can never be negative; the number is
# meaningless because `kl_div` read $0.5$ as $\log q$, that is $q = e^{0.5} > 1$. With
# `Q.log()` as the input, the per-sample divergences are $0.3701$ and $0.3405$, and the
# `batchmean` is their average, $0.3553$ (`mean` gives $0.7106 / 6 = 0.1184$).

# %%
Q = torch.tensor([[0.5, 0.3, 0.2], [0.2, 0.3, 0.5]])
P = torch.tensor([[0.9, 0.05, 0.05], [0.1, 0.7, 0.2]])
print("probabilities as input (wrong):", F.kl_div(Q, P, reduction="batchmean"))
print("log-probabilities (right)     :", F.kl_div(Q.log(), P, reduction="batchmean"))
print("per sample, from the formula  :", (P * (P.log() - Q.log())).sum(dim=1))
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the warning that 'mean' is not the true KL
    print("reduction='mean'              :", F.kl_div(Q.log(), P, reduction="mean"))

# %% [markdown]
# ## Exercise 6: correct the notes (2 points)
#
# Write the helper the notes needed: `batch_kl(p, q)` takes two batches of probability
# distributions of shape $(N, C)$ (each row sums to 1), the target $P$ and the model's
# $Q$, and returns the average over the batch of $D_{\text{KL}}(P_n \,\|\, Q_n)$ as a 0-dim
# tensor of their dtype. Use `F.kl_div`, and give it what it expects.
#
# The checks try the notes' numbers (the answer must be $0.3553$), then random batches in
# float32 and float64, a batch of one and targets with exact zeros. They recognise
# probabilities passed as the input, the `mean` and `sum` reductions, and the two
# distributions swapped.


# %% answer="batch_kl"
def batch_kl(p, q):
    ### BEGIN SOLUTION
    return F.kl_div(q.log(), p, reduction="batchmean")
    ### END SOLUTION


# %% tests="batch_kl" points=2
# Public checks: the notes' numbers and fixed random distributions. Silence means they passed.
import warnings

import torch
import torch.nn.functional as F

from autograder.checking import Case, check_function
from autograder.checking.topics import regression_losses as cases
from autograder.checking.topics.basic_losses import check_rejects_bad_reduction


def _true_kl(p, q):
    """The definition, term by term, with 0 log 0 = 0; averaged over the batch."""
    terms = torch.xlogy(p, p) - p * torch.log(q)
    return terms.sum() / p.size(0)


def _quiet_kl(input, target, reduction):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return F.kl_div(input, target, reduction=reduction)


_mistakes = cases.distinct_mistakes(
    _true_kl,
    {
        "probabilities passed as the input (not log-probabilities)": lambda p, q: _quiet_kl(
            q, p, "batchmean"
        ),
        "reduction='mean' (divided by all N*C elements)": lambda p, q: _quiet_kl(
            q.log(), p, "mean"
        ),
        "reduction='sum' (not averaged over the batch)": lambda p, q: _quiet_kl(q.log(), p, "sum"),
        "KL(Q || P): the two distributions swapped": lambda p, q: _quiet_kl(
            p.log(), q, "batchmean"
        ),
    },
)
_notes = [Case("the notes' numbers (answer 0.3553)", (P, Q))]
check_function(batch_kl, _true_kl, _notes + cases.distribution_pairs(seed=48), mistakes=_mistakes)
### BEGIN HIDDEN TESTS
check_function(
    batch_kl,
    _true_kl,
    cases.distribution_pairs(seed=None, draws=8),
    public=False,
    mistakes=_mistakes,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 7: `kl_div` (3 points)
#
# Implement `kl_div(input, target, reduction="mean", log_target=False)` as `F.kl_div`
# defines it: `input` holds log-probabilities, `target` probabilities (or log-probabilities
# when `log_target=True`), both of the same shape; reductions `none`, `sum`, `mean` and
# `batchmean` (divide the sum by `input.size(0)`; a 0-dim input has no batch dimension, and
# PyTorch then returns the sum), and a `ValueError` for anything else (`reduce` gives you
# the first three and the error).
# Where a probability target is 0 the element's loss must be 0, not `nan`:
# `torch.xlogy(p, p)` computes $p \log p$ with that convention. Your function need not warn
# about `mean`.
#
# Not allowed: `F.kl_div`, `torch.kl_div`, `nn.KLDivLoss` and `torch.distributions`.
#
# The checks use batches of distributions `(N, C)` (a batch of one included), a 3-D batch
# `(N, C, L)`, a single 1-D distribution and 0-dim tensors, targets with exact zeros, both
# settings of `log_target`, float32 and float64, and all four reductions. They recognise
# `mean` in place of `batchmean`, the cross-entropy in place of the KL, the two distributions
# swapped, `log_target` ignored and $0 \log 0$ left as `nan`.


# %% answer="kl_div"
def kl_div(input, target, reduction="mean", log_target=False):
    ### BEGIN SOLUTION
    if log_target:
        losses = torch.exp(target) * (target - input)
    else:
        losses = torch.xlogy(target, target) - target * input
    if reduction == "batchmean" and input.dim() == 0:
        return losses  # no batch dimension: torch returns the sum, the one loss itself
    if reduction == "batchmean":
        return losses.sum() / input.size(0)
    return reduce(losses, reduction)
    ### END SOLUTION


# %% tests="kl_div" points=3
# Public checks: the notes' numbers and fixed random distributions. Silence means they passed.
import warnings

import torch
import torch.nn.functional as F

from autograder.checking import (
    Case,
    check_function,
    reduce_losses,  # noqa: F811 (this cell uses it)
    reduction_mistakes,
)
from autograder.checking.topics import regression_losses as cases
from autograder.checking.topics.basic_losses import check_rejects_bad_reduction

KL_FORBID = [
    "torch.nn.functional.kl_div",
    "torch.kl_div",
    "torch.nn.KLDivLoss",
    "torch.distributions",
    "torch.distributions.kl.kl_divergence",
]


def _kl(input, target, reduction="mean", log_target=False):
    """F.kl_div without its warning about 'mean' (stderr would zero this cell)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return F.kl_div(input, target, reduction=reduction, log_target=log_target)


def _kl_mistakes():
    def swapped(used):
        def wrong(input, target, reduction="mean", log_target=False):
            return _kl(input, target, used, log_target) if reduction == "batchmean" else None

        return wrong

    def cross_entropy(input, target, reduction="mean", log_target=False):
        p = target.exp() if log_target else target
        return reduce_losses(-p * input, reduction)

    def reversed_kl(input, target, reduction="mean", log_target=False):
        log_p = target if log_target else target.log()
        return reduce_losses(input.exp() * (input - log_p), reduction)

    def log_target_ignored(input, target, reduction="mean", log_target=False):
        return _kl(input, target, reduction, not log_target)

    def nan_at_zero(input, target, reduction="mean", log_target=False):
        if log_target or bool((target > 0).all()):
            return None
        return reduce_losses(target * (target.log() - input), reduction)

    return {
        "reduction='mean' used for 'batchmean'": swapped("mean"),
        "the sum, not divided by the batch size, for 'batchmean'": swapped("sum"),
        "the cross-entropy -p*log(q): the entropy term p*log(p) left out": cross_entropy,
        "KL(Q || P): the two distributions swapped": reversed_kl,
        "log_target read the wrong way round": log_target_ignored,
        "0*log(0) left as nan where the target is 0": nan_at_zero,
    }


_mistakes = cases.distinct_mistakes(_kl, {**reduction_mistakes(_kl), **_kl_mistakes()})
_example = [
    Case(f"the notes' numbers, input Q.log(), reduction={r!r}", (Q.log(), P), {"reduction": r})
    for r in ("none", "sum", "mean", "batchmean")
]
check_function(
    kl_div, _kl, _example + cases.kl_cases(seed=47), mistakes=_mistakes, forbid=KL_FORBID
)
check_rejects_bad_reduction(kl_div, _example[0])
### BEGIN HIDDEN TESTS
check_function(
    kl_div,
    _kl,
    cases.kl_cases(seed=None, draws=6),
    public=False,
    mistakes=_mistakes,
    forbid=KL_FORBID,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Summary
#
# * Smooth L1 and Huber are quadratic for small errors and linear for large ones, so
#   outliers pull with a bounded gradient. Smooth L1 has slope 1 outside $\beta$ (and is
#   L1 at $\beta = 0$); Huber has slope $\delta$ and equals
#   $\delta \cdot \text{SmoothL1}_{\beta=\delta}$.
# * Poisson NLL is the loss for counts: $e^x - yx$ on log-rates (the default), or
#   $\lambda - y\log(\lambda + \varepsilon)$ on rates; `full` adds Stirling's $\log(y!)$
#   where $y > 1$.
# * Gaussian NLL lets a model predict its own variance, clamped at `eps`; one variance per
#   element (heteroscedastic) or one shared (homoscedastic: a float, or a shape with one
#   dimension of size 1 or the last dimension dropped).
# * `kl_div` takes **log**-probabilities as input; `batchmean` is the true average KL,
#   `mean` divides by the number of classes as well. Passing probabilities gives nonsense,
#   such as a negative divergence.
