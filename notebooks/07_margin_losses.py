# %% [markdown]
# # 7. Margin losses: ranking, embeddings and triplets
#
# Cross-entropy never stops pushing: even a confident, correct prediction still gets a small
# loss and a small gradient. A **margin loss** is content sooner. It asks that the right
# answer beat the wrong one *by at least a margin* $m$, and once it does, the loss and its
# gradient are exactly zero. Every loss in this notebook is built from one piece, the
# **hinge**
#
# $$
# \max(0,\; m - s)
# $$
#
# where $s$ says how clearly the model got it right: a score difference, a distance, or a
# cosine similarity.
#
# | PyTorch | compares | typical use |
# | --- | --- | --- |
# | `nn.MarginRankingLoss` | two scores | ranking: which of two items comes first |
# | `nn.HingeEmbeddingLoss` | a distance, same or different | similar / dissimilar pairs |
# | `nn.CosineEmbeddingLoss` | the angle between two vectors | embeddings compared by direction |
# | `nn.MultiMarginLoss` | the right class against every other | SVM-style classification |
# | `nn.MultiLabelMarginLoss` | every label against every non-label | multi-label tagging |
# | `nn.TripletMarginLoss` | anchor-positive against anchor-negative | face verification, search |
# | `nn.TripletMarginWithDistanceLoss` | the same, any distance | metric learning, cosine distance |
#
# You implement all seven, with every option and reduction PyTorch gives them. Each computes
# one loss per element or sample and ends with `return reduce(losses, reduction)`, the
# course's version of your function from notebook 1 (imported in the first cell), which also
# raises the `ValueError` for an unknown `reduction`.
#
# **How the checks work.** Each exercise is followed by a cell of *public checks*. They run
# your code against PyTorch on fixed inputs: if the cell prints nothing, they passed. When
# your notebook is graded, *hidden checks* run as well, on fresh random inputs, so passing
# the public checks is a good sign but not yet full marks.

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn as nn
import torch.nn.functional as F

import autograder.checking.topics.margin_losses  # noqa: F401 (the checks load first)
from autograder.checking.topics.basic_losses import reduce  # your reduce from notebook 1

torch.set_printoptions(precision=4)

# %% [markdown]
# ## The margin in a picture
#
# Take a ranking task: the model gives item 1 the score $x_1$ and item 2 the score $x_2$,
# and item 1 should come first. With $s = x_1 - x_2$ the loss is $\max(0, m - s)$.
#
# * $s < 0$: the order is wrong, and the loss grows linearly with the mistake.
# * $0 \le s < m$: the order is right, but not by enough: the loss is still positive.
# * $s \ge m$: right by the margin or more: loss $0$, gradient $0$. The model stops
#   spending effort on this pair.
#
# With $m = 0$ only the order counts. A positive margin asks for a clear gap, which makes the
# ranking robust to small changes in the scores.
#
# The right panel shows the same idea for pairs of embeddings with a distance $d$: a similar
# pair pays $d$ itself (pull the two together), a dissimilar pair pays only while it is
# closer than the margin (push apart, but only up to $m$).

# %%
s = torch.linspace(-1.5, 2.5, 401)
d = torch.linspace(0.0, 2.5, 251)
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
for m in (0.0, 0.5, 1.0):
    left.plot(s, (m - s).clamp(min=0), label=f"margin m = {m:g}")
left.axvspan(0.0, 1.0, color="tab:green", alpha=0.12, label="right order, inside m = 1")
left.axvline(0.0, color="gray", lw=0.8)
left.set_xlabel("score difference s = x1 - x2 (item 1 should win)")
left.set_ylabel("loss max(0, m - s)")
left.set_title("Margin ranking: the hinge")
left.legend(fontsize=8)
right.plot(d, d, label="similar pair (y = 1): d")
right.plot(d, (1.0 - d).clamp(min=0), label="dissimilar pair (y = -1): max(0, 1 - d)")
right.axvline(1.0, color="gray", ls="--", lw=0.8)
right.annotate("margin m = 1", (1.02, 1.6), fontsize=8)
right.set_xlabel("distance d between the two embeddings")
right.set_title("Hinge embedding: pull together, push apart")
right.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Margin ranking loss
#
# Inputs are two tensors of scores, $x_1$ and $x_2$, and a target $y$ of $+1$ ("$x_1$ should
# be larger") or $-1$ ("$x_2$ should be larger"), all of the **same shape**. Element by
# element,
#
# $$
# \ell_i = \max\big(0,\; -y_i\,(x_{1,i} - x_{2,i}) + m\big)
# $$
#
# and `reduction` (default `mean`) combines them. The margin `margin` defaults to $0$.
#
# **When to pick it.** Whenever the labels are comparisons rather than values: "document A
# is more relevant than document B", "photo A is prettier than photo B". The same network
# scores both items (a *siamese* setup), and the loss only cares about the order, so the
# scores need no particular scale.
#
# ### Worked example
#
# Scores $x_1 = (1, 2, 3)$, $x_2 = (2, 2, 2)$, targets $y = (1, 1, -1)$, margin $0$:
#
# * pair 1 wants $x_1 > x_2$ but has $1 < 2$: loss $\max(0, -(1-2)) = 1$;
# * pair 2 is a tie: loss $\max(0, 0) = 0$ (with a margin $m$ a tie would cost $m$);
# * pair 3 wants $x_2 > x_1$ but has $3 > 2$: loss $\max(0, (3-2)) = 1$.

# %%
x1 = torch.tensor([1.0, 2.0, 3.0])
x2 = torch.tensor([2.0, 2.0, 2.0])
y = torch.tensor([1.0, 1.0, -1.0])
print("none  :", nn.MarginRankingLoss(reduction="none")(x1, x2, y))
print("mean  :", nn.MarginRankingLoss()(x1, x2, y))
print("m=0.5 :", F.margin_ranking_loss(x1, x2, y, margin=0.5, reduction="none"))

# %% [markdown]
# **A correction.** Some study notes feed scores of shape $(3, 1)$ with a target of shape
# $(3,)$ and report a $3 \times 3$ "loss matrix" that supposedly compares every pair. In
# current PyTorch that call raises an error, because all three tensors must have the same
# number of dimensions:

# %%
try:
    nn.MarginRankingLoss(reduction="none")(x1.view(3, 1), x2.view(3, 1), y)
except RuntimeError as error:
    print("RuntimeError:", str(error).strip())

# %% [markdown]
# That matrix did not compare every pair anyway. It is what *broadcasting* produces: a
# $(3, 1)$ column against a $(1, 3)$ row gives $3 \times 3$, and entry $(i, j)$ is
# $\max(0, -y_j (x_{1,i} - x_{2,i}))$, pair $i$ judged against the label of pair $j$.
# Reproduced with an explicit $(1, 3)$ target, every row reuses one pair:

# %%
print(F.margin_ranking_loss(x1.view(3, 1), x2.view(3, 1), y.view(1, 3), reduction="none"))

# %% [markdown]
# ## Exercise 1: `margin_ranking_loss` (2 points)
#
# Implement `margin_ranking_loss(input1, input2, target, margin=0.0, reduction="mean")` as
# `F.margin_ranking_loss` defines it, for tensors of any (common) shape and all three
# reductions. Return a 0-dim tensor for `sum` and `mean` and a tensor of the inputs' shape
# for `none`; raise a `ValueError` for any other `reduction`.
#
# Not allowed: `F.margin_ranking_loss`, `torch.margin_ranking_loss`, `nn.MarginRankingLoss`
# (the checks read your code and refuse them).
#
# The checks try the worked example, then 0-dim tensors (one pair) and random shapes from
# one to three dimensions in float64 and float32, margins 0, 0.5, 1 and 2, ties
# ($x_1 = x_2$), and `reduction="average"`, which must raise `ValueError`. They recognise a
# flipped sign, a subtracted margin, a forgotten $\max(0, \cdot)$ and a wrong reduction.


# %% answer="margin_ranking_loss"
def margin_ranking_loss(input1, input2, target, margin=0.0, reduction="mean"):
    ### BEGIN SOLUTION
    losses = (-target * (input1 - input2) + margin).clamp(min=0)
    return reduce(losses, reduction)
    ### END SOLUTION


# %% tests="margin_ranking_loss" points=2
# Public checks: the worked example and fixed random inputs. Silence means they passed.
import torch
import torch.nn.functional as F

from autograder.checking import Case, check_function
from autograder.checking.topics.margin_losses import (
    check_rejects_bad_reduction,
    margin_ranking_cases,
    margin_ranking_mistakes,
)

_forbid = [
    "torch.nn.functional.margin_ranking_loss",
    "torch.margin_ranking_loss",
    "torch.nn.MarginRankingLoss",
]
_args = (
    torch.tensor([1.0, 2.0, 3.0]),
    torch.tensor([2.0, 2.0, 2.0]),
    torch.tensor([1.0, 1.0, -1.0]),
)
_example = [
    Case(f"worked example, margin={m}, reduction={r!r}", _args, {"margin": m, "reduction": r})
    for m in (0.0, 0.5)
    for r in ("none", "sum", "mean")
]
_mistakes = margin_ranking_mistakes()
check_function(
    margin_ranking_loss,
    F.margin_ranking_loss,
    _example + margin_ranking_cases(seed=1),
    mistakes=_mistakes,
    forbid=_forbid,
)
check_rejects_bad_reduction(margin_ranking_loss, _example[0])
### BEGIN HIDDEN TESTS
check_function(
    margin_ranking_loss,
    F.margin_ranking_loss,
    margin_ranking_cases(seed=None, draws=8),
    public=False,
    mistakes=_mistakes,
    forbid=_forbid,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Hinge embedding loss
#
# Here the input $x$ is already a **distance**, usually between two embeddings (for example
# the L1 distance $|a - b|$ summed over features), and the target says whether the pair is
# similar ($y = 1$) or not ($y = -1$):
#
# $$
# \ell_i = \begin{cases} x_i & \text{if } y_i = 1 \\
# \max(0,\; m - x_i) & \text{if } y_i = -1 \end{cases}
# $$
#
# The margin `margin` defaults to $1$. Similar pairs are pulled together with a force that
# never lets go; dissimilar pairs are pushed apart only until they are $m$ away. Without
# that cut-off, the easiest way to lower the loss would be to spread all embeddings
# infinitely far apart.
#
# **When to pick it.** For pairs labelled same/different, such as two signatures by the same
# person or not, and in semi-supervised setups where such pairs are cheap to make. It is a
# close cousin of the *contrastive loss* (which squares both branches).
#
# ### Worked example
#
# Distances $x = (1, 0.8, 0.5)$, labels $y = (1, 1, -1)$, margin $1$: the two similar pairs
# pay their distances $1$ and $0.8$; the dissimilar pair is $0.5$ away, closer than the
# margin, and pays $\max(0, 1 - 0.5) = 0.5$.

# %%
x = torch.tensor([[1.0, 0.8, 0.5]])
y = torch.tensor([[1, 1, -1]])
print("none :", nn.HingeEmbeddingLoss(margin=1.0, reduction="none")(x, y))
print("mean :", nn.HingeEmbeddingLoss(margin=1.0)(x, y))

# %% [markdown]
# ## Exercise 2: `hinge_embedding_loss` (2 points)
#
# Implement `hinge_embedding_loss(input, target, margin=1.0, reduction="mean")` as
# `F.hinge_embedding_loss` defines it, for any shape, targets of $+1$ and $-1$ (integer or
# floating point), and all three reductions (a `ValueError` for any other). The result has
# the input's dtype. `torch.where` is handy.
#
# Not allowed: `F.hinge_embedding_loss`, `torch.hinge_embedding_loss`,
# `nn.HingeEmbeddingLoss`.
#
# The checks try the worked example, then 0-dim tensors and random shapes with mostly
# non-negative inputs (a few negative ones, and one exactly on the margin), margins 1, 0.5,
# 2 and 0, in float64 and float32, targets in the input's dtype and as `torch.int64`, and
# an unknown `reduction`. They recognise the hinge used for both labels, the labels' roles
# swapped, a forgotten $\max(0, \cdot)$ and a wrong reduction.


# %% answer="hinge_embedding_loss"
def hinge_embedding_loss(input, target, margin=1.0, reduction="mean"):
    ### BEGIN SOLUTION
    losses = torch.where(target == 1, input, (margin - input).clamp(min=0))
    return reduce(losses, reduction)
    ### END SOLUTION


# %% tests="hinge_embedding_loss" points=2
# Public checks: the worked example and fixed random inputs. Silence means they passed.
import torch
import torch.nn.functional as F

from autograder.checking import Case, check_function
from autograder.checking.topics.margin_losses import (
    check_rejects_bad_reduction,
    hinge_embedding_cases,
    hinge_embedding_mistakes,
)

_forbid = [
    "torch.nn.functional.hinge_embedding_loss",
    "torch.hinge_embedding_loss",
    "torch.nn.HingeEmbeddingLoss",
]
_args = (torch.tensor([[1.0, 0.8, 0.5]]), torch.tensor([[1, 1, -1]]))
_example = [
    Case(f"worked example, margin={m}, reduction={r!r}", _args, {"margin": m, "reduction": r})
    for m in (1.0, 0.7)
    for r in ("none", "sum", "mean")
]
_mistakes = hinge_embedding_mistakes()
check_function(
    hinge_embedding_loss,
    F.hinge_embedding_loss,
    _example + hinge_embedding_cases(seed=2),
    mistakes=_mistakes,
    forbid=_forbid,
)
check_rejects_bad_reduction(hinge_embedding_loss, _example[0])
### BEGIN HIDDEN TESTS
check_function(
    hinge_embedding_loss,
    F.hinge_embedding_loss,
    hinge_embedding_cases(seed=None, draws=8),
    public=False,
    mistakes=_mistakes,
    forbid=_forbid,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Cosine embedding loss
#
# This loss compares two batches of vectors $x_1, x_2$ of shape $(N, D)$ by the **angle**
# between them, through the cosine similarity of each row pair,
#
# $$
# \cos(a, b) = \frac{\sum_k a_k b_k}
# {\sqrt{\big(\sum_k a_k^2 + \epsilon\big)\big(\sum_k b_k^2 + \epsilon\big)}},
# \qquad \epsilon = 10^{-12},
# $$
#
# and a 1-D target $y$ of shape $(N,)$:
#
# $$
# \ell_i = \begin{cases} 1 - \cos(x_{1,i}, x_{2,i}) & \text{if } y_i = 1 \\
# \max\big(0,\; \cos(x_{1,i}, x_{2,i}) - m\big) & \text{if } y_i = -1 \end{cases}
# $$
#
# The tiny $\epsilon$ is PyTorch's: it keeps a zero vector from dividing $0$ by $0$ (its
# cosine with anything is then $0$). The margin lies between $-1$ and $1$ and defaults to
# $0$; values from $0$ to $0.5$ are common. A similar pair is pushed towards cosine $1$; a
# dissimilar pair only until its cosine drops below $m$.
#
# **When to pick it.** When the *direction* of an embedding carries the meaning and its
# length does not, as with sentence or image embeddings that are compared by cosine
# similarity at search time anyway.
#
# ### Worked example
#
# Both rows compare $(0.3, 0.5, 0.7)$ with $(0.1, 0.3, 0.5)$: the cosine is $0.9833$. For
# $y = 1$ the loss is $1 - 0.9833 = 0.0167$; for $y = -1$ and margin $0$ it is
# $\max(0, 0.9833 - 0) = 0.9833$.

# %%
a = torch.tensor([[0.3, 0.5, 0.7], [0.3, 0.5, 0.7]])
b = torch.tensor([[0.1, 0.3, 0.5], [0.1, 0.3, 0.5]])
y = torch.tensor([1.0, -1.0])
cos = (a * b).sum(dim=1) / (a.norm(dim=1) * b.norm(dim=1))
print("cosines :", cos)
print("none    :", nn.CosineEmbeddingLoss(reduction="none")(a, b, y))

# %% [markdown]
# **A correction.** The target is one label per *row*, so it is 1-D. Some notes write it as
# `[[1, -1]]`, a 2-D tensor; current PyTorch refuses that:

# %%
try:
    nn.CosineEmbeddingLoss(reduction="none")(a, b, y.view(1, 2))
except RuntimeError as error:
    print("RuntimeError:", str(error).strip())

# %% [markdown]
# ## Exercise 3: `cosine_embedding_loss` (2 points)
#
# Implement `cosine_embedding_loss(input1, input2, target, margin=0.0, reduction="mean")` for
# inputs of shape $(N, D)$ and a target of shape $(N,)$ with values $\pm 1$, computing the
# cosine yourself with the $\epsilon = 10^{-12}$ exactly as in the formula above, and all
# three reductions (a `ValueError` for any other).
#
# Not allowed: `F.cosine_embedding_loss`, `torch.cosine_embedding_loss`,
# `nn.CosineEmbeddingLoss`, and the cosine-similarity helpers `F.cosine_similarity`,
# `torch.cosine_similarity`, `nn.CosineSimilarity`.
#
# The checks try the worked example, then random batches ($N$ from 1, $D \ge 2$) in float64
# and float32 with margins 0, 0.5, -0.3 and 0.9, including an all-zero row and a parallel
# pair, and an unknown `reduction`. They recognise $1 + \cos$ for $y = -1$, an ignored
# margin, a forgotten $\max(0, \cdot)$ and a dot product not divided by the norms.


# %% answer="cosine_embedding_loss"
def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction="mean"):
    ### BEGIN SOLUTION
    eps = 1e-12
    dot = (input1 * input2).sum(dim=1)
    squares1 = (input1 * input1).sum(dim=1) + eps
    squares2 = (input2 * input2).sum(dim=1) + eps
    cos = dot / (squares1 * squares2).sqrt()
    losses = torch.where(target == 1, 1 - cos, (cos - margin).clamp(min=0))
    return reduce(losses, reduction)
    ### END SOLUTION


# %% tests="cosine_embedding_loss" points=2
# Public checks: the worked example and fixed random inputs. Silence means they passed.
import torch
import torch.nn.functional as F

from autograder.checking import Case, check_function
from autograder.checking.topics.margin_losses import (
    check_rejects_bad_reduction,
    cosine_embedding_cases,
    cosine_embedding_mistakes,
)

_forbid = [
    "torch.nn.functional.cosine_embedding_loss",
    "torch.cosine_embedding_loss",
    "torch.nn.CosineEmbeddingLoss",
    "torch.nn.functional.cosine_similarity",
    "torch.cosine_similarity",
    "torch.nn.CosineSimilarity",
]
_args = (
    torch.tensor([[0.3, 0.5, 0.7], [0.3, 0.5, 0.7]]),
    torch.tensor([[0.1, 0.3, 0.5], [0.1, 0.3, 0.5]]),
    torch.tensor([1.0, -1.0]),
)
_example = [
    Case(f"worked example, margin={m}, reduction={r!r}", _args, {"margin": m, "reduction": r})
    for m in (0.0, 0.5)
    for r in ("none", "sum", "mean")
]
_mistakes = cosine_embedding_mistakes()
check_function(
    cosine_embedding_loss,
    F.cosine_embedding_loss,
    _example + cosine_embedding_cases(seed=3),
    mistakes=_mistakes,
    forbid=_forbid,
)
check_rejects_bad_reduction(cosine_embedding_loss, _example[0])
### BEGIN HIDDEN TESTS
check_function(
    cosine_embedding_loss,
    F.cosine_embedding_loss,
    cosine_embedding_cases(seed=None, draws=8),
    public=False,
    mistakes=_mistakes,
    forbid=_forbid,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Multi-class margin loss
#
# `MultiMarginLoss` is the hinge loss of a multi-class support vector machine. For scores
# $x$ of shape $(N, C)$ and the right classes $y$ of shape $(N,)$, each sample pays for
# every *other* class whose score comes within the margin of the right one:
#
# $$
# \ell_n = \frac{1}{C} \sum_{i \ne y_n} w_{y_n} \max\big(0,\; m - x_{n,y_n} + x_{n,i}\big)^p
# $$
#
# * `p` is $1$ (default) or $2$ (a squared hinge, gentler near the margin);
# * `margin` $m$ defaults to $1$;
# * `weight` $w$, one number per class, scales the whole loss of a sample by the weight of
#   its *right* class (after the power), to make rare classes count more. It is optional.
#
# Note the divisor: $C$, the number of classes, even though only $C - 1$ terms are summed.
# And `reduction="mean"` is a plain mean over the $N$ samples, *not* divided by the summed
# weights as `CrossEntropyLoss` does.
#
# **When to pick it.** As an alternative to cross-entropy when you want a classifier that
# stops pushing once every wrong class is a margin behind. It can be less sensitive to
# noisy, already well-separated examples, but its scores are not probabilities.
#
# ### Worked example
#
# Scores $(0.1, 0.2, 0.7)$ with right class $1$: the other classes give
# $\max(0, 1 - 0.2 + 0.1) = 0.9$ and $\max(0, 1 - 0.2 + 0.7) = 1.5$, so
# $\ell = (0.9 + 1.5)/3 = 0.8$. Scores $(0.2, 0.5, 0.3)$ with right class $2$:
# $(1 - 0.3 + 0.2) + (1 - 0.3 + 0.5) = 0.9 + 1.2$, so $\ell = 2.1/3 = 0.7$.

# %%
x = torch.tensor([[0.1, 0.2, 0.7], [0.2, 0.5, 0.3]])
y = torch.tensor([1, 2])
print("none        :", nn.MultiMarginLoss(reduction="none")(x, y))
print("by hand     :", torch.tensor([(0.9 + 1.5) / 3, (0.9 + 1.2) / 3]))
print("p=2         :", F.multi_margin_loss(x, y, p=2, reduction="none"))
w = torch.tensor([1.0, 2.0, 3.0])
print("weight      :", F.multi_margin_loss(x, y, weight=w, reduction="none"))
print("weight, mean:", F.multi_margin_loss(x, y, weight=w), "= (1.6 + 2.1) / 2")

# %% [markdown]
# ## Exercise 4: `multi_margin_loss` (3 points)
#
# Implement `multi_margin_loss(input, target, p=1, margin=1.0, weight=None,
# reduction="mean")` as `F.multi_margin_loss` defines it, for `input` of shape $(N, C)$,
# class indices `target` of shape $(N,)$, `p` of 1 or 2, an optional `weight` of shape
# $(C,)$, and all three reductions (a `ValueError` for any other).
#
# Not allowed: `F.multi_margin_loss`, `nn.MultiMarginLoss` and the internal
# `torch._C._nn.multi_margin_loss`.
#
# The checks try the worked example, then every combination of `p` and `weight` in float64
# and float32, with random sizes ($N = 1$ and $C = 2$ included) and margins 1, 0.5, 2 and
# 0, and for both `p` a negative margin ($-0.5$) with class weights of both signs (torch
# takes both as they come: nothing is clamped or made positive). They recognise a weighted
# mean, a weight applied before squaring, the right class counted in the sum, a division by
# $C - 1$ and a forgotten weight.


# %% answer="multi_margin_loss"
def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, reduction="mean"):
    ### BEGIN SOLUTION
    n, c = input.shape
    right = input.gather(1, target.unsqueeze(1))  # x[n, y_n], shape (N, 1)
    terms = (margin - right + input).clamp(min=0) ** p
    if weight is not None:
        terms = terms * weight[target].unsqueeze(1)
    terms[torch.arange(n), target] = 0.0  # the right class is not compared with itself
    losses = terms.sum(dim=1) / c
    return reduce(losses, reduction)
    ### END SOLUTION


# %% tests="multi_margin_loss" points=3
# Public checks: the worked example and fixed random inputs. Silence means they passed.
import torch
import torch.nn.functional as F

from autograder.checking import Case, check_function
from autograder.checking.topics.margin_losses import (
    check_rejects_bad_reduction,
    multi_margin_cases,
    multi_margin_mistakes,
)

_forbid = [
    "torch.nn.functional.multi_margin_loss",
    "torch._C._nn.multi_margin_loss",
    "torch.nn.MultiMarginLoss",
]
_args = (torch.tensor([[0.1, 0.2, 0.7], [0.2, 0.5, 0.3]]), torch.tensor([1, 2]))
_example = [
    Case(f"worked example, {kw}, reduction={r!r}", _args, {**kw, "reduction": r})
    for kw in ({}, {"p": 2}, {"weight": torch.tensor([1.0, 2.0, 3.0])})
    for r in ("none", "sum", "mean")
]
_mistakes = multi_margin_mistakes()
check_function(
    multi_margin_loss,
    F.multi_margin_loss,
    _example + multi_margin_cases(seed=4),
    mistakes=_mistakes,
    forbid=_forbid,
)
check_rejects_bad_reduction(multi_margin_loss, _example[0])
### BEGIN HIDDEN TESTS
check_function(
    multi_margin_loss,
    F.multi_margin_loss,
    multi_margin_cases(seed=None) + multi_margin_cases(seed=None),
    public=False,
    mistakes=_mistakes,
    forbid=_forbid,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Multi-label margin loss
#
# In a **multi-label** task a sample can belong to several classes at once: a photo can show
# a dog *and* a beach. `MultiLabelMarginLoss` asks that every right label score a margin of
# $1$ above every *wrong* class.
#
# Its target has an unusual format. It is not a 0/1 vector: it has the same shape as the
# input, $(N, C)$, and lists the right **class indices**, followed by $-1$. The list stops
# at the **first $-1$**; anything after it is ignored. For four classes and the labels $0$
# and $3$, the target row is `[0, 3, -1, -1]`.
#
# With $Y_n$ the labels of sample $n$ (read up to the first $-1$),
#
# $$
# \ell_n = \frac{1}{C} \sum_{j \in Y_n} \; \sum_{i \notin Y_n}
# \max\big(0,\; 1 - (x_{n,j} - x_{n,i})\big)
# $$
#
# The divisor is again $C$, the number of classes. A sample with no labels, or with every
# class labelled, has nothing to compare and costs $0$.
#
# **When to pick it.** For multi-label tagging when what matters is that the right tags
# *rank above* the wrong ones (as in a tag suggester that shows the top few), rather than
# calibrated per-tag probabilities, for which `BCEWithLogitsLoss` is the usual choice.
#
# ### Worked example
#
# Scores $(0.1, 0.2, 0.4, 0.8)$, labels $0$ and $3$, so the wrong classes are $1$ and $2$:
#
# $$
# \tfrac{1}{4}\big[(1 - 0.1 + 0.2) + (1 - 0.1 + 0.4) + (1 - 0.8 + 0.2) + (1 - 0.8 + 0.4)\big]
# = \tfrac{1}{4}(1.1 + 1.3 + 0.4 + 0.6) = 0.85
# $$

# %%
x = torch.tensor([[0.1, 0.2, 0.4, 0.8]])
print("labels 0, 3           :", nn.MultiLabelMarginLoss()(x, torch.tensor([[0, 3, -1, -1]])))
print("junk after the -1     :", nn.MultiLabelMarginLoss()(x, torch.tensor([[0, 3, -1, 1]])))
print("-1 first: no labels   :", nn.MultiLabelMarginLoss()(x, torch.tensor([[-1, 0, 3, 1]])))
print("labels 0, 3 and 1     :", nn.MultiLabelMarginLoss()(x, torch.tensor([[0, 3, 1, -1]])))

# %% [markdown]
# ## Exercise 5: `multilabel_margin_loss` (3 points)
#
# Implement `multilabel_margin_loss(input, target, reduction="mean")` as
# `F.multilabel_margin_loss` defines it, for `input` of shape $(N, C)$ and an integer
# `target` of shape $(N, C)$ whose rows list distinct class indices up to the first $-1$,
# with all three reductions (a `ValueError` for any other). A Python loop over the samples
# is fine.
#
# Not allowed: `F.multilabel_margin_loss`, `nn.MultiLabelMarginLoss` and the internal
# `torch._C._nn.multilabel_margin_loss`.
#
# The checks try the worked example, then random batches in float64 and float32 with rows of
# 0 to $C$ labels: a row that starts with $-1$, a row with no $-1$ at all, and rows with
# class indices *after* the first $-1$. They recognise a reader that skips the $-1$ instead
# of stopping there, a division by the number of labels, and a sum that includes the
# labels themselves.


# %% answer="multilabel_margin_loss"
def multilabel_margin_loss(input, target, reduction="mean"):
    ### BEGIN SOLUTION
    c = input.shape[1]
    per_sample = []
    for x, row in zip(input, target, strict=True):
        labels = []
        for j in row.tolist():
            if j < 0:
                break  # the first -1 ends the list
            labels.append(j)
        others = [i for i in range(c) if i not in labels]
        # every (label j, wrong class i) pair: max(0, 1 - (x[j] - x[i]))
        pairs = (1 - x[labels].unsqueeze(1) + x[others].unsqueeze(0)).clamp(min=0)
        per_sample.append(pairs.sum() / c)
    losses = torch.stack(per_sample)
    return reduce(losses, reduction)
    ### END SOLUTION


# %% tests="multilabel_margin_loss" points=3
# Public checks: the worked example and fixed random inputs. Silence means they passed.
import torch
import torch.nn.functional as F

from autograder.checking import Case, check_function
from autograder.checking.topics.margin_losses import (
    check_rejects_bad_reduction,
    multilabel_margin_cases,
    multilabel_margin_mistakes,
)

_forbid = [
    "torch.nn.functional.multilabel_margin_loss",
    "torch._C._nn.multilabel_margin_loss",
    "torch.nn.MultiLabelMarginLoss",
]
_x = torch.tensor([[0.1, 0.2, 0.4, 0.8]])
_example = [
    Case(f"worked example, target {t}, reduction={r!r}", (_x, torch.tensor([t])), {"reduction": r})
    for t in ([0, 3, -1, -1], [0, 3, -1, 1])
    for r in ("none", "sum", "mean")
]
_mistakes = multilabel_margin_mistakes()
check_function(
    multilabel_margin_loss,
    F.multilabel_margin_loss,
    _example + multilabel_margin_cases(seed=5),
    mistakes=_mistakes,
    forbid=_forbid,
)
check_rejects_bad_reduction(multilabel_margin_loss, _example[0])
### BEGIN HIDDEN TESTS
check_function(
    multilabel_margin_loss,
    F.multilabel_margin_loss,
    multilabel_margin_cases(seed=None, draws=8),
    public=False,
    mistakes=_mistakes,
    forbid=_forbid,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Triplet margin loss
#
# A triplet is an **anchor** $a$ (a photo of Ana), a **positive** $p$ (another photo of
# Ana) and a **negative** $n$ (a photo of someone else), all embeddings of shape $(N, D)$.
# The loss asks that the anchor be closer to the positive than to the negative, by a
# margin:
#
# $$
# \ell_i = \max\big(0,\; d(a_i, p_i) - d(a_i, n_i) + m\big)
# $$
#
# The distance is PyTorch's `pairwise_distance`, a $p$-norm with a small $\epsilon$ added
# **to every coordinate of the difference**, not to the result:
#
# $$
# d(x, z) = \Big(\sum_k |x_k - z_k + \epsilon|^p\Big)^{1/p}
# $$
#
# Options: `margin` $m$ (default $1$), the norm's order `p` (default $2$), `eps`
# (default $10^{-6}$), and `swap`. With `swap=True` the loss also measures how far the
# *positive* is from the negative and uses the smaller of the two, $\min\big(d(a, n),
# d(p, n)\big)$, so a negative that sneaks up on the positive is caught as well (the
# "distance swap" of Balntas et al., 2016).
#
# **When to pick it.** For metric learning: face verification, person re-identification,
# image or product retrieval. The model learns an embedding where distances mean
# similarity, and new identities need no retraining, just new anchors.
#
# ### Worked example
#
# One-dimensional $a = 1$, $p = 2$, $n = 0.5$ with the L1 norm (`p=1`) and margin $1$:
# $d(a, p) = 1$, $d(a, n) = 0.5$, so $\ell = 1 - 0.5 + 1 = 1.5$ (up to the $\epsilon$).
# A large `eps` makes its place visible: with `eps=0.1`, $d(a, p) = |1 - 2 + 0.1| = 0.9$
# and $d(a, n) = |1 - 0.5 + 0.1| = 0.6$, so $\ell = 1.3$. The distance is no longer
# symmetric: $d(x, z) \ne d(z, x)$ once $\epsilon > 0$.

# %%
anchor, positive, negative = torch.tensor([[1.0]]), torch.tensor([[2.0]]), torch.tensor([[0.5]])
print("p=1        :", nn.TripletMarginLoss(margin=1.0, p=1)(anchor, positive, negative))
print("p=1, eps=.1:", F.triplet_margin_loss(anchor, positive, negative, p=1, eps=0.1))
print(
    "d(a, p), d(p, a) with eps=.1:",
    F.pairwise_distance(anchor, positive, p=1, eps=0.1),
    F.pairwise_distance(positive, anchor, p=1, eps=0.1),
)
# swap: with n = 0.5 the positive is farther from the negative (1.5) than the anchor (0.5),
# so nothing changes; with n = 2.2 the negative is 0.2 from the positive and swap uses that
print("swap, n=0.5:", F.triplet_margin_loss(anchor, positive, negative, p=1, swap=True))
near = torch.tensor([[2.2]])
print(
    "n=2.2, swap off / on:",
    F.triplet_margin_loss(anchor, positive, near, p=1),
    F.triplet_margin_loss(anchor, positive, near, p=1, swap=True),
)


# %% [markdown]
# ## Exercise 6: `triplet_margin_loss` (3 points)
#
# Implement `triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6,
# swap=False, reduction="mean")` as `F.triplet_margin_loss` defines it, for inputs of shape
# $(N, D)$, any norm order `p` $\ge 1$ (the checks use 1, 2 and 3), and all three
# reductions (a `ValueError` for any other). Compute the distance yourself, with `eps`
# where PyTorch puts it.
#
# Not allowed: `F.triplet_margin_loss`, `torch.triplet_margin_loss`, `nn.TripletMarginLoss`,
# the distance helpers `F.pairwise_distance`, `torch.pairwise_distance`,
# `nn.PairwiseDistance`, and the `WithDistance` variant of the next exercise.
#
# The checks try the worked example, then every combination of `p` (1, 2, 3) and `swap`, in
# float64 and float32, with margins 1, 0.5 and 2 and `eps` of $10^{-6}$, 0 and 0.3. They
# recognise `eps` added to the distance or ignored, `swap` ignored or taking the maximum,
# and a forgotten $p$-th root.


# %% answer="triplet_margin_loss"
def triplet_margin_loss(
    anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"
):
    ### BEGIN SOLUTION
    def distance(x1, x2):
        return ((x1 - x2 + eps).abs() ** p).sum(dim=-1) ** (1 / p)

    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = torch.minimum(d_neg, distance(positive, negative))
    losses = (margin + d_pos - d_neg).clamp(min=0)
    return reduce(losses, reduction)
    ### END SOLUTION


# %% tests="triplet_margin_loss" points=3
# Public checks: the worked example and fixed random inputs. Silence means they passed.
import torch
import torch.nn.functional as F

from autograder.checking import Case, check_function
from autograder.checking.topics.margin_losses import (
    check_rejects_bad_reduction,
    triplet_cases,
    triplet_mistakes,
)

_forbid = [
    "torch.nn.functional.triplet_margin_loss",
    "torch.triplet_margin_loss",
    "torch.nn.TripletMarginLoss",
    "torch.nn.functional.triplet_margin_with_distance_loss",
    "torch.nn.TripletMarginWithDistanceLoss",
    "torch.nn.functional.pairwise_distance",
    "torch.pairwise_distance",
    "torch.nn.PairwiseDistance",
]
_args = (torch.tensor([[1.0]]), torch.tensor([[2.0]]), torch.tensor([[0.5]]))
_example = [
    Case(f"worked example, {kw}, reduction={r!r}", _args, {"p": 1, **kw, "reduction": r})
    for kw in ({}, {"eps": 0.1}, {"swap": True})
    for r in ("none", "sum", "mean")
]
_mistakes = triplet_mistakes()
check_function(
    triplet_margin_loss,
    F.triplet_margin_loss,
    _example + triplet_cases(seed=6),
    mistakes=_mistakes,
    forbid=_forbid,
)
check_rejects_bad_reduction(triplet_margin_loss, _example[0])
### BEGIN HIDDEN TESTS
check_function(
    triplet_margin_loss,
    F.triplet_margin_loss,
    triplet_cases(seed=None) + triplet_cases(seed=None),
    public=False,
    mistakes=_mistakes,
    forbid=_forbid,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Triplet loss with a distance of your choice
#
# `TripletMarginWithDistanceLoss` is the same loss with the distance as a parameter:
# `distance_function` takes two tensors of shape $(N, D)$ and returns $N$ non-negative
# distances. Left as `None` it is `F.pairwise_distance` with its defaults ($p = 2$,
# $\epsilon = 10^{-6}$). The options are `margin` (default $1$, must be positive), `swap`
# and `reduction`, all keyword-only.
#
# **When to pick it.** When Euclidean distance is the wrong notion of "close": cosine
# distance $1 - \cos(a, b)$ for embeddings compared by angle, a squared distance, or a small
# learned network that scores pairs.
#
# ### Worked example
#
# With the cosine distance, a positive pointing the same way as the anchor is at distance
# $0$ however long it is, so only directions matter. Below, the positive is far from the
# anchor but almost parallel to it (cosine distance $0.005$), and the negative is near but
# at an angle (cosine distance $0.2$). With margin $0.2$ the cosine loss is only
# $0.2 + 0.005 - 0.2 = 0.005$; the Euclidean default sees a distant positive and charges
# about $3.6$.


# %%
def cosine_distance(x1, x2):
    return 1.0 - F.cosine_similarity(x1, x2, dim=-1)


anchor = torch.tensor([[1.0, 0.0]])
positive = torch.tensor([[5.0, 0.5]])  # far away, but almost the same direction
negative = torch.tensor([[0.8, 0.6]])  # close, but at an angle
loss_fn = nn.TripletMarginWithDistanceLoss(distance_function=cosine_distance, margin=0.2)
print("cosine distance   :", loss_fn(anchor, positive, negative))
print(
    "default (L2)      :", nn.TripletMarginWithDistanceLoss(margin=0.2)(anchor, positive, negative)
)

# %% [markdown]
# ## Exercise 7: `triplet_margin_with_distance_loss` (2 points)
#
# Implement `triplet_margin_with_distance_loss(anchor, positive, negative, *,
# distance_function=None, margin=1.0, swap=False, reduction="mean")` as
# `F.triplet_margin_with_distance_loss` defines it, for inputs of shape $(N, D)$ and all
# three reductions (a `ValueError` for any other). When `distance_function` is `None`, use
# `F.pairwise_distance` (allowed here).
#
# Not allowed: `F.triplet_margin_with_distance_loss`, `nn.TripletMarginWithDistanceLoss`,
# `F.triplet_margin_loss`, `torch.triplet_margin_loss`, `nn.TripletMarginLoss`.
#
# `distance_function` may be any callable: a function or an `nn.Module` (such as
# `nn.PairwiseDistance(p=1)`); call it, do not inspect it.
#
# The checks try five distances (the default, cosine distance, squared Euclidean, the
# largest coordinate difference, and the L1 distance given as an `nn.Module`), each with and
# without `swap`, in float64 and float32, with margins 1, 0.2 and 0.5, and an unknown
# `reduction`. They recognise an ignored `distance_function` and an ignored `swap`.


# %% answer="triplet_margin_with_distance_loss"
def triplet_margin_with_distance_loss(
    anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False, reduction="mean"
):
    ### BEGIN SOLUTION
    distance = F.pairwise_distance if distance_function is None else distance_function
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = torch.minimum(d_neg, distance(positive, negative))
    losses = (margin + d_pos - d_neg).clamp(min=0)
    return reduce(losses, reduction)
    ### END SOLUTION


# %% tests="triplet_margin_with_distance_loss" points=2
# Public checks: the worked example and fixed random inputs. Silence means they passed.
import torch
import torch.nn.functional as F

from autograder.checking import Case, check_function
from autograder.checking.topics.margin_losses import (
    check_rejects_bad_reduction,
    cosine_distance,
    triplet_distance_cases,
    triplet_distance_mistakes,
)

_forbid = [
    "torch.nn.functional.triplet_margin_with_distance_loss",
    "torch.nn.TripletMarginWithDistanceLoss",
    "torch.nn.functional.triplet_margin_loss",
    "torch.triplet_margin_loss",
    "torch.nn.TripletMarginLoss",
]
_args = (torch.tensor([[1.0, 0.0]]), torch.tensor([[5.0, 0.5]]), torch.tensor([[0.8, 0.6]]))
_example = [
    Case(
        f"worked example, distance {name}, reduction={r!r}",
        _args,
        {"distance_function": fn, "margin": 0.2, "reduction": r},
    )
    for name, fn in (("cosine_distance", cosine_distance), ("None", None))
    for r in ("none", "sum", "mean")
]
_mistakes = triplet_distance_mistakes()
check_function(
    triplet_margin_with_distance_loss,
    F.triplet_margin_with_distance_loss,
    _example + triplet_distance_cases(seed=7),
    mistakes=_mistakes,
    forbid=_forbid,
)
check_rejects_bad_reduction(triplet_margin_with_distance_loss, _example[0])
### BEGIN HIDDEN TESTS
check_function(
    triplet_margin_with_distance_loss,
    F.triplet_margin_with_distance_loss,
    triplet_distance_cases(seed=None),
    public=False,
    mistakes=_mistakes,
    forbid=_forbid,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Summary: which margin loss?
#
# | your labels | loss |
# | --- | --- |
# | "A should score higher than B" | `MarginRankingLoss` |
# | a distance and same / different | `HingeEmbeddingLoss` |
# | two vectors and same / different, direction only | `CosineEmbeddingLoss` |
# | one class per sample, SVM-style | `MultiMarginLoss` |
# | several classes per sample, ranked above the rest | `MultiLabelMarginLoss` |
# | anchor, positive, negative | `TripletMarginLoss` (`...WithDistanceLoss`: any distance) |
#
# * All of them are hinges, $\max(0, m - s)$: zero loss and zero gradient once the answer
#   is right by the margin.
# * MarginRankingLoss needs inputs and target of the same number of dimensions; with 1-D
#   inputs the notes' example gives $[1, 0, 1]$, not a $3 \times 3$ matrix.
# * CosineEmbeddingLoss takes a 1-D target, one label per row.
# * MultiMarginLoss and MultiLabelMarginLoss divide by the number of classes $C$; the
#   multi-label target lists class indices and stops at the first $-1$.
# * TripletMarginLoss adds `eps` to the difference inside the norm, and `swap` uses the
#   smaller of $d(a, n)$ and $d(p, n)$.
