# %% [markdown]
# # 12. Optimizers III: schedules, clipping, and watching optimizers move
#
# Notebooks 10 and 11 wrote the optimizers' steps. This one is about what surrounds them
# in a real training run:
#
# * **learning-rate schedules**: how the rate changes during training (step decay,
#   exponential, cosine, a warm-up into cosine decay, one cycle, warm restarts, and cuts
#   on a plateau), each written as a formula and checked against
#   `torch.optim.lr_scheduler` for hundreds of steps;
# * **gradient clipping**, by norm and by value, and a run that only clipping saves;
# * a **2-D lab**: six optimizers on two surfaces, side by side, with sliders;
# * **L-BFGS**, the optimizer that needs a closure.

# %%
import io
import math

import matplotlib.pyplot as plt
import torch

import autograder.checking.optim  # noqa: F401  (the checks; imported before any of your code)
import autograder.checking.topics.schedules_clipping  # noqa: F401

torch.set_printoptions(precision=4)

# %% [markdown]
# ## Learning-rate schedules
#
# A scheduler changes the learning rate of an optimizer's parameter groups as training
# goes on: large steps early to make progress, small steps late to settle. It wraps the
# optimizer and is stepped *after* it, once per epoch for most schedules (once per batch
# for `OneCycleLR`, whose steps count batches):
#
# ```python
# scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.1)
# for epoch in range(epochs):
#     train_one_epoch(...)   # optimizer.step() inside
#     scheduler.step()
# ```
#
# The plot shows the schedules of this notebook, all from a base rate of 0.1, as torch
# computes them (`scheduler.get_last_lr()` before each step).

# %%
sched = torch.optim.lr_scheduler


def rates(make, steps=120, lr=0.1):
    optimizer_demo = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr, momentum=0.9)
    scheduler = make(optimizer_demo)
    found = []
    for _ in range(steps):
        found.append(scheduler.get_last_lr()[0])
        optimizer_demo.step()
        scheduler.step()
    return found


def warmup_cosine(o):
    warmup = sched.LinearLR(o, start_factor=0.1, total_iters=10)
    cosine = sched.CosineAnnealingLR(o, T_max=110)
    return sched.SequentialLR(o, [warmup, cosine], milestones=[10])


fig, axes = plt.subplots(1, 2, figsize=(12, 3.5), sharey=True)
for make, label in [
    (lambda o: sched.StepLR(o, step_size=30, gamma=0.5), "StepLR(30, 0.5)"),
    (lambda o: sched.ExponentialLR(o, gamma=0.97), "ExponentialLR(0.97)"),
    (lambda o: sched.CosineAnnealingLR(o, T_max=50), "CosineAnnealingLR(50)"),
]:
    axes[0].plot(rates(make), label=label)
for make, label in [
    (warmup_cosine, "LinearLR warm-up, then cosine"),
    (lambda o: sched.OneCycleLR(o, max_lr=0.1, total_steps=120), "OneCycleLR"),
    (lambda o: sched.CosineAnnealingWarmRestarts(o, T_0=15, T_mult=2), "warm restarts (15, ×2)"),
]:
    axes[1].plot(rates(make), label=label)
for ax in axes:
    ax.set_xlabel("epoch (step for OneCycleLR)")
    ax.legend(fontsize=8)
axes[0].set_ylabel("learning rate")
plt.show()

# %% [markdown]
# ## Exercise 1: three schedules as formulas (3 points)
#
# With $\text{lr}_0$ the optimizer's initial rate and $e$ the number of `scheduler.step()`
# calls so far:
#
# | scheduler | learning rate after $e$ epochs |
# | --- | --- |
# | `StepLR(step_size=s, gamma=γ)` | $\text{lr}_0 \cdot \gamma^{\lfloor e / s \rfloor}$ |
# | `ExponentialLR(gamma=γ)` | $\text{lr}_0 \cdot \gamma^{e}$ |
# | `CosineAnnealingLR(T_max=T, eta_min=η)` | $\eta + (\text{lr}_0-\eta)\frac{1+\cos(\pi e/T)}{2}$ |
#
# PyTorch computes the cosine schedule step by step from the previous rate; the closed form
# above is what that recursion adds up to, before $T$ and after (it rises again, since the
# cosine is periodic). Implement, as closed formulas returning a Python float (no scheduler
# objects):
#
# * `step_lr(base_lr, epoch, *, step_size, gamma=0.1)`;
# * `exponential_lr(base_lr, epoch, *, gamma)`;
# * `cosine_annealing_lr(base_lr, epoch, *, T_max, eta_min=0.0)`.
#
# The checks run the real schedulers for 300 epochs (past `T_max` for the cosine), with
# their defaults and random options, and compare every epoch; `torch.optim.lr_scheduler`
# is off limits. They recognise StepLR without the floor, a schedule one epoch ahead, and
# a cosine without $\pi$ or without `eta_min`.


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
# Public checks: StepLR, 300 epochs.
from autograder.checking.topics.schedules_clipping import check_schedule

check_schedule(step_lr, "step_lr", 121)
### BEGIN HIDDEN TESTS
check_schedule(step_lr, "step_lr", None, public=False)
### END HIDDEN TESTS

# %% tests="schedulers" points=1
# Public checks: ExponentialLR, 300 epochs.
from autograder.checking.topics.schedules_clipping import check_schedule

check_schedule(exponential_lr, "exponential_lr", 122)
### BEGIN HIDDEN TESTS
check_schedule(exponential_lr, "exponential_lr", None, public=False)
### END HIDDEN TESTS

# %% tests="schedulers" points=1
# Public checks: CosineAnnealingLR, 300 epochs, past T_max.
from autograder.checking.topics.schedules_clipping import check_schedule

check_schedule(cosine_annealing_lr, "cosine_annealing_lr", 123)
### BEGIN HIDDEN TESTS
check_schedule(cosine_annealing_lr, "cosine_annealing_lr", None, public=False)
### END HIDDEN TESTS

# %% [markdown]
# ## Warm-up into cosine decay, and `LambdaLR`
#
# The schedule most large models are trained with today starts with a **warm-up**: the
# rate climbs linearly from a small fraction of its peak, then decays along a cosine. In
# torch it is two schedulers chained by `SequentialLR`:
#
# ```python
# warmup = LinearLR(optimizer, start_factor=0.1, total_iters=10)     # 0.1·lr0 → lr0
# cosine = CosineAnnealingLR(optimizer, T_max=110, eta_min=0.0)       # lr0 → eta_min
# scheduler = SequentialLR(optimizer, [warmup, cosine], milestones=[10])
# ```
#
# `LinearLR` multiplies the base rate by a factor that goes linearly from `start_factor`
# at epoch 0 to 1 at epoch `total_iters`. At the milestone, `SequentialLR` hands over to the
# cosine, which starts again from *its* epoch 0, the base rate.
#
# Every schedule is a base rate times a factor that depends on the epoch, and that is what
# **`LambdaLR(optimizer, lr_lambda)`** takes: any function `lr_lambda(epoch)` returning
# the factor. With it you can write a schedule torch does not have, or this one in one
# line.

# %% [markdown]
# ## Exercise 2: warm-up and cosine as one factor (2 points)
#
# Implement `warmup_cosine_factor(epoch, *, warmup_iters, start_factor, T_max,
# min_factor=0.0)`, the factor such that
#
# ```python
# LambdaLR(optimizer, lambda e: warmup_cosine_factor(e, warmup_iters=w, start_factor=s,
#                                                    T_max=T, min_factor=m))
# ```
#
# sets exactly the rates of `SequentialLR([LinearLR(start_factor=s, total_iters=w),
# CosineAnnealingLR(T_max=T, eta_min=m * lr0)], milestones=[w])`. Return a Python float.
#
# The checks plug your function into a real `LambdaLR` and compare its rates with the
# `SequentialLR` above at every epoch of warm-up and decay (hundreds of epochs), for random
# base rates, warm-up lengths, start factors and floors. They recognise a cosine counted
# from epoch 0, a warm-up that ends one epoch early, and a forgotten `min_factor`.


# %% answer="warmup_cosine_factor"
def warmup_cosine_factor(epoch, *, warmup_iters, start_factor, T_max, min_factor=0.0):
    ### BEGIN SOLUTION
    if epoch < warmup_iters:
        return start_factor + (1 - start_factor) * epoch / warmup_iters
    decay = epoch - warmup_iters
    return min_factor + (1 - min_factor) * (1 + math.cos(math.pi * decay / T_max)) / 2
    ### END SOLUTION


# %% tests="warmup_cosine_factor" points=2
# Public checks: your factor in LambdaLR against SequentialLR(LinearLR, CosineAnnealingLR).
from autograder.checking.topics.schedules_clipping import check_lambda_lr

check_lambda_lr(warmup_cosine_factor, 124)
### BEGIN HIDDEN TESTS
check_lambda_lr(warmup_cosine_factor, None, public=False)
### END HIDDEN TESTS

# %% [markdown]
# ## Written answer: why warm up? (2 points)
#
# Training a transformer with Adam at its full learning rate from the first step often
# diverges or spikes, while the same run with a few hundred warm-up steps trains well.
# Explain in three to five sentences why a warm-up helps, and why it matters especially for
# adaptive optimizers such as Adam (think of what $\hat v_t$ is after a few steps, and of
# RAdam in notebook 11).

# %% [markdown] manual="why_warmup" points=2
# ### BEGIN SOLUTION
# At the start the weights are random and the gradients are large and inconsistent from one
# batch to the next, so a full-size step can throw the network into a region (saturated
# units, exploding activations or attention logits) it does not recover from. Adam makes
# this worse early on: its second moment $\hat v_t$ is an average of only a few squared
# gradients, a noisy estimate, and where it happens to be small the step
# $\text{lr}\,\hat m/\sqrt{\hat v}$ is large; RAdam's analysis shows the variance of that
# adaptive step is largest in the first steps. A warm-up keeps the steps small until the
# statistics (Adam's averages, normalization statistics) are reliable and the gradients
# point consistently, after which the full rate is safe; this also lets one use a higher
# peak rate than would be stable from step 1.
#
# Rubric (2 points): 1 point for the cause (early gradients large or noisy, and Adam's
# second-moment estimate built from very few samples makes early adaptive steps unreliably
# large); 1 point for the mechanism (small steps until the estimates and gradient
# directions settle, avoiding early divergence or spikes and allowing a higher peak rate).
# ### END SOLUTION

# %% [markdown]
# ## One cycle
#
# `OneCycleLR(optimizer, max_lr, total_steps, pct_start=0.3, anneal_strategy="cos",
# div_factor=25.0, final_div_factor=1e4, three_phase=False)` (Smith, "super-convergence")
# climbs from $\text{lr}_\text{init} = \text{max\_lr}/\text{div\_factor}$ to `max_lr`,
# then anneals down to $\text{lr}_\text{min} = \text{lr}_\text{init} /
# \text{final\_div\_factor}$, far below where it started. It is stepped after every
# *batch*; step $s$ runs from 0 to `total_steps` − 1. The optimizer's own `lr` is
# ignored: `max_lr` sets everything. (It also cycles the momentum, inversely to the rate;
# this exercise is about the rate only.)
#
# The phases end at these steps (torch's boundaries, note the $-1$ and $-2$):
#
# * two phases (default): up until $s_1 = \text{pct\_start}\cdot\text{total\_steps} - 1$,
#   from $\text{lr}_\text{init}$ to `max_lr`; then down until $\text{total\_steps} - 1$,
#   from `max_lr` to $\text{lr}_\text{min}$;
# * `three_phase=True`: up until $s_1$ as above; back down to $\text{lr}_\text{init}$ until
#   $s_2 = 2\,\text{pct\_start}\cdot\text{total\_steps} - 2$; then down to
#   $\text{lr}_\text{min}$ until $\text{total\_steps} - 1$.
#
# Within a phase from step $a$ to step $b$ (the previous phase's end, or 0) and from rate
# $r_a$ to rate $r_b$, with $x = (s - a)/(b - a)$: `"cos"` gives
# $r_b + (r_a - r_b)\,\frac{1 + \cos(\pi x)}{2}$, `"linear"` gives $r_a + (r_b - r_a)\,x$.
# A step belongs to the first phase whose end it does not pass.

# %% [markdown]
# ## Exercise 3: `one_cycle_lr` (2 points)
#
# Implement `one_cycle_lr(step, *, max_lr, total_steps, pct_start=0.3,
# anneal_strategy="cos", div_factor=25.0, final_div_factor=1e4, three_phase=False)`: the
# rate at `step` (from 0), as a Python float, without `OneCycleLR` itself (it is off
# limits). The checks compare every step of runs of 100 to 400 steps, with both annealing
# strategies, two and three phases, and random options. They recognise a first phase that
# ends one step late, a final rate computed from `max_lr` instead of the initial rate, and
# a forgotten `anneal_strategy`.


# %% answer="one_cycle_lr"
def one_cycle_lr(
    step,
    *,
    max_lr,
    total_steps,
    pct_start=0.3,
    anneal_strategy="cos",
    div_factor=25.0,
    final_div_factor=1e4,
    three_phase=False,
):
    ### BEGIN SOLUTION
    initial = max_lr / div_factor
    minimum = initial / final_div_factor
    if three_phase:
        phases = [
            (pct_start * total_steps - 1, initial, max_lr),
            (2 * pct_start * total_steps - 2, max_lr, initial),
            (total_steps - 1, initial, minimum),
        ]
    else:
        phases = [
            (pct_start * total_steps - 1, initial, max_lr),
            (total_steps - 1, max_lr, minimum),
        ]
    start = 0.0
    for i, (end, rate_from, rate_to) in enumerate(phases):
        if step <= end or i == len(phases) - 1:
            x = (step - start) / (end - start)
            if anneal_strategy == "cos":
                return rate_to + (rate_from - rate_to) * (1 + math.cos(math.pi * x)) / 2
            return rate_from + (rate_to - rate_from) * x
        start = end
    ### END SOLUTION


# %% tests="one_cycle_lr" points=2
# Public checks: every step of OneCycleLR.
from autograder.checking.topics.schedules_clipping import check_schedule

check_schedule(one_cycle_lr, "one_cycle_lr", 125)
### BEGIN HIDDEN TESTS
check_schedule(one_cycle_lr, "one_cycle_lr", None, public=False)
### END HIDDEN TESTS

# %% [markdown]
# ## Warm restarts
#
# `CosineAnnealingWarmRestarts(optimizer, T_0, T_mult=1, eta_min=0.0)` (Loshchilov and
# Hutter, SGDR) runs a cosine from the base rate down towards `eta_min` over $T_0$ epochs,
# then jumps back to the base rate and starts again, each period `T_mult` times longer than
# the one before: periods $T_0, T_0 T_\text{mult}, T_0 T_\text{mult}^2, \dots$ Within a
# period of length $T_i$, after $T_\text{cur}$ epochs of it, the rate is
# $\eta_\text{min} + (\text{lr}_0 - \eta_\text{min})\frac{1 + \cos(\pi T_\text{cur}/T_i)}{2}$.
# The restarts let a run explore again after settling, and give snapshots at every low
# point.

# %% [markdown]
# ## Exercise 4: `warm_restarts_lr` (2 points)
#
# Implement `warm_restarts_lr(base_lr, epoch, *, T_0, T_mult=1, eta_min=0.0)`: find the
# period `epoch` falls in and how far into it, then apply the cosine, as a Python float
# (`CosineAnnealingWarmRestarts` itself is off limits). The checks compare 300 epochs with
# the real scheduler, with `T_mult` from 1 to 3. They recognise a forgotten `T_mult` and
# a period that restarts one epoch late.


# %% answer="warm_restarts_lr"
def warm_restarts_lr(base_lr, epoch, *, T_0, T_mult=1, eta_min=0.0):
    ### BEGIN SOLUTION
    t_cur, t_i = epoch, T_0
    while t_cur >= t_i:
        t_cur -= t_i
        t_i *= T_mult
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2
    ### END SOLUTION


# %% tests="warm_restarts_lr" points=2
# Public checks: 300 epochs of CosineAnnealingWarmRestarts.
from autograder.checking.topics.schedules_clipping import check_schedule

check_schedule(warm_restarts_lr, "warm_restarts_lr", 126)
### BEGIN HIDDEN TESTS
check_schedule(warm_restarts_lr, "warm_restarts_lr", None, public=False)
### END HIDDEN TESTS

# %% [markdown]
# ## Cutting the rate on a plateau
#
# `ReduceLROnPlateau` watches a metric instead of counting epochs: you pass it the
# validation loss (or accuracy) each epoch, `scheduler.step(val_loss)`, and it cuts the
# rate when the metric stops improving. `ReduceLROnPlateau(optimizer, mode="min",
# factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel", cooldown=0, min_lr=0,
# eps=1e-8)` keeps the best metric so far (starting at $+\infty$ for `"min"`, $-\infty$ for
# `"max"`), a count of bad epochs and a cooldown counter. At each step, with the metric
# $x$:
#
# 1. $x$ is an **improvement** if it beats the best by the threshold: for `"min"`,
#    $x < \text{best}\,(1 - \text{threshold})$ (`"rel"`) or $x < \text{best} -
#    \text{threshold}$ (`"abs"`); for `"max"`, $x > \text{best}\,(1 + \text{threshold})$ or
#    $x > \text{best} + \text{threshold}$. Then best $= x$ and the bad count is 0;
#    otherwise the bad count grows by one;
# 2. if the cooldown counter is above 0, it drops by one and the bad count is reset to 0
#    (bad epochs right after a cut do not count);
# 3. if the bad count is **more than** `patience`: the new rate is $\max(\text{lr}\cdot
#    \text{factor}, \text{min\_lr})$, taken only if it is more than `eps` below the old one;
#    the cooldown counter is set to `cooldown` and the bad count to 0.

# %% [markdown]
# ## Exercise 5: `plateau_lrs` (3 points)
#
# Implement `plateau_lrs(lr, metrics, *, mode="min", factor=0.1, patience=10,
# threshold=1e-4, threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8)`: starting from
# the rate `lr`, return the list of the rates after each of the metrics, one per epoch, as
# Python floats, without `ReduceLROnPlateau` itself (it is off limits). The checks compare
# with the real scheduler on validation curves of 200 to 400 epochs that improve, stall on
# plateaus and jitter, for both modes and every option. They recognise a cut after exactly
# `patience` bad epochs, and an ignored threshold, cooldown, `min_lr` or `eps`.


# %% answer="plateau_lrs"
def plateau_lrs(
    lr,
    metrics,
    *,
    mode="min",
    factor=0.1,
    patience=10,
    threshold=1e-4,
    threshold_mode="rel",
    cooldown=0,
    min_lr=0.0,
    eps=1e-8,
):
    ### BEGIN SOLUTION
    best = math.inf if mode == "min" else -math.inf
    bad = cooling = 0
    found = []
    for x in metrics:
        if mode == "min":
            better = x < (best * (1 - threshold) if threshold_mode == "rel" else best - threshold)
        else:
            better = x > (best * (1 + threshold) if threshold_mode == "rel" else best + threshold)
        if better:
            best, bad = x, 0
        else:
            bad += 1
        if cooling > 0:
            cooling -= 1
            bad = 0
        if bad > patience:
            new = max(lr * factor, min_lr)
            if lr - new > eps:
                lr = new
            cooling, bad = cooldown, 0
        found.append(lr)
    return found
    ### END SOLUTION


# %% tests="plateau_lrs" points=3
# Public checks: ReduceLROnPlateau, epoch by epoch, every option.
from autograder.checking.topics.schedules_clipping import check_plateau

check_plateau(plateau_lrs, 127)
### BEGIN HIDDEN TESTS
check_plateau(plateau_lrs, None, public=False)
### END HIDDEN TESTS

# %% [markdown]
# ## Gradient clipping
#
# One bad batch, or one step onto a steep cliff of the loss, can produce a gradient
# thousands of times larger than usual, and one such step can undo hours of training.
# Clipping bounds the gradient between `backward()` and `step()`:
#
# * `torch.nn.utils.clip_grad_norm_(parameters, max_norm, norm_type=2.0)` treats all the
#   parameters' gradients as **one vector**, computes its norm $N$ (the `norm_type`-norm
#   of all entries together; `math.inf` means the largest absolute entry) and multiplies
#   every gradient by $c = \min\!\big(1, \text{max\_norm} / (N + 10^{-6})\big)$. It
#   returns $N$, the norm *before* clipping: logging it is the usual way to spot trouble.
# * `torch.nn.utils.clip_grad_value_(parameters, clip_value)` clamps every entry into
#   $[-\text{clip\_value}, \text{clip\_value}]$.
#
# ```python
# loss.backward()
# torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
# optimizer.step()
# ```

# %% [markdown]
# ## Exercise 6: clipping by norm (2 points)
#
# Implement `clip_grad_norm(grads, max_norm, norm_type=2.0)`, where `grads` is a list of
# gradient tensors (what `[p.grad for p in model.parameters()]` gives): scale every tensor
# **in place** by $c$ as above, and return the total norm $N$ before clipping (a float or a
# 0-dim tensor). `torch.nn.utils.clip_grad_norm_`, `clip_grads_with_norm_` and
# `get_total_norm` are off limits; `torch.linalg.vector_norm` is fine.
#
# The checks use lists of one to four tensors, a `max_norm` that clips and one that does
# not, and the norms 2, 1, 3 and infinity, and look at the very tensors they gave you (a
# list whose items were replaced leaves the caller's gradients as they were). They
# recognise tensors clipped one by one, the norms summed, a missing $10^{-6}$, gradients
# scaled up when their norm is below `max_norm`, and the norm after clipping returned.


# %% answer="clip_grad_norm"
def clip_grad_norm(grads, max_norm, norm_type=2.0):
    ### BEGIN SOLUTION
    norms = torch.stack([torch.linalg.vector_norm(g, norm_type) for g in grads])
    total = torch.linalg.vector_norm(norms, norm_type)
    scale = min(1.0, max_norm / (total.item() + 1e-6))
    for g in grads:
        g.mul_(scale)
    return total
    ### END SOLUTION


# %% tests="clip_grad_norm" points=2
# Public checks: against torch.nn.utils.clip_grad_norm_. Silence means they passed.
from autograder.checking.topics.schedules_clipping import check_clip_norm

check_clip_norm(clip_grad_norm, 128)
### BEGIN HIDDEN TESTS
check_clip_norm(clip_grad_norm, None, public=False)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 7: clipping by value (1 point)
#
# Implement `clip_grad_value(grads, clip_value)`: clamp every entry of every tensor of
# `grads` **in place** into $[-\text{clip\_value}, \text{clip\_value}]$ (what the function
# returns is ignored). `torch.nn.utils.clip_grad_value_` is off limits. The checks look at
# the very tensors they gave you, and recognise tensors left as they were, entries clamped
# into $[0, \text{clip\_value}]$, and entries clamped from above only.


# %% answer="clip_grad_value"
def clip_grad_value(grads, clip_value):
    ### BEGIN SOLUTION
    for g in grads:
        g.clamp_(-clip_value, clip_value)
    ### END SOLUTION


# %% tests="clip_grad_value" points=1
# Public checks: against torch.nn.utils.clip_grad_value_. Silence means they passed.
from autograder.checking.topics.schedules_clipping import check_clip_value

check_clip_value(clip_grad_value, 129)
### BEGIN HIDDEN TESTS
check_clip_value(clip_grad_value, None, public=False)
### END HIDDEN TESTS

# %% [markdown]
# ## Written answer: which clipping keeps the direction? (2 points)
#
# Explain in three to five sentences why `clip_grad_norm_` never changes the direction of
# the gradient while `clip_grad_value_` can, with a two-entry example, and why keeping the
# direction matters for the step that follows.

# %% [markdown] manual="clipping_direction" points=2
# ### BEGIN SOLUTION
# Clipping by norm multiplies *every* entry of every gradient by the same positive number
# $c \le 1$, so the whole vector only gets shorter: $c\,g$ points exactly where $g$ points,
# and the step is still along the steepest-descent direction, just smaller. Clipping by
# value treats entries separately: large entries are cut, small ones kept, so the ratios
# between entries change and the vector turns. For $g = (10, 1)$ and a limit of 1, value
# clipping gives $(1, 1)$, at 45° instead of about 5.7°, and norm clipping to length 1
# gives $(0.995, 0.0995)$, the same direction. The turned vector is still a descent
# direction but no longer the steepest one: it over-weights the coordinates with small
# gradients, like a sign-based step, which changes what the optimizer does rather than
# only how far it goes.
#
# Rubric (2 points): 1 point for "norm clipping scales all entries by one common factor,
# so the direction is unchanged"; 1 point for a correct two-entry example of value
# clipping changing the direction and why it matters (the step is no longer along the
# gradient; the relative sizes of the entries are lost).
# ### END SOLUTION

# %% [markdown]
# ## Where clipping saves a run
#
# A weight applied 30 times in a row, as a recurrent network applies its recurrent weight
# at every time step, trained so that $w^{30}$ reaches 0.5: the loss $(w^{30} - 0.5)^2$. It
# is flat for $|w| < 0.9$ and a cliff above 1, where its gradient
# $60\,w^{29}(w^{30} - 0.5)$ explodes. From $w = 1.05$ with `lr = 1e-3`, the first
# gradient is about 940: one plain SGD step throws $w$ to about 0.11, onto the flat part,
# where the gradient is about $10^{-27}$ and nothing moves again; the loss stays at 0.25
# for ever. With the norm clipped to 1, each step moves $w$ by at most `lr`, down the cliff
# to the answer $0.5^{1/30} \approx 0.977$.
#
# (This is the real *exploding gradient* of notebook 10's correction: a product of many
# factors, at a sensible learning rate. The flat part is its twin, the vanishing
# gradient.)


# %%
def cliff(w):
    return ((w**30).sum() - 0.5) ** 2


fig, ax = plt.subplots(figsize=(7, 3.5))
for max_norm in (None, 1.0):
    w = torch.tensor([1.05], dtype=torch.float64, requires_grad=True)
    optimizer_demo = torch.optim.SGD([w], lr=1e-3)
    losses = []
    for _ in range(150):
        optimizer_demo.zero_grad()
        loss = cliff(w)
        loss.backward()
        if max_norm is not None:
            torch.nn.utils.clip_grad_norm_([w], max_norm)
        optimizer_demo.step()
        losses.append(loss.item())
    label = "plain SGD" if max_norm is None else f"SGD, gradient norm clipped to {max_norm}"
    ax.semilogy(losses, label=f"{label}: w ends at {w.item():.4f}")
ax.set_xlabel("step")
ax.set_ylabel("loss (log scale)")
ax.set_title("(w³⁰ − 0.5)², from w = 1.05, lr = 1e-3")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Exercise 8: a training loop that clips (2 points)
#
# Implement `train_clipped(w, loss_fn, *, lr, steps, max_norm)`: train the leaf tensor `w`
# with `torch.optim.SGD([w], lr=lr)` on `loss_fn(w)` for `steps` steps, clipping the
# gradient's norm to `max_norm` at the right place in each step (with
# `torch.nn.utils.clip_grad_norm_`, or by hand). Return the list of the losses (Python
# floats, each before its step).
#
# The checks run the cliff from random starts and steep least-squares problems, where the
# clipping acts on some steps and not on others, and compare your losses and final `w`
# with the rule written out by hand, and make sure `torch.optim.SGD` did the steps. They
# recognise a run where the clipping had no effect, a forgotten `zero_grad()`, clipping by
# value instead of by norm, and losses recorded after their step.


# %% answer="train_clipped"
def train_clipped(w, loss_fn, *, lr, steps, max_norm):
    ### BEGIN SOLUTION
    optimizer = torch.optim.SGD([w], lr=lr)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(w)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([w], max_norm)
        optimizer.step()
        losses.append(loss.item())
    return losses
    ### END SOLUTION


# %% tests="train_clipped" points=2
# Public checks: the clipped run written out by hand. Silence means they passed.
from autograder.checking.topics.schedules_clipping import check_clipped_training

check_clipped_training(train_clipped, 130)
### BEGIN HIDDEN TESTS
check_clipped_training(train_clipped, None, public=False)
### END HIDDEN TESTS

# %% [markdown]
# ## A 2-D lab: watching optimizers move
#
# Two surfaces, six optimizers, side by side. Each panel shows the contours of the loss
# (log scale), the path of one optimizer from the black dot, and the loss where it ends.
#
# * An **ill-conditioned quadratic**, $\frac12(z_1^2 + 20 z_2^2)$ in coordinates rotated by
#   30°: curvature 1 along the valley, 20 across it. SGD's rate is limited by the steep
#   direction (it diverges above $2/20 = 0.1$), so along the flat one it crawls.
# * **Rosenbrock's function** $(1 - x)^2 + 100(y - x^2)^2$: a long, curved, flat-bottomed
#   valley with its minimum at $(1, 1)$.
#
# The cells below are plain torch: each path runs a real `torch.optim` optimizer on the
# surface from the start, with `zero_grad`, `backward` and `step`.

# %%
ROTATION = torch.tensor(
    [
        [math.cos(math.pi / 6), -math.sin(math.pi / 6)],
        [math.sin(math.pi / 6), math.cos(math.pi / 6)],
    ],
    dtype=torch.float64,
)


def quadratic(xy):
    z = torch.tensordot(ROTATION.T, xy, dims=1)  # works for one point and for a grid
    return 0.5 * (z[0] ** 2 + 20 * z[1] ** 2)


def rosenbrock_surface(xy):
    return (1 - xy[0]) ** 2 + 100 * (xy[1] - xy[0] ** 2) ** 2


SURFACES = {
    "ill-conditioned quadratic": {
        "loss": quadratic,
        "start": (-4.0, 2.5),
        "minimum": (0.0, 0.0),
        "box": (-5.0, 5.0, -4.0, 4.0),
        "steps": 80,
        "lr_sgd": 0.02,
        "lr_adaptive": 0.2,
    },
    "Rosenbrock": {
        "loss": rosenbrock_surface,
        "start": (-1.5, 2.0),
        "minimum": (1.0, 1.0),
        "box": (-2.0, 2.0, -1.0, 3.0),
        "steps": 500,
        "lr_sgd": 1e-3,
        "lr_adaptive": 0.02,
    },
}


def lab_optimizers(lr_sgd, lr_adaptive, beta, weight_decay):
    """The six optimizers; beta is the momentum of SGD and Nesterov, and Adam's β1."""
    return {
        "SGD": lambda ps: torch.optim.SGD(ps, lr=lr_sgd),
        "momentum": lambda ps: torch.optim.SGD(ps, lr=lr_sgd, momentum=beta),
        "Nesterov": lambda ps: torch.optim.SGD(ps, lr=lr_sgd, momentum=beta, nesterov=True),
        "RMSprop": lambda ps: torch.optim.RMSprop(ps, lr=lr_adaptive),
        "Adam": lambda ps: torch.optim.Adam(ps, lr=lr_adaptive, betas=(beta, 0.999)),
        "AdamW": lambda ps: torch.optim.AdamW(
            ps, lr=lr_adaptive, betas=(beta, 0.999), weight_decay=weight_decay
        ),
    }


def lab_path(make_optimizer, loss_fn, start, steps):
    xy = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    optimizer_lab = make_optimizer([xy])
    points = [xy.detach().clone()]
    for _ in range(steps):
        optimizer_lab.zero_grad()
        loss_fn(xy).backward()
        optimizer_lab.step()
        points.append(xy.detach().clone())
        if not torch.isfinite(xy).all() or xy.abs().max() > 1e6:
            break  # diverged: stop before the numbers overflow
    return torch.stack(points)


def draw_surface(axes, name, lr_sgd, lr_adaptive, beta, weight_decay):
    surface = SURFACES[name]
    x0, x1, y0, y1 = surface["box"]
    xs, ys = torch.meshgrid(
        torch.linspace(x0, x1, 150, dtype=torch.float64),
        torch.linspace(y0, y1, 150, dtype=torch.float64),
        indexing="xy",
    )
    levels = surface["loss"](torch.stack([xs, ys])).log1p()
    optimizers = lab_optimizers(lr_sgd, lr_adaptive, beta, weight_decay)
    for ax, (label, make) in zip(axes, optimizers.items(), strict=True):
        ax.contour(xs, ys, levels, levels=20, cmap="Greys", linewidths=0.5)
        path = lab_path(make, surface["loss"], surface["start"], surface["steps"])
        ax.plot(path[:, 0], path[:, 1], ".-", ms=2, lw=0.8, color="tab:red")
        ax.plot(*surface["start"], "ko", ms=4)
        ax.plot(*surface["minimum"], "b*", ms=8)
        final = surface["loss"](path[-1]).item()
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{label}: loss {final:.2g}", fontsize=9)
    axes[0].set_ylabel(f"{name}\n{surface['steps']} steps", fontsize=9)


fig, axes = plt.subplots(2, 6, figsize=(16, 5.6))
for row, name in zip(axes, SURFACES, strict=True):
    s = SURFACES[name]
    draw_surface(row, name, s["lr_sgd"], s["lr_adaptive"], beta=0.9, weight_decay=0.01)
fig.suptitle("SGD family at lr 0.02 / 0.001, adaptive at lr 0.2 / 0.02; β = 0.9")
fig.tight_layout()
plt.show()

# %% [markdown]
# What to look for in the picture above:
#
# * **SGD** on the quadratic first slides down the steep side, then crawls along the flat
#   valley; on Rosenbrock at `lr = 1e-3` it has barely entered the valley after 500 steps.
# * **Momentum** builds up speed along the valley but overshoots and rings across it;
#   **Nesterov**'s look-ahead damps the ringing.
# * **RMSprop**, **Adam** and **AdamW** move each coordinate by about their learning rate
#   per step, whatever the gradient's size: on the quadratic they cut straight across, on
#   Rosenbrock at `lr = 0.02` they are slower than momentum, and at a constant rate they
#   keep jittering near the minimum instead of settling (a schedule would fix that).
#
# **The sliders.** In JupyterLab, the cell below adds sliders for the learning rates, β
# and AdamW's weight decay, and redraws one surface as you move them. (In a graded run or
# a feedback page there is no live kernel to redraw with: there you see only the picture
# above.) Things to try: raise the SGD rate on the quadratic past 0.1 and watch it
# diverge; set β to 0.5 and 0.99; give AdamW a weight decay of 0.5 on Rosenbrock and watch
# its end point move off $(1, 1)$ towards the origin, where decay pulls.

# %%
try:
    import ipywidgets as widgets
    from IPython.display import display
except ImportError:
    print("ipywidgets is not installed: the picture above is the lab.")
else:

    def render(surface, lr_sgd, lr_adaptive, beta, weight_decay):
        """One surface's six panels, as PNG bytes for the lab's picture."""
        fig, axes = plt.subplots(1, 6, figsize=(16, 3))
        draw_surface(axes, surface, lr_sgd, lr_adaptive, beta, weight_decay)
        fig.tight_layout()
        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=72)
        plt.close(fig)
        return png.getvalue()

    wide = {"description_width": "110px"}
    controls = {
        "surface": widgets.Dropdown(options=list(SURFACES), description="surface"),
        "lr_sgd": widgets.FloatLogSlider(
            value=0.02, base=10, min=-4, max=0, step=0.1, description="SGD lr", style=wide
        ),
        "lr_adaptive": widgets.FloatLogSlider(
            value=0.2, base=10, min=-3, max=0, step=0.1, description="adaptive lr", style=wide
        ),
        "beta": widgets.FloatSlider(
            value=0.9, min=0.0, max=0.99, step=0.01, description="β", style=wide
        ),
        "weight_decay": widgets.FloatLogSlider(
            value=0.01, base=10, min=-4, max=0, step=0.1, description="weight decay", style=wide
        ),
    }
    for control in controls.values():
        control.continuous_update = False  # redraw when a slider is released
    picture = widgets.Image(format="png")

    def redraw(change=None):
        picture.value = render(**{name: c.value for name, c in controls.items()})

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    lab = widgets.VBox([*controls.values(), picture])
    lab.add_class("optimizer-lab")
    bundle = lab._repr_mimebundle_()
    bundle["text/plain"] = "(the lab's sliders: open this notebook in JupyterLab to use them)"
    display(bundle, raw=True)

# %% [markdown]
# ## L-BFGS and its closure
#
# Every optimizer so far uses only the gradient. **Newton's method** also uses the
# curvature: the *Hessian* $H$, the matrix of second derivatives, which says how fast the
# gradient changes in each direction. It steps by $-H^{-1}g$, the *inverse Hessian* times
# the gradient, which lands exactly on the minimum of a quadratic in one step, but $H$ has
# $n^2$ entries for $n$ parameters. **Quasi-Newton** methods never compute $H$: they
# estimate $H^{-1}$ from how the gradient changed between past steps. L-BFGS
# ("limited-memory BFGS", after Broyden, Fletcher, Goldfarb and Shanno) keeps only the last
# `history_size` pairs of (step, change of gradient) and applies the estimate to $g$ without
# ever forming a matrix.
#
# Along the direction it finds, L-BFGS can run a **line search**: try step lengths until
# the loss has dropped enough for the step's length (the Armijo condition) and the slope
# along the direction has flattened enough (the curvature condition). Together these are
# the *Wolfe conditions*; the *strong* version also bounds the slope from the other side,
# so the step does not overshoot into a rising slope. `line_search_fn="strong_wolfe"` is
# torch's only option.
#
# One `optimizer.step(closure)` runs up to `max_iter` iterations, and each needs the loss
# and the gradient *again*, at new points. So `step` takes a **closure**: a function that
# clears the gradient, recomputes the loss, calls `backward()` and returns the loss. (Every
# optimizer's `step` accepts one; L-BFGS requires it.) L-BFGS wants full-batch,
# deterministic losses, and takes only one parameter group. On Rosenbrock, where the lab's
# first-order methods were still far away after 500 steps, it lands on $(1, 1)$ to
# $10^{-6}$ from the lab's start in 43 iterations (54 evaluations of the loss).

# %% [markdown]
# ## Exercise 9: minimise Rosenbrock's function with L-BFGS (3 points)
#
# * `rosenbrock(xy)`: $f$ at the point `xy`, a float64 tensor of shape $(2,)$; return a
#   0-dim tensor.
# * `make_closure(optimizer, xy)`: return the closure L-BFGS needs: it calls
#   `optimizer.zero_grad()`, computes `rosenbrock(xy)`, calls `backward()` and returns the
#   loss.
# * `minimise_rosenbrock(start)`: from `start` (a pair of floats), build the leaf tensor
#   `xy` (float64), the optimizer `torch.optim.LBFGS([xy], lr=1, max_iter=200,
#   tolerance_grad=1e-12, tolerance_change=1e-14, line_search_fn="strong_wolfe")`, call
#   `optimizer.step(closure)` twice, and return the point found as a **detached** float64
#   tensor (one that does not require grad).
#
# The checks compare `rosenbrock` with the formula at random points (`xy` must come back
# unchanged), call your closure twice at random points (the loss and `xy.grad` must be
# right both times, so it must clear the old gradient), and minimise from random starts in
# $[-2, 2]^2$: `torch.optim.LBFGS` must do the work, and the point must be a float64 tensor
# within $10^{-6}$ of $(1, 1)$ that does not require grad.


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

from autograder.checking import Case, check_function, generator
from autograder.checking.topics.schedules_clipping import (
    check_closure,
    check_minimum,
    rosenbrock_value,
)

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
check_minimum(minimise_rosenbrock, seed=131)
### BEGIN HIDDEN TESTS
_gen, _seed = generator(None)
_points = [4 * torch.rand(2, generator=_gen, dtype=torch.float64) - 2 for _ in range(4)]
check_function(
    rosenbrock,
    rosenbrock_value,
    [Case(f"xy = {p.tolist()}, seed {_seed}", (p,)) for p in _points],
    rtol=1e-10,
    public=False,
    mistakes={"b = 10 instead of 100": lambda p: (1 - p[0]) ** 2 + 10 * (p[1] - p[0] ** 2) ** 2},
)
check_closure(make_closure, seed=None, public=False)
check_minimum(minimise_rosenbrock, seed=None, public=False)
### END HIDDEN TESTS

# %% [markdown]
# ## Summary
#
# * A schedule is a base rate times a factor of the epoch: $\gamma^{\lfloor e/s\rfloor}$,
#   $\gamma^e$, half a cosine, a linear warm-up into a cosine, one cycle up and down,
#   cosines restarted with growing periods. `LambdaLR` takes any such factor; `SequentialLR`
#   chains schedulers; `ReduceLROnPlateau` cuts the rate when a metric stalls, after more
#   than `patience` bad epochs.
# * Clip between `backward()` and `step()`. By norm, all gradients shrink by one factor and
#   keep their direction; by value, each entry is cut on its own. The norm before clipping,
#   which `clip_grad_norm_` returns, is worth logging.
# * A large learning rate overshoots; an exploding gradient is a product of many factors.
#   Clipping tames the second.
# * On two small surfaces: SGD is limited by the steepest direction, momentum speeds up
#   along valleys and rings, adaptive methods move about lr per coordinate, and L-BFGS,
#   using curvature, finishes in a few dozen iterations what they had not in 500 steps.
