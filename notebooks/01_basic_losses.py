# %% [markdown]
# # 1. What a loss is: L1, MSE and cross-entropy
#
# A **loss function** turns a model's prediction and the right answer into one number that
# says how wrong the prediction is. Training means changing the model's parameters so that
# this number goes down: `backward()` computes how the loss changes with each parameter,
# and an optimizer takes a step against that gradient.
#
# In this notebook you compute three losses by hand and then implement them, exactly as
# PyTorch defines them:
#
# | loss | PyTorch | typical use |
# | --- | --- | --- |
# | mean absolute error | `nn.L1Loss`, `F.l1_loss` | regression, robust to outliers |
# | mean squared error | `nn.MSELoss`, `F.mse_loss` | regression |
# | cross-entropy | `nn.CrossEntropyLoss`, `F.cross_entropy` | classification |
#
# **How the checks work.** Each exercise is followed by a cell of *public checks*. They run
# your code against PyTorch on fixed inputs: if the cell prints nothing, they passed. When
# your notebook is graded, *hidden checks* run as well, on fresh random inputs, so passing
# the public checks is a good sign but not yet full marks.

# %%
import math

import matplotlib.pyplot as plt
import torch
import torch.nn as nn
import torch.nn.functional as F

from autograder.checking import check_function, check_value, reduction_mistakes
from autograder.checking.topics.basic_losses import classification_cases, regression_cases

torch.set_printoptions(precision=4)

# %% [markdown]
# ## Reductions: `none`, `sum` and `mean`
#
# Most losses first compute one loss value per element, $\ell_i$, and then *reduce* them with
# the `reduction` argument:
#
# $$
# \text{none}: (\ell_1, \dots, \ell_n) \qquad
# \text{sum}: \sum_{i=1}^{n} \ell_i \qquad
# \text{mean}: \frac{1}{n}\sum_{i=1}^{n} \ell_i
# $$
#
# `mean` is the default. For L1 and MSE the per-element losses are
#
# $$
# \ell_i^{\text{L1}} = |x_i - y_i| \qquad \ell_i^{\text{MSE}} = (x_i - y_i)^2
# $$
#
# where $x$ is the `input` (the prediction) and $y$ the `target`.

# %% [markdown]
# ### Worked example
#
# Prediction $x = (1, 2, 3)$, target $y = (1, 2, 5)$. The absolute errors are $(0, 0, 2)$, so
# the L1 sum is $2$ and the mean is $2/3 \approx 0.6667$. The squared errors are $(0, 0, 4)$,
# so the MSE is $4/3 \approx 1.3333$.

# %%
x = torch.tensor([1.0, 2.0, 3.0])
y = torch.tensor([1.0, 2.0, 5.0])
print("L1   mean:", nn.L1Loss()(x, y), " sum:", nn.L1Loss(reduction="sum")(x, y))
print("MSE  mean:", nn.MSELoss()(x, y), " sum:", nn.MSELoss(reduction="sum")(x, y))
print("none     :", F.l1_loss(x, y, reduction="none"))

# %% [markdown]
# **A correction.** Some study notes call the MSE a "standard deviation". It is not: it is
# the *mean of the squared errors*, measured in squared units. Its square root, the root
# mean squared error (RMSE), is in the units of the data; a standard deviation measures the
# spread of *one* set of numbers around *its own* mean, which is a different thing again.

# %%
mse = F.mse_loss(x, y)
print(
    f"MSE = {mse:.4f}, RMSE = sqrt(MSE) = {mse.sqrt():.4f}, std of the errors = {(x - y).std():.4f}"
)

# %% [markdown]
# ### A picture: how each loss grows with the error
#
# L1 grows linearly, so one large error counts no more than many small ones; MSE grows
# quadratically and punishes large errors much harder. Its gradient, $2(x - y)$, shrinks as
# the prediction gets close, while L1's gradient is always $\pm 1$.

# %%
errors = torch.linspace(-3, 3, 301)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(errors, F.l1_loss(errors, torch.zeros_like(errors), reduction="none"), label="L1: |x - y|")
ax.plot(
    errors, F.mse_loss(errors, torch.zeros_like(errors), reduction="none"), label="MSE: (x - y)²"
)
ax.set_xlabel("prediction error x - y")
ax.set_ylabel("per-element loss")
ax.set_ylim(0, 6)
ax.legend()
ax.set_title("L1 against MSE")
plt.show()

# %% [markdown]
# ## Cross-entropy
#
# A classifier outputs one raw score per class, the **logits** $x_1, \dots, x_C$. Softmax
# turns them into probabilities, and cross-entropy is minus the log of the probability given
# to the right class $t$:
#
# $$
# \ell = -\log \frac{e^{x_t}}{\sum_{j=1}^{C} e^{x_j}} = -x_t + \log \sum_{j=1}^{C} e^{x_j}
# $$
#
# The second form is what PyTorch computes: `CrossEntropyLoss` is `LogSoftmax` followed by
# `NLLLoss` (negative log-likelihood, which just picks $-\log p_t$). It takes the *raw
# logits*, not probabilities; applying softmax yourself first is a classic bug.
#
# **A correction.** Some notes write the formula as $-x_t + \sum_j x_j$, a sum of the logits.
# That is wrong: the sum runs over $e^{x_j}$, and its *logarithm* is taken.
#
# ### Worked example
#
# Logits $(0.1, 0.2, 0.3)$, right class $t = 1$ (counting from 0):
#
# $$
# \ell = -0.2 + \log(e^{0.1} + e^{0.2} + e^{0.3}) = -0.2 + 1.3019 = 1.1019
# $$

# %%
logits = torch.tensor([[0.1, 0.2, 0.3]])
target = torch.tensor([1])
by_formula = -logits[0, 1] + torch.log(torch.exp(logits[0]).sum())
print("by the formula       :", by_formula)
print("nn.CrossEntropyLoss  :", nn.CrossEntropyLoss()(logits, target))
print("LogSoftmax + NLLLoss :", F.nll_loss(F.log_softmax(logits, dim=1), target))

# %% [markdown]
# ## Exercise 1: a cross-entropy by hand (1 point)
#
# A three-class model outputs the logits $(2.0, 1.0, 0.1)$ for one image whose right class
# is $t = 2$. Compute the cross-entropy loss **with the `math` module only** (no torch) and
# store it in `ce_by_hand` as a Python `float`.
#
# The check compares your number with PyTorch to a relative tolerance of $10^{-4}$, and tells
# you if your number matches a known mistake (log base 2, or the sum of the logits).

# %% answer="ce_by_hand"
### BEGIN SOLUTION
ce_by_hand = -0.1 + math.log(math.exp(2.0) + math.exp(1.0) + math.exp(0.1))
### END SOLUTION

# %% tests="ce_by_hand" points=1
# Public check: one number, compared with F.cross_entropy.
_x = [2.0, 1.0, 0.1]
_truth = F.cross_entropy(torch.tensor([_x], dtype=torch.float64), torch.tensor([2])).item()
check_value(
    "cross-entropy of logits (2.0, 1.0, 0.1) for class 2",
    ce_by_hand,
    _truth,
    rtol=1e-4,
    mistakes={
        "log base 2 instead of the natural log": _truth / math.log(2),
        "the sum of the logits instead of the log-sum-exp": -_x[2] + sum(_x),
        "the probability itself instead of minus its log": math.exp(-_truth),
    },
)

# %% [markdown]
# ## Exercise 2: `l1_loss` (2 points)
#
# Implement `l1_loss(input, target, reduction="mean")` as `F.l1_loss` defines it, for tensors
# of any shape (both of the same shape) and all three reductions. Return a tensor: a 0-dim
# tensor for `sum` and `mean`, and a tensor of the input's shape for `none`. Raise a
# `ValueError` for any other `reduction`.
#
# Use tensor operations (`abs`, `sum`, `mean`, ...). Calling `F.l1_loss` or `nn.L1Loss` is not
# allowed: the checks read your code and refuse it.
#
# The checks try the worked example above, then random shapes from one to three dimensions,
# in float32 and float64, with every reduction (tolerance $10^{-6}$ relative).


# %% answer="l1_loss"
def l1_loss(input, target, reduction="mean"):
    ### BEGIN SOLUTION
    losses = (input - target).abs()
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    if reduction == "mean":
        return losses.mean()
    raise ValueError(f"{reduction} is not a valid value for reduction")
    ### END SOLUTION


# %% tests="l1_loss" points=2
# Public checks: the worked example and fixed random inputs. Silence means they passed.
from autograder.checking import Case

_forbid = ["torch.nn.functional.l1_loss", "torch.nn.L1Loss"]
_mistakes = {
    **reduction_mistakes(F.l1_loss),
    "squared errors (that is MSE, not L1)": F.mse_loss,
}
_example = [
    Case(f"worked example, reduction={r!r}", (x, y), {"reduction": r})
    for r in ("none", "sum", "mean")
]
check_function(
    l1_loss, F.l1_loss, _example + regression_cases(seed=1), mistakes=_mistakes, forbid=_forbid
)
### BEGIN HIDDEN TESTS
check_function(
    l1_loss,
    F.l1_loss,
    regression_cases(seed=None, draws=8),
    public=False,
    mistakes=_mistakes,
    forbid=_forbid,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 3: `mse_loss` (2 points)
#
# Implement `mse_loss(input, target, reduction="mean")` as `F.mse_loss` defines it, with the
# same rules as `l1_loss`: any shape, all three reductions, a `ValueError` for anything else,
# and no calls to `F.mse_loss` or `nn.MSELoss`.
#
# The checks are the same as for `l1_loss`; they also recognise the RMSE (square root of the
# mean) and a forgotten square.


# %% answer="mse_loss"
def mse_loss(input, target, reduction="mean"):
    ### BEGIN SOLUTION
    losses = (input - target) ** 2
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    if reduction == "mean":
        return losses.mean()
    raise ValueError(f"{reduction} is not a valid value for reduction")
    ### END SOLUTION


# %% tests="mse_loss" points=2
# Public checks: the worked example and fixed random inputs. Silence means they passed.
from autograder.checking import Case


def _rmse(input, target, reduction="mean"):
    return F.mse_loss(input, target, reduction=reduction).sqrt() if reduction != "none" else None


_forbid = ["torch.nn.functional.mse_loss", "torch.nn.MSELoss"]
_mistakes = {
    **reduction_mistakes(F.mse_loss),
    "the square root of the mean (RMSE)": _rmse,
    "absolute errors (that is L1, not MSE)": F.l1_loss,
}
_example = [
    Case(f"worked example, reduction={r!r}", (x, y), {"reduction": r})
    for r in ("none", "sum", "mean")
]
check_function(
    mse_loss, F.mse_loss, _example + regression_cases(seed=2), mistakes=_mistakes, forbid=_forbid
)
### BEGIN HIDDEN TESTS
check_function(
    mse_loss,
    F.mse_loss,
    regression_cases(seed=None, draws=8),
    public=False,
    mistakes=_mistakes,
    forbid=_forbid,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 4: `cross_entropy` (3 points)
#
# Implement `cross_entropy(input, target, reduction="mean")` for logits `input` of shape
# $(N, C)$ and class indices `target` of shape $(N,)$ (integers in $0 \dots C-1$), following
# the formula $\ell_i = -x_{i,t_i} + \log \sum_j e^{x_{i,j}}$ and the three reductions.
#
# You may use `torch.exp`, `torch.log`, `sum`, indexing or `gather`, but not
# `F.cross_entropy`, `F.nll_loss`, `F.log_softmax`, `torch.logsumexp` or their `nn` modules.
#
# The checks use logits of moderate size (standard deviation 3), batches from 1 to 8 and
# 2 to 8 classes, float32 and float64. They recognise a softmax applied twice, a forgotten
# log-sum-exp, a log in base 2 and a wrong reduction.


# %% answer="cross_entropy"
def cross_entropy(input, target, reduction="mean"):
    ### BEGIN SOLUTION
    picked = input.gather(1, target.unsqueeze(1)).squeeze(1)
    losses = -picked + torch.log(torch.exp(input).sum(dim=1))
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    if reduction == "mean":
        return losses.mean()
    raise ValueError(f"{reduction} is not a valid value for reduction")
    ### END SOLUTION


# %% tests="cross_entropy" points=3
# Public checks: the worked example and fixed random logits. Silence means they passed.
from autograder.checking import Case

CE_FORBID = [
    "torch.nn.functional.cross_entropy",
    "torch.nn.functional.nll_loss",
    "torch.nn.functional.log_softmax",
    "torch.log_softmax",
    "torch.logsumexp",
    "torch.nn.CrossEntropyLoss",
    "torch.nn.NLLLoss",
    "torch.nn.LogSoftmax",
]


def _ce_mistakes(reference):
    def softmax_twice(input, target, reduction="mean"):
        return reference(F.softmax(input, dim=1), target, reduction=reduction)

    def log2(input, target, reduction="mean"):
        return reference(input, target, reduction=reduction) / math.log(2)

    def sum_of_logits(input, target, reduction="mean"):
        losses = -input.gather(1, target.unsqueeze(1)).squeeze(1) + input.sum(dim=1)
        return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]

    def no_logsumexp(input, target, reduction="mean"):
        return F.nll_loss(input, target, reduction=reduction)

    return {
        **reduction_mistakes(reference),
        "softmax applied before cross-entropy (so twice)": softmax_twice,
        "log base 2 instead of the natural log": log2,
        "the sum of the logits instead of the log-sum-exp": sum_of_logits,
        "the log-sum-exp term forgotten (only -x[target])": no_logsumexp,
    }


_example = [Case("worked example (0.1, 0.2, 0.3), class 1", (logits, target))]
_mistakes = _ce_mistakes(F.cross_entropy)
check_function(
    cross_entropy,
    F.cross_entropy,
    _example + classification_cases(seed=3),
    mistakes=_mistakes,
    forbid=CE_FORBID,
)
### BEGIN HIDDEN TESTS
check_function(
    cross_entropy,
    F.cross_entropy,
    classification_cases(seed=None, draws=8),
    public=False,
    mistakes=_mistakes,
    forbid=CE_FORBID,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Numerical stability
#
# Your `cross_entropy` computes $e^{x_j}$. In float32, $e^{89}$ is already infinite, and
# $\infty - \infty$ or $\log \infty$ soon gives `nan` or `inf`. Logits of a few hundred are
# rare but happen, for example early in training with a bad initialisation.
#
# The fix uses an identity: for any constant $m$,
#
# $$
# \log \sum_j e^{x_j} = m + \log \sum_j e^{x_j - m}
# $$
#
# Choose $m = \max_j x_j$: then every exponent is at most $0$, nothing overflows, and the
# largest term is exactly $e^0 = 1$, so the sum never underflows to $0$ either.

# %%
big = torch.tensor([[1000.0, 0.0, -1000.0]])
naive = -big[0, 0] + torch.log(torch.exp(big[0]).sum())
print("naive formula :", naive)
print("PyTorch       :", F.cross_entropy(big, torch.tensor([0])))

# %% [markdown]
# ## Exercise 5: `stable_cross_entropy` (3 points)
#
# Implement `stable_cross_entropy(input, target, reduction="mean")`: the same loss as
# `cross_entropy`, but computed with the max-shift above so that it agrees with
# `F.cross_entropy` for logits around $\pm 1000$. Besides the functions forbidden in
# Exercise 4, `torch.logsumexp` and `torch.softmax` are off limits here: write the shift
# yourself (`input.max(dim=1, keepdim=True)` is useful).
#
# The checks use logits with standard deviations 3 and 1000, in float32 and float64.


# %% answer="stable_cross_entropy"
def stable_cross_entropy(input, target, reduction="mean"):
    ### BEGIN SOLUTION
    m = input.max(dim=1, keepdim=True).values
    log_sum_exp = m.squeeze(1) + torch.log(torch.exp(input - m).sum(dim=1))
    losses = log_sum_exp - input.gather(1, target.unsqueeze(1)).squeeze(1)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    if reduction == "mean":
        return losses.mean()
    raise ValueError(f"{reduction} is not a valid value for reduction")
    ### END SOLUTION


# %% tests="stable_cross_entropy" points=3
# Public checks: logits of size 3 and of size 1000. Silence means they passed.
_forbid = CE_FORBID + ["torch.softmax", "torch.nn.functional.softmax"]
_mistakes = _ce_mistakes(F.cross_entropy)
_cases = classification_cases(seed=4) + classification_cases(seed=5, scale=1000.0)
check_function(
    stable_cross_entropy, F.cross_entropy, _cases, rtol=1e-5, mistakes=_mistakes, forbid=_forbid
)
### BEGIN HIDDEN TESTS
_cases = classification_cases(seed=None, draws=6) + classification_cases(seed=None, scale=1000.0)
check_function(
    stable_cross_entropy,
    F.cross_entropy,
    _cases,
    rtol=1e-5,
    public=False,
    mistakes=_mistakes,
    forbid=_forbid,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Summary
#
# * A loss reduces per-element losses with `none`, `sum` or `mean` (the default).
# * L1 is the mean absolute error; MSE the mean squared error (not a standard deviation).
# * Cross-entropy takes raw logits: $-x_t + \log\sum_j e^{x_j}$, that is LogSoftmax followed by
#   NLLLoss.
# * Subtract the largest logit before exponentiating, and the loss stays finite for any
#   logits.
