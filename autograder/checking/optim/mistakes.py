"""Wrong step functions, each one named mistake, to tell a student which error their numbers show.

Each has the signature of the step function it imitates; :func:`.running.check_optimizer`
runs them on the same case as the student's and names the one whose numbers match.
"""

from __future__ import annotations

from functools import partial

import torch


def sgd_variant(
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
    dampen_first=False,
    ignore_nesterov=False,
):
    """SGD with one of its details changed."""
    g = -grad if maximize else grad
    g = g + weight_decay * param
    if momentum != 0:
        if "momentum_buffer" not in state and not dampen_first:
            buf = g.clone()  # torch starts the buffer at the gradient, undampened
        else:
            buf = state.get("momentum_buffer", torch.zeros_like(param))
            buf = momentum * buf + (1 - dampening) * g
        state["momentum_buffer"] = buf
        g = g + momentum * buf if nesterov and not ignore_nesterov else buf
    param.sub_(lr * g)


# SGD whose first momentum step is dampened too (torch starts the buffer at the gradient).
sgd_dampened_first_step = partial(sgd_variant, dampen_first=True)
# SGD that ignores ``nesterov``.
sgd_no_nesterov = partial(sgd_variant, ignore_nesterov=True)


def adam_variant(
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
    bias_correction=True,
    eps_inside=False,
    decoupled=False,
):
    """Adam (and AdamW with ``decoupled=True``) with one of its details changed."""
    g = -grad if maximize else grad
    if decoupled:
        param.mul_(1 - lr * weight_decay)
    else:
        g = g + weight_decay * param
    b1, b2 = betas
    t = state["step"] = state.get("step", 0) + 1
    m = state["exp_avg"] = b1 * state.get("exp_avg", torch.zeros_like(param)) + (1 - b1) * g
    v = state["exp_avg_sq"] = (
        b2 * state.get("exp_avg_sq", torch.zeros_like(param)) + (1 - b2) * g * g
    )
    if amsgrad:
        v = state["max"] = torch.maximum(state.get("max", torch.zeros_like(param)), v)
    bc1, bc2 = (1 - b1**t, 1 - b2**t) if bias_correction else (1.0, 1.0)
    denom = (v / bc2 + eps).sqrt() if eps_inside else (v / bc2).sqrt() + eps
    param.sub_(lr * (m / bc1) / denom)


# Adam without the bias corrections 1 - beta^t.
adam_no_bias_correction = partial(adam_variant, bias_correction=False)
# Adam with eps added under the square root instead of after it.
adam_eps_inside_sqrt = partial(adam_variant, eps_inside=True)
# Adam with AdamW's decoupled weight decay instead of the L2 penalty.
adam_decoupled = partial(adam_variant, decoupled=True)
# AdamW whose weight decay is added to the gradient (that is Adam's L2 penalty).
adamw_as_l2 = partial(adam_variant, weight_decay=1e-2)


def rmsprop_variant(
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
    lr_in_buffer=False,
    eps_inside=False,
):
    """RMSprop with one of its details changed."""
    g = -grad if maximize else grad
    g = g + weight_decay * param
    a = state["square_avg"] = (
        alpha * state.get("square_avg", torch.zeros_like(param)) + (1 - alpha) * g * g
    )
    if centered:
        mean = state["grad_avg"] = (
            alpha * state.get("grad_avg", torch.zeros_like(param)) + (1 - alpha) * g
        )
        a = a - mean * mean
    denom = (a + eps).sqrt() if eps_inside else a.sqrt() + eps
    if momentum > 0:
        step = lr * g / denom if lr_in_buffer else g / denom
        buf = state["momentum_buffer"] = (
            momentum * state.get("momentum_buffer", torch.zeros_like(param)) + step
        )
        param.sub_(buf if lr_in_buffer else lr * buf)
    else:
        param.sub_(lr * g / denom)


# RMSprop whose momentum buffer holds steps already scaled by lr (agrees only at constant lr).
rmsprop_lr_in_buffer = partial(rmsprop_variant, lr_in_buffer=True)
# RMSprop with eps under the square root.
rmsprop_eps_inside_sqrt = partial(rmsprop_variant, eps_inside=True)


def sgd_other_convention(param, grad, state, *, lr, momentum):
    """The "other frameworks" momentum: v = rho*v + lr*g; p = p - v."""
    v = state.get("velocity", torch.zeros_like(param))
    v = momentum * v + lr * grad
    state["velocity"] = v
    param.sub_(v)


SGD_MISTAKES = {
    "the first momentum step dampened (torch starts the buffer at the gradient)": (
        sgd_dampened_first_step
    ),
    "nesterov ignored": sgd_no_nesterov,
}
RMSPROP_MISTAKES = {
    "the learning rate inside the momentum buffer (b = momentum*b + lr*g/d; p -= b): the same "
    "as torch only while lr stays constant, and the checks change it between steps": (
        rmsprop_lr_in_buffer
    ),
    "eps added under the square root": rmsprop_eps_inside_sqrt,
}
ADAM_MISTAKES = {
    "no bias correction": adam_no_bias_correction,
    "eps added under the square root": adam_eps_inside_sqrt,
    "decoupled weight decay (that is AdamW) instead of Adam's L2 penalty": adam_decoupled,
}
ADAMW_MISTAKES = {
    "weight decay added to the gradient (Adam's L2 penalty), not decoupled": adamw_as_l2,
    "no bias correction": adam_no_bias_correction,
}
