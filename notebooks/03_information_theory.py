# %% [markdown]
# # 3. Information theory: why the loss of a classifier is a cross-entropy
#
# Notebook 1 computed the cross-entropy loss from a formula. This notebook explains where
# the formula comes from, and what its numbers mean, with four ideas from information
# theory:
#
# | idea | formula | what it measures |
# | --- | --- | --- |
# | self-information | $I(x) = -\log p(x)$ | the surprise of one outcome |
# | entropy | $H(P) = -\sum_x p(x) \log p(x)$ | the average surprise: uncertainty |
# | cross-entropy | $H(P, Q) = -\sum_x p(x) \log q(x)$ | the surprise when $Q$ was predicted |
# | KL divergence | $D_{\text{KL}}(P \parallel Q) = H(P, Q) - H(P)$ | the extra surprise |
#
# They fit together in one identity, $H(P, Q) = H(P) + D_{\text{KL}}(P \,\|\, Q)$, which says
# why training a classifier on cross-entropy pulls its predictions towards the truth, and why
# an untrained classifier's loss is about $\ln C$. Logarithms are natural here, so every
# quantity is in **nats**; with $\log_2$ they would be in bits.
#
# **How the checks work.** Each exercise is followed by a cell of *public checks*: if the
# cell prints nothing, they passed. When your notebook is graded, *hidden checks* also run on
# fresh random inputs. One question near the end is a written answer, graded by your
# instructor.

# %%
import math

import matplotlib.pyplot as plt
import torch
import torch.nn as nn
import torch.nn.functional as F

import autograder.checking.topics.information_theory  # noqa: F401 (the checks load before any answer)

torch.set_printoptions(precision=4)
torch.set_num_threads(1)  # the tensors here are tiny: one thread is fastest

# %% [markdown]
# ## Self-information and entropy
#
# An outcome of probability $p$ carries the information $I = -\log p$: a certain event
# ($p = 1$) tells you nothing ($I = 0$), a rare one a lot. Two independent outcomes have
# probability $p_1 p_2$ and information $I_1 + I_2$: the logarithm turns products into sums.
#
# The **entropy** of a distribution is the expected information of its outcome,
#
# $$
# H(P) = \sum_x p(x)\, I(x) = -\sum_x p(x) \log p(x),
# $$
#
# with the convention $0 \log 0 = 0$ (an outcome that never happens adds nothing). It is
# largest for the uniform distribution over $C$ outcomes, where it equals $\ln C$, and $0$
# for a certain outcome.
#
# ### Worked example: coins
#
# A fair coin: $H = -2 \cdot \tfrac12 \ln \tfrac12 = \ln 2 = 0.6931$ nats (exactly 1 bit).
# A coin that shows heads 90 % of the time: $H = -(0.9 \ln 0.9 + 0.1 \ln 0.1) = 0.3251$. The
# plot shows the whole **Bernoulli** curve: the maximum, $\ln 2 \approx 0.69$, is at
# $p = 0.5$. That number comes back whenever a two-class model knows nothing: its loss on
# the first iteration (or after it has broken) is about $0.69$.

# %%
p = torch.linspace(0.0, 1.0, 401, dtype=torch.float64)
bernoulli = -(torch.xlogy(p, p) + torch.xlogy(1 - p, 1 - p))
print(
    "fair coin:", bernoulli[200].item(), " p = 0.9:", -(0.9 * math.log(0.9) + 0.1 * math.log(0.1))
)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(p, bernoulli, label="H(p) in nats")
ax.plot(p, bernoulli / math.log(2), "--", label="H(p) in bits")
ax.axhline(math.log(2), color="grey", linestyle=":", label="ln 2 = 0.693")
ax.set_xlabel("probability p of heads")
ax.set_ylabel("entropy")
ax.legend()
ax.set_title("The entropy of a coin is largest when it is fair")
plt.show()

# %% [markdown]
# ## Exercise 1: `entropy` (2 points)
#
# Write `entropy(p)`: `p` is a tensor whose **last** dimension holds probability
# distributions (each row sums to 1; shape $(C,)$ or $(\dots, C)$). Return their entropies in
# nats, a tensor of shape `p.shape[:-1]` (a 0-dim tensor for one distribution), in `p`'s
# dtype. Where a probability is exactly 0 its term must be 0, not `nan`:
# `torch.xlogy(p, p)` computes $p \log p$ with that convention.
#
# Not allowed: `torch.distributions` and `torch.special.entr` (the checks compare with
# `torch.distributions.Categorical(probs=p).entropy()`).
#
# The checks try one distribution, batches of one to three dimensions, distributions with
# exact zeros, float32 and float64. They name a result in bits, `nan` at the zeros, a
# forgotten minus sign, and a sum over the wrong dimension or over every element.


# %% answer="entropy"
def entropy(p):
    ### BEGIN SOLUTION
    return -torch.xlogy(p, p).sum(dim=-1)
    ### END SOLUTION


# %% tests="entropy" points=2
# Public checks: a fair coin, the 90 % coin, and fixed random distributions.
import torch

from autograder.checking import Case, check_function
from autograder.checking.topics import information_theory as info

_coins = [
    Case("a fair coin (ln 2)", (torch.tensor([0.5, 0.5], dtype=torch.float64),)),
    Case("a 90 % coin", (torch.tensor([0.9, 0.1], dtype=torch.float64),)),
    Case("a certain outcome", (torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64),)),
]
check_function(
    entropy,
    info.entropy_reference,
    _coins + info.distribution_cases(seed=1),
    mistakes=info.entropy_mistakes(),
    forbid=info.FORBID,
)
### BEGIN HIDDEN TESTS
check_function(
    entropy,
    info.entropy_reference,
    info.distribution_cases(seed=None, draws=8),
    public=False,
    mistakes=info.entropy_mistakes(),
    forbid=info.FORBID,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Cross-entropy and KL divergence
#
# Now two distributions: the truth $P$ and a model's prediction $Q$. If outcomes come from
# $P$ but you expect them with the probabilities of $Q$, your average surprise is the
# **cross-entropy**
#
# $$
# H(P, Q) = -\sum_x p(x) \log q(x).
# $$
#
# It is never smaller than $H(P)$, and equal to it only when $Q = P$. The excess is the
# **Kullback-Leibler divergence**:
#
# $$
# D_{\text{KL}}(P \,\|\, Q) = H(P, Q) - H(P) = \sum_x p(x) \log \frac{p(x)}{q(x)} \;\ge\; 0 .
# $$
#
# KL is not a distance: it is not symmetric ($D_{\text{KL}}(P\|Q) \ne D_{\text{KL}}(Q\|P)$ in
# general), and it is infinite when $Q$ gives probability 0 to something $P$ makes
# possible.
#
# ### Worked example
#
# $P = (0.9, 0.05, 0.05)$ and $Q = (0.5, 0.3, 0.2)$ (the numbers of the KL example in
# notebook 6):
#
# * $H(P) = -(0.9 \ln 0.9 + 2 \cdot 0.05 \ln 0.05) = 0.3944$;
# * $H(P, Q) = -(0.9 \ln 0.5 + 0.05 \ln 0.3 + 0.05 \ln 0.2) = 0.7645$;
# * $D_{\text{KL}}(P \,\|\, Q) = 0.7645 - 0.3944 = 0.3701$.

# %%
P = torch.tensor([0.9, 0.05, 0.05], dtype=torch.float64)
Q = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
print("H(P)     :", -(P * P.log()).sum().item())
print("H(P, Q)  :", -(P * Q.log()).sum().item())
print("KL(P||Q) :", (P * (P / Q).log()).sum().item())
print("KL(Q||P) :", (Q * (Q / P).log()).sum().item(), " (not symmetric)")

# %% [markdown]
# ## Exercise 2: `cross_entropy_between` (1 point)
#
# Write `cross_entropy_between(p, q)`: the cross-entropy $H(P, Q)$ in nats of the
# distributions along the last dimension of two tensors of the same shape, a tensor of shape
# `p.shape[:-1]`. Where $p = 0$ the term is 0 (`torch.xlogy(p, q)` computes $p \log q$ with
# that convention); `q` is never 0 in the checks.
#
# Not allowed: `torch.distributions`, `F.cross_entropy`, `F.kl_div` and their modules. The
# checks try the worked example, batches, zeros in `p`, float32 and float64; they name the
# two distributions swapped, the KL divergence given instead, and `q` never used.


# %% answer="cross_entropy_between"
def cross_entropy_between(p, q):
    ### BEGIN SOLUTION
    return -torch.xlogy(p, q).sum(dim=-1)
    ### END SOLUTION


# %% tests="cross_entropy_between" points=1
# Public checks: the worked example and fixed random pairs.
import torch

from autograder.checking import Case, check_function
from autograder.checking.topics import information_theory as info

_example = [
    Case(
        "worked example, P = (0.9, 0.05, 0.05), Q = (0.5, 0.3, 0.2)",
        (
            torch.tensor([0.9, 0.05, 0.05], dtype=torch.float64),
            torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64),
        ),
    )
]
check_function(
    cross_entropy_between,
    info.cross_entropy_reference,
    _example + info.pair_cases(seed=2),
    mistakes=info.cross_entropy_mistakes(),
    forbid=info.FORBID,
)
### BEGIN HIDDEN TESTS
check_function(
    cross_entropy_between,
    info.cross_entropy_reference,
    info.pair_cases(seed=None, draws=8),
    public=False,
    mistakes=info.cross_entropy_mistakes(),
    forbid=info.FORBID,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 3: `kl_divergence` (2 points)
#
# Write `kl_divergence(p, q)`: $D_{\text{KL}}(P \,\|\, Q)$ in nats, along the last dimension,
# of the same shapes as in Exercise 2. Either write the sum directly or use the identity
# $D_{\text{KL}}(P\|Q) = H(P, Q) - H(P)$ with your two functions above. Terms with $p = 0$
# count as 0.
#
# The same functions are forbidden; the checks compare with
# `torch.distributions.kl_divergence` on the worked example ($0.3701$) and random pairs,
# and name the two distributions swapped, the cross-entropy given instead, a flipped sign,
# bits and `nan` at the zeros.


# %% answer="kl_divergence"
def kl_divergence(p, q):
    ### BEGIN SOLUTION
    return (torch.xlogy(p, p) - torch.xlogy(p, q)).sum(dim=-1)
    ### END SOLUTION


# %% tests="kl_divergence" points=2
# Public checks: the worked example and fixed random pairs.
import torch

from autograder.checking import Case, check_function
from autograder.checking.topics import information_theory as info

_example = [
    Case(
        "worked example (0.3701)",
        (
            torch.tensor([0.9, 0.05, 0.05], dtype=torch.float64),
            torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64),
        ),
    )
]
check_function(
    kl_divergence,
    info.kl_reference,
    _example + info.pair_cases(seed=3),
    mistakes=info.kl_mistakes(),
    forbid=info.FORBID,
)
### BEGIN HIDDEN TESTS
check_function(
    kl_divergence,
    info.kl_reference,
    info.pair_cases(seed=None, draws=8),
    public=False,
    mistakes=info.kl_mistakes(),
    forbid=info.FORBID,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Minimising cross-entropy is minimising KL
#
# A classifier's loss is a cross-entropy: $P$ is the target (one-hot for a class index, or a
# soft distribution), $Q = \operatorname{softmax}(z)$ is the prediction from the logits $z$,
# and `F.cross_entropy` computes $H(P, Q)$. By the identity,
#
# $$
# H(P, Q) = H(P) + D_{\text{KL}}(P \,\|\, Q).
# $$
#
# The targets do not depend on the model, so $H(P)$ is a constant: the two losses differ by a
# number that has no gradient, and every training step moves the model exactly as
# minimising the KL divergence would. For one-hot targets $H(P) = 0$, so the cross-entropy
# *is* the KL divergence. With soft targets (label smoothing, distillation) the
# cross-entropy never reaches 0: its minimum is $H(P)$, reached when $Q = P$. Autograd
# confirms that both losses give the same gradient, $\operatorname{softmax}(z) - p$:

# %%
z = torch.randn(4, 5, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
target = torch.softmax(torch.randn(4, 5, generator=torch.Generator().manual_seed(4)), 1).double()
z_ce = z.clone().requires_grad_(True)
F.cross_entropy(z_ce, target, reduction="sum").backward()
z_kl = z.clone().requires_grad_(True)
F.kl_div(F.log_softmax(z_kl, dim=1), target, reduction="sum").backward()
print("largest difference of the two gradients:", (z_ce.grad - z_kl.grad).abs().max().item())
print("and of softmax(z) - p:", (z_ce.grad - (torch.softmax(z, 1) - target)).abs().max().item())

# %% [markdown]
# ## The first loss of an untrained classifier: $\ln C$
#
# A classifier that knows nothing should predict the uniform distribution $q = 1/C$ over its
# $C$ classes. Its cross-entropy is then the same for every target:
#
# $$
# H(P, \text{uniform}) = -\sum_c p_c \log \tfrac{1}{C} = \ln C ,
# $$
#
# $\ln 10 = 2.303$ for CIFAR10's ten classes, $\ln 2 = 0.693$ for two. A freshly initialised
# network is close to that: its last layer's small random weights give logits near 0 and a
# softmax near uniform. **Check it before you train:** a first loss near $\ln C$ says the
# set-up is sane; a first loss far *above* it says the network starts out confidently wrong
# (logits too large, often from a bad initialisation), and it will spend its first steps
# undoing that. A first loss far *below* $\ln C$ before any training usually means the
# labels leak into the input.
#
# The plot scales the last layer's weights of a fresh `nn.Linear(100, 10)` on random data:
# with the default initialisation the loss sits at $\ln 10$; larger weights push it far above.

# %%
torch.manual_seed(0)
layer = nn.Linear(100, 10)
inputs, labels = torch.randn(512, 100), torch.randint(0, 10, (512,))
scales = torch.logspace(-2, 1.5, 30)
losses = []
with torch.no_grad():
    for scale in scales:
        losses.append(F.cross_entropy(inputs @ (scale * layer.weight).T + layer.bias, labels))
print(f"default initialisation: loss {F.cross_entropy(layer(inputs), labels):.3f}")
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.semilogx(scales, losses, marker=".", label="first loss")
ax.axhline(math.log(10), color="grey", linestyle=":", label="ln 10 = 2.303")
ax.axvline(1.0, color="C1", linestyle="--", label="default initialisation")
ax.set_xlabel("factor on the last layer's weights")
ax.set_ylabel("cross-entropy before training")
ax.legend()
ax.set_title("An untrained classifier should start near ln C")
plt.show()

# %% [markdown]
# ## Exercise 4: `initial_loss_check` (2 points)
#
# Write `initial_loss_check(logits, target, tolerance=0.1)` for the logits $(N, C)$ of an
# untrained classifier and their class indices $(N,)$. Return a tuple
# `(loss, chance, ok)`:
#
# * `loss`: the mean cross-entropy of the batch, a Python `float` (`F.cross_entropy` is
#   allowed here);
# * `chance`: $\ln C$, a `float`, with $C$ read from the logits' shape;
# * `ok`: `True` when the loss is within `tolerance` **relative** to $\ln C$, that is
#   $|\text{loss} - \ln C| \le \text{tolerance} \cdot \ln C$, and `False` otherwise (a
#   Python `bool`).
#
# The checks use logits of tiny, moderate and overconfident size, logits that already
# favour the right class (a first loss far *below* $\ln C$, which is not ok either), 2 to
# 100 classes, float32 and float64, and tolerances of 0.05, 0.1 and 0.2. They refuse a
# tensor where a Python `float` or `bool` is asked, and name $\log_2 C$ and $\log_{10} C$ in
# place of $\ln C$, the chance level given as the probability $1/C$, an absolute tolerance
# and a check of one side only.


# %% answer="initial_loss_check"
def initial_loss_check(logits, target, tolerance=0.1):
    ### BEGIN SOLUTION
    loss = F.cross_entropy(logits, target).item()
    chance = math.log(logits.shape[1])
    return loss, chance, abs(loss - chance) <= tolerance * chance
    ### END SOLUTION


# %% tests="initial_loss_check" points=2
# Public checks: fixed random logits of several sizes.
from autograder.checking import check_function
from autograder.checking.topics import information_theory as info

check_function(
    initial_loss_check,
    info.initial_loss_reference,
    info.initial_loss_cases(seed=4),
    mistakes=info.initial_loss_mistakes(),
    forbid=["autograder.checking.topics.information_theory.initial_loss_reference"],
    floats=True,
)
### BEGIN HIDDEN TESTS
check_function(
    initial_loss_check,
    info.initial_loss_reference,
    info.initial_loss_cases(seed=None, draws=6),
    public=False,
    mistakes=info.initial_loss_mistakes(),
    forbid=["autograder.checking.topics.information_theory.initial_loss_reference"],
    floats=True,
)
### END HIDDEN TESTS

# %% [markdown] manual="why_ln_c" points=2
# ## Question (2 points, graded by your instructor)
#
# A colleague builds a 10-class image classifier and reports a loss of **8.9** after the
# first batch, before any update. In a few sentences: why should an untrained classifier's
# loss be near $\ln 10 \approx 2.3$, what does 8.9 tell you about the network's first
# predictions, and what would you check or change first?
#
# Write your answer in this cell.
#
# ### BEGIN SOLUTION
# **A model answer.** A network that has learnt nothing should give every class about the
# same probability, $1/10$; the cross-entropy of a uniform prediction is $-\ln(1/10) = \ln 10
# \approx 2.3$ whatever the label. A loss of 8.9 means the right class gets a probability of
# about $e^{-8.9} \approx 10^{-4}$ on average: the network is confidently wrong from the
# start, because its logits are far too large (a last layer initialised with weights that
# are too big, unnormalised inputs, or a scale factor applied twice). Check the input
# normalisation and the initialisation (for example the last layer's weights), and that the
# loss is given raw logits, until the first loss is near 2.3.
#
# **Rubric (2 points).**
# * 1 point: the uniform prediction $1/C$ and its loss $\ln C$ (for ten classes 2.3) as the
#   loss of a model that knows nothing.
# * 1 point: 8.9 read as confident wrong predictions / logits that are too large, with one
#   sensible thing to check (initialisation scale, input normalisation, what the loss is
#   given).
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# * Self-information $-\log p$; entropy $H(P)$ is its average, largest ($\ln C$) for the
#   uniform distribution; a fair coin has $\ln 2 \approx 0.69$ nats.
# * $H(P, Q) = H(P) + D_{\text{KL}}(P\|Q)$; KL is never negative, zero only when $Q = P$,
#   and not symmetric.
# * The classification loss is the cross-entropy between the target and the softmax of the
#   logits. $H(P)$ does not depend on the model, so minimising the cross-entropy minimises
#   the KL divergence, with the same gradient.
# * Before training, the loss should be about $\ln C$; far above means overconfident
#   initial predictions.
