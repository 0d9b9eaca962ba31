# %% [markdown]
# # 2. Autograd: how PyTorch computes gradients, and how to check one
#
# A loss is one number. Training needs to know, for every parameter of the model, how that
# number changes when the parameter moves a little: the **gradient**. `loss.backward()`
# computes all of them at once by walking the computation backwards with the chain rule;
# an optimizer then uses them to update the parameters.
#
# Every later notebook leans on this. When you derive a gradient by hand (for cross-entropy,
# for binary cross-entropy, for a whole network), autograd is what you check it against, and
# a numerical gradient is what you check autograd against. So this notebook comes first:
#
# | idea | in PyTorch |
# | --- | --- |
# | which tensors get gradients | `requires_grad=True`, leaf tensors, `nn.Parameter` |
# | the record of the computation | the graph of `grad_fn` nodes |
# | run backpropagation | `loss.backward()` |
# | where gradients land | `param.grad`: `None` until the first `backward()`, then summed into |
# | clear them | `model.zero_grad()`, `optimizer.zero_grad()` (set them to `None`) |
# | step outside the graph | `tensor.detach()`, `with torch.no_grad():` |
#
# You will read a graph, turn a debugger experiment from the study notes into checked code,
# write a numerical gradient checker and use it to find a planted bug, and derive the
# gradients of L1 and MSE by hand.
#
# **How the checks work.** Each exercise is followed by a cell of *public checks*: if the
# cell prints nothing, they passed. When your notebook is graded, *hidden checks* also run on
# fresh random inputs, so passing the public checks is a good sign but not yet full marks.

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn as nn
import torch.nn.functional as F

import autograder.checking.topics.autograd_basics  # noqa: F401 (the checks load before any answer)

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
# write that checker yourself below. On the right, $|x|$ has a kink at $0$, where no
# derivative exists: PyTorch uses $\operatorname{sign}(0) = 0$ there, which matters for the
# gradient of the L1 loss at the end of this notebook.

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
for name, t in {"w": w, "x": x, "h": h, "s": s, "d": d, "n": n}.items():
    print(
        f"{name}: requires_grad={t.requires_grad!s:5}  is_leaf={t.is_leaf!s:5}  "
        f"grad_fn={type(t.grad_fn).__name__ if t.grad_fn is not None else None}"
    )
print("d shares its memory with h:", d.data_ptr() == h.data_ptr())

# %% [markdown]
# ## Exercise 1: read a tensor's place in the graph (2 points)
#
# Write `graph_facts(t)`: for one tensor `t`, return a `dict` with four entries, all plain
# Python values:
#
# * `"requires_grad"`: whether `t` requires a gradient (`True` or `False`);
# * `"is_leaf"`: whether `t` is a leaf;
# * `"grad_fn"`: the class name of `t.grad_fn` as a string (such as `"SumBackward0"`), or
#   `None` when it has none;
# * `"gets_grad"`: whether a `backward()` through `t` would store a gradient in `t.grad`:
#   only a tensor that requires a gradient **and** is a leaf, or that called
#   `.retain_grad()` (then `t.retains_grad` is `True`).
#
# Before you write it, predict the four answers for `w, x, h, s, d, n` above. The checks
# build small random graphs (leaves with and without `requires_grad`, sums, products, a
# `detach()`, a result computed under `torch.no_grad()`, a `retain_grad()`) and compare
# every entry with what PyTorch says (`True` and `False` must be Python `bool`s, not
# tensors). They name a `grad_fn` object (or its `str`) given where its name belongs, and a
# `gets_grad` that forgets one of its conditions: taken to mean only "requires a gradient",
# only "is a leaf", or without `retain_grad()`.


# %% answer="graph_facts"
def graph_facts(t):
    ### BEGIN SOLUTION
    return {
        "requires_grad": t.requires_grad,
        "is_leaf": t.is_leaf,
        "grad_fn": None if t.grad_fn is None else type(t.grad_fn).__name__,
        "gets_grad": t.requires_grad and (t.is_leaf or t.retains_grad),
    }
    ### END SOLUTION


# %% tests="graph_facts" points=2
# Public checks: two small graphs from fixed seeds. Silence means they passed.
from autograder.checking.topics.autograd_basics import check_graph_facts

check_graph_facts(graph_facts, seed=1)
check_graph_facts(graph_facts, seed=2)
### BEGIN HIDDEN TESTS
for _ in range(4):
    check_graph_facts(graph_facts, seed=None, public=False)
### END HIDDEN TESTS

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
from autograder.checking.topics.autograd_basics import check_gradient_snapshots

check_gradient_snapshots(gradient_snapshots, seed=7, primed=False)
check_gradient_snapshots(gradient_snapshots, seed=8, primed=True)
### BEGIN HIDDEN TESTS
check_gradient_snapshots(gradient_snapshots, seed=None, primed=False, public=False)
check_gradient_snapshots(gradient_snapshots, seed=None, primed=True, public=False)
check_gradient_snapshots(gradient_snapshots, seed=None, primed=True, public=False)
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
# ## Exercise 3: a central-difference gradient checker (2 points)
#
# Write `numerical_gradient(f, x, eps=1e-6)`: `f` takes a tensor of `x`'s shape and returns a
# scalar (a 0-dim tensor). Return the tensor of central differences, of `x`'s shape and
# dtype, one entry per element of `x` (any number of dimensions: `x.reshape(-1)` or
# `x.flatten()` helps). Do not change the caller's `x`, not even for a moment: nudge a copy
# (`x.detach().clone()`). No autograd.
#
# The checks run smooth functions of tensors of 1 to 3 dimensions with `eps` of $10^{-3}$ and
# $10^{-4}$, and compare with the central difference computed by the course (relative
# tolerance $10^{-7}$). A forward difference is off by far more than that; they name it,
# and a division by $\varepsilon$ instead of $2\varepsilon$. They also check that the
# tensor they pass in is unchanged afterwards, bit for bit, and was never written to in
# place (its version counter), even if the old values were put back.


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
from autograder.checking.topics import autograd_basics

_mistakes = {
    "a forward difference (f(x + eps) - f(x)) / eps": autograd_basics.forward_difference,
    "divided by eps instead of 2 eps": lambda f, x, eps=1e-6: (
        2 * autograd_basics.central_difference(f, x, eps)
    ),
}
_cases = autograd_basics.numerical_cases(seed=41)
check_function(
    numerical_gradient,
    autograd_basics.central_difference,
    _cases,
    rtol=1e-7,
    atol=1e-9,
    mistakes=_mistakes,
    forbid=autograd_basics.AUTOGRAD_FORBID,
)
autograd_basics.check_leaves_x_alone(numerical_gradient, _cases[0])
### BEGIN HIDDEN TESTS
_cases = autograd_basics.numerical_cases(seed=None)
check_function(
    numerical_gradient,
    autograd_basics.central_difference,
    _cases,
    rtol=1e-7,
    atol=1e-9,
    public=False,
    mistakes=_mistakes,
    forbid=autograd_basics.AUTOGRAD_FORBID,
)
for _case in _cases[::3]:
    autograd_basics.check_leaves_x_alone(numerical_gradient, _case, public=False)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 4: find a planted bug (2 points)
#
# Below are four functions, each with a gradient written by hand, collected in `CANDIDATES`
# as `name: (f, grad_f)`. **One** of the hand gradients is wrong. Find it with your checker,
# not by eye.
#
# Write `check_gradients(candidates, probe)`: for every `name: (f, grad_f)` of
# `candidates`, compare `numerical_gradient(f, probe)` with `grad_f(probe)` using
# `torch.allclose(..., rtol=1e-5, atol=1e-7)`, and return a `dict` that maps each name to
# `True` if the hand gradient passes and `False` if it fails (Python `bool`s). The truth
# comes from your checker: autograd is not allowed here (the checks refuse `.backward`,
# `torch.autograd` and `torch.func`), and they name answers that swap `True` and `False`,
# pass everything, or compare exactly where `allclose` is asked.
#
# The public check uses the four functions below; once it passes, print
# `check_gradients(CANDIDATES, probe)` to see which one was planted. The hidden checks draw
# other sets of four from a larger pool, with one or two planted bugs among them, and
# another probe point.


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


# %% answer="check_gradients"
def check_gradients(candidates, probe):
    ### BEGIN SOLUTION
    return {
        name: bool(
            torch.allclose(numerical_gradient(f, probe), grad_f(probe), rtol=1e-5, atol=1e-7)
        )
        for name, (f, grad_f) in candidates.items()
    }
    ### END SOLUTION


# %% tests="check_gradients" points=2
# Public checks: the four candidates above. Silence means they passed.
from autograder.checking import Case, check_function
from autograder.checking.topics import autograd_basics

check_function(
    check_gradients,
    autograd_basics.reference_check_gradients,
    [Case("the four candidates above, at the probe above", (CANDIDATES, probe))],
    mistakes=autograd_basics.check_gradients_mistakes(),
    forbid=autograd_basics.AUTOGRAD_FORBID,
)
### BEGIN HIDDEN TESTS
check_function(
    check_gradients,
    autograd_basics.reference_check_gradients,
    autograd_basics.planted_bug_cases(seed=None, draws=3),
    public=False,
    mistakes=autograd_basics.check_gradients_mistakes(),
    forbid=autograd_basics.AUTOGRAD_FORBID,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Gradients of losses, by hand
#
# Backpropagation starts at the loss, so the first gradient of every training step is the
# loss's gradient with respect to the model's output (the loss's `input`). A loss computes
# per-element losses $\ell_i$ and reduces them; write $n$ for the number of elements.
#
# **Reductions.** With `sum`, $\partial L / \partial x_i = \partial \ell_i / \partial x_i$.
# With `mean`, every gradient is divided by $n$, the number of terms averaged. With `none`,
# the loss is a tensor, not one number, so `backward` needs a `gradient` argument $u$ of the
# loss's shape, often called `grad_output` (the gradient of whatever comes after the loss):
# `loss.backward(u)` leaves $u_i \, \partial \ell_i / \partial x_i$ in `input.grad`. (Notebook
# 9 explains this product in general.)
#
# **L1**, $\ell_i = |x_i - y_i|$: $\;\partial \ell_i / \partial x_i =
# \operatorname{sign}(x_i - y_i)$, and PyTorch uses $\operatorname{sign}(0) = 0$ at a tie.
#
# **MSE**, $\ell_i = (x_i - y_i)^2$: $\;\partial \ell_i / \partial x_i = 2(x_i - y_i)$.
#
# ### Worked example
#
# For $x = (1, 2, 3)$, $y = (1, 2, 5)$ and `mean`, the L1 gradient is $(0, 0, -1/3)$: the two
# ties give $0$. The MSE gradient is $2(0, 0, -2)/3 = (0, 0, -1.3333)$. With `none` and
# `grad_output` $(1, 1, 0.5)$ the MSE gradient is $(0, 0, 0.5 \cdot 2 \cdot (-2)) = (0, 0, -2)$.

# %%
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
F.l1_loss(x, torch.tensor([1.0, 2.0, 5.0])).backward()
print("L1 gradient by autograd:", x.grad)
z = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
F.mse_loss(z, torch.tensor([1.0, 2.0, 5.0])).backward()
print("MSE gradient by autograd:", z.grad)
z.grad = None
F.mse_loss(z, torch.tensor([1.0, 2.0, 5.0]), reduction="none").backward(torch.tensor([1, 1, 0.5]))
print("MSE, reduction='none', grad_output (1, 1, 0.5):", z.grad)

# %% [markdown]
# ## Exercises 5 and 6: the gradients of L1 and MSE (4 points)
#
# Write two functions that return the gradient of a loss with respect to its `input`,
# derived by hand, with the signature
#
# ```python
# def l1_loss_grad(input, target, reduction="mean", grad_output=None): ...
# ```
#
# (and the same for `mse_loss_grad`). Each returns what `loss.backward(grad_output)` would
# leave in `input.grad`, where `loss` is `F.l1_loss` or `F.mse_loss` with the same
# `reduction`: a tensor of `input`'s shape and dtype. `grad_output` is `None` for `"sum"` and
# `"mean"` (it means $1$) and a tensor of the loss's shape for `"none"`. Raise a `ValueError`
# for any other `reduction`.
#
# Autograd is not allowed here: no `.backward`, `torch.autograd` or `torch.func`. Leave
# `input`, `target` and `grad_output` as they are (the checks compare them afterwards). The
# checks compare with autograd in float64 (relative tolerance $10^{-6}$), for every
# reduction, on the worked example and random inputs of one to three dimensions; the L1
# inputs include ties $x_i = y_i$. They recognise a wrong reduction, a mean divided by the
# first dimension instead of the number of elements, an ignored `grad_output`,
# $\operatorname{sign}(0)$ taken as $1$ (or as $0/0$), a forgotten factor $2$ and a flipped
# sign.


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
from autograder.checking.topics import autograd_basics
from autograder.checking.topics.basic_losses import check_rejects_bad_reduction

_reference = autograd_basics.autograd_input_grad(F.l1_loss)
_mistakes = autograd_basics.l1_grad_mistakes(_reference)
_x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
_y = torch.tensor([1.0, 2.0, 5.0], dtype=torch.float64)
_example = [
    Case(f"worked example, reduction={r!r}", (_x, _y), {"reduction": r}) for r in ("sum", "mean")
]
check_function(
    l1_loss_grad,
    _reference,
    _example + autograd_basics.regression_grad_cases(seed=31),
    mistakes=_mistakes,
    forbid=autograd_basics.AUTOGRAD_FORBID,
)
check_rejects_bad_reduction(l1_loss_grad, _example[0])
### BEGIN HIDDEN TESTS
check_function(
    l1_loss_grad,
    _reference,
    autograd_basics.regression_grad_cases(seed=None, draws=5),
    public=False,
    mistakes=_mistakes,
    forbid=autograd_basics.AUTOGRAD_FORBID,
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
from autograder.checking.topics import autograd_basics
from autograder.checking.topics.basic_losses import check_rejects_bad_reduction

_reference = autograd_basics.autograd_input_grad(F.mse_loss)
_mistakes = autograd_basics.mse_grad_mistakes(_reference)
_x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
_y = torch.tensor([1.0, 2.0, 5.0], dtype=torch.float64)
_example = [
    Case(f"worked example, reduction={r!r}", (_x, _y), {"reduction": r}) for r in ("sum", "mean")
]
check_function(
    mse_loss_grad,
    _reference,
    _example + autograd_basics.regression_grad_cases(seed=32),
    mistakes=_mistakes,
    forbid=autograd_basics.AUTOGRAD_FORBID,
)
check_rejects_bad_reduction(mse_loss_grad, _example[0])
### BEGIN HIDDEN TESTS
check_function(
    mse_loss_grad,
    _reference,
    autograd_basics.regression_grad_cases(seed=None, draws=5),
    public=False,
    mistakes=_mistakes,
    forbid=autograd_basics.AUTOGRAD_FORBID,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Summary
#
# * Autograd records a graph of `grad_fn` nodes from the leaves that require gradients;
#   `backward()` walks it back and stores gradients only in those leaves' `.grad` (and in
#   tensors that called `retain_grad()`).
# * `.grad` is `None` before the first `backward()`; later passes **add** into it, in place,
#   until `zero_grad()` sets it back to `None` (or to zeros with `set_to_none=False`).
# * `detach()` and `torch.no_grad()` stop the recording.
# * Check any gradient derived by hand with central differences in float64, on a copy of
#   the input.
# * The gradient of L1 is the sign of the error ($0$ at a tie), of MSE twice the error;
#   `mean` divides by the number of elements, and `none` multiplies by `grad_output`.
#
# From the next notebooks on, every hand-derived gradient is checked against autograd, and
# `.backward()` appears wherever a loss is trained.
