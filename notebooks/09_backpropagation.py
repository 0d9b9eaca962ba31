# %% [markdown]
# # 9. Backpropagation: from a loss to every parameter's gradient
#
# Notebook 2 showed what `backward()` does: it fills the `.grad` of every leaf that requires
# a gradient. Since then you have derived the gradients of the losses themselves (L1 and MSE
# in notebook 2, cross-entropy in notebook 4, binary cross-entropy in notebook 5). This
# notebook opens `backward()` up and does its job by hand, for a whole network: the loss's
# gradient goes back through every layer, each layer turning "the gradient with respect to
# my output" into "the gradient with respect to my input and my parameters". That walk is
# *backpropagation*.
#
# | idea | in PyTorch |
# | --- | --- |
# | backward twice through one graph | `loss.backward(retain_graph=True)` |
# | backward from a non-scalar | `y.backward(gradient)`: a vector-Jacobian product |
# | one layer's backward | what `F.linear`'s `grad_fn` computes |
# | a whole network's backward | `loss.backward()` on a two-layer network |
#
# **How the checks work.** Each exercise is followed by a cell of *public checks*: if the
# cell prints nothing, they passed. When your notebook is graded, *hidden checks* also run on
# fresh random inputs, so passing the public checks is a good sign but not yet full marks.

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

import autograder.checking.topics.backpropagation  # noqa: F401 (the checks load before any answer)

torch.set_printoptions(precision=4)
torch.set_num_threads(1)  # every tensor here is tiny: one thread avoids the cost of syncing many

# %% [markdown]
# ## What a gradient promises
#
# The gradient $g = \nabla_W L$ of a loss with respect to a weight matrix says how the loss
# changes when the weights move a little: for a small step $t D$ in any direction $D$,
#
# $$
# L(W + t D) \approx L(W) + t \,\langle g, D \rangle, \qquad
# \langle g, D \rangle = \sum_{ij} g_{ij} D_{ij}.
# $$
#
# The plot takes a small two-layer network (the one you backpropagate through at the end of
# this notebook), moves its first weight matrix along a random direction, and draws the
# loss (line) against the tangent that the gradient from one `backward()` predicts
# (dashed). Near $t = 0$ they agree; further out the loss curves away, which is why
# training takes small steps and recomputes the gradient after each.

# %%
gen = torch.Generator().manual_seed(0)
X = torch.randn(16, 5, generator=gen, dtype=torch.float64)
t_cls = torch.randint(0, 3, (16,), generator=gen)
W1 = torch.randn(8, 5, generator=gen, dtype=torch.float64, requires_grad=True)
b1 = torch.zeros(8, dtype=torch.float64)
W2 = torch.randn(3, 8, generator=gen, dtype=torch.float64)
b2 = torch.zeros(3, dtype=torch.float64)


def net_loss(W):
    return F.cross_entropy(torch.relu(X @ W.T + b1) @ W2.T + b2, t_cls)


net_loss(W1).backward()
direction = torch.randn(8, 5, generator=gen, dtype=torch.float64)
slope = (W1.grad * direction).sum()
steps = torch.linspace(-1, 1, 101, dtype=torch.float64)
with torch.no_grad():
    along = torch.stack([net_loss(W1 + t * direction) for t in steps])
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(steps, along, label="loss L(W1 + t D)")
ax.plot(steps, along[50] + steps * slope, "--", label="tangent from the gradient")
ax.set_xlabel("step t along a random direction D")
ax.set_ylabel("cross-entropy")
ax.set_ylim(float(along.min()) - 0.5, float(along.max()) + 0.5)
ax.legend()
ax.set_title("the gradient is the slope at t = 0")
plt.show()

# %% [markdown]
# ## `retain_graph`: backward twice through the same graph
#
# To save memory, `backward()` frees the intermediate values the graph saved for it (for a
# product $w \cdot c$, the factors; for $e^w$, the result). A second `backward()` through
# the same graph then has nothing to work with and raises a `RuntimeError`.
# `backward(retain_graph=True)` keeps them, so the graph can be walked again; the gradients
# of both walks are summed into `.grad`. You rarely need it: the usual loop builds a new
# graph at every step. It appears when two losses share part of a graph and are
# backpropagated separately.
#
# A graph whose nodes saved nothing (a sum, an addition of a constant) can, in fact, be
# walked twice without `retain_graph`. Do not rely on it.

# %%
w = torch.tensor([1.0, -2.0], requires_grad=True)
s = (w * torch.tensor([3.0, 0.5])).sum()
s.backward()
try:
    s.backward()
except RuntimeError as error:
    print("RuntimeError:", str(error)[:90], "...")

# %% [markdown]
# ## Exercise 1: backward twice (2 points)
#
# Write two functions of a scalar function `f` and a 1-D tensor `x` that does not require a
# gradient. Each first makes a leaf copy of `x` that does
# (`x.detach().clone().requires_grad_(True)`) and computes `out = f(leaf)`; then
#
# * `second_backward_raises(f, x)` calls `out.backward()` twice, without `retain_graph`, and
#   returns `True` if the second call raises a `RuntimeError`, `False` if it does not
#   (catch the error with `try` / `except RuntimeError`);
# * `grad_after_two_backwards(f, x)` calls `out.backward(retain_graph=True)`, then
#   `out.backward()`, and returns the leaf's `.grad`.
#
# Before you run anything, predict both for `f(w) = (w * c).sum()` and for
# `f(w) = (w + c).sum()`. The checks try those two and other functions (an exponential, a
# sine, a cumulative sum, a mean...) on random tensors, and compare with what PyTorch does.
# `True` and `False` must be Python `bool`s, and the caller's `x` must come back as it was
# (it never requires a gradient). They name an answer that is always `True` or always
# `False`, and a gradient of one backward where two were summed.


# %% answer="retain_graph"
def second_backward_raises(f, x):
    ### BEGIN SOLUTION
    leaf = x.detach().clone().requires_grad_(True)
    out = f(leaf)
    out.backward()
    try:
        out.backward()
    except RuntimeError:
        return True
    return False
    ### END SOLUTION


def grad_after_two_backwards(f, x):
    ### BEGIN SOLUTION
    leaf = x.detach().clone().requires_grad_(True)
    out = f(leaf)
    out.backward(retain_graph=True)
    out.backward()
    return leaf.grad
    ### END SOLUTION


# %% tests="retain_graph" points=2
# Public checks: the product and the sum above, and fixed random functions.
import torch

from autograder.checking import Case, check_function
from autograder.checking.topics import backpropagation

_c = torch.tensor([3.0, 0.5], dtype=torch.float64)
_w = torch.tensor([1.0, -2.0], dtype=torch.float64)
_cases = [
    Case("f(w) = (w * c).sum(), c = (3, 0.5)", (lambda w: (w * _c).sum(), _w)),
    Case("f(w) = (w + c).sum(), c = (3, 0.5)", (lambda w: (w + _c).sum(), _w)),
] + backpropagation.retain_cases(seed=3)


def _one_backward(f, x):
    leaf = x.detach().clone().requires_grad_(True)
    f(leaf).backward()
    return leaf.grad


_forbid = backpropagation.REFERENCES
check_function(
    second_backward_raises,
    backpropagation.second_backward_raises_reference,
    _cases,
    mistakes=backpropagation.retain_mistakes(),
    forbid=_forbid,
)
check_function(
    grad_after_two_backwards,
    backpropagation.grad_after_two_backwards_reference,
    _cases,
    mistakes={"the gradient of one backward only: the two are summed into .grad": _one_backward},
    forbid=_forbid,
)
### BEGIN HIDDEN TESTS
_cases = backpropagation.retain_cases(seed=None, draws=6)
check_function(
    second_backward_raises,
    backpropagation.second_backward_raises_reference,
    _cases,
    public=False,
    mistakes=backpropagation.retain_mistakes(),
    forbid=_forbid,
)
check_function(
    grad_after_two_backwards,
    backpropagation.grad_after_two_backwards_reference,
    _cases,
    public=False,
    mistakes={"the gradient of one backward only: the two are summed into .grad": _one_backward},
    forbid=_forbid,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Backward from a non-scalar: `y.backward(gradient)`
#
# `backward()` with no argument needs a scalar (one-element) output. For a tensor output
# $y = f(x)$ with many elements, the full derivative is the Jacobian matrix
# $J_{ij} = \partial y_i / \partial x_j$, and autograd never builds it. Instead
# `y.backward(v)` takes a tensor $v$ of $y$'s shape (the gradient of some later scalar
# with respect to $y$, often called `grad_output`) and adds the **vector-Jacobian
# product** into `x.grad`:
#
# $$
# x.\text{grad}_j = \sum_i v_i \frac{\partial y_i}{\partial x_j} = (v^\top J)_j .
# $$
#
# This is exactly one step of backpropagation: a layer receives the gradient of the loss with
# respect to its output and passes on the gradient with respect to its input. With
# $v = (1, \dots, 1)$ it gives the gradient of `y.sum()`. `torch.autograd.grad(y, x, v)`
# computes the same product and returns it instead of storing it.

# %%
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = x**2  # J is diagonal, with 2x on the diagonal
y.backward(torch.tensor([1.0, 0.1, 0.01]))
print("x.grad =", x.grad, "  (2x times v)")

# %% [markdown]
# ## Exercise 2: a vector-Jacobian product (2 points)
#
# Write `vector_jacobian_product(f, x, v)`: `f` maps a 1-D tensor to a tensor of any shape,
# `x` is a 1-D tensor that does not require a gradient, and `v` has the shape of `f(x)`.
# Return $v^\top J$ (a tensor of `x`'s shape) by making a leaf copy of `x` that requires a
# gradient (`x.detach().clone().requires_grad_(True)`), calling `backward` with a
# `gradient`, and reading the copy's `.grad`.
#
# Not allowed: `torch.autograd.functional.jacobian`, `torch.autograd.functional.vjp` and
# `torch.func`. The checks compare with $v^\top J$ from the full Jacobian, for elementwise,
# cumulative, outer-product and matrix functions, in float64. They also call your function
# twice on the same `x`: it must not start to require a gradient, and the second call must
# give what the first gave.


# %% answer="vector_jacobian_product"
def vector_jacobian_product(f, x, v):
    ### BEGIN SOLUTION
    leaf = x.detach().clone().requires_grad_(True)
    f(leaf).backward(v)
    return leaf.grad
    ### END SOLUTION


# %% tests="vector_jacobian_product" points=2
# Public checks: fixed random functions and vectors. Silence means they passed.
import torch

from autograder.checking import check_function
from autograder.checking.topics import backpropagation

_forbid = backpropagation.REFERENCES + [
    "torch.autograd.functional.jacobian",
    "torch.autograd.functional.vjp",
    "torch.func.vjp",
    "torch.func.jacrev",
    "torch.func.jacfwd",
]
_mistakes = {
    "v ignored (the gradient of f(x).sum())": lambda f, x, v: backpropagation.explicit_vjp(
        f, x, torch.ones_like(v)
    ),
}
check_function(
    vector_jacobian_product,
    backpropagation.explicit_vjp,
    backpropagation.vjp_cases(seed=21),
    mistakes=_mistakes,
    forbid=_forbid,
)
backpropagation.check_vjp_leaves_x_alone(
    vector_jacobian_product, backpropagation.vjp_cases(seed=21)[0]
)
### BEGIN HIDDEN TESTS
check_function(
    vector_jacobian_product,
    backpropagation.explicit_vjp,
    backpropagation.vjp_cases(seed=None),
    public=False,
    mistakes=_mistakes,
    forbid=_forbid,
)
for _case in backpropagation.vjp_cases(seed=None):
    backpropagation.check_vjp_leaves_x_alone(vector_jacobian_product, _case, public=False)
### END HIDDEN TESTS


# %% [markdown]
# ## One layer's backward
#
# A linear layer computes $Z = X W^\top + b$ for a batch $X$ of shape $(N, D_{\text{in}})$,
# a weight $W$ of shape $(D_{\text{out}}, D_{\text{in}})$ (as `nn.Linear` stores it) and a
# bias $b$ of shape $(D_{\text{out}},)$. In a network it receives $G = \partial L/\partial Z$,
# the gradient of the loss with respect to its output (its `grad_output`, of $Z$'s shape),
# and must return the gradients with respect to everything it was given. Write
# $Z_{nk} = \sum_j X_{nj} W_{kj} + b_k$ and apply the chain rule entry by entry:
#
# $$
# \frac{\partial L}{\partial X} = G\,W, \qquad
# \frac{\partial L}{\partial W} = G^\top X, \qquad
# \frac{\partial L}{\partial b} = \sum_{n} G_{n\cdot} \;\text{(the sum over the batch)}.
# $$
#
# The shapes tell you which product is right: $G W$ is $(N, D_{\text{in}})$ like $X$, and
# $G^\top X$ is $(D_{\text{out}}, D_{\text{in}})$ like $W$. The bias is added to every row, so
# its gradient **adds up** the rows of $G$; it is not their mean.
#
# ### Worked example
#
# One sample $X = (1, 2)$, $W = \begin{pmatrix} 1 & 0 \\ 0 & 1 \\ 1 & 1 \end{pmatrix}$,
# $G = (1, -1, 2)$: $\;\partial L/\partial X = G W = (1 + 2,\; -1 + 2) = (3, 1)$,
# $\partial L/\partial W = G^\top X$ has rows $(1, 2), (-1, -2), (2, 4)$, and
# $\partial L/\partial b = G$.

# %%
X1 = torch.tensor([[1.0, 2.0]], requires_grad=True)
W = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], requires_grad=True)
bias = torch.zeros(3, requires_grad=True)
F.linear(X1, W, bias).backward(torch.tensor([[1.0, -1.0, 2.0]]))
print("dL/dX:", X1.grad, "\ndL/dW:\n", W.grad, "\ndL/db:", bias.grad)

# %% [markdown]
# ## Exercise 3: `linear_backward` (2 points)
#
# Write `linear_backward(input, weight, bias, grad_output)`: return a `dict` with the keys
# `"input"`, `"weight"` and `"bias"`, the gradients that
# `F.linear(input, weight, bias).backward(grad_output)` would leave in the three arguments.
# Use matrix products (`@`, `.T`) and `sum`; no autograd.
#
# The checks compare with autograd in float64 for batches of 1 to 6 rows and layers of 1 to
# 6 features on each side. They name a bias gradient averaged instead of summed, a weight
# gradient transposed, and `grad_output @ weight.T` where `grad_output @ weight` belongs.


# %% answer="linear_backward"
def linear_backward(input, weight, bias, grad_output):
    ### BEGIN SOLUTION
    return {
        "input": grad_output @ weight,
        "weight": grad_output.T @ input,
        "bias": grad_output.sum(dim=0),
    }
    ### END SOLUTION


# %% tests="linear_backward" points=2
# Public checks: the worked example and fixed random layers. Silence means they passed.
import torch

from autograder.checking import Case, check_function
from autograder.checking.topics import backpropagation

_example = Case(
    "worked example",
    (
        torch.tensor([[1.0, 2.0]], dtype=torch.float64),
        torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64),
        torch.zeros(3, dtype=torch.float64),
        torch.tensor([[1.0, -1.0, 2.0]], dtype=torch.float64),
    ),
)
check_function(
    linear_backward,
    backpropagation.autograd_linear_backward,
    [_example] + backpropagation.linear_cases(seed=12),
    mistakes=backpropagation.linear_mistakes(),
    forbid=backpropagation.AUTOGRAD_FORBID,
)
### BEGIN HIDDEN TESTS
check_function(
    linear_backward,
    backpropagation.autograd_linear_backward,
    backpropagation.linear_cases(seed=None, draws=6),
    public=False,
    mistakes=backpropagation.linear_mistakes(),
    forbid=backpropagation.AUTOGRAD_FORBID,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Backpropagation through a two-layer network
#
# Now the whole chain. A batch $X$ of shape $(N, D)$ goes through two `nn.Linear` layers
# with a ReLU between them, and cross-entropy on the class indices $t$:
#
# $$
# Z_1 = X W_1^\top + b_1, \quad H = \operatorname{relu}(Z_1), \quad
# Z_2 = H W_2^\top + b_2, \quad L = \operatorname{CE}(Z_2, t),
# $$
#
# with $W_1$ of shape $(H_{\text{dim}}, D)$ and $W_2$ of shape $(C, H_{\text{dim}})$.
# Backpropagation walks this chain from the end:
#
# 1. $G_2 = \partial L / \partial Z_2$: the cross-entropy gradient of notebook 4, softmax
#    minus one-hot, divided by $N$ for `mean`:
#    $\;G_2 = \bigl(\operatorname{softmax}(Z_2) - \operatorname{onehot}(t)\bigr) / N$.
# 2. The second linear layer, as in Exercise 3, with $H$ as its input:
#    $\;\partial L/\partial W_2 = G_2^\top H$, $\;\partial L/\partial b_2 = \sum_{\text{rows}}
#    G_2$, $\;\partial L/\partial H = G_2 W_2$.
# 3. The ReLU lets the gradient through where $Z_1 > 0$ and blocks it elsewhere:
#    $G_1 = \partial L/\partial H \odot [Z_1 > 0]$.
# 4. The first linear layer, like step 2: $\;\partial L/\partial W_1 = G_1^\top X$,
#    $\;\partial L/\partial b_1 = \sum_{\text{rows}} G_1$.
#
# A shape check catches most slips: every gradient has exactly its parameter's shape.
#
# ## Exercise 4: every parameter's gradient (4 points)
#
# Write `two_layer_grads(input, target, W1, b1, W2, b2, reduction="mean")` for the network
# above, with `reduction` either `"mean"` or `"sum"`. Return a `dict` with the keys `"W1"`,
# `"b1"`, `"W2"`, `"b2"`, each the gradient of the loss with respect to that parameter. No
# autograd; you may call your `linear_backward` and use `torch.softmax`, `F.one_hot`,
# `torch.relu` or `clamp`.
#
# The checks compare with autograd in float64 (relative tolerance $10^{-6}$) for batches of
# 1 to 7 samples and random layer sizes, with both reductions. They name a forgotten ReLU
# mask, the gradient of the sum given for the mean, bias gradients averaged instead of
# summed, and $W_2$'s gradient taken from $Z_1$ instead of $H$.


# %% answer="two_layer_grads"
def two_layer_grads(input, target, W1, b1, W2, b2, reduction="mean"):
    ### BEGIN SOLUTION
    z1 = input @ W1.T + b1
    hidden = z1.clamp(min=0)
    z2 = hidden @ W2.T + b2
    g2 = torch.softmax(z2, dim=1) - F.one_hot(target, z2.shape[1]).to(z2.dtype)
    if reduction == "mean":
        g2 = g2 / input.shape[0]
    second = linear_backward(hidden, W2, b2, g2)
    first = linear_backward(input, W1, b1, second["input"] * (z1 > 0))
    return {
        "W1": first["weight"],
        "b1": first["bias"],
        "W2": second["weight"],
        "b2": second["bias"],
    }
    ### END SOLUTION


# %% tests="two_layer_grads" points=4
# Public checks: fixed random networks. Silence means they passed.
from autograder.checking import check_function
from autograder.checking.topics import backpropagation

_mistakes = backpropagation.two_layer_mistakes()
check_function(
    two_layer_grads,
    backpropagation.autograd_two_layer_grads,
    backpropagation.two_layer_cases(seed=51),
    mistakes=_mistakes,
    forbid=backpropagation.AUTOGRAD_FORBID,
)
### BEGIN HIDDEN TESTS
check_function(
    two_layer_grads,
    backpropagation.autograd_two_layer_grads,
    backpropagation.two_layer_cases(seed=None, draws=5),
    public=False,
    mistakes=_mistakes,
    forbid=backpropagation.AUTOGRAD_FORBID,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Summary
#
# * A graph frees what it saved after one `backward()`; `retain_graph=True` keeps it for a
#   second walk, and the two gradients are summed into `.grad`.
# * `y.backward(v)` computes the vector-Jacobian product $v^\top J$ without building $J$:
#   one step of backpropagation.
# * A linear layer's backward: $G W$ for the input, $G^\top X$ for the weight, the sum of the
#   rows of $G$ for the bias.
# * Backpropagation chains these steps from the loss back to the first layer; a ReLU passes
#   the gradient where its input was positive and blocks it elsewhere.
