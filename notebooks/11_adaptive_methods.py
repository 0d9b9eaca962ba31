# %% [markdown]
# # 11. Optimizers II: the adaptive methods
#
# SGD moves every parameter by the same multiple of its gradient. The **adaptive** methods
# give every element its own step size, worked out from the history of that element's
# gradients: elements with large, steady gradients take measured steps, elements with small
# ones are not left behind. This notebook writes every adaptive optimizer of `torch.optim`
# as a step function and checks it against torch, step by step:
#
# | optimizer | state per parameter | idea |
# | --- | --- | --- |
# | `Adagrad` | sum of $g^2$ | a step per element, shrinking with the gradients seen |
# | `RMSprop` | average of $g^2$ (and of $g$) | Adagrad with a fading memory |
# | `Adadelta` | averages of $g^2$ and of squared updates | RMSprop with matching units |
# | `Rprop` | step size, previous gradient | only the sign of the gradient counts |
# | `Adam` | averages of $g$ and $g^2$ | momentum over a running RMS, bias-corrected |
# | `AdamW` | as Adam | Adam with decoupled weight decay |
# | `Adamax` | average of $g$, decaying max of $\lvert g\rvert$ | Adam with the infinity norm |
# | `NAdam` | as Adam, and a momentum product | Adam with Nesterov momentum |
# | `RAdam` | as Adam | Adam that waits until its variance estimate is reliable |
# | `Adafactor` | row and column averages of $g^2$ | Adam's second moment in far less memory |
# | `Muon` | momentum buffer | an orthogonalized step for weight matrices |
# | `SparseAdam` | as Adam, for the rows used | Adam for sparse gradients (embeddings) |
#
# The step functions follow notebook 10's convention:
# `name_step(param, grad, state, *, <torch's keyword arguments and defaults>)` updates
# `param` in place, keeps its state in the dict `state` (under keys of your choice), and
# changes nothing else: `grad` stays as it was given (what the function returns is
# ignored). The checks compare your parameters with torch's after every step, with the
# learning rate changed twice part-way through every run but the one at the defaults; a
# known mistake is named when its numbers match every failing run.

# %%
import math

import matplotlib.pyplot as plt
import torch

import autograder.checking.optim  # noqa: F401  (the checks; imported before any of your code)
import autograder.checking.topics.adaptive_methods  # noqa: F401

torch.set_printoptions(precision=4)

# %% [markdown]
# ## One step size per element
#
# A single parameter sees a gradient of $1$ for 40 steps, then of $0.05$ for 60 steps. The
# plot shows the size of each step for four optimizers at `lr = 0.1`. SGD's step follows the
# gradient down by a factor 20. Adagrad divides by the root of the *sum* of all squared
# gradients so far: its steps shrink for ever and collapse when the gradient gets small.
# RMSprop and Adam divide by a root of a running *average* instead: after a short
# transition their step is back to about `lr`, whatever the gradient's scale.


# %%
def step_sizes(make, grads):
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = make([p])
    sizes = []
    for g in grads:
        before = p.detach().clone()
        p.grad = torch.tensor([g], dtype=torch.float64)
        optimizer.step()
        sizes.append((p.detach() - before).abs().item())
    return sizes


demo_grads = [1.0] * 40 + [0.05] * 60
fig, ax = plt.subplots(figsize=(7, 3.5))
for name, make in [
    ("SGD", lambda ps: torch.optim.SGD(ps, lr=0.1)),
    ("Adagrad", lambda ps: torch.optim.Adagrad(ps, lr=0.1)),
    ("RMSprop (alpha 0.9)", lambda ps: torch.optim.RMSprop(ps, lr=0.1, alpha=0.9)),
    ("Adam", lambda ps: torch.optim.Adam(ps, lr=0.1)),
]:
    ax.semilogy(step_sizes(make, demo_grads), label=name)
ax.axvline(39.5, color="gray", lw=0.8)
ax.set_xlabel("step (the gradient drops from 1 to 0.05 after step 40)")
ax.set_ylabel("|step|  (log scale)")
ax.set_title("the size of each step, lr = 0.1")
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
# 1. $g \leftarrow -g$ if `maximize`; $g \leftarrow g + \lambda p$ for `weight_decay` $\lambda$
#    (a new tensor: the caller's `grad` stays as it was);
# 2. $\text{clr} = \text{lr} / \big(1 + (t - 1)\,\text{lr\_decay}\big)$;
# 3. $s \leftarrow s + g^2$, where $s$ starts at `initial_accumulator_value` (state `"sum"`);
# 4. $p \leftarrow p - \text{clr}\, g / (\sqrt{s} + \varepsilon)$.
#
# Because $s$ only grows, the steps shrink for ever: Adagrad's weakness on long runs.

# %% [markdown]
# ## Exercise 1: `adagrad_step` (2 points)
#
# Implement `adagrad_step(param, grad, state, *, lr=1e-2, lr_decay=0, weight_decay=0,
# initial_accumulator_value=0, eps=1e-10, maximize=False)`. The checks try every option
# (a large `eps` among them, so that its place in the formula matters). They recognise
# $\varepsilon$ under the square root, `lr_decay` counted from the first step, a forgotten
# `initial_accumulator_value` and a forgotten `maximize`.


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

from autograder.checking.optim import ADAGRAD_MISTAKES, FORBID, check_optimizer, optimizer_cases

check_optimizer(
    adagrad_step,
    torch.optim.Adagrad,
    optimizer_cases("adagrad", 91),
    forbid=FORBID["adagrad"],
    mistakes=ADAGRAD_MISTAKES,
)
### BEGIN HIDDEN TESTS
check_optimizer(
    adagrad_step,
    torch.optim.Adagrad,
    optimizer_cases("adagrad", None, extra=2),
    public=False,
    forbid=FORBID["adagrad"],
    mistakes=ADAGRAD_MISTAKES,
)
### END HIDDEN TESTS

# %% [markdown]
# ## RMSprop: forget old gradients
#
# RMSprop replaces Adagrad's sum by an exponentially weighted average, so old gradients
# fade and the step size stops shrinking. `torch.optim.RMSprop(params, lr=1e-2, alpha=0.99,
# eps=1e-8, weight_decay=0, momentum=0, centered=False, maximize=False)`:
#
# 1. `maximize` and `weight_decay` as before;
# 2. $a \leftarrow \alpha a + (1 - \alpha) g^2$ (state `"square_avg"`, from zero);
# 3. `centered`: also $\bar g \leftarrow \alpha \bar g + (1 - \alpha) g$ (`"grad_avg"`), and
#    use the variance instead of the raw second moment: $d = \sqrt{a - \bar g^2} +
#    \varepsilon$; otherwise $d = \sqrt{a} + \varepsilon$;
# 4. `momentum` $\rho > 0$: $b \leftarrow \rho b + g / d$ (`"momentum_buffer"`, from zero),
#    $p \leftarrow p - \text{lr}\, b$; otherwise $p \leftarrow p - \text{lr}\, g / d$.
#
# There is no bias correction: early steps are larger than later ones. Note where the
# learning rate sits in step 4: *outside* the buffer, as in torch's SGD (notebook 10,
# Exercise 7). A buffer that accumulates $\text{lr}\cdot g/d$ agrees with torch only while
# the rate stays constant.

# %% [markdown]
# ## Exercise 2: `rmsprop_step` (3 points)
#
# Implement `rmsprop_step(param, grad, state, *, lr=1e-2, alpha=0.99, eps=1e-8,
# weight_decay=0, momentum=0, centered=False, maximize=False)`. The checks recognise the
# learning rate inside the momentum buffer, $\varepsilon$ under the square root, and a
# forgotten `centered` or `maximize`.


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

from autograder.checking.optim import FORBID, RMSPROP_MISTAKES, check_optimizer, optimizer_cases

check_optimizer(
    rmsprop_step,
    torch.optim.RMSprop,
    optimizer_cases("rmsprop", 92),
    forbid=FORBID["rmsprop"],
    mistakes=RMSPROP_MISTAKES,
)
### BEGIN HIDDEN TESTS
check_optimizer(
    rmsprop_step,
    torch.optim.RMSprop,
    optimizer_cases("rmsprop", None, extra=2),
    public=False,
    forbid=FORBID["rmsprop"],
    mistakes=RMSPROP_MISTAKES,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Adadelta: units that match
#
# Adadelta notices that $g / \sqrt{a}$ has no units, so a learning rate must supply them.
# It keeps a second average, of its own past squared *updates*, and scales by the ratio of
# the two roots, so that the update has the units of the parameter.
# `torch.optim.Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *,
# maximize=False)`:
#
# 1. `maximize` and `weight_decay` as before;
# 2. $a \leftarrow \rho a + (1 - \rho) g^2$ (`"square_avg"`, from zero);
# 3. $\Delta = \dfrac{\sqrt{u + \varepsilon}}{\sqrt{a + \varepsilon}}\, g$, with $u$ the
#    average of squared updates (`"acc_delta"`, from zero);
# 4. $u \leftarrow \rho u + (1 - \rho) \Delta^2$;
# 5. $p \leftarrow p - \text{lr}\, \Delta$ (the default lr of 1 leaves $\Delta$ as it is).
#
# Here $\varepsilon$ sits *inside* both roots, unlike Adam's.

# %% [markdown]
# ## Exercise 3: `adadelta_step` (2 points)
#
# Implement `adadelta_step(param, grad, state, *, lr=1.0, rho=0.9, eps=1e-6,
# weight_decay=0, maximize=False)`. The checks use learning rates other than 1, and
# recognise $\varepsilon$ outside the roots, an average of the updates scaled by lr, and a
# forgotten `lr` or `maximize`.


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

from autograder.checking.optim import ADADELTA_MISTAKES, FORBID, check_optimizer, optimizer_cases

check_optimizer(
    adadelta_step,
    torch.optim.Adadelta,
    optimizer_cases("adadelta", 93),
    forbid=FORBID["adadelta"],
    mistakes=ADADELTA_MISTAKES,
)
### BEGIN HIDDEN TESTS
check_optimizer(
    adadelta_step,
    torch.optim.Adadelta,
    optimizer_cases("adadelta", None, extra=2),
    public=False,
    forbid=FORBID["adadelta"],
    mistakes=ADADELTA_MISTAKES,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Rprop: only the sign of the gradient
#
# Rprop (resilient backpropagation, 1992, older than all the methods above) ignores the
# gradient's size. Each element has its own step size: it grows while the gradient keeps
# its sign and shrinks when the sign flips (the last step jumped over a minimum).
# `torch.optim.Rprop(params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
# maximize=False)` keeps the previous gradient `"prev"` (starting at zero) and the step
# sizes `"step_size"` (starting at lr everywhere):
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
# `lr` only sets the *initial* step sizes: once the state exists, torch's Rprop never reads
# the learning rate again, so a scheduler changing it has no effect. Rprop works on
# full-batch gradients; with noisy mini-batch gradients the signs flip at random and it
# stalls.

# %% [markdown]
# ## Exercise 4: `rprop_step` (2 points)
#
# Implement `rprop_step(param, grad, state, *, lr=1e-2, etas=(0.5, 1.2),
# step_sizes=(1e-6, 50), maximize=False)`. The checks change `lr` between steps like
# everywhere else; torch ignores those changes, and so must you. Careful with constants:
# `torch.where(c, 1.2, 0.5)` and `torch.tensor(1.2)` are float32, which is off by
# $10^{-8}$; build tensors with `dtype=param.dtype` or use `torch.ones_like(param)` and
# indexing. The checks recognise a gradient kept where its sign flipped, step sizes that
# are not clamped, a zero product $g \cdot g_\text{prev}$ taken as the same sign, and a
# forgotten `maximize`.


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

from autograder.checking.optim import FORBID, RPROP_MISTAKES, check_optimizer, optimizer_cases

check_optimizer(
    rprop_step,
    torch.optim.Rprop,
    optimizer_cases("rprop", 97),
    forbid=FORBID["rprop"],
    mistakes=RPROP_MISTAKES,
)
### BEGIN HIDDEN TESTS
check_optimizer(
    rprop_step,
    torch.optim.Rprop,
    optimizer_cases("rprop", None, extra=2),
    public=False,
    forbid=FORBID["rprop"],
    mistakes=RPROP_MISTAKES,
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
# amsgrad=False, *, maximize=False, decoupled_weight_decay=False)`:
#
# * `maximize`: use $-g$; `weight_decay` $\lambda$: $g \leftarrow g + \lambda p$ (L2 penalty),
#   both before the averages;
# * `amsgrad`: keep the running maximum $v^{\max}_t = \max(v^{\max}_{t-1}, v_t)$ and use it
#   instead of $v_t$ (then bias-correct it the same way), so the denominator never shrinks;
# * $\varepsilon$ is added *after* the square root;
# * `decoupled_weight_decay=True` turns Adam into AdamW (next section).
#
# **A correction.** Older notes say AMSGrad "keeps the learning rate positive". Adam's step
# size is never negative in the first place. What AMSGrad prevents is the step size
# *growing back*: in Adam, when a large gradient leaves the average, $\hat v$ falls and the
# steps grow again; Reddi, Kale and Kumar (2018) built problems on which that makes Adam
# converge to the wrong point. With the running maximum the per-element step
# $\text{lr}/\sqrt{\hat v}$ can only shrink (up to the bias correction).

# %% [markdown]
# ## Exercise 5: `adam_step` (3 points)
#
# Implement `adam_step(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
# weight_decay=0, amsgrad=False, maximize=False)`. Count the steps in `state` (the bias
# correction needs $t$). `torch.optim.Adam`, `AdamW`, `NAdam`, `RAdam` and their functional
# forms are off limits.
#
# The checks cover the defaults, every option alone and all together; they recognise a
# missing bias correction, $\varepsilon$ under the square root, decoupled decay, AMSGrad's
# maximum taken over $\hat v$ instead of $v$, and a forgotten `amsgrad` or `maximize`.


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
# ## Written answer: why does Adam correct its bias? (2 points)
#
# Explain in three to five sentences why Adam divides $m_t$ by $1 - \beta_1^t$ and $v_t$ by
# $1 - \beta_2^t$, and what its first steps would look like without the correction for the
# defaults $\beta_1 = 0.9$, $\beta_2 = 0.999$ (work out the first step for a single
# element, ignoring $\varepsilon$).

# %% [markdown] manual="adam_bias" points=2
# ### BEGIN SOLUTION
# Both averages start at zero, so early on they are averages over only $t$ gradients whose
# weights $(1-\beta)\beta^k$ sum to $1 - \beta^t$ instead of 1: they are biased towards
# zero. Dividing by $1 - \beta^t$ rescales the weights to sum to 1, so $\hat m_t$ and
# $\hat v_t$ estimate the gradient's mean and second moment without that bias from the very
# first step ($\hat m_1 = g_1$, $\hat v_1 = g_1^2$, a first step of exactly $\text{lr}$).
# Without it, the first step would be
# $\text{lr}\,(1-\beta_1)g_1/\sqrt{(1-\beta_2)g_1^2} = \text{lr}\cdot 0.1/\sqrt{0.001}
# \approx 3.2\,\text{lr}$: because $\beta_2$ is closer to 1 than $\beta_1$, $v$ is shrunk
# far more than $m$, and the early steps are about three times too large until both
# averages have filled up (hundreds of steps for $v$).
#
# Rubric (2 points): 1 point for the cause (averages started at zero are biased towards
# zero; their weights sum to $1-\beta^t$; the division makes them unbiased). 1 point for the
# consequence worked out: early steps too large, about $(1-\beta_1)/\sqrt{1-\beta_2} \approx
# 3.2$ times lr at the first step (an answer saying "too small" because of $m$ alone earns
# half of this point).
# ### END SOLUTION

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
# p \leftarrow p\,(1 - \text{lr}\,\lambda),
# $$
#
# then the Adam step with $g$ itself (no $\lambda p$ term).
#
# `torch.optim.AdamW` has the same arguments as `Adam`, but `weight_decay` defaults to
# `1e-2` and means this decoupled decay. In current PyTorch, `torch.optim.Adam(...,
# decoupled_weight_decay=True)` is the same method (with Adam's default `weight_decay=0`,
# so pass it explicitly). The cell below shows the difference on a parameter whose loss
# gradient is zero: AdamW shrinks it by the factor $1 - \text{lr}\,\lambda$ per step; Adam
# turns the penalty's gradient into a step of about lr, whatever the size of the weight.

# %%
for name, make in [
    ("Adam", lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.1)),
    ("AdamW", lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1)),
    (
        "Adam(decoupled_weight_decay=True)",
        lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
    ),
]:
    w_demo = torch.tensor([10.0, 0.1], dtype=torch.float64, requires_grad=True)
    opt_demo = make([w_demo])
    for _ in range(5):
        w_demo.grad = torch.zeros_like(w_demo)
        opt_demo.step()
    print(f"{name:34s} after 5 steps from [10, 0.1]: {w_demo.detach().tolist()}")
print(f"{'AdamW by hand':34s}", [10 * (1 - 0.01 * 0.1) ** 5, 0.1 * (1 - 0.01 * 0.1) ** 5])

# %% [markdown]
# ## Exercise 6: `adamw_step` (2 points)
#
# Implement `adamw_step(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
# weight_decay=1e-2, amsgrad=False, maximize=False)`. You may call your `adam_step` (with
# `weight_decay=0`) after the decay.
#
# The checks compare with `torch.optim.AdamW` and with
# `torch.optim.Adam(decoupled_weight_decay=True)`, and recognise Adam's L2 penalty in its
# place, the decay applied after the Adam step or without the learning rate, a missing bias
# correction, and a forgotten `amsgrad` or `maximize`.


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
# Public checks: every option, every step, against AdamW and Adam(decoupled_weight_decay=True).
import torch

from autograder.checking.optim import (
    ADAMW_MISTAKES,
    FORBID,
    check_optimizer,
    optimizer_cases,
    with_hyper,
)

_cases = optimizer_cases("adamw", seed=90)
check_optimizer(
    adamw_step, torch.optim.AdamW, _cases, forbid=FORBID["adamw"], mistakes=ADAMW_MISTAKES
)
check_optimizer(
    adamw_step,
    torch.optim.Adam,
    with_hyper(_cases, weight_decay=1e-2),
    torch_kwargs={"decoupled_weight_decay": True},
    mistakes=ADAMW_MISTAKES,
)
### BEGIN HIDDEN TESTS
_cases = optimizer_cases("adamw", seed=None, extra=2)
check_optimizer(
    adamw_step,
    torch.optim.AdamW,
    _cases,
    public=False,
    forbid=FORBID["adamw"],
    mistakes=ADAMW_MISTAKES,
)
check_optimizer(
    adamw_step,
    torch.optim.Adam,
    with_hyper(_cases, weight_decay=1e-2),
    torch_kwargs={"decoupled_weight_decay": True},
    public=False,
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
#
# **A correction.** Older notes say Adamax "adds a learning-rate ceiling" to Adam. The name
# comes from the *max* norm; nothing caps or changes the learning rate, which is a constant
# as in Adam. What the maximum does give is a simple bound on each step: $u_t \ge
# \beta_2^k |g_{t-k}|$ for every past gradient, so with $\beta_1 < \beta_2$,
# $|m_t| / u_t \le (1-\beta_1)/(1-\beta_1/\beta_2)$, about $1.01$ for the defaults, and each
# element moves by at most about $\text{lr}/(1-\beta_1^t)$ per step.

# %% [markdown]
# ## Exercise 7: `adamax_step` (2 points)
#
# Implement `adamax_step(param, grad, state, *, lr=2e-3, betas=(0.9, 0.999), eps=1e-8,
# weight_decay=0, maximize=False)`. The checks recognise $\varepsilon$ added after the
# maximum, $u$ bias-corrected too, $m$ not bias-corrected, and a forgotten `maximize`.


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

from autograder.checking.optim import ADAMAX_MISTAKES, FORBID, check_optimizer, optimizer_cases

check_optimizer(
    adamax_step,
    torch.optim.Adamax,
    optimizer_cases("adamax", 94),
    forbid=FORBID["adamax"],
    mistakes=ADAMAX_MISTAKES,
)
### BEGIN HIDDEN TESTS
check_optimizer(
    adamax_step,
    torch.optim.Adamax,
    optimizer_cases("adamax", None, extra=2),
    public=False,
    forbid=FORBID["adamax"],
    mistakes=ADAMAX_MISTAKES,
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
# ## Exercise 8: `nadam_step` (3 points)
#
# Implement `nadam_step(param, grad, state, *, lr=2e-3, betas=(0.9, 0.999), eps=1e-8,
# weight_decay=0, momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False)`.
# Keep $\Pi_t$ in `state` (a Python float is simplest). The checks recognise $\mu_t$ used
# in place of $\mu_{t+1}$, $v$ without its bias correction, and a forgotten
# `decoupled_weight_decay` or `maximize`.


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

from autograder.checking.optim import FORBID, NADAM_MISTAKES, check_optimizer, optimizer_cases

check_optimizer(
    nadam_step,
    torch.optim.NAdam,
    optimizer_cases("nadam", 95),
    forbid=FORBID["nadam"],
    mistakes=NADAM_MISTAKES,
)
### BEGIN HIDDEN TESTS
check_optimizer(
    nadam_step,
    torch.optim.NAdam,
    optimizer_cases("nadam", None, extra=2),
    public=False,
    forbid=FORBID["nadam"],
    mistakes=NADAM_MISTAKES,
)
### END HIDDEN TESTS

# %% [markdown]
# ## RAdam: wait until the variance is known
#
# In Adam's first steps $\hat v_t$ is an average of very few squared gradients, so the
# adaptive step $1/\sqrt{\hat v_t}$ has a large variance; that is one reason practitioners
# warm the learning rate up (notebook 12). RAdam (Liu et al., 2020) fixes it inside the
# optimizer. It estimates how many gradients $\hat v_t$ effectively averages, the length of
# an approximate simple moving average,
#
# $$
# \rho_\infty = \frac{2}{1 - \beta_2} - 1, \qquad
# \rho_t = \rho_\infty - \frac{2\,t\,\beta_2^t}{1 - \beta_2^t},
# $$
#
# and while $\rho_t \le 5$ it takes a plain momentum step without the adaptive division.
# Once $\rho_t > 5$ it takes Adam's step scaled by a *rectification* factor $r_t < 1$ that
# tends to 1:
#
# $$
# r_t = \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\,\rho_\infty}
#                  {(\rho_\infty - 4)(\rho_\infty - 2)\,\rho_t}} .
# $$
#
# `torch.optim.RAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
# decoupled_weight_decay=False, *, maximize=False)`, at step $t$:
#
# 1. `maximize` as before; weight decay as NAdam's (L2, or decoupled when asked);
# 2. $m$ and $v$ as in Adam, and $\hat m_t = m_t / (1 - \beta_1^t)$;
# 3. if $\rho_t > 5$: $p \leftarrow p - \text{lr}\; r_t\, \hat m_t\,
#    \dfrac{\sqrt{1 - \beta_2^t}}{\sqrt{v_t} + \varepsilon}$; otherwise
#    $p \leftarrow p - \text{lr}\,\hat m_t$.
#
# Look closely at step 3: torch adds $\varepsilon$ to $\sqrt{v_t}$ *before* the bias
# correction, not to $\sqrt{\hat v_t}$ as Adam does. With the default $\beta_2 = 0.999$ the
# table shows the rectified steps start at step 6, with a factor $r_t$ that starts small
# (0.026) and grows towards 1 over the next thousands of steps: a warm-up built in.

# %%
beta2 = 0.999
rho_inf = 2 / (1 - beta2) - 1
for t in range(1, 9):
    rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
    if rho_t > 5:
        rect = (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
        print(f"t = {t}: rho_t = {rho_t:6.3f}   rectified, r_t = {math.sqrt(rect):.4f}")
    else:
        print(f"t = {t}: rho_t = {rho_t:6.3f}   momentum only")

# %% [markdown]
# ## Exercise 9: `radam_step` (3 points)
#
# Implement `radam_step(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
# weight_decay=0, decoupled_weight_decay=False, maximize=False)`. The checks run ten or more
# steps (so that the rectification starts), including runs whose $\beta_2$ is so small that
# $\rho_t$ never passes 5. They recognise $\varepsilon$ in Adam's place, a missing
# rectification factor, $m$ without its bias correction, and a forgotten
# `decoupled_weight_decay` or `maximize`.


# %% answer="radam_step"
def radam_step(
    param,
    grad,
    state,
    *,
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0,
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
        state["exp_avg"] = torch.zeros_like(param)
        state["exp_avg_sq"] = torch.zeros_like(param)
    beta1, beta2 = betas
    state["step"] += 1
    t = state["step"]
    state["exp_avg"].mul_(beta1).add_((1 - beta1) * g)
    state["exp_avg_sq"].mul_(beta2).add_((1 - beta2) * g * g)
    m_hat = state["exp_avg"] / (1 - beta1**t)
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
    if rho_t > 5:
        rect = math.sqrt(
            (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
        )
        adaptive = math.sqrt(1 - beta2**t) / (state["exp_avg_sq"].sqrt() + eps)
        param.sub_(lr * rect * m_hat * adaptive)
    else:
        param.sub_(lr * m_hat)
    ### END SOLUTION


# %% tests="radam_step" points=3
# Public checks: every option, every step, against torch.optim.RAdam.
import torch

from autograder.checking.optim import FORBID, RADAM_MISTAKES, check_optimizer, optimizer_cases

check_optimizer(
    radam_step,
    torch.optim.RAdam,
    optimizer_cases("radam", 98),
    forbid=FORBID["radam"],
    mistakes=RADAM_MISTAKES,
)
### BEGIN HIDDEN TESTS
check_optimizer(
    radam_step,
    torch.optim.RAdam,
    optimizer_cases("radam", None, extra=2),
    public=False,
    forbid=FORBID["radam"],
    mistakes=RADAM_MISTAKES,
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
# ## Adafactor: Adam's second moment, factored
#
# Adam stores two numbers per parameter besides the parameter itself; for a large model
# the optimizer state is twice the model. Adafactor (Shazeer and Stern, 2018) stores, for
# a matrix gradient $G$ of shape $n \times m$, only the **row** and **column** averages of
# $G^2$, $n + m$ numbers, and rebuilds an $n \times m$ estimate of the second moment from
# their outer product. It keeps no first moment at all. For a tensor of more dimensions the
# last two are factored (each leading index gets its own rows and columns); a vector keeps
# a full average.
#
# `torch.optim.Adafactor(params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
# weight_decay=0.0, *, maximize=False)`, at step $t$, with $(\varepsilon_1,
# \varepsilon_2)$ = `eps` ($\varepsilon_1 = $ `None` means the machine epsilon of the
# parameter's dtype, `torch.finfo(param.dtype).eps`):
#
# 1. $g \leftarrow -g$ if `maximize`;
# 2. the decay of the averages changes with $t$: $\hat\beta_{2,t} = 1 - t^{\,c}$ with
#    $c$ = `beta2_decay` (so the first step takes the new value whole);
# 3. a *relative* step size: $\rho_t = \min(\text{lr}, 1/\sqrt t)$ and
#    $\alpha_t = \max\big(\varepsilon_2, \operatorname{RMS}(p)\big)\,\rho_t$, with
#    $\operatorname{RMS}(p) = \lVert p\rVert_2 / \sqrt{\text{numel}}$ measured *before* this
#    step's weight decay: steps scale with the parameter's own size;
# 4. weight decay $\lambda$: $p \leftarrow p\,(1 - \text{lr}\,\lambda)$;
# 5. a matrix (or more dimensions): $R \leftarrow \hat\beta R + (1 - \hat\beta)\,
#    \text{mean}_{\text{last dim}}(g^2)$ (state `"row_var"`, shape $n \times 1$),
#    $C \leftarrow \hat\beta C + (1 - \hat\beta)\,\text{mean}_{\text{dim }-2}(g^2)$
#    (`"col_var"`, shape $1 \times m$), and $\hat V = R\,C / \max\big(\text{mean}(R),
#    \varepsilon_1\big)$, the mean taken over the rows; a vector: $\hat V \leftarrow
#    \hat\beta \hat V + (1 - \hat\beta) g^2$ (`"variance"`);
# 6. $U = g / \sqrt{\max(\hat V, \varepsilon_1^2)}$, then **update clipping**:
#    $p \leftarrow p - \dfrac{\alpha_t}{\max\big(1, \operatorname{RMS}(U)/d\big)}\, U$.
#
# All these states start at zero. There is no bias correction: step 2's decay, which
# starts at zero, does that job.

# %% [markdown]
# ## Exercise 10: `adafactor_step` (3 points)
#
# Implement `adafactor_step(param, grad, state, *, lr=1e-2, beta2_decay=-0.8,
# eps=(None, 1e-3), d=1.0, weight_decay=0.0, maximize=False)`. The checks use parameters
# of one, two and three dimensions, learning rates above $1/\sqrt t$ (so that the minimum in
# step 3 switches), large $\varepsilon$s and clipping thresholds, and gradients of size
# $10^{-9}$, where $\varepsilon_1$ = `None` must be float64's machine epsilon. They recognise
# RMS(p) measured after the weight decay, float32's epsilon for $\varepsilon_1$, a missing
# update clipping, and a forgotten `maximize`.


# %% answer="adafactor_step"
def adafactor_step(
    param,
    grad,
    state,
    *,
    lr=1e-2,
    beta2_decay=-0.8,
    eps=(None, 1e-3),
    d=1.0,
    weight_decay=0.0,
    maximize=False,
):
    ### BEGIN SOLUTION
    g = -grad if maximize else grad
    eps1, eps2 = eps
    if eps1 is None:
        eps1 = torch.finfo(param.dtype).eps
    if not state:
        state["step"] = 0
        if g.dim() > 1:
            state["row_var"] = g.new_zeros(g.shape[:-1] + (1,))
            state["col_var"] = g.new_zeros(g.shape[:-2] + (1, g.shape[-1]))
        else:
            state["variance"] = torch.zeros_like(g)
    state["step"] += 1
    t = state["step"]
    beta2_t = 1 - t**beta2_decay
    rho = min(lr, 1 / math.sqrt(t))
    alpha = max(eps2, (param.norm() / math.sqrt(param.numel())).item()) * rho
    if weight_decay != 0:
        param.mul_(1 - lr * weight_decay)
    if g.dim() > 1:
        row, col = state["row_var"], state["col_var"]
        row.mul_(beta2_t).add_((1 - beta2_t) * (g * g).mean(dim=-1, keepdim=True))
        col.mul_(beta2_t).add_((1 - beta2_t) * (g * g).mean(dim=-2, keepdim=True))
        v = row @ col / row.mean(dim=-2, keepdim=True).clamp(min=eps1)
    else:
        state["variance"].mul_(beta2_t).add_((1 - beta2_t) * g * g)
        v = state["variance"]
    update = g / v.clamp(min=eps1 * eps1).sqrt()
    denom = max(1.0, (update.norm() / (math.sqrt(update.numel()) * d)).item())
    param.sub_(alpha / denom * update)
    ### END SOLUTION


# %% tests="adafactor_step" points=3
# Public checks: every option, every step, against torch.optim.Adafactor.
import torch

from autograder.checking.optim import ADAFACTOR_MISTAKES, FORBID, check_optimizer, optimizer_cases

check_optimizer(
    adafactor_step,
    torch.optim.Adafactor,
    optimizer_cases("adafactor", 99),
    forbid=FORBID["adafactor"],
    mistakes=ADAFACTOR_MISTAKES,
)
### BEGIN HIDDEN TESTS
check_optimizer(
    adafactor_step,
    torch.optim.Adafactor,
    optimizer_cases("adafactor", None, extra=2),
    public=False,
    forbid=FORBID["adafactor"],
    mistakes=ADAFACTOR_MISTAKES,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Muon: an orthogonalized step for weight matrices
#
# Muon (Keller Jordan, 2024) treats a weight matrix as a matrix, not as a bag of numbers.
# It keeps a momentum buffer $B$ like SGD, but instead of stepping along $B$ it steps along
# the nearest **orthogonal** matrix: writing $B = U S V^\top$ (its singular value
# decomposition), the step direction is $U V^\top$, all singular values set to one. A
# gradient matrix is usually dominated by a few directions; orthogonalizing boosts the rare
# directions, so the update moves the weight in every direction at once.
#
# Computing an SVD at every step is slow on a GPU, so Muon approximates $UV^\top$ with a
# few iterations of a **Newton–Schulz** polynomial, only matrix products: scale $X = B /
# \lVert B \rVert_F$ (so every singular value is at most 1), then repeat
#
# $$
# A = X X^\top, \qquad X \leftarrow a X + (b A + c A^2)\, X,
# $$
#
# which applies $\sigma \mapsto a\sigma + b\sigma^3 + c\sigma^5$ to every singular value at
# once. Torch's coefficients $(a, b, c) = (3.4445, -4.7750, 2.0315)$ push small singular
# values up fast ($a \approx 3.4$) and land all of them somewhere between about 0.7 and
# 1.2 after five iterations, not exactly on 1: the direction matters, not its polish.
# Torch works on the wide orientation, so that the Gram matrix $X X^\top$ is the smaller of
# the two: a tall matrix is transposed first and back at the end. That is for speed only;
# since $X (X^\top X)^k = (X X^\top)^k X$, the result is the same either way.

# %% [markdown]
# ## Exercise 11: Newton–Schulz (2 points)
#
# Implement `newton_schulz(G, steps=5, coefficients=(3.4445, -4.7750, 2.0315), eps=1e-7)`
# for a 2-D tensor `G`:
#
# 1. if `G` has more rows than columns, work on `G.T` (and transpose the result back), as
#    torch does for speed;
# 2. $X = G / \max(\lVert G \rVert_F, \varepsilon)$;
# 3. `steps` iterations of $X \leftarrow aX + (bA + cA^2)X$ with $A = XX^\top$;
# 4. return $X$, in the dtype of `G`.
#
# Compute everything in `G`'s own dtype (float64 in the checks): do **not** convert to
# bfloat16 the way torch does (see below why, and how the checks allow for it). The checks
# use every orientation, scales from $10^{-3}$ to $10^3$, other step counts and
# coefficients, and an $\varepsilon$ larger than the norm; `G` must come back unchanged.
# They recognise $\varepsilon$ added to the norm instead of taken as its floor, a forgotten
# $\varepsilon$, and a tall matrix not transposed back.


# %% answer="newton_schulz"
def newton_schulz(G, steps=5, coefficients=(3.4445, -4.7750, 2.0315), eps=1e-7):
    ### BEGIN SOLUTION
    a, b, c = coefficients
    tall = G.shape[0] > G.shape[1]
    X = G.T if tall else G
    X = X / max(X.norm().item(), eps)
    for _ in range(steps):
        A = X @ X.T
        X = a * X + (b * A + c * A @ A) @ X
    return X.T if tall else X
    ### END SOLUTION


# %% tests="newton_schulz" points=2
# Public checks: torch's iteration in float64, on every orientation. Silence means they passed.
from autograder.checking import check_function
from autograder.checking.topics.adaptive_methods import (
    newton_schulz_cases,
    newton_schulz_mistakes,
    newton_schulz_reference,
)

_forbid = ["torch.optim._muon._zeropower_via_newtonschulz"]
_forbid += ["autograder.checking.optim.muon.reference_newton_schulz"]
_forbid += ["autograder.checking.topics.adaptive_methods.newton_schulz_reference"]
check_function(
    newton_schulz,
    newton_schulz_reference,
    newton_schulz_cases(111),
    rtol=1e-10,
    forbid=_forbid,
    mistakes=newton_schulz_mistakes(),
)
### BEGIN HIDDEN TESTS
check_function(
    newton_schulz,
    newton_schulz_reference,
    newton_schulz_cases(None),
    rtol=1e-10,
    forbid=_forbid,
    public=False,
    mistakes=newton_schulz_mistakes(),
)
### END HIDDEN TESTS

# %% [markdown]
# ## Why torch runs Newton–Schulz in bfloat16
#
# `torch.optim.Muon` converts the update to **bfloat16** before the iteration: 8
# significant bits (about 2.4 decimal digits) and float32's exponent range. Three reasons:
#
# * on GPUs, matrix products in bfloat16 run on the tensor cores at several times the
#   float32 rate, and Muon does three products per iteration, five iterations per matrix,
#   every step;
# * half the bytes to move, and memory traffic is what limits most of an optimizer's step;
# * the precision is enough: the iteration is not even meant to converge (the singular
#   values land anywhere between about 0.7 and 1.2 by design), and float32's exponent
#   range means no overflow or underflow, unlike float16.
#
# The price is a result a few percent away from exact arithmetic, and in directions where
# the update is nearly flat (tiny singular values, which the iteration multiplies by up to
# $a^5 \approx 480$ over five iterations) further. The cell below runs your
# `newton_schulz` on a $64 \times 32$ gradient in float64 and in bfloat16, and compares.

# %%
try:
    _g = torch.randn(64, 32, generator=torch.Generator().manual_seed(11), dtype=torch.float64)
    exact = newton_schulz(_g)
    rough = newton_schulz(_g.bfloat16()).double()
except NotImplementedError:
    print("Exercise 11 is not done yet.")
else:
    print("largest entry of the result:          ", f"{exact.abs().max().item():.3f}")
    print("largest difference, bfloat16 - float64:", f"{(rough - exact).abs().max().item():.3f}")
    print(
        "singular values in float64:  ",
        f"{torch.linalg.svdvals(exact).min().item():.3f}",
        "to",
        f"{torch.linalg.svdvals(exact).max().item():.3f}",
    )
    print(
        "singular values in bfloat16: ",
        f"{torch.linalg.svdvals(rough).min().item():.3f}",
        "to",
        f"{torch.linalg.svdvals(rough).max().item():.3f}",
    )
    print(
        "singular values of the gradient:",
        f"{torch.linalg.svdvals(_g).min().item():.2f}",
        "to",
        f"{torch.linalg.svdvals(_g).max().item():.2f}",
    )

# %% [markdown]
# So your Muon step is checked twice. **Strictly** (relative tolerance $10^{-8}$) against
# torch's algorithm with every operation in float64: a test of the course shows that this
# reference *is* torch's own code with its bfloat16 conversion made a no-op. And
# **loosely** against `torch.optim.Muon` itself, allowing up to one and a half (adjusted)
# learning rates per entry and per step, more than torch's bfloat16 rounding was seen to
# move a step on the checks' shapes (1.24) and less than a step taken the wrong way (2); a
# failure there says so.
#
# ## Muon's step
#
# `torch.optim.Muon(params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
# ns_coefficients=(3.4445, -4.775, 2.0315), eps=1e-7, ns_steps=5, adjust_lr_fn=None)` takes
# only 2-D parameters (use AdamW for biases, norms and embeddings) and does, at each step:
#
# 1. $B \leftarrow \mu B + (1 - \mu) g$ with $\mu$ = `momentum` (`"momentum_buffer"`, from
#    zero): an average, unlike SGD's $\mu B + g$;
# 2. the update $\tilde B = (1 - \mu) g + \mu B$ with `nesterov`, else $\tilde B = B$;
# 3. $O$ = Newton–Schulz of $\tilde B$ with `ns_steps`, `ns_coefficients` and `eps`;
# 4. weight decay, decoupled: $p \leftarrow p\,(1 - \text{lr}\,\lambda)$;
# 5. $p \leftarrow p - \text{lr}'\, O$, with the learning rate adjusted to the matrix's
#    shape $A \times B$ (rows × columns): `None` or `"original"`: $\text{lr}' = \text{lr}
#    \sqrt{\max(1, A/B)}$; `"match_rms_adamw"`: $0.2\,\text{lr}\sqrt{\max(A, B)}$ (so that
#    AdamW's learning rate and weight decay carry over); `"spectral_unclamped"`:
#    $\text{lr}\sqrt{A/B}$.
#
# Because Newton–Schulz starts by dividing by the norm, the scale of $\tilde B$ does not
# matter (unless it is below `eps`): SGD's buffer $\mu B + g$ would give the same steps.

# %% [markdown]
# ## Exercise 12: `muon_step` (2 points)
#
# Implement `muon_step(param, grad, state, *, lr=1e-3, weight_decay=0.1, momentum=0.95,
# nesterov=True, ns_coefficients=(3.4445, -4.775, 2.0315), eps=1e-7, ns_steps=5,
# adjust_lr_fn=None)` for a 2-D `param`, with your `newton_schulz` (or the same iteration)
# in `param`'s dtype.
# The checks recognise a learning rate that is not adjusted to the shape, weight decay
# scaled by the adjusted rate instead of lr, a forgotten `nesterov`, and SGD's buffer in
# place of Muon's average (the checks include an `eps` larger than the update's norm).


# %% answer="muon_step"
def muon_step(
    param,
    grad,
    state,
    *,
    lr=1e-3,
    weight_decay=0.1,
    momentum=0.95,
    nesterov=True,
    ns_coefficients=(3.4445, -4.775, 2.0315),
    eps=1e-7,
    ns_steps=5,
    adjust_lr_fn=None,
):
    ### BEGIN SOLUTION
    if "momentum_buffer" not in state:
        state["momentum_buffer"] = torch.zeros_like(param)
    buf = state["momentum_buffer"]
    buf.mul_(momentum).add_((1 - momentum) * grad)
    update = (1 - momentum) * grad + momentum * buf if nesterov else buf
    direction = newton_schulz(update, ns_steps, ns_coefficients, eps)
    rows, cols = param.shape
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        ratio = math.sqrt(rows / cols)
    param.mul_(1 - lr * weight_decay)
    param.sub_(lr * ratio * direction)
    ### END SOLUTION


# %% tests="muon_step" points=2
# Public checks: strictly against torch's algorithm in float64, then against torch.optim.Muon
# within bfloat16's precision.
from autograder.checking.optim import FORBID, check_muon, optimizer_cases

check_muon(muon_step, optimizer_cases("muon", 112), forbid=FORBID["muon"])
### BEGIN HIDDEN TESTS
check_muon(muon_step, optimizer_cases("muon", None, extra=2), public=False, forbid=FORBID["muon"])
### END HIDDEN TESTS

# %% [markdown]
# ## "Try Adam first, then SGD"
#
# Older notes advise: try Adam first (adaptive, trains faster, but not necessarily as
# accurate), then SGD, the most used. What holds up, and what does not:
#
# * **True:** Adam's defaults work on a wide range of problems with little tuning, so it is
#   a good first try; and on image classification with convolutional networks, SGD with
#   momentum and a tuned schedule has often reached somewhat better test accuracy than
#   Adam (Wilson et al., 2017, "The marginal value of adaptive gradient methods").
# * **Half true:** much of that gap came from Adam's L2-style weight decay; AdamW with a
#   schedule closes most of it. "Accuracy" here means generalization, not how precisely
#   the optimizer minimizes the training loss.
# * **Out of date:** "SGD is the most used". Transformers and language models are trained
#   almost everywhere with AdamW; Muon for the hidden weight matrices and Adafactor where
#   memory is tight are the newer choices. SGD with momentum remains standard for many
#   vision models.
# * **Missing:** whichever you pick, the learning rate and its schedule (notebook 12)
#   matter more than the choice of optimizer; tune them first.

# %% [markdown]
# ## Summary
#
# * Adagrad divides by the root of a growing sum; RMSprop by the root of a fading average
#   (with the learning rate outside any momentum buffer); Adadelta matches the units with
#   a second average; Rprop uses signs only, and reads lr once.
# * Adam adds momentum and bias correction; AMSGrad keeps the denominator from shrinking.
#   AdamW, or `Adam(decoupled_weight_decay=True)`, decays the weights outside the adaptive
#   step.
# * Adamax uses a decaying maximum (no learning-rate ceiling); NAdam a Nesterov look-ahead;
#   RAdam waits until the second moment is reliable, and rectifies it afterwards.
# * Adafactor stores row and column averages instead of a full second moment, and scales
#   steps to the parameter's size; Muon steps along the orthogonalized momentum, computed
#   by Newton–Schulz in bfloat16 in torch.
#
# Next, notebook 12: how the learning rate changes during training, gradient clipping, and
# a lab to watch optimizers move.
