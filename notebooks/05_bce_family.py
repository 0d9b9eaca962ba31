# %% [markdown]
# # 5. Binary cross-entropy and its relatives
#
# Cross-entropy picks **one** class out of $C$. Many problems instead ask several yes/no
# questions at once: is there a cat in the photo, is there a dog, is it outdoors? Each
# answer is a probability of its own, and the loss is a **binary** cross-entropy per
# element. This notebook covers the family:
#
# | loss (`nn` module) | input | target | options |
# | --- | --- | --- | --- |
# | `BCELoss` | probabilities in $[0, 1]$ | in $[0, 1]$ | `weight` |
# | `BCEWithLogitsLoss` | raw logits | in $[0, 1]$ | `weight`, `pos_weight` |
# | `SoftMarginLoss` | raw scores | $-1$ or $1$ | |
# | `MultiLabelSoftMarginLoss` | logits $(N, C)$ | $0$ or $1$ | `weight` |
#
# Each also has a functional form (`F.binary_cross_entropy`,
# `F.binary_cross_entropy_with_logits`, `F.soft_margin_loss`,
# `F.multilabel_soft_margin_loss`) and the three reductions.
#
# You implement each one with its options (`weight`, `pos_weight`, `reduction`), see why the
# logits version exists, and derive its gradient (checked against autograd, as in notebook
# 2). Every loss here reduces with a plain `sum` or `mean` over its elements, so each one
# ends with `return reduce(losses, reduction)`, the course's version of your function from
# notebook 1 (imported in the first cell); an unknown `reduction` then raises `ValueError`
# by itself, and the checks try one.
#
# **How the checks work.** A cell of *public checks* follows each exercise: silence means
# they passed. Hidden checks on fresh random inputs run at grading time.

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn as nn
import torch.nn.functional as F

import autograder.checking.topics.bce_family  # noqa: F401 (the checks load first)
from autograder.checking.topics.basic_losses import reduce  # your reduce from notebook 1

torch.set_printoptions(precision=4)
torch.set_num_threads(1)  # the tensors here are tiny: one thread is fastest

# %% [markdown]
# ## BCELoss
#
# For a predicted probability $p$ and a target $y$ (usually $0$ or $1$), the binary
# cross-entropy is
#
# $$
# \ell = -\,w \bigl[\, y \log p + (1 - y) \log (1 - p) \,\bigr]
# $$
#
# For $y = 1$ only $-\log p$ remains, for $y = 0$ only $-\log(1 - p)$. The optional
# `weight` $w$ is a tensor that **broadcasts** against the input: one weight per element,
# per column, or a single number. The reductions are the usual ones over all elements, and
# unlike `CrossEntropyLoss` with class indices, **`mean` divides by the number of elements**,
# whatever the weights.
#
# **The clamp.** At $p = 0$ with $y = 1$ the loss would be $-\log 0 = \infty$, and at
# $p = 0$ with $y = 0$ the formula gives $0 \cdot (-\infty) = $ `nan`. PyTorch avoids both by
# clamping each logarithm from below at $-100$: a hopeless prediction costs $100$, and
# $0 \cdot (-100) = 0$.
#
# ### Worked example: the study notes' 0.8000
#
# A $3 \times 3$ matrix of scores goes through a sigmoid and is compared with a $0/1$
# target. Averaging the nine values of $\ell$ gives $0.8000$:

# %%
scores = torch.tensor(
    [[1.9072, 1.1079, 1.4906], [-0.6584, -0.0512, 0.7608], [-0.0614, 0.6583, 0.1095]]
)
labels = torch.tensor([[0.0, 1.0, 1.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
probs = torch.sigmoid(scores)
terms = -(labels * torch.log(probs) + (1 - labels) * torch.log(1 - probs))
print("by the formula:", terms.mean())
print("nn.BCELoss    :", nn.BCELoss()(probs, labels))
print(
    "clamped logs  :",
    F.binary_cross_entropy(
        torch.tensor([0.0, 1.0, 0.0]), torch.tensor([1.0, 0.0, 0.0]), reduction="none"
    ),
)

# %% [markdown]
# ### Worked example: a 4 × 2 table
#
# Logits `[[1, 2], [2, 2], [3, 4], [4, 5]]`, targets `[[1, 0], [1, 0], [0, 1], [0, 1]]`. The
# per-element losses of `BCELoss(sigmoid(x))` add up to $11.7856$, and their mean over the
# $8$ elements is $1.4732$. A per-column weight `[1, 2]` doubles the second column; the mean
# still divides by $8$.

# %%
x = torch.tensor([[1.0, 2.0], [2.0, 2.0], [3.0, 4.0], [4.0, 5.0]])
y = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
print(F.binary_cross_entropy(torch.sigmoid(x), y, reduction="none"))
print("sum :", F.binary_cross_entropy(torch.sigmoid(x), y, reduction="sum"))
print("mean:", F.binary_cross_entropy(torch.sigmoid(x), y))
col_weight = torch.tensor([1.0, 2.0])
print("weighted mean:", F.binary_cross_entropy(torch.sigmoid(x), y, weight=col_weight))

# %% [markdown]
# ## BCE on logits, and `pos_weight`
#
# Models output logits $x$, and $p = \sigma(x) = 1 / (1 + e^{-x})$. Putting the sigmoid inside
# the loss lets the formula simplify. With $\operatorname{softplus}(z) = \log(1 + e^{z})$:
#
# $$
# -\log \sigma(x) = \operatorname{softplus}(-x), \qquad
# -\log (1 - \sigma(x)) = \operatorname{softplus}(x) = x + \operatorname{softplus}(-x)
# $$
#
# `BCEWithLogitsLoss` also has `pos_weight` $q$, which multiplies the **positive** term only:
#
# $$
# \ell = w \bigl[\, q\, y \operatorname{softplus}(-x) + (1 - y)\operatorname{softplus}(x) \,\bigr]
#      = w \bigl[\, (1 - y)\, x + \bigl(1 + (q - 1)\, y\bigr) \operatorname{softplus}(-x) \,\bigr]
# $$
#
# `pos_weight` broadcasts against the **last** dimension: one value per class in multi-label
# problems. A class with 100 positives and 300 negatives gets $q = 3$, so that its positives
# weigh as much as its negatives. In the 4 × 2 example, `pos_weight = 3` gives sum
# $12.7158$ and mean $1.5895$: only the four positive elements change, each tripled.
#
# The plot shows the loss against the logit. For $y = 1$ it falls towards $0$ as $x$ grows
# and rises like $-x$ as $x \to -\infty$; for $y = 0$ it is the mirror image. `pos_weight`
# stretches the $y = 1$ curve and leaves the $y = 0$ curve alone.

# %%
pw3 = torch.tensor([3.0])
print(
    "pos_weight 3, none:\n",
    F.binary_cross_entropy_with_logits(x, y, pos_weight=pw3, reduction="none"),
)
print("sum :", F.binary_cross_entropy_with_logits(x, y, pos_weight=pw3, reduction="sum"))
print("mean:", F.binary_cross_entropy_with_logits(x, y, pos_weight=pw3))

grid = torch.linspace(-6, 6, 241)
fig, ax = plt.subplots(figsize=(6, 3.5))
for target_value, color in ((1.0, "C0"), (0.0, "C1")):
    t = torch.full_like(grid, target_value)
    ax.plot(
        grid,
        F.binary_cross_entropy_with_logits(grid, t, reduction="none"),
        color=color,
        label=f"y = {target_value:g}",
    )
    ax.plot(
        grid,
        F.binary_cross_entropy_with_logits(grid, t, pos_weight=pw3, reduction="none"),
        color=color,
        linestyle="--",
        label=f"y = {target_value:g}, pos_weight 3",
    )
ax.set_xlabel("logit x")
ax.set_ylabel("loss")
ax.set_ylim(0, 10)
ax.legend()
ax.set_title("BCE with logits (the y = 0 curves coincide)")
plt.show()

# %% [markdown]
# ## Exercise 1: `bce` (3 points)
#
# Implement `bce(input, target, weight=None, reduction="mean")` as `F.binary_cross_entropy`
# defines it: `input` probabilities and `target` of the same shape (any shape), an optional
# `weight` that broadcasts against them, the three reductions (a `ValueError` for any
# other), and **each log clamped at $-100$** (`torch.clamp(..., min=-100)`), so that inputs
# of exactly $0$ and $1$ give what PyTorch gives.
#
# Not allowed: `F.binary_cross_entropy`, `nn.BCELoss`, and the logits versions.
#
# The checks try both worked examples, a 0-dim input (one number), a batch of one,
# probabilities of exactly 0 and 1, soft targets, weights of shape `(C,)`, `(1,)`, `()`,
# `(1, C)` and the input's shape, float32 and float64, every reduction, and
# `reduction="average"`, which must raise `ValueError`. Besides a wrong reduction they name
# an unclamped log, a mean divided by the summed weights, an unused weight, input and target
# swapped, and the study notes' bug: $(1 - y)\log(1 - y)$ where $(1 - y)\log(1 - p)$
# belongs.


# %% answer="bce"
def bce(input, target, weight=None, reduction="mean"):
    ### BEGIN SOLUTION
    log_p = torch.clamp(torch.log(input), min=-100)
    log_not_p = torch.clamp(torch.log(1 - input), min=-100)
    losses = -(target * log_p + (1 - target) * log_not_p)
    if weight is not None:
        losses = losses * weight
    return reduce(losses, reduction)
    ### END SOLUTION


# %% tests="bce" points=3
# Public checks: the worked examples, then fixed random inputs. Silence means they passed.
import torch
import torch.nn.functional as F

from autograder.checking import Case, check_function
from autograder.checking.topics.basic_losses import check_rejects_bad_reduction
from autograder.checking.topics.bce_family import bce_mistakes, prob_cases

BCE_FORBID = [
    "torch.nn.functional.binary_cross_entropy",
    "torch.nn.BCELoss",
    "torch.nn.functional.binary_cross_entropy_with_logits",
    "torch.nn.BCEWithLogitsLoss",
    "torch.binary_cross_entropy_with_logits",
]
_notes_x = torch.tensor(
    [[1.9072, 1.1079, 1.4906], [-0.6584, -0.0512, 0.7608], [-0.0614, 0.6583, 0.1095]]
)
_notes_y = torch.tensor([[0.0, 1.0, 1.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
_table_x = torch.tensor([[1.0, 2.0], [2.0, 2.0], [3.0, 4.0], [4.0, 5.0]], dtype=torch.float64)
_table_y = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]], dtype=torch.float64)
_example = [Case("the notes' example (0.8000)", (torch.sigmoid(_notes_x), _notes_y))]
_example += [
    Case(f"4 x 2 table, reduction={r!r}", (torch.sigmoid(_table_x), _table_y), {"reduction": r})
    for r in ("none", "sum", "mean")
]
_example.append(
    Case(
        "4 x 2 table, weight [1, 2]",
        (torch.sigmoid(_table_x), _table_y),
        {"weight": torch.tensor([1.0, 2.0], dtype=torch.float64)},
    )
)
_mistakes = bce_mistakes()
check_function(
    bce,
    F.binary_cross_entropy,
    _example + prob_cases(seed=30),
    name="bce",
    mistakes=_mistakes,
    forbid=BCE_FORBID,
)
check_rejects_bad_reduction(bce, _example[0])
### BEGIN HIDDEN TESTS
check_function(
    bce,
    F.binary_cross_entropy,
    prob_cases(seed=None, draws=8),
    name="bce",
    public=False,
    mistakes=_mistakes,
    forbid=BCE_FORBID,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 2: where BCE of a sigmoid breaks (2 points)
#
# In float32, $\sigma(x)$ is rounded to a number with about 7 significant digits. For large
# $x$ it is so close to $1$ that $1 - \sigma(x)$ loses its digits, and from some point on
# $\sigma(x)$ *is* exactly $1.0$: then $\log(1 - p) = \log 0$, and only the clamp keeps the
# loss finite, at $100$. The logits version never forms $1 - \sigma(x)$ and stays exact.
# Before you run anything: with target $0$, what do you expect the naive loss to be at
# $x = 30$ in float32, and the stable one?
#
# For target $1$ the same thing happens on the other side, but much later: floats are dense
# near $0$ and sparse near $1$, so $\sigma(x)$ for $x \ll 0$ keeps its digits until it
# underflows; from there the naive loss is stuck at $100$ while the true loss is about $|x|$.
#
# Write `first_broken(dtype, target=0, threshold=0.01)`. Call
# `F.binary_cross_entropy(torch.sigmoid(x), y)` "the naive loss" and
# `F.binary_cross_entropy_with_logits(x, y)` "the stable loss", both computed on
# one-element tensors of the given `dtype` (`torch.float32` or `torch.float64`) with the
# target $y$ = `target` (0 or 1). Move the logit away from the target one integer at a
# time: $x = 0, 1, 2, \dots$ for target $0$, and $x = 0, -1, -2, \dots$ for target $1$.
# Return the first $k \ge 0$ (an `int`) at which
# $|\text{naive} - \text{stable}| > \text{threshold} \cdot \text{stable}$.
#
# The public check asks for float32, target 0 and 1 %. The hidden checks ask for both dtypes,
# both targets and thresholds from $10^{-4}$ to $0.9$. They refuse a tensor where the Python
# `int` is asked, and name the other dtype's answer, an absolute instead of a relative
# difference, and the last integer that still agreed.


# %% answer="first_broken"
def first_broken(dtype, target=0, threshold=0.01):
    ### BEGIN SOLUTION
    y = torch.full((1,), float(target), dtype=dtype)
    k = 0
    while True:
        x = torch.tensor([float(k if target == 0 else -k)], dtype=dtype)
        naive = F.binary_cross_entropy(torch.sigmoid(x), y).item()
        stable = F.binary_cross_entropy_with_logits(x, y).item()
        if abs(naive - stable) > threshold * stable:
            return k
        k += 1
    ### END SOLUTION


# %% tests="first_broken" points=2
# Public check: float32, target 0, a threshold of 1 %.
import torch

from autograder.checking import Case, check_function
from autograder.checking.topics import bce_family

_forbid = ["autograder.checking.topics.bce_family.first_broken_reference"]
check_function(
    first_broken,
    bce_family.first_broken_reference,
    [Case("float32, target 0, threshold 0.01", (torch.float32,), {"target": 0, "threshold": 0.01})],
    mistakes=bce_family.first_broken_mistakes(),
    forbid=_forbid,
    floats=True,
)
### BEGIN HIDDEN TESTS
check_function(
    first_broken,
    bce_family.first_broken_reference,
    bce_family.first_broken_cases(seed=None),
    public=False,
    mistakes=bce_family.first_broken_mistakes(),
    forbid=_forbid,
    floats=True,
)
### END HIDDEN TESTS

# %% [markdown]
# Once your function passes, look at the numbers themselves:

# %%
for _dtype in (torch.float32, torch.float64):
    at_30, zero = torch.tensor([30.0], dtype=_dtype), torch.zeros(1, dtype=_dtype)
    naive = F.binary_cross_entropy(torch.sigmoid(at_30), zero).item()
    stable = F.binary_cross_entropy_with_logits(at_30, zero).item()
    print(f"{str(_dtype)[6:]}, target 0, x = 30: naive {naive:.6g}, stable {stable:.6g}")

# %% [markdown]
# ## The stable formula
#
# $\operatorname{softplus}(-x) = \log(1 + e^{-x})$ overflows for $x \ll 0$ if written as it
# stands ($e^{1000} = \infty$). Split off the large part:
#
# $$
# \log(1 + e^{-x}) = \max(-x, 0) + \log\bigl(1 + e^{-|x|}\bigr)
# $$
#
# Now the exponent is never positive, and `torch.log1p` computes $\log(1 + u)$ accurately
# even for tiny $u$. Both sides are equal for every $x$ (check $x > 0$ and $x < 0$
# separately).

# %%
big = torch.tensor([-1000.0, -30.0, 0.0, 30.0, 1000.0])
print("log(1 + exp(-x))        :", torch.log(1 + torch.exp(-big)))
print("max(-x, 0) + log1p(...) :", torch.clamp(-big, min=0) + torch.log1p(torch.exp(-big.abs())))

# %% [markdown]
# ## Exercise 3: `bce_with_logits` (4 points)
#
# Implement `bce_with_logits(input, target, weight=None, reduction="mean", pos_weight=None)`
# as `F.binary_cross_entropy_with_logits` computes it, with the stable softplus above:
#
# * `input` logits and `target` in $[0, 1]$ of the same shape (any shape);
# * `weight` broadcasts against the input; `pos_weight` against its **last** dimension;
# * every reduction (`mean` over all elements), a `ValueError` for any other.
#
# Not allowed: the BCE functions and modules, `F.softplus`, `nn.Softplus`, `F.logsigmoid`,
# `nn.LogSigmoid`, `torch.logaddexp`: write the stable form yourself.
#
# The checks try logits of standard deviation 3, 30 and 1000, a 0-dim input, a batch of
# one, soft targets, `weight` of shapes `(C,)`, `(1,)`, `()`, `(1, C)` and the input's,
# `pos_weight` of shapes `(C,)` and `(1,)` (alone and together), float32 and float64, every
# reduction and an unknown one, and the 4 × 2 example with `pos_weight = 3`. They name a
# softplus written as it stands (it overflows), `pos_weight` on the wrong term or unused,
# an unused `weight`, and BCE of a sigmoid.


# %% answer="bce_with_logits"
def bce_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    ### BEGIN SOLUTION
    softplus_neg = torch.clamp(-input, min=0) + torch.log1p(torch.exp(-input.abs()))
    if pos_weight is None:
        losses = (1 - target) * input + softplus_neg
    else:
        losses = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus_neg
    if weight is not None:
        losses = losses * weight
    return reduce(losses, reduction)
    ### END SOLUTION


# %% tests="bce_with_logits" points=4
# Public checks: the worked example, then fixed random logits. Silence means they passed.
import torch
import torch.nn.functional as F

from autograder.checking import Case, check_function
from autograder.checking.topics.basic_losses import check_rejects_bad_reduction
from autograder.checking.topics.bce_family import bce_logits_mistakes, logit_cases

SOFTPLUS_FORBID = [
    "torch.nn.functional.softplus",
    "torch.nn.Softplus",
    "torch.nn.functional.logsigmoid",
    "torch.nn.LogSigmoid",
    "torch.logaddexp",
    "torch.special.log_expit",
]
LOGITS_FORBID = SOFTPLUS_FORBID + [
    "torch.nn.functional.binary_cross_entropy",
    "torch.nn.BCELoss",
    "torch.nn.functional.binary_cross_entropy_with_logits",
    "torch.nn.BCEWithLogitsLoss",
    "torch.binary_cross_entropy_with_logits",
]
_table_x = torch.tensor([[1.0, 2.0], [2.0, 2.0], [3.0, 4.0], [4.0, 5.0]], dtype=torch.float64)
_table_y = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]], dtype=torch.float64)
_pw = torch.tensor([3.0], dtype=torch.float64)
_example = [
    Case(
        f"4 x 2 table, pos_weight 3, reduction={r!r}",
        (_table_x, _table_y),
        {"pos_weight": _pw, "reduction": r},
    )
    for r in ("none", "sum", "mean")
]
_mistakes = bce_logits_mistakes()
_cases = _example + logit_cases(seed=31) + logit_cases(seed=32, draws=2, scale=30.0)
_cases += logit_cases(seed=33, draws=2, scale=1000.0)
check_function(
    bce_with_logits,
    F.binary_cross_entropy_with_logits,
    _cases,
    name="bce_with_logits",
    mistakes=_mistakes,
    forbid=LOGITS_FORBID,
)
check_rejects_bad_reduction(bce_with_logits, _example[0])
### BEGIN HIDDEN TESTS
_cases = logit_cases(seed=None, draws=8) + logit_cases(seed=None, draws=3, scale=30.0)
_cases += logit_cases(seed=None, draws=3, scale=1000.0)
check_function(
    bce_with_logits,
    F.binary_cross_entropy_with_logits,
    _cases,
    name="bce_with_logits",
    public=False,
    mistakes=_mistakes,
    forbid=LOGITS_FORBID,
)
### END HIDDEN TESTS

# %% [markdown] manual="why_logits_stable" points=2
# ## Question (2 points, graded by your instructor)
#
# In a few sentences: why does `F.binary_cross_entropy(torch.sigmoid(x), y)` go wrong for
# large $|x|$ in float32 while `F.binary_cross_entropy_with_logits(x, y)` stays exact?
# Say what is lost, where, and what the logits version computes instead.
#
# Write your answer in this cell.
#
# ### BEGIN SOLUTION
# **A model answer.** The naive way first rounds $p = \sigma(x)$ to a float. For large
# positive $x$, $p$ is within a rounding error of 1, so $1 - p$ keeps few or no correct
# digits and becomes exactly 0 beyond about $x = 17$ in float32; $\log(1 - p)$ is then
# $-\infty$, clamped to $-100$, so the loss is stuck at 100 and its gradient is wrong or
# zero. (For very negative $x$, $p$ underflows to 0 with the same effect.) The logits version
# never forms $\sigma(x)$ or $1 - \sigma(x)$: it computes $\log(1 + e^{-x})$ as
# $\max(-x, 0) + \log(1 + e^{-|x|})$, whose exponential never overflows and whose `log1p`
# keeps the digits of a small $e^{-|x|}$, so the loss is right (about $|x|$) for any $x$.
#
# **Rubric (2 points).**
# * 1 point: the precision is lost when $\sigma(x)$ is rounded near 1 (or 0), so
#   $1 - \sigma(x)$ (or $\sigma(x)$) becomes 0 and the log is clamped at $-100$.
# * 1 point: the logits version works on $x$ directly with the stable softplus
#   ($\max(-x, 0) + \log(1 + e^{-|x|})$, log-sum-exp style), never taking the log of a
#   rounded probability.
# ### END SOLUTION

# %% [markdown]
# ## SoftMarginLoss and MultiLabelSoftMarginLoss
#
# **SoftMarginLoss** is the same idea with targets $y \in \{-1, 1\}$ instead of $\{0, 1\}$:
#
# $$
# \ell = \log\bigl(1 + e^{-y x}\bigr)
# $$
#
# averaged (or summed) over all elements. With $y = 1$ this is $\operatorname{softplus}(-x)$,
# the BCE-with-logits loss for target 1; with $y = -1$ it is the loss for target 0. It has
# no `weight`. PyTorch computes it as written, so for $-y x$ beyond about $88$ in float32 it
# returns `inf`; the checks below stay within that range.
#
# **MultiLabelSoftMarginLoss** takes logits of shape $(N, C)$ and $0/1$ targets, computes a
# weighted binary cross-entropy per class, and **averages over the $C$ classes** to get one
# loss per sample:
#
# $$
# \ell_i = -\frac{1}{C} \sum_{c=1}^{C} w_c \bigl[\, y_{i,c} \log \sigma(x_{i,c})
#        + (1 - y_{i,c}) \log \sigma(-x_{i,c}) \,\bigr]
# $$
#
# The reduction then runs over the $N$ samples (`none` returns $N$ values). PyTorch uses a
# stable log-sigmoid here, so extreme logits are fine.
#
# **A correction.** Some study notes say that $C$ in this formula is the number of
# *samples*. It is the number of **classes**: the $\frac{1}{C}$ averages the $C$ per-class
# losses of one sample, and the reduction over the samples comes afterwards. The cell below
# checks it on a batch of two samples with three classes: `none` gives two losses, each the
# mean of its three per-class terms.

# %%
print(
    "SoftMarginLoss, none:\n",
    F.soft_margin_loss(
        torch.tensor([[0.3, 0.7], [0.5, 0.5]]),
        torch.tensor([[-1.0, 1.0], [1.0, -1.0]]),
        reduction="none",
    ),
)
x_ml = torch.tensor([[0.3, 0.7, 0.8]])
y_ml = torch.tensor([[0.0, 1.0, 1.0]])
by_formula = -(
    y_ml * torch.log(torch.sigmoid(x_ml)) + (1 - y_ml) * torch.log(torch.sigmoid(-x_ml))
).mean()
print(
    "MultiLabelSoftMarginLoss:",
    nn.MultiLabelSoftMarginLoss()(x_ml, y_ml),
    " by the formula:",
    by_formula,
)
x2 = torch.tensor([[0.3, 0.7, 0.8], [-1.0, 0.5, 2.0]])
y2 = torch.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0]])
per_class = F.binary_cross_entropy_with_logits(x2, y2, reduction="none")  # (N, C) = (2, 3)
print("none, one loss per sample:", F.multilabel_soft_margin_loss(x2, y2, reduction="none"))
print("mean over the C = 3 classes:", per_class.mean(dim=1))
print("mean over the N = 2 samples:", per_class.mean(dim=0), " (not this)")

# %% [markdown]
# ## Exercise 4: `soft_margin` (2 points)
#
# Implement `soft_margin(input, target, reduction="mean")` as `F.soft_margin_loss` defines
# it, for tensors of any shape and targets of $\pm 1$. `F.soft_margin_loss`,
# `nn.SoftMarginLoss` and the softplus family are not allowed.
#
# The checks try the worked example, a batch of one, shapes of one to three dimensions,
# float32 and float64, scores of standard deviation 3 and (in float64) 30, every reduction
# and an unknown one. They name a flipped sign in the exponent and a log in base 2.


# %% answer="soft_margin"
def soft_margin(input, target, reduction="mean"):
    ### BEGIN SOLUTION
    losses = torch.log1p(torch.exp(-target * input))
    return reduce(losses, reduction)
    ### END SOLUTION


# %% tests="soft_margin" points=2
# Public checks: the worked example, then fixed random scores. Silence means they passed.
import torch
import torch.nn.functional as F

from autograder.checking import Case, check_function
from autograder.checking.topics.basic_losses import check_rejects_bad_reduction
from autograder.checking.topics.bce_family import margin_cases, soft_margin_mistakes

SOFTPLUS_FORBID = [
    "torch.nn.functional.softplus",
    "torch.nn.Softplus",
    "torch.nn.functional.logsigmoid",
    "torch.nn.LogSigmoid",
    "torch.logaddexp",
    "torch.special.log_expit",
]
MARGIN_FORBID = SOFTPLUS_FORBID + [
    "torch.nn.functional.soft_margin_loss",
    "torch.nn.SoftMarginLoss",
]
_ex = (torch.tensor([[0.3, 0.7], [0.5, 0.5]]), torch.tensor([[-1.0, 1.0], [1.0, -1.0]]))
_example = [
    Case(f"worked example, reduction={r!r}", _ex, {"reduction": r}) for r in ("none", "mean")
]
_mistakes = soft_margin_mistakes()
check_function(
    soft_margin,
    F.soft_margin_loss,
    _example + margin_cases(seed=34) + margin_cases(seed=35, draws=1, scale=30.0),
    name="soft_margin",
    mistakes=_mistakes,
    forbid=MARGIN_FORBID,
)
check_rejects_bad_reduction(soft_margin, _example[0])
### BEGIN HIDDEN TESTS
check_function(
    soft_margin,
    F.soft_margin_loss,
    margin_cases(seed=None, draws=6) + margin_cases(seed=None, draws=2, scale=30.0),
    name="soft_margin",
    public=False,
    mistakes=_mistakes,
    forbid=MARGIN_FORBID,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 5: `multilabel_soft_margin` (2 points)
#
# Implement `multilabel_soft_margin(input, target, weight=None, reduction="mean")` as
# `F.multilabel_soft_margin_loss` defines it: logits and $0/1$ targets of shape $(N, C)$
# (the targets either in the input's dtype or as `torch.int64`, as torch accepts both), an
# optional `weight` of shape $(C,)$, one loss per sample (the mean over the classes), then
# the reduction over the samples. Use a stable $\log \sigma$ (the checks use logits of size
# 1000). Your own `bce_with_logits` may help; the torch functions of this family,
# `F.logsigmoid` and the softplus family may not.
#
# The checks try the worked example (0.5429), a batch of one, a single class, weights,
# int64 targets, logits of standard deviation 3 and 1000, float32 and float64, every
# reduction and an unknown one. They name a sum over the classes instead of their mean, a
# mean over the samples instead of the classes (the notes' $C$), and an unused weight.


# %% answer="multilabel_soft_margin"
def multilabel_soft_margin(input, target, weight=None, reduction="mean"):
    ### BEGIN SOLUTION
    softplus_neg = torch.clamp(-input, min=0) + torch.log1p(torch.exp(-input.abs()))
    elementwise = (1 - target) * input + softplus_neg
    if weight is not None:
        elementwise = elementwise * weight
    losses = elementwise.mean(dim=1)
    return reduce(losses, reduction)
    ### END SOLUTION


# %% tests="multilabel_soft_margin" points=2
# Public checks: the worked example, then fixed random logits. Silence means they passed.
import torch
import torch.nn.functional as F

from autograder.checking import Case, check_function
from autograder.checking.topics.basic_losses import check_rejects_bad_reduction
from autograder.checking.topics.bce_family import multilabel_cases, multilabel_mistakes

SOFTPLUS_FORBID = [
    "torch.nn.functional.softplus",
    "torch.nn.Softplus",
    "torch.nn.functional.logsigmoid",
    "torch.nn.LogSigmoid",
    "torch.logaddexp",
    "torch.special.log_expit",
]
MULTILABEL_FORBID = SOFTPLUS_FORBID + [
    "torch.nn.functional.binary_cross_entropy",
    "torch.nn.BCELoss",
    "torch.nn.functional.binary_cross_entropy_with_logits",
    "torch.nn.BCEWithLogitsLoss",
    "torch.binary_cross_entropy_with_logits",
    "torch.nn.functional.multilabel_soft_margin_loss",
    "torch.nn.MultiLabelSoftMarginLoss",
]
_example = [
    Case(
        "worked example (0.5429)",
        (torch.tensor([[0.3, 0.7, 0.8]]), torch.tensor([[0.0, 1.0, 1.0]])),
    )
]
_mistakes = multilabel_mistakes()
check_function(
    multilabel_soft_margin,
    F.multilabel_soft_margin_loss,
    _example + multilabel_cases(seed=36) + multilabel_cases(seed=37, draws=1, scale=1000.0),
    name="multilabel_soft_margin",
    mistakes=_mistakes,
    forbid=MULTILABEL_FORBID,
)
check_rejects_bad_reduction(multilabel_soft_margin, _example[0])
### BEGIN HIDDEN TESTS
check_function(
    multilabel_soft_margin,
    F.multilabel_soft_margin_loss,
    multilabel_cases(seed=None, draws=6) + multilabel_cases(seed=None, draws=2, scale=1000.0),
    name="multilabel_soft_margin",
    public=False,
    mistakes=_mistakes,
    forbid=MULTILABEL_FORBID,
)
### END HIDDEN TESTS

# %% [markdown]
# ## The gradient: sigmoid minus target
#
# Differentiate the logits form without weights,
# $\ell = (1 - y)\,x + \operatorname{softplus}(-x)$. Since
# $\frac{d}{dx}\operatorname{softplus}(-x) = -\sigma(-x) = \sigma(x) - 1$,
#
# $$
# \frac{\partial \ell}{\partial x} = (1 - y) + \sigma(x) - 1 = \sigma(x) - y
# $$
#
# the same "prediction minus target" shape as softmax minus one-hot for cross-entropy, and
# the reason sigmoid and BCE are paired. With `pos_weight` $q$ the softplus term is scaled by
# $1 + (q - 1)\,y$:
#
# $$
# \frac{\partial \ell}{\partial x} = \bigl(1 + (q - 1)\,y\bigr)\,\sigma(x) - q\,y
# $$
#
# For $y = 1$ that is $q\,(\sigma(x) - 1)$: the push on a positive is $q$ times stronger. For
# $y = 0$ it stays $\sigma(x)$. `weight` multiplies the gradient element by element, `mean`
# divides it by the number of elements, and for `none` we again take the gradient of the sum.

# %%
x_leaf = x.clone().requires_grad_()
F.binary_cross_entropy_with_logits(x_leaf, y, pos_weight=pw3, reduction="sum").backward()
print("autograd:\n", x_leaf.grad)
print("formula :\n", (1 + (pw3 - 1) * y) * torch.sigmoid(x) - pw3 * y)

# %% [markdown]
# ## Exercise 6: `bce_with_logits_grad` (3 points)
#
# Implement `bce_with_logits_grad(input, target, weight=None, reduction="mean",
# pos_weight=None)`: the gradient of
# `F.binary_cross_entropy_with_logits(input, target, weight=weight, reduction=reduction,
# pos_weight=pos_weight)` with respect to `input`, of the input's shape and dtype (for
# `none`, the gradient of the sum of the losses). `torch.sigmoid` is allowed; autograd is
# not: the checks refuse `backward`, `torch.autograd`, `torch.func` and
# `F.binary_cross_entropy_with_logits` (a variable of your own named `grad` is fine).
#
# The checks compare with autograd in float64 on the same inputs as for `bce_with_logits`:
# soft targets, `weight`, `pos_weight`, logits of size 3 and 30, every reduction. They name
# a flipped sign, `pos_weight` left out or scaling the whole difference, and the gradient of
# the sum given for `mean`.


# %% answer="bce_with_logits_grad"
def bce_with_logits_grad(input, target, weight=None, reduction="mean", pos_weight=None):
    ### BEGIN SOLUTION
    q = 1.0 if pos_weight is None else pos_weight
    slope = (1 + (q - 1) * target) * torch.sigmoid(input) - q * target
    if weight is not None:
        slope = slope * weight
    if reduction in ("none", "sum"):
        return slope
    if reduction == "mean":
        return slope / input.numel()
    raise ValueError(f"{reduction} is not a valid value for reduction")
    ### END SOLUTION


# %% tests="bce_with_logits_grad" points=3
# Public checks: autograd in float64 is the reference. Silence means they passed.
from autograder.checking import check_function
from autograder.checking.topics.bce_family import (
    autograd_bce_logits_grad,
    bce_grad_mistakes,
    logit_cases,
)

GRAD_FORBID = [
    "torch.Tensor.backward",
    "torch.autograd",
    "torch.autograd.grad",
    "torch.autograd.backward",
    "torch.func",
    "torch.nn.functional.binary_cross_entropy_with_logits",
]
_mistakes = bce_grad_mistakes()
check_function(
    bce_with_logits_grad,
    autograd_bce_logits_grad,
    logit_cases(seed=38) + logit_cases(seed=39, draws=1, scale=30.0),
    name="bce_with_logits_grad",
    mistakes=_mistakes,
    forbid=GRAD_FORBID,
)
### BEGIN HIDDEN TESTS
check_function(
    bce_with_logits_grad,
    autograd_bce_logits_grad,
    logit_cases(seed=None, draws=6) + logit_cases(seed=None, draws=2, scale=30.0),
    name="bce_with_logits_grad",
    public=False,
    mistakes=_mistakes,
    forbid=GRAD_FORBID,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Summary
#
# * BCE: $-w\,[y \log p + (1-y)\log(1-p)]$, each log clamped at $-100$; `mean` divides by
#   the number of elements, whatever the weights.
# * Feed logits to `BCEWithLogitsLoss` rather than a sigmoid to `BCELoss`: for large logits
#   the latter loses its digits in $1 - \sigma(x)$ and then sticks at the clamp, $100$.
# * Stable softplus: $\log(1 + e^{-x}) = \max(-x, 0) + \log(1 + e^{-|x|})$.
# * `pos_weight` multiplies the positive term only and broadcasts over the last dimension.
# * SoftMarginLoss is the logits BCE with $\pm 1$ targets; MultiLabelSoftMarginLoss averages
#   a weighted logits BCE over the classes of each sample.
# * $\partial \ell / \partial x = \sigma(x) - y$, or $(1 + (q-1)y)\,\sigma(x) - q\,y$ with
#   `pos_weight` $q$.
