# %% [markdown]
# # 10. Optimizers I: the optimizer API, SGD and momentum
#
# `loss.backward()` leaves a gradient in every parameter's `.grad`. An **optimizer** turns
# that gradient into a new value of the parameter. The simplest rule is gradient descent,
# $p \leftarrow p - \text{lr} \cdot g$; every optimizer in `torch.optim` refines it by keeping
# some *state* between steps (a velocity, running averages, a step size per element...).
#
# Three notebooks cover every optimizer in `torch.optim`:
#
# * **10** (this one): gradient descent and the learning rate; the optimizer API
#   (`zero_grad`, `step`, parameter groups, `state_dict`); `SGD` with all its options; two
#   ways to write momentum; `ASGD`.
# * **11**: the adaptive methods, `Adagrad`, `RMSprop`, `Adadelta`, `Rprop`, `Adam`,
#   `AdamW`, `Adamax`, `NAdam`, `RAdam`, `Adafactor` and `Muon` (and `SparseAdam`).
# * **12**: learning-rate schedules, gradient clipping, a 2-D optimizer lab, and `LBFGS`.
#
# From Exercise 6 on you write optimizers as **step functions with explicit state**:
#
# ```python
# def sgd_step(param, grad, state, *, lr=1e-3, momentum=0, ...):
#     ...  # update `param` in place; keep what you need in the dict `state`
# ```
#
# `param` and `grad` are tensors of the same shape; `state` is a dict that starts empty and
# that you fill on the first step. Update `param` **in place** (`param.sub_(...)`,
# `param.add_(...)`, `param -= ...`); what the function returns is ignored. The keyword
# arguments are exactly `torch.optim`'s, with the same defaults. Only `param` and `state` may
# change: do not change `grad` in place, not even to put it back afterwards. It belongs to
# the caller (in `torch.optim` it is `param.grad`, which a training loop may read again).
#
# **How the checks work.** A check runs your step function for several steps on a few random
# float64 parameters, with random gradients and hyper-parameters, next to the real
# `torch.optim` optimizer, and compares the parameters after *every* step (relative
# tolerance $10^{-8}$). In every run but the one at the defaults, the learning rate
# changes twice part-way, as a scheduler would change it; the checks also notice a `grad`
# changed in place. Every run is played to its end before the verdict: a failure shows the
# first step that went wrong, lists the runs that failed, and names a known mistake only
# when its numbers match every failing run. Public checks use fixed seeds; hidden checks,
# run when your notebook is graded, draw fresh ones. If a check cell prints nothing, it
# passed.

# %%
import io
import math

import matplotlib.pyplot as plt
import torch

import autograder.checking.optim  # noqa: F401  (the checks; imported before any of your code)
import autograder.checking.topics.sgd_momentum  # noqa: F401

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
# scaled by a learning rate. The plot shows $|x_t|$ for seven rates (log scale), chosen so
# that no two have the same $|1 - 8\,\text{lr}|$ (two rates with equal factors would draw
# the same line, one hiding the other): some decay, one jumps to the minimum in a single
# step and leaves the plot, one bounces at the same height for ever, two grow.

# %%
fig, ax = plt.subplots(figsize=(7, 3.5))
for lr in (0.02, 0.06, 0.125, 0.2, 0.25, 0.26, 0.3):
    x = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    path = [x.item()]
    for _ in range(30):
        y = 4 * x**2
        (grad,) = torch.autograd.grad(y, x)
        with torch.no_grad():
            x -= lr * grad
        path.append(x.item())
    factor = abs(1 - 8 * lr)
    ax.semilogy([abs(v) for v in path], label=f"lr = {lr}  (|1 - 8 lr| = {factor:.2f})", marker=".")
ax.set_xlabel("step t")
ax.set_ylabel("|x_t|  (log scale)")
ax.set_ylim(1e-3, 1e3)
ax.set_title("gradient descent on y = 4x², from x = 2")
ax.legend(ncol=2, fontsize=8)
plt.show()

# %% [markdown]
# **A correction.** Older notes call the run at $\text{lr} = 1$ a "gradient explosion".
# It is not one: the gradient grows here only because $x$ does, and $x$ grows because each
# step overshoots, a matter of learning rate times curvature ($|1 - 8\,\text{lr}| > 1$),
# cured by a smaller rate. A *gradient explosion* is something else: in a deep or recurrent
# network the gradient is a product of many layers' Jacobians and can grow huge even at a
# sensible learning rate, at one unlucky step; the cures are clipping (notebook 12),
# normalization and careful initialization.

# %% [markdown]
# ## Exercise 1: the gradient-descent path (2 points)
#
# Implement `gd_path(x0, lr, steps)`: run `steps` steps of gradient descent on $y = 4x^2$
# from `x0` (a Python float), computing each gradient with **autograd** (`backward()` or
# `torch.autograd.grad`) in float64. Return a float64 tensor of length `steps + 1` holding
# $x_0, x_1, \dots, x_\text{steps}$.
#
# The checks compare your path with the closed form $(1 - 8\,\text{lr})^t x_0$ for several
# learning rates on both sides of the threshold you will find in Exercise 2, and make sure
# the gradients came from autograd. They recognise a forgotten learning rate, a gradient
# that was never cleared between steps (`backward()` adds into `x.grad`), and a path
# without $x_0$.


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
from autograder.checking.topics.sgd_momentum import check_gd_path

check_gd_path(gd_path, seed=8)
### BEGIN HIDDEN TESTS
check_gd_path(gd_path, seed=None, public=False)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 2: when does gradient descent diverge? (1 point)
#
# Generalise the parabola: $f(x) = \frac{h}{2} x^2$ has derivative $h x$ and second
# derivative (curvature) $h$; $y = 4x^2$ is the case $h = 8$. One step multiplies $x$ by
# $1 - \text{lr}\cdot h$, and the path shrinks to the minimum $0$ exactly when
# $|1 - \text{lr}\cdot h| < 1$. Solve this by hand, then implement
# `lr_limits(curvature)`, returning the pair `(lr_limit, lr_fastest)` as Python floats:
#
# * `lr_limit`: the learning rate from which gradient descent no longer converges (the
#   smallest $\text{lr} > 0$ with $|1 - \text{lr}\cdot h| \ge 1$);
# * `lr_fastest`: the learning rate that reaches the minimum in one step.
#
# The checks run one step of gradient descent (gradient by autograd) at your two rates, for
# $h = 8$, $h = 2$ and random curvatures (hidden checks draw others): at `lr_limit` the step
# must land exactly on $-x_0$ (it bounces for ever), at `lr_fastest` on $0$. They recognise
# the two rates swapped, the rates of $y = 4x^2$ whatever $h$, and a gradient of
# $\frac{h}{2}x$. Look back at the plot: which curve bounces, and which one vanishes?


# %% answer="lr_limits"
def lr_limits(curvature):
    ### BEGIN SOLUTION
    return 2 / curvature, 1 / curvature
    ### END SOLUTION


# %% tests="lr_limits" points=1
# Public checks: one step of gradient descent at your two rates. Silence means they passed.
from autograder.checking.topics.sgd_momentum import check_lr_limits

check_lr_limits(lr_limits, seed=10)
### BEGIN HIDDEN TESTS
check_lr_limits(lr_limits, seed=None, public=False)
### END HIDDEN TESTS

# %% [markdown]
# With your two rates for $y = 4x^2$: below `lr_fastest` the path shrinks from one side,
# between `lr_fastest` and `lr_limit` it shrinks while alternating in sign, at `lr_limit`
# it bounces between $+2$ and $-2$ for ever, and above it grows.

# %%
try:
    lr_limit, lr_fastest = lr_limits(8.0)
except NotImplementedError:
    print("Exercise 2 is not done yet.")
else:
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
# `None`. That saves the memory of the zeros and the work of writing them (on a GPU, one
# *kernel launch* per tensor: a kernel is a function that runs on the GPU, and each call of
# one costs a few microseconds of overhead however small the tensor). The next `backward()`
# then writes the gradient instead of adding to zeros. `zero_grad(set_to_none=False)` still
# fills it with zeros. Either way, the next `backward()` starts from nothing.

# %% [markdown]
# ## Exercise 3: `zero_grad`, `backward`, `step` (2 points)
#
# Implement `fit_line(w, x, y, *, lr, steps)`: fit the weights `w` (a float64 leaf tensor
# with `requires_grad=True`, shape $(d,)$) to the least-squares loss
# $\text{mean}\big((x w - y)^2\big)$, with $x$ of shape $(n, d)$ and $y$ of shape $(n,)$, by
# running `steps` steps of `torch.optim.SGD(..., lr=lr)`. In each step: clear the gradient,
# compute the loss, `backward()`, `step()`.
#
# Return the list of the `steps` loss values as **Python floats** (`loss.item()`), each
# computed *before* its step: a loss kept as a tensor keeps its whole graph alive for as
# long as the list lives. The trained weights stay in `w` (the optimizer updates it in
# place).
#
# The checks compare with gradient descent using the gradient worked out by hand,
# $\frac{2}{n} x^\top (x w - y)$, require Python floats in the list, make sure
# `torch.optim.SGD` did the steps and that `x` and `y` come back unchanged, and recognise a
# forgotten `zero_grad()` and losses recorded after their step.


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
from autograder.checking.topics.sgd_momentum import check_fit_line

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
# two separate optimizers, one per tensor. They recognise `w2` trained at `lr`, a group
# without momentum, and a forgotten `zero_grad()`.


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
from autograder.checking.topics.sgd_momentum import check_param_groups

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
# The checks read your checkpoint, make sure `load_state_dict` was called, and require `w`
# to end **exactly** (tolerance 0) where an uninterrupted run of `steps` steps ends. They
# recognise a state saved at the end instead of after `stop` steps, and a fresh optimizer
# that did not get the state.


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
from autograder.checking.topics.sgd_momentum import check_resume

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
# Steps 1 and 2 make a *new* $g$: the caller's gradient is left as it was.

# %% [markdown]
# ## Exercise 6: `sgd_step` (3 points)
#
# Implement `sgd_step(param, grad, state, *, lr=1e-3, momentum=0, dampening=0,
# weight_decay=0, nesterov=False, maximize=False)` following the four rules above. Keep the
# momentum buffer in `state`; update `param` in place; do not change `grad` in place (no
# `grad.neg_()` or `grad.add_(...)`). Calling `torch.optim.SGD` or its functional form is
# not allowed.
#
# The checks run the defaults, each option on its own and all of them together, six or more
# steps each, with the learning rate changed twice part-way. They recognise a dampened first
# step, a forgotten `nesterov` or `maximize`, weight decay applied to the parameter instead
# of the gradient, the learning rate inside the buffer, and `dampening` used the wrong way
# round, and tell you if `grad` was changed.


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
# rate only affects new gradients.

# %% [markdown]
# ## Exercise 7: the other convention (2 points)
#
# Implement `sgd_other_step(param, grad, state, *, lr, momentum)`: $u \leftarrow \rho u +
# \text{lr}\, g$, $p \leftarrow p - u$, with $u$ (starting at zero) kept in `state`.
#
# The checks run it at a constant learning rate against `torch.optim.SGD(momentum=...)`,
# which must agree, and with a learning rate cut or raised part-way, against the formula.
# `torch.optim.SGD` is off limits. They recognise PyTorch's convention in its place and a
# learning rate applied twice.


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

from autograder.checking.optim import (
    SGD_OTHER_MISTAKES,
    check_optimizer,
    schedule_cases,
    sgd_other_convention,
)
from autograder.checking.optim.cases import COURSE_STEPS

_cases = schedule_cases(seed=87)
_forbid = ["torch.optim.SGD", *COURSE_STEPS]
check_optimizer(
    sgd_other_step, torch.optim.SGD, _cases[:1], forbid=_forbid, mistakes=SGD_OTHER_MISTAKES
)
check_optimizer(
    sgd_other_step, sgd_other_convention, _cases, forbid=_forbid, mistakes=SGD_OTHER_MISTAKES
)
### BEGIN HIDDEN TESTS
_cases = schedule_cases(seed=None)
check_optimizer(
    sgd_other_step,
    torch.optim.SGD,
    _cases[:1],
    public=False,
    forbid=_forbid,
    mistakes=SGD_OTHER_MISTAKES,
)
check_optimizer(
    sgd_other_step,
    sgd_other_convention,
    _cases,
    public=False,
    forbid=_forbid,
    mistakes=SGD_OTHER_MISTAKES,
)
### END HIDDEN TESTS

# %% [markdown]
# ## See them part
#
# The cell below runs both conventions from the same start with the same gradients:
# `lr = 0.1` for steps 1 to 4, then `lr = 0.01` from step 5 on, momentum 0.9. It prints the
# largest difference between the two parameters after each step, and plots one coordinate.

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

# %% [markdown]
# ## Exercise 8: when do they part? (1 point)
#
# Reason it out from the two recursions, then implement `first_differing_step(lrs,
# momentum)`: both conventions start from the same parameter, get the same gradients, and
# use the learning rate `lrs[t - 1]` at step $t = 1, 2, \dots$ (a list of floats). Return
# the first step $t$ after which their parameters differ, or `None` if they never do.
#
# Hints: at which step does a buffer first hold something? What does a step add to each
# buffer when the rate differs from the one before? And what happens when `momentum` is 0?
#
# The checks run both conventions on random gradients for each `lrs` (constant, cut, raised
# at one step, a smaller first step, no momentum) and compare the first step at which the
# parameters differ by more than $10^{-12}$ with your answer. They recognise steps counted
# from 0 and a momentum of 0 treated like any other.


# %% answer="first_differing_step"
def first_differing_step(lrs, momentum):
    ### BEGIN SOLUTION
    if momentum == 0:
        return None
    for t in range(2, len(lrs) + 1):
        if lrs[t - 1] != lrs[0]:
            return t
    return None
    ### END SOLUTION


# %% tests="first_differing_step" points=1
# Public checks: the step found by running both conventions. Silence means they passed.
from autograder.checking import check_function
from autograder.checking.topics.sgd_momentum import (
    first_differing_by_running,
    first_differing_cases,
    first_differing_mistakes,
)

_mistakes = first_differing_mistakes()
check_function(
    first_differing_step,
    first_differing_by_running,
    first_differing_cases(88),
    mistakes=_mistakes,
)
### BEGIN HIDDEN TESTS
check_function(
    first_differing_step,
    first_differing_by_running,
    first_differing_cases(None),
    mistakes=_mistakes,
    public=False,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Written answer: which one brakes? (2 points)
#
# A scheduler cuts the learning rate by 10 in the middle of training, while the momentum
# buffer holds a large velocity. Which convention slows the parameter down at once, and
# which keeps coasting for a while? Explain why from the two recursions, and say how long
# the coasting lasts (in terms of $\rho$). Three to five sentences in the cell below.

# %% [markdown] manual="momentum_brakes" points=2
# ### BEGIN SOLUTION
# PyTorch's convention slows down at once: its buffer $v$ holds raw gradients, and the step
# is $\text{lr}\cdot v$, so the whole accumulated velocity is multiplied by the new, smaller
# rate at the very next step. The other convention's buffer $u$ holds steps already scaled
# by the old rate; the cut only scales the new gradients added to it, while the old
# velocity keeps moving the parameter and decays by the factor $\rho$ per step. It coasts
# for roughly $1/(1-\rho)$ steps (10 steps for $\rho = 0.9$) before the new rate dominates.
#
# Rubric (2 points): 1 point for naming PyTorch's convention as the one that brakes at once
# because its buffer holds unscaled gradients (the rate multiplies the whole velocity);
# 1 point for explaining that the other buffer holds old, already-scaled steps that decay
# only geometrically, with a time scale of about $1/(1-\rho)$ steps.
# ### END SOLUTION

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
# The checks compare your weights (float64) with those an EWA gives to past values when run
# on unit impulses, and your memory (a Python float) with the sum computed numerically over
# many terms. They recognise weights without the factor $1 - \beta$ or in the wrong order,
# and the memories $\beta/(1-\beta)$ and $1/(1-\beta)^2$.


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


_mistakes = {
    "β^k without the factor (1 - β)": lambda beta, steps: (
        beta ** torch.arange(steps, dtype=torch.float64)
    ),
    "the weights in the wrong order: the newest value (age 0) comes first": lambda beta, steps: (
        _weights_by_running(beta, steps).flip(0)
    ),
}
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
    floats=True,
)
### BEGIN HIDDEN TESTS
_gen, _seed = generator(None)
_betas = [0.3 + 0.69 * float(torch.rand((), generator=_gen)) for _ in range(5)]
check_function(
    ewa_weights,
    _weights_by_running,
    [
        Case(f"beta={b:.6f}, steps={n}, seed {_seed}", (b, n))
        for b, n in zip(_betas, [4, 9, 15, 2, 30], strict=True)
    ],
    rtol=1e-9,
    public=False,
    mistakes=_mistakes,
)
check_function(
    effective_memory,
    _memory_by_sum,
    [Case(f"beta={b:.6f}, seed {_seed}", (b,)) for b in _betas],
    rtol=1e-8,
    public=False,
    mistakes=_memory_mistakes,
    floats=True,
)
### END HIDDEN TESTS

# %% [markdown]
# ## SGD with and without momentum
#
# Back to $y = 4x^2$ from $x = 2$. Plain SGD at `lr = 0.03` shrinks $x$ by the factor
# $1 - 8 \cdot 0.03 = 0.76$ per step. With momentum, a smaller rate can do as well: the
# buffer keeps pushing in the same direction and builds up speed. Too much momentum
# overshoots and rings around the minimum. The cell runs three settings and prints when
# each loss first falls below $10^{-2}$ and $10^{-8}$, and where it is after 60 steps.


# %%
def sgd_losses(lr, momentum, steps=60):
    x = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
    optimizer_demo = torch.optim.SGD([x], lr=lr, momentum=momentum)
    losses = []
    for _ in range(steps):
        optimizer_demo.zero_grad()
        loss = 4 * x**2
        loss.backward()
        optimizer_demo.step()
        losses.append(loss.item())
    return losses


def first_below(losses, level):
    return next((step for step, v in enumerate(losses, start=1) if v < level), None)


fig, ax = plt.subplots(figsize=(7, 3.5))
for lr, momentum in ((0.03, 0.0), (0.01, 0.9), (0.01, 0.63)):
    losses = sgd_losses(lr, momentum)
    ax.semilogy(losses, label=f"lr = {lr}, momentum = {momentum}")
    print(
        f"lr = {lr}, momentum = {momentum}: below 1e-2 at step {first_below(losses, 1e-2)}, "
        f"below 1e-8 at step {first_below(losses, 1e-8)}, loss at step 60 {losses[-1]:.2g}"
    )
ax.set_xlabel("step")
ax.set_ylabel("loss 4x²  (log scale)")
ax.set_title("SGD on y = 4x², with and without momentum")
ax.legend()
plt.show()

# %% [markdown]
# Read the numbers, not the impression. Momentum 0.63 at `lr = 0.01` is *faster at first*:
# below $10^{-2}$ at step 11 against step 15 for plain SGD at `lr = 0.03`. The two reach
# $10^{-8}$ at the same step, 40, and after 60 steps plain SGD is *lower*
# ($1.4\cdot10^{-13}$ against $3.3\cdot10^{-11}$). Momentum 0.9 rings and is still above
# $10^{-3}$ after 60 steps. So "a moderate amount of momentum reaches the bottom first"
# depends on where you call the bottom.
#
# What decides the long run is the rate per step. Write SGD with momentum on
# $f(x) = \frac{h}{2}x^2$ as a map of the pair $(x_t, x_{t-1})$: with $a = \text{lr}\cdot h$,
#
# $$
# \begin{pmatrix} x_{t+1} \\ x_t \end{pmatrix} =
# \begin{pmatrix} 1 + \rho - a & -\rho \\ 1 & 0 \end{pmatrix}
# \begin{pmatrix} x_t \\ x_{t-1} \end{pmatrix},
# $$
#
# and the error shrinks per step by the largest magnitude of the matrix's eigenvalues, its
# *spectral radius*. The eigenvalues solve $\lambda^2 - (1 + \rho - a)\lambda + \rho = 0$.
# When they are complex, both have magnitude $\sqrt{\rho}$ (the path rings); when they are
# real, the larger one grows as $\rho$ shrinks. The best momentum sits where the two meet.

# %% [markdown]
# ## Exercise 10: the best momentum for a quadratic (2 points)
#
# Implement `best_momentum(lr, curvature)`: the momentum $\rho \in [0, 1)$ that minimises
# the spectral radius above, for $0 < a = \text{lr}\cdot h < 1$, as a closed formula
# (a Python float). Find where the discriminant $(1 + \rho - a)^2 - 4\rho$ is zero and pick
# the root below 1.
#
# For the notes' example ($\text{lr} = 0.01$, $h = 8$) the answer is about $0.51$, with a
# rate of $0.717$ per step against plain SGD's $0.76$ at `lr = 0.03`. The checks compare
# your formula with a numerical search: the eigenvalues of the matrix computed by
# `torch.linalg.eigvals`, minimised over $\rho$ by golden-section search, for random
# learning rates and curvatures. They recognise the other root, the rate in place of the
# momentum, and a forgotten square root.


# %% answer="best_momentum"
def best_momentum(lr, curvature):
    ### BEGIN SOLUTION
    return (1 - math.sqrt(lr * curvature)) ** 2
    ### END SOLUTION


# %% tests="best_momentum" points=2
# Public checks: a numerical search over the momentum. Silence means they passed.
from autograder.checking import check_function
from autograder.checking.topics.sgd_momentum import (
    best_momentum_by_search,
    best_momentum_cases,
    best_momentum_mistakes,
)

_mistakes = best_momentum_mistakes()
check_function(
    best_momentum,
    best_momentum_by_search,
    best_momentum_cases(10),
    rtol=1e-6,
    mistakes=_mistakes,
    floats=True,
)
### BEGIN HIDDEN TESTS
check_function(
    best_momentum,
    best_momentum_by_search,
    best_momentum_cases(None),
    rtol=1e-6,
    mistakes=_mistakes,
    public=False,
    floats=True,
)
### END HIDDEN TESTS

# %% [markdown]
# With your best momentum for `lr = 0.01`: the slowest start of the three momentum runs
# (its double eigenvalue adds a factor $t$ to the decay), but the lowest loss in the end.

# %%
try:
    rho_best = best_momentum(0.01, 8.0)
except NotImplementedError:
    print("Exercise 10 is not done yet.")
else:
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for lr, momentum in ((0.03, 0.0), (0.01, 0.63), (0.01, rho_best)):
        losses = sgd_losses(lr, momentum, steps=100)
        ax.semilogy(losses, label=f"lr = {lr}, momentum = {momentum:.3g}")
        print(f"lr = {lr}, momentum = {momentum:.3f}: loss at step 100 {losses[-1]:.2g}")
    ax.set_xlabel("step")
    ax.set_ylabel("loss 4x²  (log scale)")
    ax.legend()
    plt.show()

# %% [markdown]
# ## ASGD: averaged SGD
#
# Averaged SGD (Polyak and Juditsky, 1992) takes plain SGD steps with a slowly decaying rate
# and, from step $t_0$ on, also keeps the running **average** of the iterates, which is
# often a better answer than the last iterate when the gradients are noisy.
# `torch.optim.ASGD(params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
# maximize=False)` keeps a rate $\eta$ (starting at lr), an averaging factor $\mu$
# (starting at 1) and the average `"ax"` (starting at zero). At step $t$:
#
# 1. `maximize` and `weight_decay` as in SGD;
# 2. $p \leftarrow p\,(1 - \lambda\eta)$, then $p \leftarrow p - \eta\, g$, with
#    $\lambda$ = `lambd` and the $\eta$ computed at the *previous* step;
# 3. $a \leftarrow a + \mu\,(p - a)$ (with $\mu = 1$ this copies $p$);
# 4. for the next step: $\eta = \text{lr} / (1 + \lambda\,\text{lr}\, t)^{\alpha}$ with this
#    step's lr, and $\mu = 1 / \max(1, t - t_0)$.
#
# The average never feeds back into $p$: read it from the optimizer's state
# (`optimizer.state[p]["ax"]`) when training ends.
#
# **A correction.** Older notes say ASGD "is also called SAG" and point to a paper on SVRG.
# These are three different methods. ASGD averages the *iterates* $p_t$. SAG (stochastic
# average gradient) keeps the last gradient of *every training example* and steps along
# their average. SVRG corrects each stochastic gradient with a full-batch gradient computed
# every few epochs. Only ASGD is in `torch.optim`.

# %% [markdown]
# ## Exercise 11: `asgd_step` (2 points)
#
# Implement `asgd_step(param, grad, state, *, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6,
# weight_decay=0, maximize=False)`. Keep the average in `state["ax"]` (a tensor like
# `param`): the checks compare it with torch's after every step too, since `t0` only shows
# there. The learning rate changes between steps in the checks, as everywhere: use each
# call's `lr` where torch does (rule 4). The checks recognise this step's $\eta$ used at
# once, the decay applied after the gradient step, $\eta$ computed from the first call's
# `lr`, and a forgotten `maximize` or `weight_decay`.


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

from autograder.checking.optim import ASGD_MISTAKES, FORBID, check_optimizer, optimizer_cases

check_optimizer(
    asgd_step,
    torch.optim.ASGD,
    optimizer_cases("asgd", 96),
    forbid=FORBID["asgd"],
    state_keys=["ax"],
    mistakes=ASGD_MISTAKES,
)
### BEGIN HIDDEN TESTS
check_optimizer(
    asgd_step,
    torch.optim.ASGD,
    optimizer_cases("asgd", None, extra=2),
    public=False,
    forbid=FORBID["asgd"],
    state_keys=["ax"],
    mistakes=ASGD_MISTAKES,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Summary
#
# * Gradient descent multiplies the error of $\frac{h}{2}x^2$ by $1 - \text{lr}\cdot h$ per
#   step: it converges for $0 < \text{lr} < 2/h$ and is fastest at $1/h$. Divergence from a
#   large rate is overshooting, not a gradient explosion.
# * Call `zero_grad()` every step: `backward()` accumulates. Return losses as floats.
#   Parameter groups give different tensors different hyper-parameters; `state_dict()`
#   holds live references, so save it to resume a run exactly.
# * PyTorch's momentum keeps raw gradients in its buffer, $p \leftarrow p - \text{lr}\,v$;
#   putting lr inside the buffer is the same method only while lr is constant, and brakes
#   late when a scheduler cuts the rate.
# * An EWA with factor $\beta$ weighs the value $k$ steps old by $(1-\beta)\beta^k$ and
#   remembers about $1/(1-\beta)$ steps.
# * On a quadratic, the best momentum is $(1 - \sqrt{\text{lr}\cdot h})^2$: faster in the
#   long run, not necessarily at first.
# * ASGD averages the iterates (it is not SAG).
#
# Next, notebook 11: optimizers that adapt a step size to every element.
