# %% [markdown]
# # 4. Cross-entropy in full: weights, ignored targets, label smoothing
#
# In the first notebook you wrote the plain cross-entropy. `nn.CrossEntropyLoss` has more to
# it, and every option changes the number it returns:
#
# | option | what it does | default |
# | --- | --- | --- |
# | `reduction` | `"none"`, `"sum"` or `"mean"` of the per-target losses | `"mean"` |
# | `weight` | one weight $w_c$ per class, to count some classes more | `None` (all 1) |
# | `ignore_index` | a target value whose positions are skipped | `-100` |
# | `label_smoothing` | mixes a uniform distribution $\varepsilon$ into the target | `0.0` |
# | probability targets | `target` of the input's shape, one distribution per sample | |
# | K-dimensional input | `input` $(N, C, d_1, \dots, d_k)$, `target` $(N, d_1, \dots, d_k)$ | |
#
# Here you implement `LogSoftmax`, `NLLLoss` and `CrossEntropyLoss` with all of these, and
# finally the gradient of the loss with respect to the logits, by hand, checked against
# autograd (notebook 2).
#
# **`reduce`.** The first cell imports the course's `reduce(losses, reduction)`, the function
# you wrote in notebook 1: finish a loss whose `mean` is a plain mean with
# `return reduce(losses, reduction)`. (With class weights the mean is a weighted mean, as
# you will see, and you write that one yourself.)
#
# **How the checks work.** As before, a cell of *public checks* follows each exercise:
# silence means they passed. Hidden checks on fresh random inputs run at grading time.

# %%
import math

import matplotlib.pyplot as plt
import torch
import torch.nn as nn
import torch.nn.functional as F

import autograder.checking.topics.cross_entropy_options  # noqa: F401 (the checks load first)
from autograder.checking.topics.basic_losses import reduce  # your reduce from notebook 1

torch.set_printoptions(precision=4)
torch.set_num_threads(1)  # the tensors here are tiny: one thread is fastest

# %% [markdown]
# ## CrossEntropyLoss = LogSoftmax + NLLLoss
#
# For logits $x_{i,1}, \dots, x_{i,C}$ of sample $i$, **LogSoftmax** gives the log of the
# softmax probabilities:
#
# $$
# \log p_{i,c} = x_{i,c} - \log \sum_{j=1}^{C} e^{x_{i,j}}
# $$
#
# **NLLLoss** ("negative log-likelihood") does no more than *pick* an entry: for target
# $t_i$ it returns $-\text{input}_{i, t_i}$. It does not take a log and it does not
# normalise. It is a loss only if its input already holds log-probabilities. That is why
# `CrossEntropyLoss` is exactly `NLLLoss(LogSoftmax(x))`: the softmax and the log come from
# LogSoftmax, and the minus sign and the picking come from NLLLoss.
#
# Some study notes feed the **raw logits** to `NLLLoss` and get negative "losses". That is
# the picking at work, nothing more: for logits `[[1, 2], [1, 3], [1, 3]]` and targets
# `[0, 1, 1]` it returns $-1, -3, -3$, their sum $-7$ and their mean $-7/3 = -2.3333$. A
# model trained on that would simply grow its logits without limit.

# %%
logits = torch.tensor([[1.0, 2.0], [1.0, 3.0], [1.0, 3.0]])
target = torch.tensor([0, 1, 1])
print("NLLLoss on raw logits  :", F.nll_loss(logits, target, reduction="none"))
print(
    "   sum / mean          :",
    F.nll_loss(logits, target, reduction="sum"),
    F.nll_loss(logits, target),
)
print(
    "NLLLoss(LogSoftmax(x)) :", F.nll_loss(F.log_softmax(logits, dim=1), target, reduction="none")
)
print("CrossEntropyLoss       :", F.cross_entropy(logits, target, reduction="none"))

# %% [markdown]
# ## Class weights and the weighted mean
#
# With `weight` $= (w_1, \dots, w_C)$, each sample's loss is multiplied by the weight of its
# **target** class:
#
# $$
# \ell_i = -\,w_{t_i} \log p_{i, t_i}
# $$
#
# `sum` adds the $\ell_i$. But `mean` does **not** divide by $N$: it divides by the sum of the
# weights of the targets,
#
# $$
# \text{mean} = \frac{\sum_i \ell_i}{\sum_i w_{t_i}}
# $$
#
# so it is a true weighted average of the unweighted losses. Multiplying every weight by 10
# leaves it unchanged; weights only shift the balance between classes.
#
# ### Worked example
#
# The same logits and targets, with `weight = [1, 2]`. The unweighted losses are
# $(1.3133, 0.1269, 0.1269)$; the last two have target 1 and are doubled:
# $(1.3133, 0.2539, 0.2539)$, sum $1.8210$. The targets' weights are $1 + 2 + 2 = 5$, so the
# mean is $1.8210 / 5 = 0.3642$, not $1.8210 / 3 = 0.6070$.

# %%
weight = torch.tensor([1.0, 2.0])
for r in ("none", "sum", "mean"):
    print(f"{r:>4}:", F.cross_entropy(logits, target, weight=weight, reduction=r))
print("sum / N (wrong):", F.cross_entropy(logits, target, weight=weight, reduction="sum") / 3)
print("the nn module  :", nn.CrossEntropyLoss(weight=weight)(logits, target))

# %% [markdown]
# ## Ignored targets
#
# A target equal to `ignore_index` (by default $-100$) contributes nothing: its loss is $0$
# for `none`, and it leaves **both** the sum and the denominator of the mean. Padding tokens
# in a sentence, or unlabelled pixels in a segmentation mask, are the usual use.
#
# When *every* target is ignored, `sum` is $0$ and `mean` is $0/0$: PyTorch returns `nan`.
# Your functions must do the same (dividing the zero sum by the zero weight total gives
# exactly that); do not replace it with $0$.

# %%
t_ignored = torch.tensor([0, -100, 1])
print("none:", F.cross_entropy(logits, t_ignored, weight=weight, reduction="none"))
print("mean:", F.cross_entropy(logits, t_ignored, weight=weight), "= (1.3133 + 0.2539) / (1 + 2)")
all_ignored = torch.full((3,), -100)
print(
    "all ignored, sum and mean:",
    F.cross_entropy(logits, all_ignored, reduction="sum"),
    F.cross_entropy(logits, all_ignored),
)

# %% [markdown]
# ## K-dimensional inputs
#
# For segmentation a model gives $C$ logits *per pixel*: the input has shape
# $(N, C, d_1, \dots, d_k)$ and the target $(N, d_1, \dots, d_k)$. The classes are always
# along **dimension 1**. Each position is one more "sample": `none` returns a loss of the
# target's shape, and `mean` divides by the summed weights over all positions.

# %%
images = torch.randn(2, 3, 4, 4, generator=torch.Generator().manual_seed(0))
mask = torch.randint(0, 3, (2, 4, 4), generator=torch.Generator().manual_seed(1))
print("none shape:", F.cross_entropy(images, mask, reduction="none").shape)
flat = F.cross_entropy(images.permute(0, 2, 3, 1).reshape(-1, 3), mask.reshape(-1))
print("mean:", F.cross_entropy(images, mask), "= the same pixels flattened to (32, 3):", flat)

# %% [markdown]
# ## Label smoothing
#
# With `label_smoothing` $= \varepsilon$, the target is no longer "all of the probability on
# class $t$" but a mixture: $1 - \varepsilon$ on the target class plus $\varepsilon / C$ spread
# over **all** $C$ classes (the target class included). The loss of sample $i$ becomes
#
# $$
# \ell_i = (1 - \varepsilon)\, w_{t_i} \bigl(-\log p_{i,t_i}\bigr)
#        + \frac{\varepsilon}{C} \sum_{c=1}^{C} w_c \bigl(-\log p_{i,c}\bigr)
# $$
#
# Look closely at the weights, as PyTorch applies them: the first term carries the target's
# weight $w_{t_i}$, but in the smoothing term **each class $c$ carries its own weight
# $w_c$**. For `mean`, both terms are divided by the same number as before, the sum of the
# targets' weights $\sum_i w_{t_i}$ (ignored targets excluded from everything).
#
# The plot shows why smoothing is used: for two classes and target 1, without smoothing the
# loss keeps falling as the margin $x_1 - x_0$ grows, so a model is always pushed to be more
# confident; with smoothing the loss has a minimum at a finite margin.

# %%
margins = torch.linspace(-4, 10, 281)
two = torch.stack([torch.zeros_like(margins), margins], dim=1)
ones = torch.ones(len(margins), dtype=torch.long)
fig, ax = plt.subplots(figsize=(6, 3.5))
for eps in (0.0, 0.1, 0.3):
    ax.plot(
        margins,
        F.cross_entropy(two, ones, reduction="none", label_smoothing=eps),
        label=f"ε = {eps}",
    )
ax.set_xlabel("margin x₁ - x₀ (target class 1)")
ax.set_ylabel("cross-entropy")
ax.set_ylim(0, 3)
ax.legend()
ax.set_title("Label smoothing: the loss has a minimum")
plt.show()

# %% [markdown]
# ## Exercise 1: `logsoftmax` (2 points)
#
# Implement `logsoftmax(input)`: the log-softmax over **dimension 1** of a tensor of shape
# $(N, C)$ or $(N, C, d_1, \dots, d_k)$, returned in the input's shape and dtype. It must stay
# finite for logits of size $\pm 1000$: subtract the largest logit along dimension 1 first,
# as in the first notebook (`input.amax(dim=1, keepdim=True)` keeps the dimension so that
# broadcasting works).
#
# Not allowed: `F.log_softmax`, `torch.log_softmax`, `nn.LogSoftmax`, `torch.logsumexp`,
# `torch.softmax` and `F.softmax` (the checks read your code).
#
# The checks try a batch of one, 2-D to 4-D inputs, float32 and float64, with logits of
# standard deviation 3 and 1000 (tolerance $10^{-6}$ relative in float64). They name the
# softmax without its log, the wrong dimension, a missing shift, a shift taken over the
# whole tensor instead of along dimension 1, and a shift left inside the log only.


# %% answer="logsoftmax"
def logsoftmax(input):
    ### BEGIN SOLUTION
    shifted = input - input.amax(dim=1, keepdim=True)
    return shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    ### END SOLUTION


# %% tests="logsoftmax" points=2
# Public checks: fixed random logits, moderate and huge. Silence means they passed.
import torch
import torch.nn.functional as F

from autograder.checking import check_function
from autograder.checking.topics.cross_entropy_options import logit_cases, logsoftmax_mistakes

LOGSOFTMAX_FORBID = [
    "torch.nn.functional.log_softmax",
    "torch.log_softmax",
    "torch.nn.LogSoftmax",
    "torch.logsumexp",
    "torch.softmax",
    "torch.nn.functional.softmax",
]


def _log_softmax(input):
    return F.log_softmax(input, dim=1)


_mistakes = logsoftmax_mistakes()
_cases = logit_cases(seed=20) + logit_cases(seed=21, scale=1000.0)
check_function(
    logsoftmax,
    _log_softmax,
    _cases,
    name="logsoftmax",
    mistakes=_mistakes,
    forbid=LOGSOFTMAX_FORBID,
)
### BEGIN HIDDEN TESTS
_cases = logit_cases(seed=None, draws=6) + logit_cases(seed=None, scale=1000.0)
check_function(
    logsoftmax,
    _log_softmax,
    _cases,
    name="logsoftmax",
    public=False,
    mistakes=_mistakes,
    forbid=LOGSOFTMAX_FORBID,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 2: a weighted mean by hand (1 point)
#
# Write `weighted_mean(logits, target, weight)` for Python lists: `logits` holds $N$ rows of
# $C$ floats, `target` $N$ class indices and `weight` $C$ class weights. Return, as a Python
# `float` (the checks refuse a tensor), the value of
# `F.cross_entropy(logits, target, weight=weight)` (`reduction="mean"`). The `math` module
# is all you need; torch's cross-entropy functions are not allowed.
#
# Work it out on paper first for the logits $(2, 0)$, $(0, 1)$, $(1, 1)$, targets $0, 1, 1$
# and weights `[1, 3]`: that is the public check. The hidden checks use other batches of
# two to six samples and two to four classes (tolerance $10^{-9}$ relative), and name the
# mistake if you divide by the wrong number.


# %% answer="weighted_mean"
def weighted_mean(logits, target, weight):
    ### BEGIN SOLUTION
    total = chosen = 0.0
    for row, t in zip(logits, target, strict=True):
        loss = -row[t] + math.log(sum(math.exp(v) for v in row))
        total += weight[t] * loss
        chosen += weight[t]
    return total / chosen
    ### END SOLUTION


# %% tests="weighted_mean" points=1
# Public check: the batch above, compared with F.cross_entropy.
from autograder.checking import Case, check_function
from autograder.checking.topics import cross_entropy_options as ce_cases

_example = Case(
    "logits (2, 0), (0, 1), (1, 1), targets 0, 1, 1, weight [1, 3]",
    ([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [0, 1, 1], [1.0, 3.0]),
)
check_function(
    weighted_mean,
    ce_cases.weighted_mean_reference,
    [_example],
    rtol=1e-9,
    mistakes=ce_cases.weighted_mean_mistakes(),
    forbid=ce_cases.WEIGHTED_MEAN_FORBID,
    floats=True,
)
### BEGIN HIDDEN TESTS
check_function(
    weighted_mean,
    ce_cases.weighted_mean_reference,
    ce_cases.weighted_mean_cases(seed=None),
    rtol=1e-9,
    public=False,
    mistakes=ce_cases.weighted_mean_mistakes(),
    forbid=ce_cases.WEIGHTED_MEAN_FORBID,
    floats=True,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 3: `nll` (3 points)
#
# Implement `nll(input, target, weight=None, ignore_index=-100, reduction="mean")` as
# `F.nll_loss` defines it:
#
# * `input`: log-probabilities of shape $(N, C)$ or $(N, C, d_1, \dots, d_k)$; `target`:
#   class indices (`torch.long`) of shape $(N)$ or $(N, d_1, \dots, d_k)$;
# * per position, $\ell = -w_t \cdot \text{input}[t]$, and $0$ where the target equals
#   `ignore_index`;
# * `none` returns the $\ell$ in the target's shape, `sum` their sum, and `mean` the sum
#   divided by the sum of $w_t$ over the positions that are **not** ignored (`nan` when all
#   are ignored, as in PyTorch);
# * `weight=None` means all weights are 1. Raise a `ValueError` for an unknown `reduction`.
#
# A hint for ignored positions: their target (say $-100$) is not a valid index. Replace it
# by $0$ before indexing (`torch.where`), then zero those losses with a mask.
# `input.gather(1, index.unsqueeze(1)).squeeze(1)` picks one entry per position along
# dimension 1 for any number of dimensions.
#
# Not allowed: `F.nll_loss`, `nn.NLLLoss`, `F.cross_entropy`, `nn.CrossEntropyLoss`.
#
# The checks try a batch of one, weights, `ignore_index` as $-100$, as another negative
# number (such as $-7$) and as a real class, a batch whose targets are all ignored, 3-D and
# 4-D inputs, float32 and float64, every reduction, and `reduction="average"`, which must
# raise `ValueError`. They recognise a mean divided by $N$, among other mistakes.


# %% answer="nll"
def nll(input, target, weight=None, ignore_index=-100, reduction="mean"):
    ### BEGIN SOLUTION
    keep = target != ignore_index
    safe = torch.where(keep, target, torch.zeros_like(target))
    if weight is None:
        weight = torch.ones(input.shape[1], dtype=input.dtype)
    w = weight[safe] * keep
    losses = -input.gather(1, safe.unsqueeze(1)).squeeze(1) * w
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    if reduction == "mean":
        return losses.sum() / w.sum()
    raise ValueError(f"{reduction} is not a valid value for reduction")
    ### END SOLUTION


# %% tests="nll" points=3
# Public checks: the worked example, then fixed random inputs. Silence means they passed.
import torch
import torch.nn.functional as F

from autograder.checking import Case, check_function
from autograder.checking.topics.basic_losses import check_rejects_bad_reduction
from autograder.checking.topics.cross_entropy_options import index_cases, nll_mistakes

NLL_FORBID = [
    "torch.nn.functional.nll_loss",
    "torch.nn.NLLLoss",
    "torch.nn.functional.cross_entropy",
    "torch.nn.CrossEntropyLoss",
]
_lp = F.log_softmax(torch.tensor([[1.0, 2.0], [1.0, 3.0], [1.0, 3.0]], dtype=torch.float64), dim=1)
_t = torch.tensor([0, 1, 1])
_w = torch.tensor([1.0, 2.0], dtype=torch.float64)
_example = [
    Case(
        f"worked example, weight [1, 2], reduction={r!r}", (_lp, _t), {"weight": _w, "reduction": r}
    )
    for r in ("none", "sum", "mean")
]
_mistakes = nll_mistakes()
check_function(
    nll,
    F.nll_loss,
    _example + index_cases(seed=22, log_probs=True),
    name="nll",
    mistakes=_mistakes,
    forbid=NLL_FORBID,
)
check_rejects_bad_reduction(nll, _example[0])
### BEGIN HIDDEN TESTS
check_function(
    nll,
    F.nll_loss,
    index_cases(seed=None, draws=8, log_probs=True),
    name="nll",
    public=False,
    mistakes=_mistakes,
    forbid=NLL_FORBID,
)
### END HIDDEN TESTS

# %% [markdown]
# ### Label smoothing and weights, checked against PyTorch
#
# Before you implement it, convince yourself that the formula above is what PyTorch
# computes, weights, ignored targets and all:

# %%
x5 = torch.randn(5, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
t5 = torch.tensor([0, 2, -100, 1, 2])
w3 = torch.tensor([0.5, 1.0, 3.0], dtype=torch.float64)
eps = 0.2
keep = t5 != -100
t_safe = torch.where(keep, t5, 0)
logp = F.log_softmax(x5, dim=1)
first = -logp.gather(1, t_safe[:, None]).squeeze(1) * w3[t_safe] * keep
second = -(logp * w3).sum(dim=1) * keep
by_formula = ((1 - eps) * first + eps / 3 * second).sum() / (w3[t_safe] * keep).sum()
print("formula:", by_formula.item())
print("PyTorch:", F.cross_entropy(x5, t5, weight=w3, label_smoothing=eps).item())

# %% [markdown]
# ## Exercise 4: `cross_entropy` (4 points)
#
# Implement `cross_entropy(input, target, weight=None, ignore_index=-100,
# reduction="mean", label_smoothing=0.0)` for **class-index** targets, as `F.cross_entropy`
# computes it: raw logits of shape $(N, C)$ or $(N, C, d_1, \dots, d_k)$, every reduction,
# weights, ignored targets and label smoothing with the formula above. All-ignored batches
# give `nan` for `mean`, as in PyTorch.
#
# You may call your own `logsoftmax` and `nll` from above (that is the point of
# CrossEntropyLoss = LogSoftmax + NLLLoss), or write everything afresh. Not allowed:
# `F.cross_entropy`, `nn.CrossEntropyLoss`, `F.nll_loss`, `nn.NLLLoss`, `F.log_softmax`,
# `torch.log_softmax`, `nn.LogSoftmax`, `torch.logsumexp`.
#
# The checks try everything the `nll` checks try, with and without label smoothing (also
# together with weights and ignored targets), logits of size 1000, and an unknown
# `reduction`, which must raise `ValueError`. They recognise a mean
# divided by $N$, an unweighted smoothing term, smoothing spread over $C-1$ classes, and
# more.


# %% answer="cross_entropy"
def cross_entropy(
    input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0
):
    ### BEGIN SOLUTION
    n_classes = input.shape[1]
    if weight is None:
        weight = torch.ones(n_classes, dtype=input.dtype)
    logp = logsoftmax(input)
    keep = target != ignore_index
    safe = torch.where(keep, target, torch.zeros_like(target))
    w = weight[safe] * keep
    picked = -logp.gather(1, safe.unsqueeze(1)).squeeze(1) * w
    class_shape = (1, n_classes) + (1,) * (input.dim() - 2)
    spread = -(logp * weight.reshape(class_shape)).sum(dim=1) * keep
    losses = (1 - label_smoothing) * picked + label_smoothing / n_classes * spread
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    if reduction == "mean":
        return losses.sum() / w.sum()
    raise ValueError(f"{reduction} is not a valid value for reduction")
    ### END SOLUTION


# %% tests="cross_entropy" points=4
# Public checks: the worked example, then fixed random inputs. Silence means they passed.
import torch
import torch.nn.functional as F

from autograder.checking import Case, check_function
from autograder.checking.topics.basic_losses import check_rejects_bad_reduction
from autograder.checking.topics.cross_entropy_options import ce_mistakes, index_cases

CE_FORBID = [
    "torch.nn.functional.cross_entropy",
    "torch.nn.CrossEntropyLoss",
    "torch.nn.functional.nll_loss",
    "torch.nn.NLLLoss",
    "torch.nn.functional.log_softmax",
    "torch.log_softmax",
    "torch.nn.LogSoftmax",
    "torch.logsumexp",
]
_x = torch.tensor([[1.0, 2.0], [1.0, 3.0], [1.0, 3.0]], dtype=torch.float64)
_t = torch.tensor([0, 1, 1])
_w = torch.tensor([1.0, 2.0], dtype=torch.float64)
_example = [
    Case(
        f"worked example, weight [1, 2], reduction={r!r}", (_x, _t), {"weight": _w, "reduction": r}
    )
    for r in ("none", "sum", "mean")
]
_mistakes = ce_mistakes()
_cases = _example + index_cases(seed=23, smoothing=True)
_cases += index_cases(seed=24, draws=1, smoothing=True, scale=1000.0)
check_function(
    cross_entropy,
    F.cross_entropy,
    _cases,
    name="cross_entropy",
    mistakes=_mistakes,
    forbid=CE_FORBID,
)
check_rejects_bad_reduction(cross_entropy, _example[0])
### BEGIN HIDDEN TESTS
_cases = index_cases(seed=None, draws=8, smoothing=True)
_cases += index_cases(seed=None, draws=2, smoothing=True, scale=1000.0)
check_function(
    cross_entropy,
    F.cross_entropy,
    _cases,
    name="cross_entropy",
    public=False,
    mistakes=_mistakes,
    forbid=CE_FORBID,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Probability targets
#
# Instead of one class index per sample, `target` may hold a **distribution** over the
# classes, of the same shape as the input (a float tensor). Two common training methods
# produce such targets: **mixup**, which trains on blends of two images,
# $\lambda x_1 + (1 - \lambda) x_2$, with the target blended the same way ($\lambda$ on the
# first image's class, $1 - \lambda$ on the second's), and **knowledge distillation**, where a
# small *student* network learns to reproduce the softmax output of a larger, trained
# *teacher*. The loss is the cross-entropy between the two distributions:
#
# $$
# \ell_i = -\sum_{c=1}^{C} w_c\, y_{i,c} \log p_{i,c}
# $$
#
# With label smoothing, the target is first mixed with the uniform distribution,
# $y \leftarrow (1 - \varepsilon)\, y + \varepsilon / C$. Two rules differ from class
# indices: `ignore_index` does not apply, and **`mean` divides by the number of samples**
# $N$ (times $d_1 \cdots d_k$), not by any sum of weights, since no single class is "the
# target".
#
# A one-hot target with no weights gives back the class-index loss:

# %%
onehot = F.one_hot(target, 2).to(logits.dtype)
print("one-hot probabilities:", F.cross_entropy(logits, onehot))
print("class indices        :", F.cross_entropy(logits, target))
print("weighted, one-hot    :", F.cross_entropy(logits, onehot, weight=weight), "(sum / N)")
print(
    "weighted, indices    :",
    F.cross_entropy(logits, target, weight=weight),
    "(sum / summed weights)",
)

# %% [markdown]
# ## Exercise 5: `soft_cross_entropy` (3 points)
#
# Implement `soft_cross_entropy(input, target, weight=None, reduction="mean", label_smoothing=0.0)`
# for probability targets as above: `input` and `target` of the same shape $(N, C)$ or
# $(N, C, d_1, \dots, d_k)$, the classes along dimension 1; `none` returns one loss per
# sample (and position), of shape $(N, d_1, \dots, d_k)$.
#
# Here `mean` is a plain mean over the samples (and positions), so finish with
# `return reduce(losses, reduction)`. The same functions as in Exercise 4 are forbidden;
# your own `logsoftmax` is welcome. The checks try a batch of one, 2-D and 3-D inputs,
# weights and label smoothing (alone and together), float32 and float64, every reduction,
# and an unknown `reduction`, which must raise `ValueError`.


# %% answer="soft_cross_entropy"
def soft_cross_entropy(input, target, weight=None, reduction="mean", label_smoothing=0.0):
    ### BEGIN SOLUTION
    n_classes = input.shape[1]
    y = (1 - label_smoothing) * target + label_smoothing / n_classes
    terms = -y * logsoftmax(input)
    if weight is not None:
        terms = terms * weight.reshape((1, n_classes) + (1,) * (input.dim() - 2))
    return reduce(terms.sum(dim=1), reduction)
    ### END SOLUTION


# %% tests="soft_cross_entropy" points=3
# Public checks: fixed random logits and target distributions. Silence means they passed.
import torch.nn.functional as F

from autograder.checking import check_function
from autograder.checking.topics.basic_losses import check_rejects_bad_reduction
from autograder.checking.topics.cross_entropy_options import prob_cases, soft_ce_mistakes

SOFT_FORBID = [
    "torch.nn.functional.cross_entropy",
    "torch.nn.CrossEntropyLoss",
    "torch.nn.functional.nll_loss",
    "torch.nn.NLLLoss",
    "torch.nn.functional.log_softmax",
    "torch.log_softmax",
    "torch.nn.LogSoftmax",
    "torch.logsumexp",
]
_mistakes = soft_ce_mistakes()
check_function(
    soft_cross_entropy,
    F.cross_entropy,
    prob_cases(seed=25),
    name="soft_cross_entropy",
    mistakes=_mistakes,
    forbid=SOFT_FORBID,
)
check_rejects_bad_reduction(soft_cross_entropy, prob_cases(seed=25)[0])
### BEGIN HIDDEN TESTS
check_function(
    soft_cross_entropy,
    F.cross_entropy,
    prob_cases(seed=None, draws=6) + prob_cases(seed=None, draws=1, scale=1000.0),
    name="soft_cross_entropy",
    public=False,
    mistakes=_mistakes,
    forbid=SOFT_FORBID,
)
### END HIDDEN TESTS

# %% [markdown] manual="why_logits" points=2
# ## Question (2 points, graded by your instructor)
#
# `nn.CrossEntropyLoss` takes the raw logits, not the probabilities of a softmax. Give two
# reasons why it is designed that way, each in a sentence or two. (Think of what happens
# for logits of $\pm 1000$, and of a model that ends in `nn.Softmax` and is trained with
# `nn.CrossEntropyLoss`.)
#
# Write your answer in this cell.
#
# ### BEGIN SOLUTION
# **A model answer.** (1) Numerical stability: from logits the loss is computed as
# $-x_t + \log\sum_j e^{x_j}$ with the largest logit subtracted first, which stays finite
# for any logits; from probabilities it would need $\log p_t$ of a softmax that has already
# rounded to 0 (or 1) for large logits, giving `inf` or `nan` and no useful gradient.
# (2) Softmax applied twice: the loss applies log-softmax itself, so a model that already
# ends in a softmax gets a second one; its inputs lie in $[0, 1]$, the predictions are
# squashed towards uniform, the loss cannot get near 0, and the gradients shrink, so the
# model trains slowly or not at all. A third acceptable reason: with logits the gradient
# is simply $\operatorname{softmax}(x) - \text{one-hot}$, which never saturates.
#
# **Rubric (2 points).** One point for each of two distinct, correct reasons: numerical
# stability of log-sum-exp / log-softmax on logits; the double softmax (and its effect on
# the loss or the gradients); the simple, non-saturating gradient. No point for "because
# PyTorch says so" or for a reason that only restates the formula.
# ### END SOLUTION

# %% [markdown]
# ## The gradient: softmax minus one-hot
#
# Take one sample with logits $x_1, \dots, x_C$, target $t$ and no weights:
# $\ell = -x_t + \log \sum_j e^{x_j}$. Differentiate with respect to $x_k$:
#
# $$
# \frac{\partial \ell}{\partial x_k}
#   = -\mathbb{1}[k = t] + \frac{e^{x_k}}{\sum_j e^{x_j}}
#   = p_k - \mathbb{1}[k = t]
# $$
#
# The gradient is the softmax minus the one-hot target: it pushes the target's logit up by
# $1 - p_t$ and every other logit down by its probability. Its entries sum to $0$, and it
# vanishes only when the model is certain and right.
#
# The options only *scale* each row:
#
# * `weight`: row $i$ is multiplied by $w_{t_i}$;
# * `sum`: the rows are the per-sample gradients;
# * `mean`: every row is divided by the denominator of the mean, $\sum_i w_{t_i}$
#   ($N$ without weights);
# * `none`: the loss is a vector, so "the gradient" needs a direction; we take the gradient of
#   the sum of the per-sample losses (the same as `loss.backward(torch.ones_like(loss))`),
#   which equals the `sum` gradient.
#
# Autograd agrees:

# %%
x = logits.clone().requires_grad_()
F.cross_entropy(x, target, weight=weight).backward()
probs = F.softmax(logits, dim=1)
by_hand = (probs - F.one_hot(target, 2)) * weight[target][:, None] / weight[target].sum()
print("autograd:", x.grad)
print("by hand :", by_hand)

# %% [markdown]
# ## Exercise 6: `cross_entropy_grad` (3 points)
#
# Implement `cross_entropy_grad(input, target, weight=None, reduction="mean")`: the gradient
# of `F.cross_entropy(input, target, weight=weight, reduction=reduction)` with respect to
# `input`, for logits of shape $(N, C)$ and class indices of shape $(N)$, returned in the
# input's shape and dtype. For `reduction="none"` return the gradient of the sum of the
# per-sample losses, as explained above.
#
# Use the formula; `torch.softmax` (or your own `logsoftmax(...).exp()`) and
# `F.one_hot` are allowed. Autograd is not: the checks refuse `backward`, `torch.autograd`,
# `torch.func` and `F.cross_entropy` (a variable of your own named `grad` is fine).
#
# The checks compare with autograd computed in float64, for a batch of one and random
# batches, with and without weights, every reduction, float32 and float64. They name a
# flipped sign, the weights left out, a weighted mean divided by $N$ and the gradient of
# the sum given for `mean`.


# %% answer="cross_entropy_grad"
def cross_entropy_grad(input, target, weight=None, reduction="mean"):
    ### BEGIN SOLUTION
    n_classes = input.shape[1]
    if weight is None:
        weight = torch.ones(n_classes, dtype=input.dtype)
    w = weight[target]
    rows = (torch.softmax(input, dim=1) - F.one_hot(target, n_classes).to(input.dtype)) * w[:, None]
    if reduction in ("none", "sum"):
        return rows
    if reduction == "mean":
        return rows / w.sum()
    raise ValueError(f"{reduction} is not a valid value for reduction")
    ### END SOLUTION


# %% tests="cross_entropy_grad" points=3
# Public checks: autograd in float64 is the reference. Silence means they passed.
from autograder.checking import check_function
from autograder.checking.topics.cross_entropy_options import (
    autograd_ce_grad,
    grad_cases,
    grad_mistakes,
)

GRAD_FORBID = [
    "torch.Tensor.backward",
    "torch.autograd",
    "torch.autograd.grad",
    "torch.autograd.backward",
    "torch.func",
    "torch.nn.functional.cross_entropy",
]
_mistakes = grad_mistakes()
check_function(
    cross_entropy_grad,
    autograd_ce_grad,
    grad_cases(seed=26),
    name="cross_entropy_grad",
    mistakes=_mistakes,
    forbid=GRAD_FORBID,
)
### BEGIN HIDDEN TESTS
check_function(
    cross_entropy_grad,
    autograd_ce_grad,
    grad_cases(seed=None, draws=6) + grad_cases(seed=None, draws=1, scale=30.0),
    name="cross_entropy_grad",
    public=False,
    mistakes=_mistakes,
    forbid=GRAD_FORBID,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Summary
#
# * `CrossEntropyLoss` is `NLLLoss(LogSoftmax(x))`. NLLLoss only picks $-\text{input}[t]$,
#   so on raw logits it gives meaningless negative numbers.
# * With `weight`, sample $i$ counts $w_{t_i}$ times, and `mean` divides by
#   $\sum_i w_{t_i}$, not by $N$.
# * Targets equal to `ignore_index` leave the sum and the denominator; if all are ignored,
#   the mean is `nan`.
# * Label smoothing adds $\frac{\varepsilon}{C}\sum_c w_c(-\log p_c)$, each class with its
#   own weight, and divides by the same $\sum_i w_{t_i}$.
# * With probability targets, `mean` divides by $N$.
# * $\partial \ell / \partial x = \text{softmax}(x) - \text{one-hot}(t)$, scaled by
#   $w_{t_i}$ and by $1/\sum_i w_{t_i}$ for the mean.
