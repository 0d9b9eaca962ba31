# %% [markdown]
# # 8. Optimizers: from a gradient to an updated parameter
#
# `loss.backward()` leaves a gradient in every parameter's `.grad`. An **optimizer** turns
# that gradient into a new value of the parameter. The simplest rule is gradient descent,
# $p \leftarrow p - \text{lr} \cdot g$; every optimizer in `torch.optim` refines it by keeping
# some *state* between steps (a running average of the gradients, of their squares, a
# per-element step size, ...).
#
# | optimizer | PyTorch | state it keeps | idea |
# | --- | --- | --- | --- |
# | SGD | `optim.SGD` | momentum buffer | step against the gradient, optionally with momentum |
# | Adam | `optim.Adam` | averages of $g$ and $g^2$ | momentum over a running RMS of the gradient |
# | AdamW | `optim.AdamW` | as Adam | Adam with the weight decay taken out of the gradient |
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

import matplotlib.pyplot as plt
import torch

import autograder.optim_cases  # noqa: F401  (the checks; imported before any of your code)

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

from autograder.checks import Case, check_function, generator


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
from autograder.checks import check_value

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
from autograder.optim_cases import check_fit_line

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
from autograder.optim_cases import check_param_groups

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
from autograder.optim_cases import check_resume

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

from autograder.optim_cases import FORBID, SGD_MISTAKES, check_optimizer, optimizer_cases

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

from autograder.optim_cases import check_optimizer, schedule_cases, sgd_other_convention

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
from autograder.checks import check_value

check_value(
    "the first step after which the two conventions differ",
    first_differing_step,
    5,
    rtol=0,
    atol=0,
    mistakes={"step 4 is the last step at the old rate, where they still agree": 4},
)

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
# ## Exercise 9: `adam_step` (3 points)
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

from autograder.optim_cases import ADAM_MISTAKES, FORBID, check_optimizer, optimizer_cases

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
# ## Exercise 10: `adamw_step` (2 points)
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

from autograder.optim_cases import ADAMW_MISTAKES, FORBID, check_optimizer, optimizer_cases

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
# ## Summary
#
# * Gradient descent multiplies the error of $y = 4x^2$ by $1 - 8\,\text{lr}$ per step: it
#   converges for $0 < \text{lr} < 0.25$ and is fastest at $0.125$.
# * Call `zero_grad()` every step: `backward()` accumulates. Parameter groups give
#   different tensors different hyper-parameters; `state_dict()` holds live references, so
#   save it to resume a run exactly.
# * PyTorch's momentum keeps raw gradients in its buffer, $p \leftarrow p - \text{lr}(\rho v
#   + g)$; putting lr inside the buffer is the same method only while lr is constant.
# * Adam divides a bias-corrected average of the gradient by the root of a bias-corrected
#   average of its square; AdamW decays the weights outside that division.
