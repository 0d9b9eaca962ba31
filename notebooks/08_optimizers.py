# %% [markdown]
# # 8. Optimizers: from a gradient to an updated parameter
#
# `loss.backward()` leaves a gradient in every parameter's `.grad`. An **optimizer** turns
# that gradient into a new value of the parameter. The simplest rule is gradient descent,
# $p \leftarrow p - \text{lr} \cdot g$; every optimizer in `torch.optim` refines it by keeping
# some *state* between steps (a running average of the gradients, of their squares, a
# per-element step size, ...).
#
# | optimizer | state per parameter | idea |
# | --- | --- | --- |
# | `SGD` | momentum buffer | step against the gradient, optionally with momentum |
# | `Adagrad` | sum of $g^2$ | a step per element, shrinking with the gradients seen |
# | `RMSprop` | average of $g^2$ (and of $g$) | Adagrad with a fading memory |
# | `Adadelta` | averages of $g^2$ and of squared updates | RMSprop with matching units |
# | `Adam` | averages of $g$ and $g^2$ | momentum over a running RMS, bias-corrected |
# | `AdamW` | as Adam | Adam with decoupled weight decay |
# | `Adamax` | average of $g$, decaying max of $\lvert g\rvert$ | Adam with the infinity norm |
# | `NAdam` | as Adam, and a momentum product | Adam with Nesterov momentum |
# | `ASGD` | step rate, averaging factor, average | SGD plus an average of the iterates |
# | `Rprop` | step size, previous gradient | only the sign of the gradient counts |
# | `SparseAdam` | as Adam, for the rows used | Adam for sparse gradients (embeddings) |
# | `LBFGS` | recent steps and gradient changes | quasi-Newton, needs a closure |
#
# In this notebook you first use the optimizer API (`zero_grad`, `step`, parameter groups,
# `state_dict`), then write optimizers yourself as **step functions with explicit state**:
#
# ```python
# def sgd_step(param, grad, state, *, lr=1e-3, momentum=0, ...):
#     ...  # update `param` in place; keep what you need in the dict `state`
# ```
#
# `param` and `grad` are tensors of the same shape; `state` is a dict that starts empty and
# that you fill on the first step. Update `param` **in place** (`param.sub_(...)`,
# `param.add_(...)`, `param -= ...`) and return nothing; the keyword arguments are exactly
# `torch.optim`'s, with the same defaults.
#
# **How the checks work.** A check runs your step function for five or more steps on a few
# random float64 parameters, with random gradients and random hyper-parameters, next to the
# real `torch.optim` optimizer, and compares the parameters after *every* step (relative
# tolerance $10^{-8}$). Public checks use fixed seeds; hidden checks, run when your notebook
# is graded, draw fresh ones. If a check cell prints nothing, it passed.

# %%
import io
import math

import matplotlib.pyplot as plt
import torch

import autograder.checking.optim  # noqa: F401  (the checks; imported before any of your code)
import autograder.checking.topics.optimizers  # noqa: F401

torch.set_printoptions(precision=4)

# %% [markdown]
# ## Gradient descent and the learning rate
#
# Take the function $y = 4x^2$, whose derivative is $8x$, and start at $x_0 = 2$. One step
# of gradient descent with learning rate $\text{lr}$ gives
#
# $$
# x_{t+1} = x_t - \text{lr} \cdot 8 x_t = (1 - 8\,\text{lr})\, x_t
# \qquad\Longrightarrow\qquad x_t = (1 - 8\,\text{lr})^t \, x_0 .
# $$
#
# Every step multiplies $x$ by the same factor $1 - 8\,\text{lr}$. With $\text{lr} = 1$
# (no learning rate at all, $x \leftarrow x - g$) the factor is $-7$: each step overshoots
# the minimum by seven times the distance, and $x$ explodes. That is why the gradient is
# scaled by a learning rate. The plot shows $|x_t|$ for a few rates (log scale): some decay,
# one jumps to the minimum in a single step, some bounce and grow.

# %%
fig, ax = plt.subplots(figsize=(7, 3.5))
for lr in (0.01, 0.05, 0.125, 0.2, 0.24, 0.26, 0.3):
    x = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    path = [x.item()]
    for _ in range(30):
        y = 4 * x**2
        (grad,) = torch.autograd.grad(y, x)
        with torch.no_grad():
            x -= lr * grad
        path.append(x.item())
    ax.semilogy([abs(v) + 1e-12 for v in path], label=f"lr = {lr}", marker=".")
ax.set_xlabel("step t")
ax.set_ylabel("|x_t|  (log scale)")
ax.set_title("gradient descent on y = 4x², from x = 2")
ax.legend(ncol=2, fontsize=8)
plt.show()

# %% [markdown]
# ## Exercise 1: the gradient-descent path (2 points)
#
# Implement `gd_path(x0, lr, steps)`: run `steps` steps of gradient descent on $y = 4x^2$
# from `x0` (a Python float), computing each gradient with **autograd** (`backward()` or
# `torch.autograd.grad`) in float64. Return a float64 tensor of length `steps + 1` holding
# $x_0, x_1, \dots, x_\text{steps}$.
#
# The checks compare your path with the closed form $(1 - 8\,\text{lr})^t x_0$ for several
# learning rates on both sides of the threshold you will find in Exercise 2.


# %% answer="gd_path"
def gd_path(x0, lr, steps):
    ### BEGIN SOLUTION
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    path = [x.detach().clone()]
    for _ in range(steps):
        y = 4 * x**2
        y.backward()
        with torch.no_grad():
            x -= lr * x.grad
        x.grad = None
        path.append(x.detach().clone())
    return torch.stack(path)
    ### END SOLUTION


# %% tests="gd_path" points=2
# Public checks: the closed form (1 - 8 lr)^t x0. Silence means they passed.
import torch

from autograder.checking import Case, check_function, generator


def _closed_form(x0, lr, steps):
    t = torch.arange(steps + 1, dtype=torch.float64)
    return x0 * (1 - 8 * lr) ** t


def _no_lr(x0, lr, steps):
    return _closed_form(x0, 1.0, steps)


def _gd_cases(draws):
    gen = torch.Generator().manual_seed(8)
    return [
        Case(f"x0={x0:.3g}, lr={lr:.3g}, steps={n}", (x0, lr, n))
        for x0, lr, n in [(2.0, 0.1, 5), (2.0, 0.2, 8), (2.0, 0.26, 6), (-1.5, 0.01, 10)]
    ] + [
        Case(f"x0={x0:.3g}, lr={lr:.3g}, steps={n}", (x0, lr, n))
        for x0, lr, n in [
            (
                float(torch.randn((), generator=gen)) * 3,
                float(torch.rand((), generator=gen)) * 0.3,
                int(torch.randint(1, 12, (), generator=gen)),
            )
            for _ in range(draws)
        ]
    ]


_mistakes = {"the learning rate ignored (x <- x - g)": _no_lr}
check_function(gd_path, _closed_form, _gd_cases(4), rtol=1e-9, mistakes=_mistakes)
### BEGIN HIDDEN TESTS
_gen, _ = generator(None)
_hidden = [
    Case(f"x0={x0:.3g}, lr={lr:.3g}, steps={n}", (x0, lr, n))
    for x0, lr, n in [
        (
            float(torch.randn((), generator=_gen)) * 3,
            float(torch.rand((), generator=_gen)) * 0.35,
            int(torch.randint(1, 15, (), generator=_gen)),
        )
        for _ in range(8)
    ]
]
check_function(gd_path, _closed_form, _hidden, rtol=1e-9, public=False, mistakes=_mistakes)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 2: when does gradient descent diverge? (1 point)
#
# The path $x_t = (1 - 8\,\text{lr})^t x_0$ shrinks to the minimum $0$ exactly when the
# factor has magnitude below one: $|1 - 8\,\text{lr}| < 1$. Solve this inequality for a
# positive learning rate by hand.
#
# * `lr_limit`: the learning rate from which gradient descent on $y = 4x^2$ no longer
#   converges (the smallest $\text{lr} > 0$ with $|1 - 8\,\text{lr}| \ge 1$);
# * `lr_fastest`: the learning rate that reaches the minimum in one step.
#
# Look back at the plot: which curves bounce, and which grow?

# %% answer="lr_limits"
### BEGIN SOLUTION
lr_limit = 2 / 8
lr_fastest = 1 / 8
### END SOLUTION

# %% tests="lr_limits" points=1
# Public checks: two numbers worked out by hand.
from autograder.checking import check_value

check_value(
    "the divergence threshold lr_limit",
    lr_limit,
    0.25,
    rtol=1e-9,
    mistakes={
        "1/8 makes the factor 1 - 8 lr zero (one step to the minimum), not -1": 0.125,
        "the derivative of 4x² is 8x, not 4x": 0.5,
        "the derivative of 4x² is 8x, not 2x": 1.0,
    },
)
check_value(
    "the one-step learning rate lr_fastest",
    lr_fastest,
    0.125,
    rtol=1e-9,
    mistakes={"that is the divergence threshold, where 1 - 8 lr = -1": 0.25},
)

# %% [markdown]
# With your two answers, the threshold on a plot: below `lr_limit` the path shrinks (and
# alternates in sign above `lr_fastest`), at `lr_limit` it bounces between $+2$ and $-2$ for
# ever, and above it grows.

# %%
fig, ax = plt.subplots(figsize=(7, 3.5))
for lr in (0.5 * lr_fastest, lr_fastest, 0.9 * lr_limit, lr_limit, 1.1 * lr_limit):
    ax.plot(gd_path(2.0, lr, 12), marker=".", label=f"lr = {lr:.4g}")
ax.axhline(0, color="gray", lw=0.8)
ax.set_ylim(-6, 6)
ax.set_xlabel("step t")
ax.set_ylabel("x_t")
ax.set_title("gradient descent on y = 4x² around the threshold")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## The optimizer API
#
# An optimizer is built from the parameters it updates and its hyper-parameters. Its main
# methods are:
#
# | method | what it does |
# | --- | --- |
# | `step()` | update every parameter from its `.grad` (and the optimizer's state) |
# | `zero_grad()` | clear the gradients; `backward()` *adds* to `.grad`, so call it every step |
# | `add_param_group(dict)` | add parameters with their own hyper-parameters (say a smaller lr) |
# | `state_dict()`, `load_state_dict(d)` | hyper-parameters and state (momentum buffers...) |
#
# Its attributes `param_groups` (a list of dicts, one per group: the tensors under
# `"params"` and that group's `lr`, `momentum`, ...) and `state` (a dict from each parameter
# to its state) hold everything.
#
# **Worked example.** A $2 \times 2$ weight with seed 1, gradient all ones, `SGD(lr=0.1)`:
# one step subtracts $0.1 \cdot 1$ from every element, from
# $\begin{pmatrix} 0.6614 & 0.2669 \\ 0.0617 & 0.6213 \end{pmatrix}$ to
# $\begin{pmatrix} 0.5614 & 0.1669 \\ -0.0383 & 0.5213 \end{pmatrix}$. The optimizer holds the
# *same* tensor object as `weight`, not a copy.

# %%
torch.manual_seed(1)
weight = torch.randn((2, 2), requires_grad=True)
weight.grad = torch.ones((2, 2))
optimizer = torch.optim.SGD([weight], lr=0.1)
print("before step:\n", weight.data)
optimizer.step()
print("after step:\n", weight.data)
print("same object:", optimizer.param_groups[0]["params"][0] is weight)
optimizer.zero_grad()
print("grad after zero_grad():", weight.grad)
print("hyper-parameters:", {k: v for k, v in optimizer.param_groups[0].items() if k != "params"})

# %% [markdown]
# **A correction.** Older notes show `zero_grad()` leaving a tensor of zeros in `.grad`.
# Since PyTorch 2.0 the default is `zero_grad(set_to_none=True)`: the gradient becomes
# `None`, which saves memory and a kernel launch. `zero_grad(set_to_none=False)` still fills
# it with zeros. Either way, the next `backward()` starts from nothing.

# %% [markdown]
# ## Exercise 3: `zero_grad`, `backward`, `step` (2 points)
#
# Implement `fit_line(w, x, y, *, lr, steps)`: fit the weights `w` (a float64 leaf tensor
# with `requires_grad=True`, shape $(d,)$) to the least-squares loss
# $\text{mean}\big((x w - y)^2\big)$, with $x$ of shape $(n, d)$ and $y$ of shape $(n,)$, by
# running `steps` steps of `torch.optim.SGD(..., lr=lr)`. In each step: clear the gradient,
# compute the loss, `backward()`, `step()`.
#
# Return the list of the `steps` loss values (Python floats, each computed *before* its
# step). The trained weights stay in `w` (the optimizer updates it in place).
#
# The checks compare with gradient descent using the gradient worked out by hand,
# $\frac{2}{n} x^\top (x w - y)$, and recognise a forgotten `zero_grad()`.


# %% answer="fit_line"
def fit_line(w, x, y, *, lr, steps):
    ### BEGIN SOLUTION
    optimizer = torch.optim.SGD([w], lr=lr)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
    ### END SOLUTION


# %% tests="fit_line" points=2
# Public checks: a small least-squares problem. Silence means they passed.
from autograder.checking.topics.optimizers import check_fit_line

check_fit_line(fit_line, seed=81)
### BEGIN HIDDEN TESTS
check_fit_line(fit_line, seed=None, public=False)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 4: parameter groups (2 points)
#
# A common recipe fine-tunes a pretrained body slowly and a new head quickly. Implement
# `two_group_sgd(w1, w2, loss_fn, *, lr, lr2, momentum, steps)`:
#
# 1. build `torch.optim.SGD([w1], lr=lr, momentum=momentum)`;
# 2. add `w2` as a second group with its own learning rate `lr2` (`add_param_group`; the
#    group takes `momentum` from the optimizer's defaults);
# 3. run `steps` steps on the loss `loss_fn(w1, w2)` (zero_grad, backward, step);
# 4. return the optimizer.
#
# The checks look at the two groups' `lr` and `momentum`, and compare `w1` and `w2` with
# two separate optimizers, one per tensor.


# %% answer="two_group_sgd"
def two_group_sgd(w1, w2, loss_fn, *, lr, lr2, momentum, steps):
    ### BEGIN SOLUTION
    optimizer = torch.optim.SGD([w1], lr=lr, momentum=momentum)
    optimizer.add_param_group({"params": [w2], "lr": lr2})
    for _ in range(steps):
        optimizer.zero_grad()
        loss_fn(w1, w2).backward()
        optimizer.step()
    return optimizer
    ### END SOLUTION


# %% tests="two_group_sgd" points=2
# Public checks: two tensors trained at two learning rates. Silence means they passed.
from autograder.checking.topics.optimizers import check_param_groups

check_param_groups(two_group_sgd, seed=82)
### BEGIN HIDDEN TESTS
check_param_groups(two_group_sgd, seed=None, public=False)
### END HIDDEN TESTS

# %% [markdown]
# ## Saving and resuming: `state_dict`
#
# `optimizer.state_dict()` returns `{"state": ..., "param_groups": ...}`: each parameter's
# state (for SGD with momentum, its `momentum_buffer`) and each group's hyper-parameters,
# with the parameters replaced by their positions $0, 1, \dots$ A training run that is
# stopped and resumed must restore it; a fresh optimizer would restart the momentum from
# zero, and the run would go elsewhere.
#
# One trap: `state_dict()` returns *references* to the optimizer's live tensors, not
# copies. Keep it in a variable, take more steps, and it changes under you. Write it out
# (`torch.save` to a file or a `BytesIO` buffer) or `copy.deepcopy` it to keep a snapshot.

# %%
w_demo = torch.ones(2, requires_grad=True)
opt_demo = torch.optim.SGD([w_demo], lr=0.1, momentum=0.9)
for _ in range(2):
    opt_demo.zero_grad()
    (w_demo**2).sum().backward()
    opt_demo.step()
kept = opt_demo.state_dict()
print("state_dict after 2 steps:", kept)
opt_demo.zero_grad()
(w_demo**2).sum().backward()
opt_demo.step()
print("the same dict one step later:", kept["state"])

# %% [markdown]
# ## Exercise 5: stop, save, load, continue (2 points)
#
# Implement `resume_sgd(w, loss_fn, *, lr, momentum, steps, stop)`:
#
# 1. train `w` with `torch.optim.SGD([w], lr=lr, momentum=momentum)` on `loss_fn(w)` for
#    `stop` steps (the checks use `stop=10`);
# 2. save the optimizer's `state_dict()` with `torch.save` into an `io.BytesIO()` buffer;
# 3. build a **fresh** SGD optimizer on `w` with the same hyper-parameters, and restore the
#    state with `torch.load` and `load_state_dict`;
# 4. train the remaining `steps - stop` steps with the fresh optimizer;
# 5. return the checkpoint's bytes (`buffer.getvalue()`).
#
# The checks read your checkpoint, and require `w` to end **exactly** (tolerance 0) where an
# uninterrupted run of `steps` steps ends.


# %% answer="resume_sgd"
def resume_sgd(w, loss_fn, *, lr, momentum, steps, stop):
    ### BEGIN SOLUTION
    def train(optimizer, n):
        for _ in range(n):
            optimizer.zero_grad()
            loss_fn(w).backward()
            optimizer.step()

    first = torch.optim.SGD([w], lr=lr, momentum=momentum)
    train(first, stop)
    buffer = io.BytesIO()
    torch.save(first.state_dict(), buffer)
    checkpoint = buffer.getvalue()
    fresh = torch.optim.SGD([w], lr=lr, momentum=momentum)
    fresh.load_state_dict(torch.load(io.BytesIO(checkpoint)))
    train(fresh, steps - stop)
    return checkpoint
    ### END SOLUTION


# %% tests="resume_sgd" points=2
# Public checks: a resumed run against an uninterrupted one. Silence means they passed.
from autograder.checking.topics.optimizers import check_resume

check_resume(resume_sgd, seed=83)
### BEGIN HIDDEN TESTS
check_resume(resume_sgd, seed=None, public=False)
### END HIDDEN TESTS

# %% [markdown]
# ## SGD, option by option
#
# `torch.optim.SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
# nesterov=False, *, maximize=False)` does, at every step, for each parameter $p$ with
# gradient $g$:
#
# 1. `maximize`: use $-g$ (climb the function instead of descending it);
# 2. `weight_decay` $\lambda$: $g \leftarrow g + \lambda p$ (the gradient of an L2 penalty
#    $\frac{\lambda}{2}\lVert p\rVert^2$ added to the loss);
# 3. `momentum` $\rho \neq 0$: a buffer $v$ (`state["momentum_buffer"]`). On the **first**
#    step $v = g$ (no dampening); afterwards $v \leftarrow \rho v + (1 - \tau) g$ with
#    `dampening` $\tau$. Then the direction is $d = v$, or with `nesterov=True`
#    $d = g + \rho v$ (a look-ahead);
# 4. $p \leftarrow p - \text{lr} \cdot d$ (with $d = g$ when there is no momentum).
#
# Nesterov momentum requires `momentum > 0` and `dampening = 0`; torch refuses the rest.

# %% [markdown]
# ## Exercise 6: `sgd_step` (3 points)
#
# Implement `sgd_step(param, grad, state, *, lr=1e-3, momentum=0, dampening=0,
# weight_decay=0, nesterov=False, maximize=False)` following the four rules above. Keep the
# momentum buffer in `state`; update `param` in place; do not change `grad` in place (it
# belongs to the caller). Calling `torch.optim.SGD` or its functional form is not allowed.
#
# The checks run the defaults, each option on its own and all of them together, six or more
# steps each. They recognise a dampened first step and a forgotten `nesterov`.


# %% answer="sgd_step"
def sgd_step(
    param,
    grad,
    state,
    *,
    lr=1e-3,
    momentum=0,
    dampening=0,
    weight_decay=0,
    nesterov=False,
    maximize=False,
):
    ### BEGIN SOLUTION
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    if momentum != 0:
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = g.clone()
        else:
            state["momentum_buffer"].mul_(momentum).add_((1 - dampening) * g)
        buf = state["momentum_buffer"]
        g = g + momentum * buf if nesterov else buf
    param.sub_(lr * g)
    ### END SOLUTION


# %% tests="sgd_step" points=3
# Public checks: every option, every step, against torch.optim.SGD.
import torch

from autograder.checking.optim import FORBID, SGD_MISTAKES, check_optimizer, optimizer_cases

check_optimizer(
    sgd_step,
    torch.optim.SGD,
    optimizer_cases("sgd", seed=86),
    forbid=FORBID["sgd"],
    mistakes=SGD_MISTAKES,
)
### BEGIN HIDDEN TESTS
check_optimizer(
    sgd_step,
    torch.optim.SGD,
    optimizer_cases("sgd", seed=None, extra=2),
    public=False,
    forbid=FORBID["sgd"],
    mistakes=SGD_MISTAKES,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Two ways to write momentum
#
# PyTorch puts the learning rate *outside* the buffer; some other frameworks (and many
# notes) put it *inside*:
#
# $$
# \text{PyTorch:}\quad v \leftarrow \rho v + g,\;\; p \leftarrow p - \text{lr}\, v
# \qquad\qquad
# \text{other:}\quad u \leftarrow \rho u + \text{lr}\, g,\;\; p \leftarrow p - u
# $$
#
# With a **constant** learning rate the two are the same method: by induction
# $u_t = \text{lr}\, v_t$ (both start from zero, and multiplying the PyTorch recursion by lr
# gives the other one), so both subtract the same amount at every step.
#
# When the learning rate **changes**, they part ways. PyTorch's buffer holds raw gradients,
# so a new rate rescales the whole accumulated velocity at once; the other buffer holds
# steps already scaled by the *old* rates, so the old velocity keeps coasting and the new
# rate only affects new gradients. Cutting the rate by 10 slows PyTorch's SGD immediately,
# but the other convention only gradually.

# %% [markdown]
# ## Exercise 7: the other convention (2 points)
#
# Implement `sgd_other_step(param, grad, state, *, lr, momentum)`: $u \leftarrow \rho u +
# \text{lr}\, g$, $p \leftarrow p - u$, with $u$ (starting at zero) kept in `state`.
#
# The checks run it at a constant learning rate against `torch.optim.SGD(momentum=...)`,
# which must agree, and with a learning rate cut or raised part-way, against the formula.


# %% answer="sgd_other_step"
def sgd_other_step(param, grad, state, *, lr, momentum):
    ### BEGIN SOLUTION
    if "velocity" not in state:
        state["velocity"] = torch.zeros_like(param)
    velocity = state["velocity"]
    velocity.mul_(momentum).add_(lr * grad)
    param.sub_(velocity)
    ### END SOLUTION


# %% tests="sgd_other_step" points=2
# Public checks: equal to torch.optim.SGD at a constant lr; the formula when lr changes.
import torch

from autograder.checking.optim import check_optimizer, schedule_cases, sgd_other_convention

_cases = schedule_cases(seed=87)
check_optimizer(sgd_other_step, torch.optim.SGD, _cases[:1], forbid=["torch.optim.SGD"])
check_optimizer(sgd_other_step, sgd_other_convention, _cases, forbid=["torch.optim.SGD"])
### BEGIN HIDDEN TESTS
_cases = schedule_cases(seed=None)
check_optimizer(sgd_other_step, torch.optim.SGD, _cases[:1], public=False)
check_optimizer(sgd_other_step, sgd_other_convention, _cases, public=False)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 8: see them part (1 point)
#
# The cell below runs both conventions from the same start with the same gradients:
# `lr = 0.1` for steps 1 to 4, then `lr = 0.01` from step 5 on, momentum 0.9. It prints the
# largest difference between the two parameters after each step, and plots one coordinate.
# Run it, then store in `first_differing_step` the first step (counting from 1) after which
# the two parameters differ (by more than rounding, say $10^{-12}$).

# %%
_gen = torch.Generator().manual_seed(88)
p_torch = torch.randn(3, dtype=torch.float64, generator=_gen)
p_other = p_torch.clone()
grads = [torch.randn(3, dtype=torch.float64, generator=_gen) for _ in range(10)]
lrs = [0.1] * 4 + [0.01] * 6
opt_torch = torch.optim.SGD([p_torch.requires_grad_()], lr=lrs[0], momentum=0.9)
state_other = {}
path_torch, path_other = [p_torch[0].item()], [p_other[0].item()]
for step, (g, lr) in enumerate(zip(grads, lrs, strict=True), start=1):
    opt_torch.param_groups[0]["lr"] = lr
    p_torch.grad = g.clone()
    opt_torch.step()
    try:
        sgd_other_step(p_other, g.clone(), state_other, lr=lr, momentum=0.9)
    except NotImplementedError:
        print("Exercise 7 is not done yet.")
        break
    path_torch.append(p_torch[0].item())
    path_other.append(p_other[0].item())
    diff = (p_torch.detach() - p_other).abs().max().item()
    print(f"step {step:2d}: lr = {lr:<5} largest difference {diff:.3g}")
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(path_torch, "o-", label="PyTorch: v = ρv + g; p -= lr·v")
ax.plot(path_other, "x--", label="other: u = ρu + lr·g; p -= u")
ax.axvline(4.5, color="gray", lw=0.8)
ax.set_xlabel("step")
ax.set_ylabel("first coordinate of p")
ax.legend(fontsize=8)
plt.show()

# %% answer="first_differing_step"
### BEGIN SOLUTION
first_differing_step = 5
### END SOLUTION

# %% tests="first_differing_step" points=1
# Public check: one number read from the run above.
from autograder.checking import check_value

check_value(
    "the first step after which the two conventions differ",
    first_differing_step,
    5,
    rtol=0,
    atol=0,
    mistakes={"step 4 is the last step at the old rate, where they still agree": 4},
)

# %% [markdown]
# ## Momentum as an exponentially weighted average
#
# With dampening $\tau = 1 - \rho$, the momentum update $v \leftarrow \rho v + (1 - \rho) g$ is
# an **exponentially weighted average** (EWA) of the gradients, $v_t = \beta v_{t-1} +
# (1 - \beta) g_t$ with $\beta = \rho$ (torch starts the buffer at $g_1$ instead of at zero,
# a detail that fades). Unrolled from $v_0 = 0$,
#
# $$
# v_t = \sum_{k=0}^{t-1} (1 - \beta)\,\beta^{k}\; g_{t-k},
# $$
#
# so the gradient from $k$ steps ago gets the weight $(1 - \beta)\beta^k$: the newest counts
# most, and older ones fade geometrically. (PyTorch's default $\tau = 0$ drops the factor
# $1 - \beta$, which only rescales the buffer by $1/(1 - \beta)$ in the long run; the shape
# of the weights is the same.) Adam's, RMSprop's and Adadelta's running averages are EWAs
# too. The weights sum to $1 - \beta^t \to 1$, and $\beta$ sets how far back the average
# looks: the larger $\beta$, the longer the memory.

# %%
fig, ax = plt.subplots(figsize=(7, 3.5))
ages = torch.arange(100, dtype=torch.float64)
for beta in (0.98, 0.95, 0.9, 0.8):
    ax.plot(ages, (1 - beta) * beta**ages, label=f"β = {beta}:  1/(1-β) = {1 / (1 - beta):.0f}")
ax.set_xlabel("age k of the value (steps ago)")
ax.set_ylabel("weight (1-β)·β^k")
ax.set_title("weights of an exponentially weighted average")
ax.legend()
plt.show()

# %% [markdown]
# ## Exercise 9: the weights and the memory of an EWA (2 points)
#
# * `ewa_weights(beta, steps)`: a float64 tensor of the weights $(1 - \beta)\beta^k$ for the
#   ages $k = 0, 1, \dots, \text{steps} - 1$.
# * `effective_memory(beta)`: the **average age** of the values in the average, counting
#   the newest as age 1, that is $\sum_{k \ge 0} (k + 1)(1 - \beta)\beta^k$, as a closed
#   formula in $\beta$ (a Python float). Hint: $\sum_{k\ge0} (k+1) x^k = 1/(1-x)^2$.
#
# The result is the usual rule of thumb: an EWA with $\beta = 0.9$ averages over about the
# last 10 values, with $\beta = 0.98$ about 50. (Notes that read "about 20 days" for 0.8 and
# "about 80 days" for 0.98 off the plot are eyeballing where the curve looks flat.)
#
# The checks compare your weights with those an EWA gives to past values when run on unit
# impulses, and your memory with the sum computed numerically over many terms.


# %% answer="ewa"
def ewa_weights(beta, steps):
    ### BEGIN SOLUTION
    ages = torch.arange(steps, dtype=torch.float64)
    return (1 - beta) * beta**ages
    ### END SOLUTION


def effective_memory(beta):
    ### BEGIN SOLUTION
    return 1 / (1 - beta)
    ### END SOLUTION


# %% tests="ewa" points=2
# Public checks: an EWA run on impulses, and the average age summed numerically.
import torch

from autograder.checking import Case, check_function, generator


def _weights_by_running(beta, steps):
    # Sequence j is all zeros but a 1 at time j; after `steps` updates v[j] is the weight of
    # the value that arrived steps - 1 - j steps ago.
    impulses = torch.eye(steps, dtype=torch.float64)
    v = torch.zeros(steps, dtype=torch.float64)
    for t in range(steps):
        v = beta * v + (1 - beta) * impulses[:, t]
    return v.flip(0)


def _memory_by_sum(beta):
    ages = torch.arange(20_000, dtype=torch.float64)
    return float(((ages + 1) * (1 - beta) * beta**ages).sum())


_mistakes = {"β^k without the factor (1 - β)": lambda beta, steps: beta ** torch.arange(steps)}
_memory_mistakes = {
    "β/(1-β): the average age counting the newest as 0": lambda beta: beta / (1 - beta),
    "1/(1-β)²": lambda beta: 1 / (1 - beta) ** 2,
}
_betas = [0.8, 0.9, 0.95, 0.98, 0.5]
check_function(
    ewa_weights,
    _weights_by_running,
    [Case(f"beta={b}, steps={n}", (b, n)) for b, n in zip(_betas, [5, 10, 20, 3, 7], strict=True)],
    rtol=1e-9,
    mistakes=_mistakes,
)
check_function(
    effective_memory,
    _memory_by_sum,
    [Case(f"beta={b}", (b,)) for b in _betas],
    rtol=1e-8,
    mistakes=_memory_mistakes,
)
### BEGIN HIDDEN TESTS
_gen, _ = generator(None)
_betas = [0.3 + 0.69 * float(torch.rand((), generator=_gen)) for _ in range(5)]
check_function(
    ewa_weights,
    _weights_by_running,
    [
        Case(f"beta={b:.4f}, steps={n}", (b, n))
        for b, n in zip(_betas, [4, 9, 15, 2, 30], strict=True)
    ],
    rtol=1e-9,
    public=False,
    mistakes=_mistakes,
)
check_function(
    effective_memory,
    _memory_by_sum,
    [Case(f"beta={b:.4f}", (b,)) for b in _betas],
    rtol=1e-8,
    public=False,
    mistakes=_memory_mistakes,
)
### END HIDDEN TESTS

# %% [markdown]
# ## SGD with and without momentum
#
# Back to $y = 4x^2$ from $x = 2$. Plain SGD at `lr = 0.03` shrinks $x$ by the factor
# $1 - 8 \cdot 0.03 = 0.76$ per step. With momentum, a smaller rate is enough: the buffer
# keeps pushing in the same direction and builds up speed. Too much momentum overshoots and
# rings around the minimum before it settles; a moderate amount reaches the bottom first.

# %%
fig, ax = plt.subplots(figsize=(7, 3.5))
for lr, momentum in ((0.03, 0.0), (0.01, 0.9), (0.01, 0.63)):
    x = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
    optimizer_demo = torch.optim.SGD([x], lr=lr, momentum=momentum)
    losses = []
    for _ in range(60):
        optimizer_demo.zero_grad()
        loss = 4 * x**2
        loss.backward()
        optimizer_demo.step()
        losses.append(loss.item())
    ax.semilogy(losses, label=f"lr = {lr}, momentum = {momentum}")
ax.set_xlabel("step")
ax.set_ylabel("loss 4x²  (log scale)")
ax.set_title("SGD on y = 4x², with and without momentum")
ax.legend()
plt.show()

# %% [markdown]
# ## Adagrad: a learning rate per element
#
# Adagrad divides each element's step by the root of the **sum** of all its past squared
# gradients, so elements with large gradients slow down and rare, small ones keep moving.
# `torch.optim.Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0,
# initial_accumulator_value=0, eps=1e-10, *, maximize=False)` does, at step $t = 1, 2, \dots$:
#
# 1. $g \leftarrow -g$ if `maximize`; $g \leftarrow g + \lambda p$ for `weight_decay` $\lambda$;
# 2. $\text{clr} = \text{lr} / \big(1 + (t - 1)\,\text{lr\_decay}\big)$;
# 3. $s \leftarrow s + g^2$, where $s$ starts at `initial_accumulator_value` (state `"sum"`);
# 4. $p \leftarrow p - \text{clr}\, g / (\sqrt{s} + \varepsilon)$.
#
# Because $s$ only grows, the steps shrink for ever: Adagrad's weakness on long runs.

# %% [markdown]
# ## Exercise 10: `adagrad_step` (2 points)
#
# Implement `adagrad_step(param, grad, state, *, lr=1e-2, lr_decay=0, weight_decay=0,
# initial_accumulator_value=0, eps=1e-10, maximize=False)`. The checks try every option
# (a large `eps` among them, so that its place in the formula matters).


# %% answer="adagrad_step"
def adagrad_step(
    param,
    grad,
    state,
    *,
    lr=1e-2,
    lr_decay=0,
    weight_decay=0,
    initial_accumulator_value=0,
    eps=1e-10,
    maximize=False,
):
    ### BEGIN SOLUTION
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    if not state:
        state["step"] = 0
        state["sum"] = torch.full_like(param, initial_accumulator_value)
    state["step"] += 1
    clr = lr / (1 + (state["step"] - 1) * lr_decay)
    state["sum"].add_(g * g)
    param.sub_(clr * g / (state["sum"].sqrt() + eps))
    ### END SOLUTION


# %% tests="adagrad_step" points=2
# Public checks: every option, every step, against torch.optim.Adagrad.
import torch

from autograder.checking.optim import FORBID, check_optimizer, optimizer_cases

check_optimizer(
    adagrad_step, torch.optim.Adagrad, optimizer_cases("adagrad", 91), forbid=FORBID["adagrad"]
)
### BEGIN HIDDEN TESTS
check_optimizer(
    adagrad_step,
    torch.optim.Adagrad,
    optimizer_cases("adagrad", None, extra=2),
    public=False,
    forbid=FORBID["adagrad"],
)
### END HIDDEN TESTS

# %% [markdown]
# ## RMSprop: forget old gradients
#
# RMSprop replaces Adagrad's sum by an EWA, so old gradients fade and the step size stops
# shrinking. `torch.optim.RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0,
# momentum=0, centered=False, maximize=False)`:
#
# 1. `maximize` and `weight_decay` as before;
# 2. $a \leftarrow \alpha a + (1 - \alpha) g^2$ (state `"square_avg"`, from zero);
# 3. `centered`: also $\bar g \leftarrow \alpha \bar g + (1 - \alpha) g$ (`"grad_avg"`), and
#    use the variance instead of the raw second moment: $d = \sqrt{a - \bar g^2} +
#    \varepsilon$; otherwise $d = \sqrt{a} + \varepsilon$;
# 4. `momentum` $\rho > 0$: $b \leftarrow \rho b + g / d$ (`"momentum_buffer"`, from zero),
#    $p \leftarrow p - \text{lr}\, b$; otherwise $p \leftarrow p - \text{lr}\, g / d$.
#
# There is no bias correction: early steps are larger than later ones.

# %% [markdown]
# ## Exercise 11: `rmsprop_step` (3 points)
#
# Implement `rmsprop_step(param, grad, state, *, lr=1e-2, alpha=0.99, eps=1e-8,
# weight_decay=0, momentum=0, centered=False, maximize=False)`.


# %% answer="rmsprop_step"
def rmsprop_step(
    param,
    grad,
    state,
    *,
    lr=1e-2,
    alpha=0.99,
    eps=1e-8,
    weight_decay=0,
    momentum=0,
    centered=False,
    maximize=False,
):
    ### BEGIN SOLUTION
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    if not state:
        state["square_avg"] = torch.zeros_like(param)
        state["grad_avg"] = torch.zeros_like(param)
        state["momentum_buffer"] = torch.zeros_like(param)
    square_avg = state["square_avg"]
    square_avg.mul_(alpha).add_((1 - alpha) * g * g)
    if centered:
        state["grad_avg"].mul_(alpha).add_((1 - alpha) * g)
        denom = (square_avg - state["grad_avg"] ** 2).sqrt() + eps
    else:
        denom = square_avg.sqrt() + eps
    if momentum > 0:
        state["momentum_buffer"].mul_(momentum).add_(g / denom)
        param.sub_(lr * state["momentum_buffer"])
    else:
        param.sub_(lr * g / denom)
    ### END SOLUTION


# %% tests="rmsprop_step" points=3
# Public checks: every option, every step, against torch.optim.RMSprop.
import torch

from autograder.checking.optim import FORBID, check_optimizer, optimizer_cases

check_optimizer(
    rmsprop_step, torch.optim.RMSprop, optimizer_cases("rmsprop", 92), forbid=FORBID["rmsprop"]
)
### BEGIN HIDDEN TESTS
check_optimizer(
    rmsprop_step,
    torch.optim.RMSprop,
    optimizer_cases("rmsprop", None, extra=2),
    public=False,
    forbid=FORBID["rmsprop"],
)
### END HIDDEN TESTS

# %% [markdown]
# ## Adadelta: units that match
#
# Adadelta notices that $g / \sqrt{a}$ has no units, so a learning rate must supply them.
# It keeps a second EWA, of its own past squared *updates*, and scales by the ratio of the
# two roots, so that the update has the units of the parameter. `torch.optim.Adadelta(params,
# lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False)`:
#
# 1. `maximize` and `weight_decay` as before;
# 2. $a \leftarrow \rho a + (1 - \rho) g^2$ (`"square_avg"`, from zero);
# 3. $\Delta = \dfrac{\sqrt{u + \varepsilon}}{\sqrt{a + \varepsilon}}\, g$, with $u$ the EWA
#    of squared updates (`"acc_delta"`, from zero);
# 4. $u \leftarrow \rho u + (1 - \rho) \Delta^2$;
# 5. $p \leftarrow p - \text{lr}\, \Delta$ (the default lr of 1 leaves $\Delta$ as it is).
#
# Here $\varepsilon$ sits *inside* both roots, unlike Adam's.

# %% [markdown]
# ## Exercise 12: `adadelta_step` (2 points)
#
# Implement `adadelta_step(param, grad, state, *, lr=1.0, rho=0.9, eps=1e-6,
# weight_decay=0, maximize=False)`.


# %% answer="adadelta_step"
def adadelta_step(param, grad, state, *, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False):
    ### BEGIN SOLUTION
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    if not state:
        state["square_avg"] = torch.zeros_like(param)
        state["acc_delta"] = torch.zeros_like(param)
    state["square_avg"].mul_(rho).add_((1 - rho) * g * g)
    delta = (state["acc_delta"] + eps).sqrt() / (state["square_avg"] + eps).sqrt() * g
    state["acc_delta"].mul_(rho).add_((1 - rho) * delta * delta)
    param.sub_(lr * delta)
    ### END SOLUTION


# %% tests="adadelta_step" points=2
# Public checks: every option, every step, against torch.optim.Adadelta.
import torch

from autograder.checking.optim import FORBID, check_optimizer, optimizer_cases

check_optimizer(
    adadelta_step, torch.optim.Adadelta, optimizer_cases("adadelta", 93), forbid=FORBID["adadelta"]
)
### BEGIN HIDDEN TESTS
check_optimizer(
    adadelta_step,
    torch.optim.Adadelta,
    optimizer_cases("adadelta", None, extra=2),
    public=False,
    forbid=FORBID["adadelta"],
)
### END HIDDEN TESTS

# %% [markdown]
# ## Adam
#
# Adam keeps two running averages per parameter, of the gradient and of its square:
#
# $$
# m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
# v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \qquad (m_0 = v_0 = 0).
# $$
#
# Starting from zero biases both towards zero early on: after one step $m_1 = (1-\beta_1)
# g_1$, a tenth of the gradient for $\beta_1 = 0.9$. Dividing by $1 - \beta^t$ corrects it
# (**bias correction**): $\hat m_t = m_t / (1 - \beta_1^t)$, $\hat v_t = v_t / (1 -
# \beta_2^t)$, so $\hat m_1 = g_1$ exactly. The step is
#
# $$
# p \leftarrow p - \text{lr}\, \frac{\hat m_t}{\sqrt{\hat v_t} + \varepsilon},
# $$
#
# roughly $\pm\text{lr}$ per element whatever the gradient's scale. The options of
# `torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
# amsgrad=False, *, maximize=False)`:
#
# * `maximize`: use $-g$; `weight_decay` $\lambda$: $g \leftarrow g + \lambda p$ (L2 penalty),
#   both before the averages;
# * `amsgrad`: keep the running maximum $v^{\max}_t = \max(v^{\max}_{t-1}, v_t)$ and use it
#   instead of $v_t$ (then bias-correct it the same way), so the denominator never shrinks;
# * $\varepsilon$ is added *after* the square root.

# %% [markdown]
# ## Exercise 13: `adam_step` (3 points)
#
# Implement `adam_step(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
# weight_decay=0, amsgrad=False, maximize=False)`. Count the steps in `state` (the bias
# correction needs $t$). `torch.optim.Adam`, `AdamW`, `NAdam` and their functional forms are
# off limits.
#
# The checks cover the defaults, every option alone and all together; they recognise a
# missing bias correction, $\varepsilon$ under the square root, and decoupled decay.


# %% answer="adam_step"
def adam_step(
    param,
    grad,
    state,
    *,
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0,
    amsgrad=False,
    maximize=False,
):
    ### BEGIN SOLUTION
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    if not state:
        state["step"] = 0
        state["exp_avg"] = torch.zeros_like(param)
        state["exp_avg_sq"] = torch.zeros_like(param)
        state["max_exp_avg_sq"] = torch.zeros_like(param)
    beta1, beta2 = betas
    state["step"] += 1
    t = state["step"]
    state["exp_avg"].mul_(beta1).add_((1 - beta1) * g)
    state["exp_avg_sq"].mul_(beta2).add_((1 - beta2) * g * g)
    v = state["exp_avg_sq"]
    if amsgrad:
        torch.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        v = state["max_exp_avg_sq"]
    m_hat = state["exp_avg"] / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    param.sub_(lr * m_hat / (v_hat.sqrt() + eps))
    ### END SOLUTION


# %% tests="adam_step" points=3
# Public checks: every option, every step, against torch.optim.Adam.
import torch

from autograder.checking.optim import ADAM_MISTAKES, FORBID, check_optimizer, optimizer_cases

check_optimizer(
    adam_step,
    torch.optim.Adam,
    optimizer_cases("adam", seed=89),
    forbid=FORBID["adam"],
    mistakes=ADAM_MISTAKES,
)
### BEGIN HIDDEN TESTS
check_optimizer(
    adam_step,
    torch.optim.Adam,
    optimizer_cases("adam", seed=None, extra=2),
    public=False,
    forbid=FORBID["adam"],
    mistakes=ADAM_MISTAKES,
)
### END HIDDEN TESTS

# %% [markdown]
# ## AdamW: weight decay, decoupled
#
# In Adam, `weight_decay` adds $\lambda p$ to the gradient, and that term then goes through
# the division by $\sqrt{\hat v} + \varepsilon$: a weight whose gradient is large is barely
# decayed, one with a tiny gradient is decayed hard. Loshchilov and Hutter showed this
# L2 penalty is *not* the weight decay it is meant to be, and proposed **AdamW**: shrink the
# weight directly, outside the adaptive step,
#
# $$
# p \leftarrow p\,(1 - \text{lr}\,\lambda), \qquad \text{then the Adam step with } g
# \text{ itself (no } \lambda p \text{ term)}.
# $$
#
# `torch.optim.AdamW` has the same arguments as `Adam`, but `weight_decay` defaults to
# `1e-2` and means this decoupled decay. (`Adam(..., decoupled_weight_decay=True)` is the
# same thing.) The cell below shows the difference on a parameter whose loss gradient is
# zero: AdamW shrinks it by the factor $1 - \text{lr}\,\lambda$ per step; Adam turns the
# penalty's gradient into a step of about lr, whatever the size of the weight.

# %%
for cls in (torch.optim.Adam, torch.optim.AdamW):
    w_demo = torch.tensor([10.0, 0.1], dtype=torch.float64, requires_grad=True)
    opt_demo = cls([w_demo], lr=0.01, weight_decay=0.1)
    for _ in range(5):
        w_demo.grad = torch.zeros_like(w_demo)
        opt_demo.step()
    print(f"{cls.__name__:6s} after 5 steps from [10, 0.1]: {w_demo.detach().tolist()}")
print("AdamW by hand: ", [10 * (1 - 0.01 * 0.1) ** 5, 0.1 * (1 - 0.01 * 0.1) ** 5])

# %% [markdown]
# ## Exercise 14: `adamw_step` (2 points)
#
# Implement `adamw_step(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
# weight_decay=1e-2, amsgrad=False, maximize=False)`. You may call your `adam_step` (with
# `weight_decay=0`) after the decay.
#
# The checks compare with `torch.optim.AdamW` and recognise Adam's L2 penalty in its place.


# %% answer="adamw_step"
def adamw_step(
    param,
    grad,
    state,
    *,
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=1e-2,
    amsgrad=False,
    maximize=False,
):
    ### BEGIN SOLUTION
    param.mul_(1 - lr * weight_decay)
    adam_step(param, grad, state, lr=lr, betas=betas, eps=eps, amsgrad=amsgrad, maximize=maximize)
    ### END SOLUTION


# %% tests="adamw_step" points=2
# Public checks: every option, every step, against torch.optim.AdamW.
import torch

from autograder.checking.optim import ADAMW_MISTAKES, FORBID, check_optimizer, optimizer_cases

check_optimizer(
    adamw_step,
    torch.optim.AdamW,
    optimizer_cases("adamw", seed=90),
    forbid=FORBID["adamw"],
    mistakes=ADAMW_MISTAKES,
)
### BEGIN HIDDEN TESTS
check_optimizer(
    adamw_step,
    torch.optim.AdamW,
    optimizer_cases("adamw", seed=None, extra=2),
    public=False,
    forbid=FORBID["adamw"],
    mistakes=ADAMW_MISTAKES,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Adamax: the infinity norm
#
# Adamax, from the same paper as Adam, replaces the root of an average of $g^2$ by a
# decaying **maximum** of $|g|$ (the $L^\infty$ norm, the limit of the $L^p$ family).
# `torch.optim.Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *,
# maximize=False)`:
#
# 1. `maximize` and `weight_decay` as before; count the step $t$;
# 2. $m \leftarrow \beta_1 m + (1 - \beta_1) g$ (`"exp_avg"`, from zero);
# 3. $u \leftarrow \max(\beta_2 u,\; |g| + \varepsilon)$ elementwise (`"exp_inf"`, from zero);
# 4. $p \leftarrow p - \dfrac{\text{lr}}{1 - \beta_1^t}\, \dfrac{m}{u}$.
#
# Only $m$ needs a bias correction: a maximum is not biased towards zero the way an average
# starting at zero is.

# %% [markdown]
# ## Exercise 15: `adamax_step` (2 points)
#
# Implement `adamax_step(param, grad, state, *, lr=2e-3, betas=(0.9, 0.999), eps=1e-8,
# weight_decay=0, maximize=False)`.


# %% answer="adamax_step"
def adamax_step(
    param, grad, state, *, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, maximize=False
):
    ### BEGIN SOLUTION
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    if not state:
        state["step"] = 0
        state["exp_avg"] = torch.zeros_like(param)
        state["exp_inf"] = torch.zeros_like(param)
    beta1, beta2 = betas
    state["step"] += 1
    state["exp_avg"].mul_(beta1).add_((1 - beta1) * g)
    state["exp_inf"] = torch.maximum(beta2 * state["exp_inf"], g.abs() + eps)
    param.sub_(lr / (1 - beta1 ** state["step"]) * state["exp_avg"] / state["exp_inf"])
    ### END SOLUTION


# %% tests="adamax_step" points=2
# Public checks: every option, every step, against torch.optim.Adamax.
import torch

from autograder.checking.optim import FORBID, check_optimizer, optimizer_cases

check_optimizer(
    adamax_step, torch.optim.Adamax, optimizer_cases("adamax", 94), forbid=FORBID["adamax"]
)
### BEGIN HIDDEN TESTS
check_optimizer(
    adamax_step,
    torch.optim.Adamax,
    optimizer_cases("adamax", None, extra=2),
    public=False,
    forbid=FORBID["adamax"],
)
### END HIDDEN TESTS

# %% [markdown]
# ## NAdam: Adam with Nesterov momentum
#
# NAdam (Dozat, 2016) mixes the current gradient into Adam's step the way Nesterov
# momentum looks ahead, with a momentum coefficient that warms up over the first few
# thousand steps. `torch.optim.NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8,
# weight_decay=0, momentum_decay=4e-3, decoupled_weight_decay=False, *, maximize=False)`,
# at step $t$:
#
# 1. $g \leftarrow -g$ if `maximize`; weight decay $\lambda$ either as an L2 term
#    $g \leftarrow g + \lambda p$ or, with `decoupled_weight_decay=True`, AdamW's
#    $p \leftarrow p(1 - \text{lr}\,\lambda)$;
# 2. the momentum schedule, with $\psi$ = `momentum_decay`:
#    $\mu_t = \beta_1\big(1 - \tfrac12\, 0.96^{\,t\psi}\big)$ and
#    $\mu_{t+1} = \beta_1\big(1 - \tfrac12\, 0.96^{\,(t+1)\psi}\big)$, and the running product
#    $\Pi_t = \mu_1 \mu_2 \cdots \mu_t$ (state `"mu_product"`, starting at 1);
# 3. $m \leftarrow \beta_1 m + (1 - \beta_1) g$ and $v \leftarrow \beta_2 v + (1 - \beta_2)
#    g^2$, as in Adam, and $d = \sqrt{v / (1 - \beta_2^t)} + \varepsilon$;
# 4. $p \leftarrow p - \text{lr}\,\dfrac{1 - \mu_t}{1 - \Pi_t}\,\dfrac{g}{d}
#    - \text{lr}\,\dfrac{\mu_{t+1}}{1 - \Pi_t\,\mu_{t+1}}\,\dfrac{m}{d}$.

# %% [markdown]
# ## Exercise 16: `nadam_step` (3 points)
#
# Implement `nadam_step(param, grad, state, *, lr=2e-3, betas=(0.9, 0.999), eps=1e-8,
# weight_decay=0, momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False)`.
# Keep $\Pi_t$ in `state` as a Python float.


# %% answer="nadam_step"
def nadam_step(
    param,
    grad,
    state,
    *,
    lr=2e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0,
    momentum_decay=4e-3,
    decoupled_weight_decay=False,
    maximize=False,
):
    ### BEGIN SOLUTION
    g = -grad if maximize else grad
    if weight_decay != 0:
        if decoupled_weight_decay:
            param.mul_(1 - lr * weight_decay)
        else:
            g = g + weight_decay * param
    if not state:
        state["step"] = 0
        state["mu_product"] = 1.0
        state["exp_avg"] = torch.zeros_like(param)
        state["exp_avg_sq"] = torch.zeros_like(param)
    beta1, beta2 = betas
    state["step"] += 1
    t = state["step"]
    mu = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    state["mu_product"] *= mu
    mu_product = state["mu_product"]
    state["exp_avg"].mul_(beta1).add_((1 - beta1) * g)
    state["exp_avg_sq"].mul_(beta2).add_((1 - beta2) * g * g)
    denom = (state["exp_avg_sq"] / (1 - beta2**t)).sqrt() + eps
    param.sub_(lr * (1 - mu) / (1 - mu_product) * g / denom)
    param.sub_(lr * mu_next / (1 - mu_product * mu_next) * state["exp_avg"] / denom)
    ### END SOLUTION


# %% tests="nadam_step" points=3
# Public checks: every option, every step, against torch.optim.NAdam.
import torch

from autograder.checking.optim import FORBID, check_optimizer, optimizer_cases

check_optimizer(nadam_step, torch.optim.NAdam, optimizer_cases("nadam", 95), forbid=FORBID["nadam"])
### BEGIN HIDDEN TESTS
check_optimizer(
    nadam_step,
    torch.optim.NAdam,
    optimizer_cases("nadam", None, extra=2),
    public=False,
    forbid=FORBID["nadam"],
)
### END HIDDEN TESTS

# %% [markdown]
# ## ASGD: averaged SGD
#
# Averaged SGD (Polyak and Juditsky) takes plain SGD steps with a slowly decaying rate and,
# from step $t_0$ on, also keeps the running **average** of the iterates, which is often a
# better answer than the last iterate. `torch.optim.ASGD(params, lr=1e-2, lambd=1e-4,
# alpha=0.75, t0=1e6, weight_decay=0, maximize=False)` keeps a rate $\eta$ (starting at lr),
# an averaging factor $\mu$ (starting at 1) and the average `"ax"` (starting at zero). At
# step $t$:
#
# 1. `maximize` and `weight_decay` as before;
# 2. $p \leftarrow p\,(1 - \lambda\eta)$, then $p \leftarrow p - \eta\, g$, with
#    $\lambda$ = `lambd` and the $\eta$ of the *previous* step;
# 3. $a \leftarrow a + \mu\,(p - a)$ (with $\mu = 1$ this copies $p$);
# 4. for the next step: $\eta = \text{lr} / (1 + \lambda\,\text{lr}\, t)^{\alpha}$ and
#    $\mu = 1 / \max(1, t - t_0)$.
#
# The average never feeds back into $p$: read it from the optimizer's state
# (`optimizer.state[p]["ax"]`) when training ends.

# %% [markdown]
# ## Exercise 17: `asgd_step` (2 points)
#
# Implement `asgd_step(param, grad, state, *, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6,
# weight_decay=0, maximize=False)`. Keep the average in `state["ax"]` (a tensor like
# `param`): the checks compare it with torch's after every step too, since `t0` only shows
# there.


# %% answer="asgd_step"
def asgd_step(
    param,
    grad,
    state,
    *,
    lr=1e-2,
    lambd=1e-4,
    alpha=0.75,
    t0=1e6,
    weight_decay=0,
    maximize=False,
):
    ### BEGIN SOLUTION
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    if not state:
        state["step"] = 0
        state["eta"] = lr
        state["mu"] = 1.0
        state["ax"] = torch.zeros_like(param)
    state["step"] += 1
    eta = state["eta"]
    param.mul_(1 - lambd * eta)
    param.sub_(eta * g)
    state["ax"].add_(state["mu"] * (param - state["ax"]))
    t = state["step"]
    state["eta"] = lr / (1 + lambd * lr * t) ** alpha
    state["mu"] = 1 / max(1, t - t0)
    ### END SOLUTION


# %% tests="asgd_step" points=2
# Public checks: every option, every step (the parameter and state["ax"]), against ASGD.
import torch

from autograder.checking.optim import FORBID, check_optimizer, optimizer_cases

check_optimizer(
    asgd_step,
    torch.optim.ASGD,
    optimizer_cases("asgd", 96),
    forbid=FORBID["asgd"],
    state_keys=["ax"],
)
### BEGIN HIDDEN TESTS
check_optimizer(
    asgd_step,
    torch.optim.ASGD,
    optimizer_cases("asgd", None, extra=2),
    public=False,
    forbid=FORBID["asgd"],
    state_keys=["ax"],
)
### END HIDDEN TESTS

# %% [markdown]
# ## Rprop: only the sign of the gradient
#
# Rprop (resilient backpropagation) ignores the gradient's size. Each element has its own
# step size: it grows while the gradient keeps its sign and shrinks when the sign flips
# (the last step jumped over a minimum). `torch.optim.Rprop(params, lr=1e-2, etas=(0.5,
# 1.2), step_sizes=(1e-6, 50), *, maximize=False)` keeps the previous gradient `"prev"`
# (starting at zero) and the step sizes `"step_size"` (starting at lr everywhere):
#
# 1. $g \leftarrow -g$ if `maximize`;
# 2. per element, the sign of $g \cdot g_\text{prev}$: positive → step size $\times\,\eta_+$;
#    negative → step size $\times\,\eta_-$; zero → unchanged; then clamp it into
#    `step_sizes` = (min, max);
# 3. where the sign was negative, set $g = 0$: no move this step, and the next step
#    counts as a fresh start for that element;
# 4. $p \leftarrow p - \operatorname{sign}(g) \cdot \text{step size}$, and $g_\text{prev}
#    \leftarrow g$ (with those zeros).
#
# Rprop works on full-batch gradients; with noisy mini-batch gradients the signs flip at
# random and it stalls.

# %% [markdown]
# ## Exercise 18: `rprop_step` (2 points)
#
# Implement `rprop_step(param, grad, state, *, lr=1e-2, etas=(0.5, 1.2),
# step_sizes=(1e-6, 50), maximize=False)`. Careful with constants: `torch.where(c, 1.2,
# 0.5)` and `torch.tensor(1.2)` are float32, which is off by $10^{-8}$; build tensors with
# `dtype=param.dtype` or use `torch.ones_like(param)` and indexing.


# %% answer="rprop_step"
def rprop_step(
    param, grad, state, *, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), maximize=False
):
    ### BEGIN SOLUTION
    g = -grad if maximize else grad
    if not state:
        state["prev"] = torch.zeros_like(param)
        state["step_size"] = torch.full_like(param, lr)
    eta_minus, eta_plus = etas
    sign = (g * state["prev"]).sign()
    factor = torch.ones_like(param)
    factor[sign > 0] = eta_plus
    factor[sign < 0] = eta_minus
    state["step_size"] = (state["step_size"] * factor).clamp(*step_sizes)
    g = g.clone()
    g[sign < 0] = 0
    param.sub_(g.sign() * state["step_size"])
    state["prev"] = g
    ### END SOLUTION


# %% tests="rprop_step" points=2
# Public checks: every option, every step, against torch.optim.Rprop.
import torch

from autograder.checking.optim import FORBID, check_optimizer, optimizer_cases

check_optimizer(rprop_step, torch.optim.Rprop, optimizer_cases("rprop", 97), forbid=FORBID["rprop"])
### BEGIN HIDDEN TESTS
check_optimizer(
    rprop_step,
    torch.optim.Rprop,
    optimizer_cases("rprop", None, extra=2),
    public=False,
    forbid=FORBID["rprop"],
)
### END HIDDEN TESTS

# %% [markdown]
# ## SparseAdam: only the rows that were used
#
# An embedding table can have millions of rows, while one batch looks up a few of them.
# With `nn.Embedding(..., sparse=True)` the gradient is a **sparse** tensor holding only
# those rows. `torch.optim.SparseAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)` is
# Adam restricted to them: only the rows present in the gradient have their moments
# updated and their values changed; the others stay exactly as they were, moments and all
# (plain `Adam` refuses sparse gradients). It is not the same as Adam: a row's averages
# only decay on the steps where it appears.

# %%
torch.manual_seed(0)
table = torch.nn.Embedding(6, 2, sparse=True)
before = table.weight.detach().clone()
sparse_opt = torch.optim.SparseAdam(table.parameters(), lr=0.1)
table(torch.tensor([1, 4, 4])).pow(2).sum().backward()
print("gradient layout:", table.weight.grad.layout, " rows in it:", table.weight.grad._indices())
sparse_opt.step()
print("rows that changed:", (table.weight.detach() != before).any(dim=1).nonzero().flatten())

# %% [markdown]
# ## L-BFGS and its closure
#
# L-BFGS is a quasi-Newton method: from the last few gradients and steps (`history_size`)
# it builds an approximation of the inverse Hessian and steps along it, usually with a line
# search (`line_search_fn="strong_wolfe"`). One `optimizer.step(closure)` runs up to
# `max_iter` iterations, and each needs the loss and the gradient *again*, at new points.
# So `step` takes a **closure**: a function that clears the gradient, recomputes the loss,
# calls `backward()` and returns the loss. (Every optimizer's `step` accepts one; L-BFGS
# requires it.) L-BFGS wants full-batch, deterministic losses, and takes only one
# parameter group.
#
# Rosenbrock's function $f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2$ is a classic test: its
# minimum $0$ at $(1, 1)$ lies at the bottom of a long, curved, flat valley, where gradient
# descent crawls.

# %% [markdown]
# ## Exercise 19: minimise Rosenbrock's function with L-BFGS (3 points)
#
# * `rosenbrock(xy)`: $f$ at the point `xy`, a float64 tensor of shape $(2,)$; return a
#   0-dim tensor.
# * `make_closure(optimizer, xy)`: return the closure L-BFGS needs: it calls
#   `optimizer.zero_grad()`, computes `rosenbrock(xy)`, calls `backward()` and returns the
#   loss.
# * `minimise_rosenbrock(start)`: from `start` (a pair of floats), build the leaf tensor
#   `xy`, the optimizer `torch.optim.LBFGS([xy], lr=1, max_iter=200, tolerance_grad=1e-12,
#   tolerance_change=1e-14, line_search_fn="strong_wolfe")`, call `optimizer.step(closure)`
#   twice, and return the point found (a detached float64 tensor).
#
# The checks call your closure twice at random points (the loss and `xy.grad` must be
# right both times, so it must clear the old gradient), and minimise from random starts in
# $[-2, 2]^2$: the point must be within $10^{-6}$ of $(1, 1)$.


# %% answer="lbfgs"
def rosenbrock(xy):
    ### BEGIN SOLUTION
    x, y = xy[0], xy[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2
    ### END SOLUTION


def make_closure(optimizer, xy):
    ### BEGIN SOLUTION
    def closure():
        optimizer.zero_grad()
        loss = rosenbrock(xy)
        loss.backward()
        return loss

    return closure
    ### END SOLUTION


def minimise_rosenbrock(start):
    ### BEGIN SOLUTION
    xy = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS(
        [xy],
        lr=1,
        max_iter=200,
        tolerance_grad=1e-12,
        tolerance_change=1e-14,
        line_search_fn="strong_wolfe",
    )
    closure = make_closure(optimizer, xy)
    for _ in range(2):
        optimizer.step(closure)
    return xy.detach()
    ### END SOLUTION


# %% tests="lbfgs" points=3
# Public checks: the function, the closure, and the minimum found.
import torch

from autograder.checking import Case, check_function, check_value, generator
from autograder.checking.topics.optimizers import check_closure, rosenbrock_value

_gen = torch.Generator().manual_seed(98)
_points = [torch.tensor([1.0, 1.0], dtype=torch.float64)] + [
    2 * torch.randn(2, generator=_gen, dtype=torch.float64) for _ in range(4)
]
check_function(
    rosenbrock,
    rosenbrock_value,
    [Case(f"xy = {p.tolist()}", (p,)) for p in _points],
    rtol=1e-10,
    mistakes={"b = 10 instead of 100": lambda p: (1 - p[0]) ** 2 + 10 * (p[1] - p[0] ** 2) ** 2},
)
check_closure(make_closure, seed=99)
for _start in [(-1.5, 2.0), (0.5, -1.0)]:
    check_value(
        f"the minimum found from {_start}",
        minimise_rosenbrock(_start),
        torch.ones(2, dtype=torch.float64),
        rtol=0,
        atol=1e-6,
    )
### BEGIN HIDDEN TESTS
_gen, _ = generator(None)
_points = [4 * torch.rand(2, generator=_gen, dtype=torch.float64) - 2 for _ in range(4)]
check_function(
    rosenbrock,
    rosenbrock_value,
    [Case(f"xy = {p.tolist()}", (p,)) for p in _points],
    rtol=1e-10,
    public=False,
)
check_closure(make_closure, seed=None, public=False)
for _p in _points[:2]:
    _start = tuple(_p.tolist())
    check_value(
        f"the minimum found from {_start}",
        minimise_rosenbrock(_start),
        torch.ones(2, dtype=torch.float64),
        rtol=0,
        atol=1e-6,
        public=False,
    )
### END HIDDEN TESTS

# %% [markdown]
# ## Learning-rate schedulers
#
# A scheduler changes the learning rate of an optimizer's groups as training goes on:
# large steps early, small steps to settle. It is stepped once per epoch, after the
# optimizer:
#
# ```python
# scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.1)
# for epoch in range(epochs):
#     train_one_epoch(...)   # optimizer.step() inside
#     scheduler.step()
# ```
#
# Three common schedules, with $\text{lr}_0$ the optimizer's initial rate and $e$ the number
# of `scheduler.step()` calls so far:
#
# | scheduler | learning rate after $e$ epochs |
# | --- | --- |
# | `StepLR(step_size=s, gamma=γ)` | $\text{lr}_0 \cdot \gamma^{\lfloor e / s \rfloor}$ |
# | `ExponentialLR(gamma=γ)` | $\text{lr}_0 \cdot \gamma^{e}$ |
# | `CosineAnnealingLR(T_max=T, eta_min=η)` | $\eta + (\text{lr}_0-\eta)\frac{1+\cos(\pi e/T)}{2}$ |
#
# PyTorch computes the cosine schedule step by step from the previous rate; the closed form
# above is what that recursion adds up to, before $T$ and after (it rises again, since
# the cosine is periodic).

# %%
fig, ax = plt.subplots(figsize=(7, 3.5))
for make, label in [
    (lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=10, gamma=0.5), "StepLR(10, 0.5)"),
    (lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.95), "ExponentialLR(0.95)"),
    (lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=25), "CosineAnnealingLR(25)"),
]:
    opt_demo = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = make(opt_demo)
    rates = []
    for _ in range(60):
        rates.append(scheduler.get_last_lr()[0])
        opt_demo.step()
        scheduler.step()
    ax.plot(rates, label=label)
ax.set_xlabel("epoch")
ax.set_ylabel("learning rate")
ax.legend()
plt.show()

# %% [markdown]
# ## Exercise 20: three schedules as formulas (3 points)
#
# Implement, as closed formulas returning a Python float (no scheduler objects):
#
# * `step_lr(base_lr, epoch, *, step_size, gamma=0.1)`;
# * `exponential_lr(base_lr, epoch, *, gamma)`;
# * `cosine_annealing_lr(base_lr, epoch, *, T_max, eta_min=0.0)`.
#
# The checks run the real schedulers for every epoch over a few periods, with random
# options, and compare.


# %% answer="schedulers"
def step_lr(base_lr, epoch, *, step_size, gamma=0.1):
    ### BEGIN SOLUTION
    return base_lr * gamma ** (epoch // step_size)
    ### END SOLUTION


def exponential_lr(base_lr, epoch, *, gamma):
    ### BEGIN SOLUTION
    return base_lr * gamma**epoch
    ### END SOLUTION


def cosine_annealing_lr(base_lr, epoch, *, T_max, eta_min=0.0):
    ### BEGIN SOLUTION
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * epoch / T_max)) / 2
    ### END SOLUTION


# %% tests="schedulers" points=1
# Public checks: StepLR, every epoch.
from functools import partial

from autograder.checking import check_function
from autograder.checking.topics.optimizers import scheduler_cases, scheduler_lr

_forbid = ["torch.optim.lr_scheduler.StepLR"]
_ref = partial(scheduler_lr, "step_lr")
check_function(step_lr, _ref, scheduler_cases("step_lr", 101), rtol=1e-9, forbid=_forbid)
### BEGIN HIDDEN TESTS
check_function(
    step_lr, _ref, scheduler_cases("step_lr", None), rtol=1e-9, forbid=_forbid, public=False
)
### END HIDDEN TESTS

# %% tests="schedulers" points=1
# Public checks: ExponentialLR, every epoch.
from functools import partial

from autograder.checking import check_function
from autograder.checking.topics.optimizers import scheduler_cases, scheduler_lr

_forbid = ["torch.optim.lr_scheduler.ExponentialLR"]
_ref = partial(scheduler_lr, "exponential_lr")
check_function(
    exponential_lr, _ref, scheduler_cases("exponential_lr", 102), rtol=1e-9, forbid=_forbid
)
### BEGIN HIDDEN TESTS
_cases = scheduler_cases("exponential_lr", None)
check_function(exponential_lr, _ref, _cases, rtol=1e-9, forbid=_forbid, public=False)
### END HIDDEN TESTS

# %% tests="schedulers" points=1
# Public checks: CosineAnnealingLR, every epoch over two periods.
from functools import partial
from math import cos

from autograder.checking import check_function
from autograder.checking.topics.optimizers import scheduler_cases, scheduler_lr

_forbid = ["torch.optim.lr_scheduler.CosineAnnealingLR"]
_ref = partial(scheduler_lr, "cosine_annealing_lr")
_mistakes = {
    "cos(e/T) instead of cos(π e/T)": lambda base_lr, epoch, *, T_max, eta_min=0.0: (
        eta_min + (base_lr - eta_min) * (1 + cos(epoch / T_max)) / 2
    ),
}
check_function(
    cosine_annealing_lr,
    _ref,
    scheduler_cases("cosine_annealing_lr", 103),
    rtol=1e-9,
    forbid=_forbid,
    mistakes=_mistakes,
)
### BEGIN HIDDEN TESTS
check_function(
    cosine_annealing_lr,
    _ref,
    scheduler_cases("cosine_annealing_lr", None),
    rtol=1e-9,
    forbid=_forbid,
    mistakes=_mistakes,
    public=False,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Summary
#
# * Gradient descent multiplies the error of $y = 4x^2$ by $1 - 8\,\text{lr}$ per step: it
#   converges for $0 < \text{lr} < 0.25$ and is fastest at $0.125$.
# * Call `zero_grad()` every step: `backward()` accumulates. Parameter groups give
#   different tensors different hyper-parameters; `state_dict()` holds live references, so
#   save it to resume a run exactly.
# * PyTorch's momentum keeps raw gradients in its buffer, $p \leftarrow p - \text{lr}(\rho v
#   + g)$; putting lr inside the buffer is the same method only while lr is constant.
# * An EWA with factor $\beta$ weighs the value $k$ steps old by $(1-\beta)\beta^k$ and
#   remembers about $1/(1-\beta)$ steps.
# * Adagrad, RMSprop and Adadelta scale each element by its gradient history; Adam adds
#   momentum and bias correction; AdamW decays the weights outside the adaptive step;
#   Adamax uses a maximum, NAdam a Nesterov look-ahead; ASGD averages the iterates; Rprop
#   uses signs only.
# * L-BFGS re-evaluates the loss many times per step, through a closure.
# * Schedulers are closed formulas in the epoch: $\gamma^{\lfloor e/s\rfloor}$,
#   $\gamma^e$, and half a cosine.
