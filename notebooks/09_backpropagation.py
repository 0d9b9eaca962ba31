# %% [markdown]
# # 9. Backpropagation: from a loss to every parameter's gradient
#
# A loss is one number. Training needs to know, for every parameter of the model, how that
# number changes when the parameter moves a little: the **gradient**. `loss.backward()`
# computes all of them at once by walking the computation backwards with the chain rule,
# which is what *backpropagation* means. An optimizer then uses the gradients to update the
# parameters (that is the next topic).
#
# | idea | in PyTorch |
# | --- | --- |
# | which tensors get gradients | `requires_grad=True`, leaf tensors, `nn.Parameter` |
# | the record of the computation | the graph of `grad_fn` nodes |
# | run backpropagation | `loss.backward()`, `torch.autograd.grad` |
# | where gradients land | `param.grad`: `None` until the first `backward()`, then summed into |
# | clear them | `model.zero_grad()`, `optimizer.zero_grad()` (set them to `None`) |
# | step outside the graph | `tensor.detach()`, `with torch.no_grad():` |
# | backward twice, or from a non-scalar | `retain_graph=True`, `y.backward(gradient)` |
#
# You will first check how autograd behaves (a reference experiment done in a debugger,
# turned into code that is checked), then derive the gradients of four losses by hand, write
# a numerical gradient checker and use it to find a bug, and finally backpropagate by hand
# through a small network.
#
# **How the checks work.** Each exercise is followed by a cell of *public checks*: if the
# cell prints nothing, they passed. When your notebook is graded, *hidden checks* also run on
# fresh random inputs, so passing the public checks is a good sign but not yet full marks.

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn as nn
import torch.nn.functional as F

import autograder.checking.topics.backpropagation  # noqa: F401 (the checks' inputs, loaded before any answer)

torch.set_printoptions(precision=4)
torch.set_num_threads(1)  # every tensor here is tiny: one thread avoids the cost of syncing many

# %% [markdown]
# ## Tensors that want gradients
#
# A tensor created with `requires_grad=True` asks autograd to track it. Every result
# computed from it also requires a gradient and remembers the operation that produced it in
# its `grad_fn`. Tensors you create yourself are **leaves** (`is_leaf` is `True`, `grad_fn`
# is `None`); `backward()` stores gradients only in leaves that require them, in their
# `.grad` attribute (an intermediate result keeps its gradient only if you call
# `.retain_grad()` on it first). A model's parameters (`nn.Parameter`) are such leaves.
#
# Take $\hat y = w x + b$ and the squared error $L = (\hat y - y)^2$ with $x = 2$, $y = 1$,
# $w = 3$, $b = 0.5$. Then $\hat y = 6.5$, and the chain rule gives
#
# $$
# \frac{\partial L}{\partial w} = 2(\hat y - y)\,x = 2 \cdot 5.5 \cdot 2 = 22, \qquad
# \frac{\partial L}{\partial b} = 2(\hat y - y) = 11 .
# $$

# %%
w = torch.tensor(3.0, requires_grad=True)
b = torch.tensor(0.5, requires_grad=True)
x_in, y_true = torch.tensor(2.0), torch.tensor(1.0)
loss = (w * x_in + b - y_true) ** 2
print("w is a leaf:", w.is_leaf, "| loss is a leaf:", loss.is_leaf, "| loss.grad_fn:", loss.grad_fn)
print("before backward: w.grad =", w.grad, " b.grad =", b.grad)
loss.backward()
print("after backward:  w.grad =", w.grad, " b.grad =", b.grad)

# %% [markdown]
# ## The computational graph
#
# Each `grad_fn` is a node of a graph, and `grad_fn.next_functions` lists the nodes that fed
# it. `backward()` starts from the loss's node and walks this graph back to the leaves,
# multiplying local derivatives as it goes (the chain rule). An `AccumulateGrad` node is
# where a gradient is added into a leaf's `.grad`; a `None` entry is an input that needs no
# gradient (here the constants $x$ and $y$). The helper below prints the graph of the loss
# above, the loss at the top and the leaves at the bottom.


# %%
def show_graph(node, depth=0):
    """Print the graph of grad_fn nodes that ends in ``node``."""
    if node is None:
        print("    " * depth + "None  (an input that needs no gradient)")
        return
    name = type(node).__name__
    if hasattr(node, "variable"):
        name += f"  -> .grad of a leaf of shape {tuple(node.variable.shape)}"
    print("    " * depth + name)
    for child, _ in node.next_functions:
        show_graph(child, depth + 1)


show_graph(loss.grad_fn)

# %% [markdown]
# ### A picture: derivatives from autograd
#
# For a function applied element by element, the gradient of `f(x).sum()` with respect to
# `x` is the derivative $f'(x_i)$ at every point, so one `backward()` gives the whole
# derivative curve. On the left, autograd's derivative of $f(x) = x \sin x$ (line) agrees
# with the slope measured numerically, $\bigl(f(x+h) - f(x-h)\bigr) / 2h$ (dots): you will
# write that checker yourself later. On the right, $|x|$ has a kink at $0$, where no
# derivative exists: PyTorch uses $\operatorname{sign}(0) = 0$ there, which matters for the
# gradient of the L1 loss.

# %%
grid = torch.linspace(-6, 6, 241, dtype=torch.float64, requires_grad=True)
(grid * torch.sin(grid)).sum().backward()
coarse = torch.linspace(-6, 6, 25, dtype=torch.float64)
h = 1e-4
numeric = ((coarse + h) * torch.sin(coarse + h) - (coarse - h) * torch.sin(coarse - h)) / (2 * h)

line = torch.linspace(-2, 2, 201, dtype=torch.float64, requires_grad=True)
line.abs().sum().backward()
zero = torch.tensor(0.0, requires_grad=True)
zero.abs().backward()

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
left.plot(grid.detach(), (grid * torch.sin(grid)).detach(), label="f(x) = x sin x")
left.plot(grid.detach(), grid.grad, label="f'(x) by autograd")
left.plot(coarse, numeric, "o", markersize=4, label="central difference")
left.set_xlabel("x")
left.legend(fontsize=8)
left.set_title("autograd against a numerical slope")
right.plot(line.detach(), line.detach().abs(), label="|x|")
right.plot(line.detach(), line.grad, ".", markersize=2, label="derivative by autograd")
right.plot([0], [zero.grad], "o", color="red", label=f"at x = 0: {zero.grad.item():g}")
right.set_xlabel("x")
right.legend(fontsize=8)
right.set_title("the kink of |x|")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Stepping outside the graph: `detach` and `torch.no_grad`
#
# Sometimes you want a value *without* its history: to log it, to use it as a fixed target,
# or to update parameters by hand. Two tools do this:
#
# * `t.detach()` returns a tensor with the same data (it shares memory with `t`) that does
#   not require a gradient and has no `grad_fn`. Gradients never flow through it.
# * inside `with torch.no_grad():` no graph is recorded at all: results do not require
#   gradients even when their inputs do. Use it for evaluation and for parameter updates.
#
# Both keep the graph small and stop gradients exactly where you decide.

# %%
w = torch.tensor([1.0, -2.0], requires_grad=True)
x = torch.tensor([3.0, 0.5])
h = w * x
s = h.sum()
d = h.detach()
with torch.no_grad():
    n = w * 2

# %% [markdown]
# ## Exercise 1: read the graph (2 points)
#
# For the tensors `w, x, h, s, d, n` defined in the cell above, set each name below to its
# answer: `True` or `False` for the questions, and the class name (a string, such as
# `"AddBackward0"`) for `s_grad_fn_name`. You may answer by running code (for example
# `x.requires_grad`), but store plain values: `bool` and `str`.
#
# * `x_requires_grad`: does `x` require a gradient?
# * `h_requires_grad`: does `h` require a gradient?
# * `h_is_leaf`: is `h` a leaf tensor?
# * `s_grad_fn_name`: the class name of `s.grad_fn`
# * `d_requires_grad`: does `d = h.detach()` require a gradient?
# * `d_shares_memory_with_h`: does `d` use the same memory as `h`? (compare `data_ptr()`)
# * `n_requires_grad`: does `n`, computed under `torch.no_grad()`, require a gradient?
#
# The checks rebuild the same tensors and compare every answer with what PyTorch says.

# %% answer="graph_quiz"
### BEGIN SOLUTION
x_requires_grad = x.requires_grad
h_requires_grad = h.requires_grad
h_is_leaf = h.is_leaf
s_grad_fn_name = type(s.grad_fn).__name__
d_requires_grad = d.requires_grad
d_shares_memory_with_h = d.data_ptr() == h.data_ptr()
n_requires_grad = n.requires_grad
### END SOLUTION

# %% tests="graph_quiz" points=2
# Public checks: each answer against the same tensors, rebuilt here.
import torch

from autograder.checking import check_value

_w = torch.tensor([1.0, -2.0], requires_grad=True)
_x = torch.tensor([3.0, 0.5])
_h = _w * _x
_s = _h.sum()
_d = _h.detach()
with torch.no_grad():
    _n = _w * 2
check_value("x_requires_grad", x_requires_grad, _x.requires_grad)
check_value("h_requires_grad", h_requires_grad, _h.requires_grad)
check_value("h_is_leaf", h_is_leaf, _h.is_leaf)
check_value(
    "s_grad_fn_name",
    s_grad_fn_name,
    type(_s.grad_fn).__name__,
    mistakes={"the grad_fn of h (the product), not of s": type(_h.grad_fn).__name__},
)
check_value("d_requires_grad", d_requires_grad, _d.requires_grad)
check_value("d_shares_memory_with_h", d_shares_memory_with_h, _d.data_ptr() == _h.data_ptr())
check_value("n_requires_grad", n_requires_grad, _n.requires_grad)

# %% [markdown]
# ## The debugger experiment: `.grad` before and after `backward()`
#
# The study notes behind this course stop a debugger on the line `result_loss.backward()`
# of a CIFAR10 training loop and look at the first convolution's `weight.grad`: it is
# `None` before the line runs and holds numbers after. Here you turn that observation, and
# two more, into code:
#
# * `.grad` is `None` until the first `backward()` reaches the parameter.
# * `backward()` **adds** into `.grad`; it does not overwrite it. A second backward pass
#   (without clearing) gives the sum of both passes' gradients. This is useful for
#   accumulating gradients over several small batches, and a classic bug otherwise.
# * `zero_grad()` clears the gradients. **A correction to the notes:** it does not fill them
#   with zeros. Since PyTorch 2.0 its default is `set_to_none=True`, which sets every `.grad`
#   back to `None` (cheaper, and an optimizer skips parameters whose `.grad` is `None`).
#   `zero_grad(set_to_none=False)` keeps the tensors and fills them with zeros.
#
# One more detail: `backward()` adds **in place**, into the very same tensor object. Keep a
# copy (`.grad.clone()`) of anything you want to look at later.

# %%
model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
batch, classes = torch.randn(5, 4), torch.tensor([0, 1, 1, 0, 1])
print("before backward:", model[0].weight.grad)
F.cross_entropy(model(batch), classes).backward()
kept = model[0].weight.grad
print("after one backward, the gradient has the weight's shape:", tuple(kept.shape))
F.cross_entropy(model(batch), classes).backward()
print("same tensor object after a second backward:", model[0].weight.grad is kept)
model.zero_grad()
print("after zero_grad():", model[0].weight.grad)

# %% [markdown]
# ## Exercise 2: the experiment as a function (3 points)
#
# Write `gradient_snapshots(model, input, target)`. The `model` is an `nn.Sequential` whose
# first layer, `model[0]`, is an `nn.Linear`; watch its weight, `model[0].weight`. One
# "backward pass" below means: compute `F.cross_entropy(model(input), target)` and call
# `.backward()` on it. Do, in this order:
#
# 1. record `model[0].weight.grad` as it is when the function is called, under `"before"`;
# 2. one backward pass, record the gradient under `"after_one"`;
# 3. another backward pass (no clearing), record under `"after_two"`;
# 4. `model.zero_grad()`, record under `"after_zero_grad"`;
# 5. one more backward pass, then `model.zero_grad(set_to_none=False)`, record under
#    `"after_zero_grad_false"`.
#
# Return a `dict` with those five keys. Record `None` where the gradient is `None`, and a
# **copy** (`.clone()`) of the gradient tensor otherwise.
#
# The checks run your function and the same experiment on two identical float64 models and
# compare every entry (relative tolerance $10^{-10}$). Some models come with their `.grad`
# already filled by an earlier backward pass, so `"before"` is not always `None`.


# %% answer="gradient_snapshots"
def gradient_snapshots(model, input, target):
    ### BEGIN SOLUTION
    weight = model[0].weight

    def record():
        return None if weight.grad is None else weight.grad.clone()

    def backward_pass():
        F.cross_entropy(model(input), target).backward()

    found = {"before": record()}
    backward_pass()
    found["after_one"] = record()
    backward_pass()
    found["after_two"] = record()
    model.zero_grad()
    found["after_zero_grad"] = record()
    backward_pass()
    model.zero_grad(set_to_none=False)
    found["after_zero_grad_false"] = record()
    return found
    ### END SOLUTION


# %% tests="gradient_snapshots" points=3
# Public checks: fresh models from fixed seeds. Silence means they passed.
from autograder.checking import CheckFailed, check_value, forbid_calls, fresh_seed
from autograder.checking.topics.backpropagation import (
    REFERENCES,
    reference_snapshots,
    snapshot_mistakes,
    snapshot_model,
)

_problem = forbid_calls(gradient_snapshots, REFERENCES)
if _problem:
    raise CheckFailed(f"gradient_snapshots {_problem}")


def _run_snapshots(seed, primed, public=True):
    model, input, target = snapshot_model(seed, primed=primed)
    expected = reference_snapshots(model, input, target)
    model, input, target = snapshot_model(seed, primed=primed)
    got = gradient_snapshots(model, input, target)
    check_value(
        f"gradient_snapshots on a {'primed' if primed else 'fresh'} model (seed {seed})",
        got,
        expected,
        rtol=1e-10,
        atol=1e-12,
        public=public,
        mistakes=snapshot_mistakes(expected),
    )


_run_snapshots(7, primed=False)
_run_snapshots(8, primed=True)
### BEGIN HIDDEN TESTS
_run_snapshots(fresh_seed(), primed=False, public=False)
_run_snapshots(fresh_seed(), primed=True, public=False)
_run_snapshots(fresh_seed(), primed=True, public=False)
### END HIDDEN TESTS

# %% [markdown]
# ## `retain_graph`: backward twice through the same graph
#
# To save memory, `backward()` frees the intermediate values the graph saved for it (for a
# product $w \cdot x$, the factors). A second `backward()` through the same graph then has
# nothing to work with and raises a `RuntimeError`. `backward(retain_graph=True)` keeps them,
# so the graph can be walked again; the gradients of both walks are summed into `.grad`.
# You rarely need it: the usual loop builds a new graph at every step. It appears when two
# losses share part of a graph and are backpropagated separately.
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
# ## Exercise 3: predict `retain_graph` (1 point)
#
# Answer with plain values (you may run code to find them):
#
# * `raises_for_product`: with `w = torch.tensor([1.0, -2.0], requires_grad=True)` and
#   `s = (w * torch.tensor([3.0, 0.5])).sum()`, does a second `s.backward()` (after a first
#   one without `retain_graph`) raise a `RuntimeError`? (`True` or `False`)
# * `raises_for_sum`: the same question for `s = (w + 1.0).sum()`.
# * `grad_after_two_backwards`: `w.grad` (a tensor) after `s.backward(retain_graph=True)`
#   followed by `s.backward()`, for the product version of `s` and a fresh `w`.

# %% answer="retain_graph_quiz"
### BEGIN SOLUTION
raises_for_product = True
raises_for_sum = False
_w = torch.tensor([1.0, -2.0], requires_grad=True)
_s = (_w * torch.tensor([3.0, 0.5])).sum()
_s.backward(retain_graph=True)
_s.backward()
grad_after_two_backwards = _w.grad.clone()
### END SOLUTION

# %% tests="retain_graph_quiz" points=1
# Public checks: PyTorch is asked the same questions here.
import torch

from autograder.checking import check_value


def _raises(make_s):
    leaf = torch.tensor([1.0, -2.0], requires_grad=True)
    out = make_s(leaf)
    out.backward()
    try:
        out.backward()
    except RuntimeError:
        return True
    return False


def _product(leaf):
    return (leaf * torch.tensor([3.0, 0.5])).sum()


check_value("raises_for_product", raises_for_product, _raises(_product))
check_value("raises_for_sum", raises_for_sum, _raises(lambda leaf: (leaf + 1.0).sum()))
_leaf = torch.tensor([1.0, -2.0], requires_grad=True)
_out = _product(_leaf)
_out.backward(retain_graph=True)
_once = _leaf.grad.clone()
_out.backward()
check_value(
    "grad_after_two_backwards",
    grad_after_two_backwards,
    _leaf.grad,
    rtol=1e-6,
    mistakes={"the gradient of one backward only: the two are summed": _once},
)

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
# ## Exercise 4: a vector-Jacobian product (2 points)
#
# Write `vector_jacobian_product(f, x, v)`: `f` maps a 1-D tensor to a tensor of any shape,
# `x` is a 1-D tensor that does not require a gradient, and `v` has the shape of `f(x)`.
# Return $v^\top J$ (a tensor of `x`'s shape) by making a leaf copy of `x` that requires a
# gradient (`x.detach().clone().requires_grad_(True)`), calling `backward` with a
# `gradient`, and reading the copy's `.grad`.
#
# Not allowed: `torch.autograd.functional.jacobian`, `torch.autograd.functional.vjp` and
# `torch.func`. The checks compare with $v^\top J$ from the full Jacobian, for elementwise,
# cumulative, outer-product and matrix functions, in float64.


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
### BEGIN HIDDEN TESTS
check_function(
    vector_jacobian_product,
    backpropagation.explicit_vjp,
    backpropagation.vjp_cases(seed=None),
    public=False,
    mistakes=_mistakes,
    forbid=_forbid,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Gradients of losses, by hand
#
# Backpropagation starts at the loss, so the first gradient of every training step is the
# loss's gradient with respect to the model's output (the loss's `input`). Each loss below
# computes per-element losses $\ell_i$ and reduces them; write $n$ for the number of
# elements (for cross-entropy, $N$ for the batch size).
#
# **Reductions.** With `sum`, $\partial L / \partial x_i = \partial \ell_i / \partial x_i$.
# With `mean`, every gradient is divided by the number of terms averaged. With `none`, the
# loss is a tensor, so `backward` needs a `gradient` argument $u$ of the loss's shape (the
# `grad_output`), and the input's gradient is $u_i \, \partial \ell_i / \partial x_i$.
#
# **L1**, $\ell_i = |x_i - y_i|$: $\;\partial \ell_i / \partial x_i =
# \operatorname{sign}(x_i - y_i)$, and PyTorch uses $\operatorname{sign}(0) = 0$ at a tie.
#
# **MSE**, $\ell_i = (x_i - y_i)^2$: $\;\partial \ell_i / \partial x_i = 2(x_i - y_i)$.
#
# **Cross-entropy** for logits $x_{i,\cdot}$ of sample $i$ and class $t_i$,
# $\ell_i = -x_{i,t_i} + \log \sum_j e^{x_{i,j}}$:
#
# $$
# \frac{\partial \ell_i}{\partial x_{i,k}} = \frac{e^{x_{i,k}}}{\sum_j e^{x_{i,j}}} - [k = t_i]
# = p_{i,k} - [k = t_i],
# $$
#
# the softmax probabilities minus the one-hot target. `mean` divides by the batch size $N$
# (the number of losses), not by $N \cdot C$.
#
# **Binary cross-entropy with logits**, $\ell_i = -\bigl[y_i \log \sigma(x_i) + (1 - y_i)
# \log(1 - \sigma(x_i))\bigr]$ with $\sigma(x) = 1/(1 + e^{-x})$. Since
# $\sigma'(x) = \sigma(x)(1 - \sigma(x))$, the terms simplify to
#
# $$
# \frac{\partial \ell_i}{\partial x_i} = \sigma(x_i) - y_i ,
# $$
#
# for hard ($0/1$) and soft targets alike. Cross-entropy and BCE share the same pattern:
# *prediction minus target*.
#
# ### Worked example
#
# For the logits $(0.1, 0.2, 0.3)$ and class $1$ (cross-entropy $1.1019$), the softmax is
# $(0.3006, 0.3322, 0.3672)$, so the gradient is $(0.3006, -0.6678, 0.3672)$. For L1 with
# $x = (1, 2, 3)$, $y = (1, 2, 5)$ and `mean`, it is $(0, 0, -1/3)$: the two ties give $0$.

# %%
logits = torch.tensor([[0.1, 0.2, 0.3]], requires_grad=True)
F.cross_entropy(logits, torch.tensor([1])).backward()
print("CE gradient by autograd:", logits.grad)
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
F.l1_loss(x, torch.tensor([1.0, 2.0, 5.0])).backward()
print("L1 gradient by autograd:", x.grad)
z = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
F.mse_loss(z, torch.tensor([1.0, 2.0, 5.0]), reduction="none").backward(torch.tensor([1, 1, 0.5]))
print("MSE, reduction='none', grad_output (1, 1, 0.5):", z.grad)

# %% [markdown]
# ## Exercises 5 to 8: four loss gradients (9 points)
#
# Write four functions that return the gradient of a loss with respect to its `input`,
# derived by hand, with the signature
#
# ```python
# def l1_loss_grad(input, target, reduction="mean", grad_output=None): ...
# ```
#
# (and the same for `mse_loss_grad`, `cross_entropy_grad`, `bce_with_logits_grad`). Each
# returns what `loss.backward(grad_output)` would leave in `input.grad`, where `loss` is
# `F.l1_loss`, `F.mse_loss`, `F.cross_entropy` or `F.binary_cross_entropy_with_logits` with
# the same `reduction`: a tensor of `input`'s shape and dtype. `grad_output` is `None` for
# `"sum"` and `"mean"` (it means $1$) and a tensor of the loss's shape for `"none"`.
#
# * `l1_loss_grad`, `mse_loss_grad`: `input` and `target` of the same shape.
# * `cross_entropy_grad`: logits of shape $(N, C)$ and class indices of shape $(N,)$;
#   `grad_output` for `"none"` has shape $(N,)$. You may use `torch.softmax`.
# * `bce_with_logits_grad`: logits and targets (in $[0, 1]$) of the same shape. You may use
#   `torch.sigmoid`.
#
# Autograd is not allowed here: no `.backward`, `torch.autograd`, `torch.func`, and no
# reading of `.grad`. The checks compare with autograd in float64 (relative tolerance
# $10^{-6}$), for every reduction, on the worked examples and random inputs; the L1 inputs
# include ties $x_i = y_i$. They recognise a wrong reduction, an ignored `grad_output`,
# $\operatorname{sign}(0)$ taken as $1$, a forgotten factor $2$, a flipped sign, a forgotten
# softmax, and the BCE gradient taken with respect to $\sigma(x)$ instead of $x$.


# %% [markdown]
# ### Exercise 5: `l1_loss_grad` (2 points)
#
# Remember PyTorch's $\operatorname{sign}(0) = 0$ at a tie (`torch.sign` does this).


# %% answer="l1_loss_grad"
def l1_loss_grad(input, target, reduction="mean", grad_output=None):
    ### BEGIN SOLUTION
    local = torch.sign(input - target)
    if reduction == "none":
        return grad_output * local
    if reduction == "sum":
        return local
    if reduction == "mean":
        return local / input.numel()
    raise ValueError(f"{reduction} is not a valid value for reduction")
    ### END SOLUTION


# %% tests="l1_loss_grad" points=2
# Public checks: the worked example and fixed random inputs with ties.
import torch
import torch.nn.functional as F

from autograder.checking import Case, check_function
from autograder.checking.topics import backpropagation

_reference = backpropagation.autograd_input_grad(F.l1_loss)


def _sign_zero_is_one(input, target, reduction="mean", grad_output=None):
    if not bool((input == target).any()):
        return None
    local = torch.where(input >= target, 1.0, -1.0).to(input.dtype)
    scale = {"sum": 1.0, "mean": 1.0 / input.numel()}.get(reduction)
    return grad_output * local if reduction == "none" else local * scale


_mistakes = {
    **backpropagation.grad_mistakes(_reference),
    "sign(0) taken as +1 at a tie (PyTorch uses 0)": _sign_zero_is_one,
}
_x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
_y = torch.tensor([1.0, 2.0, 5.0], dtype=torch.float64)
_example = [
    Case(f"worked example, reduction={r!r}", (_x, _y), {"reduction": r}) for r in ("sum", "mean")
]
check_function(
    l1_loss_grad,
    _reference,
    _example + backpropagation.regression_grad_cases(seed=31),
    mistakes=_mistakes,
    forbid=backpropagation.AUTOGRAD_FORBID,
)
### BEGIN HIDDEN TESTS
check_function(
    l1_loss_grad,
    _reference,
    backpropagation.regression_grad_cases(seed=None, draws=5),
    public=False,
    mistakes=_mistakes,
    forbid=backpropagation.AUTOGRAD_FORBID,
)
### END HIDDEN TESTS


# %% [markdown]
# ### Exercise 6: `mse_loss_grad` (2 points)


# %% answer="mse_loss_grad"
def mse_loss_grad(input, target, reduction="mean", grad_output=None):
    ### BEGIN SOLUTION
    local = 2 * (input - target)
    if reduction == "none":
        return grad_output * local
    if reduction == "sum":
        return local
    if reduction == "mean":
        return local / input.numel()
    raise ValueError(f"{reduction} is not a valid value for reduction")
    ### END SOLUTION


# %% tests="mse_loss_grad" points=2
# Public checks: the worked example and fixed random inputs.
import torch
import torch.nn.functional as F

from autograder.checking import Case, check_function
from autograder.checking.topics import backpropagation

_reference = backpropagation.autograd_input_grad(F.mse_loss)
_mistakes = {
    **backpropagation.grad_mistakes(_reference),
    "the factor 2 of the square forgotten": lambda *a, **k: _reference(*a, **k) / 2,
    "the sign flipped: target - input instead of input - target": lambda *a, **k: (
        -_reference(*a, **k)
    ),
}
_x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
_y = torch.tensor([1.0, 2.0, 5.0], dtype=torch.float64)
_example = [
    Case(f"worked example, reduction={r!r}", (_x, _y), {"reduction": r}) for r in ("sum", "mean")
]
check_function(
    mse_loss_grad,
    _reference,
    _example + backpropagation.regression_grad_cases(seed=32),
    mistakes=_mistakes,
    forbid=backpropagation.AUTOGRAD_FORBID,
)
### BEGIN HIDDEN TESTS
check_function(
    mse_loss_grad,
    _reference,
    backpropagation.regression_grad_cases(seed=None, draws=5),
    public=False,
    mistakes=_mistakes,
    forbid=backpropagation.AUTOGRAD_FORBID,
)
### END HIDDEN TESTS


# %% [markdown]
# ### Exercise 7: `cross_entropy_grad` (3 points)
#
# Subtracting the largest logit before `exp` keeps the softmax finite.


# %% answer="cross_entropy_grad"
def cross_entropy_grad(input, target, reduction="mean", grad_output=None):
    ### BEGIN SOLUTION
    shifted = torch.exp(input - input.max(dim=1, keepdim=True).values)
    local = shifted / shifted.sum(dim=1, keepdim=True)
    local[torch.arange(input.shape[0]), target] -= 1
    if reduction == "none":
        return grad_output[:, None] * local
    if reduction == "sum":
        return local
    if reduction == "mean":
        return local / input.shape[0]
    raise ValueError(f"{reduction} is not a valid value for reduction")
    ### END SOLUTION


# %% tests="cross_entropy_grad" points=3
# Public checks: the worked example and fixed random logits.
import torch
import torch.nn.functional as F

from autograder.checking import Case, check_function
from autograder.checking.topics import backpropagation

_reference = backpropagation.autograd_input_grad(F.cross_entropy)


def _softmax_forgotten(input, target, reduction="mean", grad_output=None):
    if reduction == "none":
        return None
    local = input - F.one_hot(target, input.shape[1]).to(input.dtype)
    return local / input.shape[0] if reduction == "mean" else local


def _mean_over_all(input, target, reduction="mean", grad_output=None):
    return (
        _reference(input, target, reduction="sum") / input.numel() if reduction == "mean" else None
    )


def _softmax_alone(input, target, reduction="mean", grad_output=None):
    if reduction != "sum":
        return None
    one_hot = F.one_hot(target, input.shape[1]).to(input.dtype)
    return _reference(input, target, reduction="sum") + one_hot


_mistakes = {
    **backpropagation.grad_mistakes(_reference),
    "divided by N * C for reduction='mean' (it averages the N losses)": _mean_over_all,
    "softmax forgotten (the logits minus the one-hot target)": _softmax_forgotten,
    "the one-hot target not subtracted (the softmax alone)": _softmax_alone,
}
_example = [
    Case(
        "worked example (0.1, 0.2, 0.3), class 1",
        (torch.tensor([[0.1, 0.2, 0.3]], dtype=torch.float64), torch.tensor([1])),
    )
]
check_function(
    cross_entropy_grad,
    _reference,
    _example + backpropagation.classification_grad_cases(seed=33),
    mistakes=_mistakes,
    forbid=backpropagation.AUTOGRAD_FORBID,
)
### BEGIN HIDDEN TESTS
check_function(
    cross_entropy_grad,
    _reference,
    backpropagation.classification_grad_cases(seed=None, draws=5),
    public=False,
    mistakes=_mistakes,
    forbid=backpropagation.AUTOGRAD_FORBID,
)
### END HIDDEN TESTS


# %% [markdown]
# ### Exercise 8: `bce_with_logits_grad` (2 points)


# %% answer="bce_with_logits_grad"
def bce_with_logits_grad(input, target, reduction="mean", grad_output=None):
    ### BEGIN SOLUTION
    local = torch.sigmoid(input) - target
    if reduction == "none":
        return grad_output * local
    if reduction == "sum":
        return local
    if reduction == "mean":
        return local / input.numel()
    raise ValueError(f"{reduction} is not a valid value for reduction")
    ### END SOLUTION


# %% tests="bce_with_logits_grad" points=2
# Public checks: fixed random logits with hard and soft targets.
import torch
import torch.nn.functional as F

from autograder.checking import check_function
from autograder.checking.topics import backpropagation

_reference = backpropagation.autograd_input_grad(F.binary_cross_entropy_with_logits)


def _wrt_probability(input, target, reduction="mean", grad_output=None):
    if reduction != "sum":
        return None
    p = torch.sigmoid(input)
    return (p - target) / (p * (1 - p))


_mistakes = {
    **backpropagation.grad_mistakes(_reference),
    "the gradient with respect to the probability sigmoid(x), not the logit x": _wrt_probability,
    "the sign flipped: target - sigmoid(input)": lambda *a, **k: -_reference(*a, **k),
}
check_function(
    bce_with_logits_grad,
    _reference,
    backpropagation.binary_grad_cases(seed=34),
    mistakes=_mistakes,
    forbid=backpropagation.AUTOGRAD_FORBID,
)
### BEGIN HIDDEN TESTS
check_function(
    bce_with_logits_grad,
    _reference,
    backpropagation.binary_grad_cases(seed=None, draws=5),
    public=False,
    mistakes=_mistakes,
    forbid=backpropagation.AUTOGRAD_FORBID,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Checking a gradient numerically
#
# A gradient derived by hand can be wrong in ways that still look plausible. The standard
# test compares it with a **numerical gradient**: nudge one input element at a time and
# measure how the function changes. The *central difference*
#
# $$
# \frac{\partial f}{\partial x_i} \approx
# \frac{f(x + \varepsilon e_i) - f(x - \varepsilon e_i)}{2\varepsilon}
# $$
#
# ($e_i$ is the $i$-th unit vector) has an error proportional to $\varepsilon^2$, while the
# one-sided *forward difference* $\bigl(f(x + \varepsilon e_i) - f(x)\bigr)/\varepsilon$ is only
# accurate to order $\varepsilon$. But $\varepsilon$ cannot shrink forever: the two values of
# $f$ are rounded, and their difference is divided by $\varepsilon$. Work in float64: in float32
# the rounding error swamps everything. The plot shows both errors for
# $f(x) = x \sin x$ at $x = 1$.

# %%
point = torch.tensor(1.0, dtype=torch.float64)
exact = torch.sin(point) + point * torch.cos(point)
steps = torch.logspace(-12, -1, 45, dtype=torch.float64)


def f_scalar(t):
    return t * torch.sin(t)


central = (f_scalar(point + steps) - f_scalar(point - steps)) / (2 * steps)
forward = (f_scalar(point + steps) - f_scalar(point)) / steps
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.loglog(steps, (forward - exact).abs(), label="forward difference")
ax.loglog(steps, (central - exact).abs(), label="central difference")
ax.set_xlabel("step ε")
ax.set_ylabel("error of the derivative")
ax.set_title("numerical derivatives of x sin x at x = 1 (float64)")
ax.legend()
plt.show()

# %% [markdown]
# ## Exercise 9: a central-difference gradient checker (2 points)
#
# Write `numerical_gradient(f, x, eps=1e-6)`: `f` takes a tensor of `x`'s shape and returns a
# scalar (a 0-dim tensor). Return the tensor of central differences, of `x`'s shape and
# dtype, one entry per element of `x` (any number of dimensions: `x.reshape(-1)` or
# `x.flatten()` helps). Do not change the caller's `x`: work on a copy. No autograd.
#
# The checks run smooth functions of tensors of 1 to 3 dimensions with `eps` of $10^{-3}$ and
# $10^{-4}$, and compare with the central difference computed by the course (relative
# tolerance $10^{-7}$). A forward difference is off by far more than that.


# %% answer="numerical_gradient"
def numerical_gradient(f, x, eps=1e-6):
    ### BEGIN SOLUTION
    flat = x.detach().clone().reshape(-1)
    result = torch.empty_like(flat)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + eps
        plus = float(f(flat.reshape(x.shape)))
        flat[i] = old - eps
        minus = float(f(flat.reshape(x.shape)))
        flat[i] = old
        result[i] = (plus - minus) / (2 * eps)
    return result.reshape(x.shape)
    ### END SOLUTION


# %% tests="numerical_gradient" points=2
# Public checks: fixed random inputs. Silence means they passed.
from autograder.checking import check_function
from autograder.checking.topics import backpropagation

_mistakes = {
    "a forward difference (f(x + eps) - f(x)) / eps": backpropagation.forward_difference,
    "divided by eps instead of 2 eps": lambda f, x, eps=1e-6: (
        2 * backpropagation.central_difference(f, x, eps)
    ),
}
check_function(
    numerical_gradient,
    backpropagation.central_difference,
    backpropagation.numerical_cases(seed=41),
    rtol=1e-7,
    atol=1e-9,
    mistakes=_mistakes,
    forbid=backpropagation.AUTOGRAD_FORBID,
)
### BEGIN HIDDEN TESTS
check_function(
    numerical_gradient,
    backpropagation.central_difference,
    backpropagation.numerical_cases(seed=None),
    rtol=1e-7,
    atol=1e-9,
    public=False,
    mistakes=_mistakes,
    forbid=backpropagation.AUTOGRAD_FORBID,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 10: find the planted bug (2 points)
#
# Below are four functions, each with a gradient written by hand. **One** of the hand
# gradients is wrong. Find it with your checker, not by eye: for each name, compare
# `numerical_gradient(f, probe)` with `grad_f(probe)` at the probe point given, with
# `torch.allclose(..., rtol=1e-5, atol=1e-7)`.
#
# * `check_results`: a `dict` mapping each of the four names to `True` if the hand gradient
#   passes the comparison and `False` if it fails;
# * `planted_bug`: the name (a string) of the function whose hand gradient is wrong.


# %%
def softplus_sum(x):
    return torch.log1p(torch.exp(x)).sum()


def softplus_sum_grad(x):
    return torch.sigmoid(x)


def log_sum_exp(x):
    return torch.log(torch.exp(x).sum())


def log_sum_exp_grad(x):
    return torch.exp(x) / torch.exp(x).sum()


def huber_sum(x, beta=0.5):
    small = x.abs() < beta
    return torch.where(small, 0.5 * x**2 / beta, x.abs() - 0.5 * beta).sum()


def huber_sum_grad(x, beta=0.5):
    small = x.abs() < beta
    return torch.where(small, x, torch.sign(x))


def silu_sum(x):
    return (x * torch.sigmoid(x)).sum()


def silu_sum_grad(x):
    s = torch.sigmoid(x)
    return s * (1 + x * (1 - s))


CANDIDATES = {
    "softplus_sum": (softplus_sum, softplus_sum_grad),
    "log_sum_exp": (log_sum_exp, log_sum_exp_grad),
    "huber_sum": (huber_sum, huber_sum_grad),
    "silu_sum": (silu_sum, silu_sum_grad),
}
probe = torch.randn(3, 4, generator=torch.Generator().manual_seed(5), dtype=torch.float64)

# %% answer="planted_bug"
### BEGIN SOLUTION
check_results = {
    name: bool(torch.allclose(numerical_gradient(f, probe), grad_f(probe), rtol=1e-5, atol=1e-7))
    for name, (f, grad_f) in CANDIDATES.items()
}
planted_bug = [name for name, passed in check_results.items() if not passed][0]
### END SOLUTION

# %% tests="planted_bug" points=2
# Public checks: every hand gradient is compared with autograd here.
import torch

from autograder.checking import check_value


def _autograd(f, at):
    leaf = at.detach().clone().requires_grad_(True)
    f(leaf).backward()
    return leaf.grad


_probe = torch.randn(3, 4, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
# Each function written independently with PyTorch's own operations; autograd differentiates it.
_functions = {
    "softplus_sum": lambda t: torch.nn.functional.softplus(t).sum(),
    "log_sum_exp": lambda t: torch.logsumexp(t.reshape(-1), 0),
    "huber_sum": lambda t: torch.nn.functional.smooth_l1_loss(
        t, torch.zeros_like(t), beta=0.5, reduction="sum"
    ),
    "silu_sum": lambda t: torch.nn.functional.silu(t).sum(),
}
_expected = {
    name: bool(
        torch.allclose(CANDIDATES[name][1](_probe), _autograd(f, _probe), rtol=1e-5, atol=1e-7)
    )
    for name, f in _functions.items()
}
check_value("check_results", check_results, _expected)
check_value("planted_bug", planted_bug, next(n for n, ok in _expected.items() if not ok))

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
# with $W_1$ of shape $(H_{\text{dim}}, D)$ and $W_2$ of shape $(C, H_{\text{dim}})$, as
# `nn.Linear` stores them. Backpropagation walks this chain from the end, each step
# turning "gradient with respect to a layer's output" into "gradient with respect to its input
# and its parameters":
#
# 1. $G_2 = \partial L / \partial Z_2$: your cross-entropy gradient (softmax minus one-hot,
#    divided by $N$ for `mean`).
# 2. A linear layer $Z_2 = H W_2^\top + b_2$: $\;\partial L/\partial W_2 = G_2^\top H$,
#    $\;\partial L/\partial b_2 = \sum_{\text{rows}} G_2$, and
#    $\;\partial L/\partial H = G_2 W_2$.
# 3. The ReLU lets the gradient through where $Z_1 > 0$ and blocks it elsewhere:
#    $G_1 = \partial L/\partial H \odot [Z_1 > 0]$.
# 4. The first linear layer, like step 2: $\;\partial L/\partial W_1 = G_1^\top X$,
#    $\;\partial L/\partial b_1 = \sum_{\text{rows}} G_1$.
#
# A shape check catches most slips: every gradient has exactly its parameter's shape.
#
# ## Exercise 11: every parameter's gradient (4 points)
#
# Write `two_layer_grads(input, target, W1, b1, W2, b2, reduction="mean")` for the network
# above, with `reduction` either `"mean"` or `"sum"`. Return a `dict` with the keys `"W1"`,
# `"b1"`, `"W2"`, `"b2"`, each the gradient of the loss with respect to that parameter. No
# autograd; you may call your `cross_entropy_grad` and use `torch.relu` or `clamp`.
#
# The checks compare with autograd in float64 (relative tolerance $10^{-6}$) for batches of
# 1 to 7 samples and random layer sizes.


# %% answer="two_layer_grads"
def two_layer_grads(input, target, W1, b1, W2, b2, reduction="mean"):
    ### BEGIN SOLUTION
    z1 = input @ W1.T + b1
    hidden = z1.clamp(min=0)
    z2 = hidden @ W2.T + b2
    g2 = cross_entropy_grad(z2, target, reduction=reduction)
    g_hidden = g2 @ W2
    g1 = g_hidden * (z1 > 0)
    return {
        "W1": g1.T @ input,
        "b1": g1.sum(dim=0),
        "W2": g2.T @ hidden,
        "b2": g2.sum(dim=0),
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
# * Autograd records a graph of `grad_fn` nodes from the leaves that require gradients;
#   `backward()` walks it back and stores gradients only in those leaves' `.grad`.
# * `.grad` is `None` before the first `backward()`; later passes **add** into it, in place,
#   until `zero_grad()` sets it back to `None` (or to zeros with `set_to_none=False`).
# * `detach()` and `torch.no_grad()` stop the recording; `retain_graph=True` allows a second
#   walk; `y.backward(v)` computes the vector-Jacobian product $v^\top J$.
# * The gradients of the common losses with respect to their input are simple: the sign of
#   the error (L1), twice the error (MSE), and *prediction minus target* for cross-entropy and
#   BCE with logits, divided by the number of terms averaged by `mean`.
# * Check any gradient derived by hand with central differences in float64.
