"""Wrong step functions, each one named mistake, to tell a student which error their numbers show.

Each has the signature of the step function it imitates; :func:`.running.check_optimizer`
runs them on the same runs as the student's and names the one whose numbers match every
step of every failing run. Two kinds:

* ``*_variant`` functions write an optimizer out by hand, with a detail changed by a flag
  (with every flag off they are the optimizer itself, which is why every answer is
  forbidden to call them: :data:`.cases.COURSE_STEPS`);
* :func:`torch_step` runs ``torch.optim`` itself with one option taken away ("maximize
  ignored"), for the mistakes every optimizer can make.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from functools import partial
from typing import Any

import torch

_float64 = torch.float64


@contextlib.contextmanager
def _float64_default() -> Iterator[None]:
    old = torch.get_default_dtype()
    torch.set_default_dtype(_float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def torch_step(cls: type, *, ignore: tuple[str, ...] = (), **fixed: Any):
    """A step function backed by ``torch.optim`` (one optimizer per parameter, kept in the
    state), deaf to the options in ``ignore`` and with ``fixed`` ones set: the step of a
    student who forgot an option."""

    def step(param, grad, state, **hyper):
        hyper = {k: v for k, v in hyper.items() if k not in ignore} | fixed
        with _float64_default():
            if "torch" not in state:
                leaf = param.detach().clone().requires_grad_(True)
                state["torch"] = (leaf, cls([leaf], **hyper))
            leaf, optimizer = state["torch"]
            if "lr" in hyper:
                optimizer.param_groups[0]["lr"] = hyper["lr"]
            leaf.grad = grad.clone()
            optimizer.step()
        param.copy_(leaf.detach())

    step.__name__ = f"torch.optim.{cls.__name__} without {', '.join(ignore) or 'changes'}"
    return step


def _ignored_label(option: str) -> str:
    """The name of the mistake of ignoring ``option``: a template the catalogs translate
    (its name says ``label`` so that the catalogs take it as one)."""
    return f"{option} ignored"


def ignoring(cls: type, *options: str) -> dict[str, Any]:
    """``{"<option> ignored": step}`` for each option: the optimizer deaf to it."""
    return {_ignored_label(option): torch_step(cls, ignore=(option,)) for option in options}


# ----------------------------------------------------------------------------------- SGD


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
    decoupled_decay=False,
    lr_in_buffer=False,
    dampening_as_factor=False,
):
    """SGD with one of its details changed."""
    g = -grad if maximize else grad
    if decoupled_decay:
        param.mul_(1 - lr * weight_decay)
    else:
        g = g + weight_decay * param
    scale = lr if lr_in_buffer else 1.0  # the buffer holds steps already scaled by lr
    keep = dampening if dampening_as_factor else 1 - dampening
    if momentum != 0:
        if "momentum_buffer" not in state and not dampen_first:
            buf = scale * g  # torch starts the buffer at the gradient, undampened
        else:
            buf = state.get("momentum_buffer", torch.zeros_like(param))
            buf = momentum * buf + keep * scale * g
        state["momentum_buffer"] = buf
        d = scale * g + momentum * buf if nesterov and not ignore_nesterov else buf
    else:
        d = scale * g
    param.sub_(d if lr_in_buffer else lr * d)


# SGD whose first momentum step is dampened too (torch starts the buffer at the gradient).
sgd_dampened_first_step = partial(sgd_variant, dampen_first=True)
# SGD that ignores ``nesterov``.
sgd_no_nesterov = partial(sgd_variant, ignore_nesterov=True)


def sgd_other_convention(param, grad, state, *, lr, momentum):
    """The "other frameworks" momentum: v = rho*v + lr*g; p = p - v."""
    v = state.get("velocity", torch.zeros_like(param))
    v = momentum * v + lr * grad
    state["velocity"] = v
    param.sub_(v)


def sgd_torch_convention(param, grad, state, *, lr, momentum):
    """PyTorch's momentum where the other convention is asked: v = rho*v + g; p -= lr*v."""
    v = state.get("velocity", torch.zeros_like(param))
    v = momentum * v + grad
    state["velocity"] = v
    param.sub_(lr * v)


def sgd_other_lr_twice(param, grad, state, *, lr, momentum):
    """The other convention with lr applied twice: u = rho*u + lr*g; p -= lr*u."""
    v = state.get("velocity", torch.zeros_like(param))
    v = momentum * v + lr * grad
    state["velocity"] = v
    param.sub_(lr * v)


SGD_MISTAKES = {
    "the first momentum step dampened (torch starts the buffer at the gradient)": (
        sgd_dampened_first_step
    ),
    "nesterov ignored": sgd_no_nesterov,
    **ignoring(torch.optim.SGD, "maximize"),
    "weight decay applied to the parameter (p *= 1 - lr*weight_decay, decoupled) instead of "
    "added to the gradient (g + weight_decay*p)": partial(sgd_variant, decoupled_decay=True),
    "the learning rate inside the momentum buffer (v = momentum*v + lr*g; p -= v): the "
    "same as torch only while lr stays constant, and the checks change it": partial(
        sgd_variant, lr_in_buffer=True
    ),
    "dampening used as the gradient's factor (dampening*g instead of (1 - dampening)*g)": (
        partial(sgd_variant, dampening_as_factor=True)
    ),
}
SGD_OTHER_MISTAKES = {
    "PyTorch's convention (v = momentum*v + g; p -= lr*v): the learning rate belongs inside "
    "the buffer here": sgd_torch_convention,
    "the learning rate applied twice (u = momentum*u + lr*g, then p -= lr*u): the buffer "
    "already holds scaled steps": sgd_other_lr_twice,
}

# ----------------------------------------------------------------------------------- ASGD


def asgd_variant(
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
    eta_now=False,
    decay_after=False,
    first_lr=False,
):
    """ASGD with one of its details changed."""
    g = -grad if maximize else grad
    g = g + weight_decay * param
    if "step" not in state:
        state.update(step=0, eta=lr, mu=1.0, ax=torch.zeros_like(param), lr0=lr)
    state["step"] += 1
    t = state["step"]
    rate = state["lr0"] if first_lr else lr
    eta = rate / (1 + lambd * rate * t) ** alpha if eta_now else state["eta"]
    if decay_after:
        param.sub_(eta * g)
        param.mul_(1 - lambd * eta)
    else:
        param.mul_(1 - lambd * eta)
        param.sub_(eta * g)
    state["ax"] = state["ax"] + state["mu"] * (param - state["ax"])
    state["eta"] = rate / (1 + lambd * rate * t) ** alpha
    state["mu"] = 1 / max(1, t - t0)


ASGD_MISTAKES = {
    "η of this step used at once (torch uses the η computed at the previous step, rule 2)": (
        partial(asgd_variant, eta_now=True)
    ),
    "the decay p*(1 - lambd*η) applied after the gradient step (torch decays first)": partial(
        asgd_variant, decay_after=True
    ),
    "η computed from the first step's lr: use each call's lr (rule 4)": partial(
        asgd_variant, first_lr=True
    ),
    **ignoring(torch.optim.ASGD, "maximize", "weight_decay"),
}

# -------------------------------------------------------------------------------- Adagrad


def adagrad_variant(
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
    eps_inside=False,
    decay_from_one=False,
    ignore_initial=False,
):
    """Adagrad with one of its details changed."""
    g = -grad if maximize else grad
    g = g + weight_decay * param
    if "sum" not in state:
        start = 0.0 if ignore_initial else initial_accumulator_value
        state.update(step=0, sum=torch.full_like(param, start))
    state["step"] += 1
    t = state["step"]
    clr = lr / (1 + (t if decay_from_one else t - 1) * lr_decay)
    state["sum"] = state["sum"] + g * g
    denom = (state["sum"] + eps).sqrt() if eps_inside else state["sum"].sqrt() + eps
    param.sub_(clr * g / denom)


ADAGRAD_MISTAKES = {
    "eps added under the square root (torch adds it after: sqrt(s) + eps)": partial(
        adagrad_variant, eps_inside=True
    ),
    "lr_decay counted from the first step (torch's step t uses 1 + (t - 1)*lr_decay, so the "
    "first step takes the full lr)": partial(adagrad_variant, decay_from_one=True),
    "initial_accumulator_value ignored (the sum starts at it, not at zero)": partial(
        adagrad_variant, ignore_initial=True
    ),
    **ignoring(torch.optim.Adagrad, "maximize"),
}

# -------------------------------------------------------------------------------- RMSprop


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

RMSPROP_MISTAKES = {
    "the learning rate inside the momentum buffer (b = momentum*b + lr*g/d; p -= b): the same "
    "as torch only while lr stays constant, and the checks change it between steps": (
        rmsprop_lr_in_buffer
    ),
    "eps added under the square root": rmsprop_eps_inside_sqrt,
    **ignoring(torch.optim.RMSprop, "centered", "maximize"),
}

# ------------------------------------------------------------------------------- Adadelta


def adadelta_variant(
    param,
    grad,
    state,
    *,
    lr=1.0,
    rho=0.9,
    eps=1e-6,
    weight_decay=0,
    maximize=False,
    eps_outside=False,
    lr_in_delta=False,
):
    """Adadelta with one of its details changed."""
    g = -grad if maximize else grad
    g = g + weight_decay * param
    if "square_avg" not in state:
        state.update(square_avg=torch.zeros_like(param), acc_delta=torch.zeros_like(param))
    a = state["square_avg"] = rho * state["square_avg"] + (1 - rho) * g * g
    u = state["acc_delta"]
    if eps_outside:
        delta = (u.sqrt() + eps) / (a.sqrt() + eps) * g
    else:
        delta = (u + eps).sqrt() / (a + eps).sqrt() * g
    if lr_in_delta:  # the update scaled by lr before it is remembered
        delta = lr * delta
    state["acc_delta"] = rho * state["acc_delta"] + (1 - rho) * delta * delta
    param.sub_(delta if lr_in_delta else lr * delta)


ADADELTA_MISTAKES = {
    "eps added after the square roots (Adadelta adds it inside both: sqrt(u + eps) / "
    "sqrt(a + eps))": partial(adadelta_variant, eps_outside=True),
    "u accumulates the update scaled by lr ((lr*Δ)²): torch remembers Δ² and applies lr "
    "only to the parameter": partial(adadelta_variant, lr_in_delta=True),
    **ignoring(torch.optim.Adadelta, "lr", "maximize"),
}

# ---------------------------------------------------------------------------------- Rprop


def rprop_variant(
    param,
    grad,
    state,
    *,
    lr=1e-2,
    etas=(0.5, 1.2),
    step_sizes=(1e-6, 50),
    maximize=False,
    keep_flipped=False,
    no_clamp=False,
    zero_as_agreeing=False,
):
    """Rprop with one of its details changed."""
    g = -grad if maximize else grad
    if "prev" not in state:
        state.update(prev=torch.zeros_like(param), step_size=torch.full_like(param, lr))
    sign = (g * state["prev"]).sign()
    factor = torch.ones_like(param)
    factor[sign >= 0 if zero_as_agreeing else sign > 0] = etas[1]
    factor[sign < 0] = etas[0]
    size = state["step_size"] * factor
    state["step_size"] = size if no_clamp else size.clamp(*step_sizes)
    g = g.clone()
    if not keep_flipped:
        g[sign < 0] = 0
    param.sub_(g.sign() * state["step_size"])
    state["prev"] = g


RPROP_MISTAKES = {
    "the gradient kept where its sign flipped (torch sets it to 0 there: no move this step, "
    "and the next step starts afresh)": partial(rprop_variant, keep_flipped=True),
    "step sizes not clamped into step_sizes = (min, max)": partial(rprop_variant, no_clamp=True),
    "a zero product g*g_prev (the first step, or the step after a flip) taken as the same "
    "sign: torch leaves the step size unchanged there": partial(
        rprop_variant, zero_as_agreeing=True
    ),
    **ignoring(torch.optim.Rprop, "maximize"),
}

# ------------------------------------------------------------------------------ Adam family


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
    decay_after=False,
    decay_without_lr=False,
    max_of_corrected=False,
):
    """Adam (and AdamW with ``decoupled=True``) with one of its details changed."""
    g = -grad if maximize else grad
    decay = 1 - (1 if decay_without_lr else lr) * weight_decay
    if decoupled and not decay_after:
        param.mul_(decay)
    elif not decoupled:
        g = g + weight_decay * param
    b1, b2 = betas
    t = state["step"] = state.get("step", 0) + 1
    m = state["exp_avg"] = b1 * state.get("exp_avg", torch.zeros_like(param)) + (1 - b1) * g
    v = state["exp_avg_sq"] = (
        b2 * state.get("exp_avg_sq", torch.zeros_like(param)) + (1 - b2) * g * g
    )
    bc1, bc2 = (1 - b1**t, 1 - b2**t) if bias_correction else (1.0, 1.0)
    if amsgrad and max_of_corrected:
        v_hat = state["max"] = torch.maximum(state.get("max", torch.zeros_like(param)), v / bc2)
    else:
        if amsgrad:
            v = state["max"] = torch.maximum(state.get("max", torch.zeros_like(param)), v)
        v_hat = v / bc2
    denom = (v_hat + eps).sqrt() if eps_inside else v_hat.sqrt() + eps
    param.sub_(lr * (m / bc1) / denom)
    if decoupled and decay_after:
        param.mul_(decay)


# Adam without the bias corrections 1 - beta^t.
adam_no_bias_correction = partial(adam_variant, bias_correction=False)
# Adam with eps added under the square root instead of after it.
adam_eps_inside_sqrt = partial(adam_variant, eps_inside=True)
# Adam with AdamW's decoupled weight decay instead of the L2 penalty.
adam_decoupled = partial(adam_variant, decoupled=True)
# AdamW whose weight decay is added to the gradient (that is Adam's L2 penalty).
adamw_as_l2 = partial(adam_variant, weight_decay=1e-2)
# AMSGrad whose running maximum is taken over the bias-corrected v̂ instead of v.
adam_max_of_corrected = partial(adam_variant, max_of_corrected=True)

ADAM_MISTAKES = {
    "no bias correction": adam_no_bias_correction,
    "eps added under the square root": adam_eps_inside_sqrt,
    "decoupled weight decay (that is AdamW) instead of Adam's L2 penalty": adam_decoupled,
    "amsgrad's maximum taken over the bias-corrected v̂: torch keeps the maximum of v, then "
    "corrects it": adam_max_of_corrected,
    **ignoring(torch.optim.Adam, "amsgrad", "maximize"),
}
ADAMW_MISTAKES = {
    "weight decay added to the gradient (Adam's L2 penalty), not decoupled": adamw_as_l2,
    "no bias correction": partial(adam_no_bias_correction, decoupled=True, weight_decay=1e-2),
    "the decay p*(1 - lr*weight_decay) applied after the Adam step (AdamW decays first)": (
        partial(adam_variant, decoupled=True, decay_after=True, weight_decay=1e-2)
    ),
    "the decay without the learning rate (p*(1 - weight_decay); AdamW uses 1 - "
    "lr*weight_decay)": partial(
        adam_variant, decoupled=True, decay_without_lr=True, weight_decay=1e-2
    ),
    **ignoring(torch.optim.AdamW, "amsgrad", "maximize"),
}


def adamax_variant(
    param,
    grad,
    state,
    *,
    lr=2e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0,
    maximize=False,
    eps_after_max=False,
    correct_u=False,
    no_bias_correction=False,
):
    """Adamax with one of its details changed."""
    g = -grad if maximize else grad
    g = g + weight_decay * param
    b1, b2 = betas
    t = state["step"] = state.get("step", 0) + 1
    m = state["exp_avg"] = b1 * state.get("exp_avg", torch.zeros_like(param)) + (1 - b1) * g
    u = state.get("exp_inf", torch.zeros_like(param))
    if eps_after_max:
        u = state["exp_inf"] = torch.maximum(b2 * u, g.abs())
        u = u + eps
    else:
        u = state["exp_inf"] = torch.maximum(b2 * u, g.abs() + eps)
    if correct_u:
        u = u / (1 - b2**t)
    bc1 = 1.0 if no_bias_correction else 1 - b1**t
    param.sub_(lr / bc1 * m / u)


ADAMAX_MISTAKES = {
    "eps added after the maximum (torch takes max(beta2*u, |g| + eps))": partial(
        adamax_variant, eps_after_max=True
    ),
    "u bias-corrected too (a maximum is not biased towards zero: only m is corrected)": partial(
        adamax_variant, correct_u=True
    ),
    "no bias correction of m": partial(adamax_variant, no_bias_correction=True),
    **ignoring(torch.optim.Adamax, "maximize"),
}


def nadam_variant(
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
    mu_now_for_next=False,
    no_v_correction=False,
):
    """NAdam with one of its details changed."""
    g = -grad if maximize else grad
    if decoupled_weight_decay:
        param.mul_(1 - lr * weight_decay)
    else:
        g = g + weight_decay * param
    b1, b2 = betas
    t = state["step"] = state.get("step", 0) + 1
    mu = b1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = mu if mu_now_for_next else b1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    product = state["mu_product"] = state.get("mu_product", 1.0) * mu
    m = state["exp_avg"] = b1 * state.get("exp_avg", torch.zeros_like(param)) + (1 - b1) * g
    v = state["exp_avg_sq"] = (
        b2 * state.get("exp_avg_sq", torch.zeros_like(param)) + (1 - b2) * g * g
    )
    bc2 = 1.0 if no_v_correction else 1 - b2**t
    denom = (v / bc2).sqrt() + eps
    param.sub_(lr * (1 - mu) / (1 - product) * g / denom)
    param.sub_(lr * mu_next / (1 - product * mu_next) * m / denom)


NADAM_MISTAKES = {
    "μ_t used where μ_{t+1} belongs (the look-ahead uses next step's momentum)": partial(
        nadam_variant, mu_now_for_next=True
    ),
    "no bias correction of v (d = sqrt(v / (1 - beta2^t)) + eps)": partial(
        nadam_variant, no_v_correction=True
    ),
    **ignoring(torch.optim.NAdam, "decoupled_weight_decay", "maximize"),
}


def radam_variant(
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
    eps_adam_place=False,
    no_rectification=False,
    no_m_correction=False,
):
    """RAdam with one of its details changed."""
    g = -grad if maximize else grad
    if decoupled_weight_decay:
        param.mul_(1 - lr * weight_decay)
    else:
        g = g + weight_decay * param
    b1, b2 = betas
    t = state["step"] = state.get("step", 0) + 1
    m = state["exp_avg"] = b1 * state.get("exp_avg", torch.zeros_like(param)) + (1 - b1) * g
    v = state["exp_avg_sq"] = (
        b2 * state.get("exp_avg_sq", torch.zeros_like(param)) + (1 - b2) * g * g
    )
    m_hat = m if no_m_correction else m / (1 - b1**t)
    rho_inf = 2 / (1 - b2) - 1
    rho_t = rho_inf - 2 * t * b2**t / (1 - b2**t)
    if rho_t > 5:
        rect = 1.0
        if not no_rectification:
            rect = math.sqrt(
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            )
        if eps_adam_place:
            adaptive = 1 / ((v / (1 - b2**t)).sqrt() + eps)
        else:
            adaptive = math.sqrt(1 - b2**t) / (v.sqrt() + eps)
        param.sub_(lr * rect * m_hat * adaptive)
    else:
        param.sub_(lr * m_hat)


RADAM_MISTAKES = {
    "eps added to sqrt(v̂) as in Adam (torch's RAdam adds it to sqrt(v), before the bias "
    "correction)": partial(radam_variant, eps_adam_place=True),
    "the rectification factor r_t left out": partial(radam_variant, no_rectification=True),
    "no bias correction of m (m̂ = m / (1 - beta1^t))": partial(radam_variant, no_m_correction=True),
    **ignoring(torch.optim.RAdam, "decoupled_weight_decay", "maximize"),
}

# ------------------------------------------------------------------------------ Adafactor


def adafactor_variant(
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
    rms_after_decay=False,
    eps1_float32=False,
    no_clipping=False,
):
    """Adafactor with one of its details changed."""
    g = -grad if maximize else grad
    eps1, eps2 = eps
    if eps1 is None:
        eps1 = torch.finfo(torch.float32 if eps1_float32 else param.dtype).eps
    t = state["step"] = state.get("step", 0) + 1
    beta = 1 - t**beta2_decay
    rho = min(lr, 1 / math.sqrt(t))
    if not rms_after_decay:
        alpha = max(eps2, float(param.norm()) / math.sqrt(param.numel())) * rho
    param.mul_(1 - lr * weight_decay)
    if rms_after_decay:
        alpha = max(eps2, float(param.norm()) / math.sqrt(param.numel())) * rho
    if g.dim() > 1:
        row = state["row_var"] = beta * state.get("row_var", g.new_zeros((*g.shape[:-1], 1))) + (
            1 - beta
        ) * (g * g).mean(dim=-1, keepdim=True)
        col = state["col_var"] = beta * state.get(
            "col_var", g.new_zeros((*g.shape[:-2], 1, g.shape[-1]))
        ) + (1 - beta) * (g * g).mean(dim=-2, keepdim=True)
        v = row @ col / row.mean(dim=-2, keepdim=True).clamp(min=eps1)
    else:
        v = state["variance"] = (
            beta * state.get("variance", torch.zeros_like(g)) + (1 - beta) * g * g
        )
    update = g / v.clamp(min=eps1 * eps1).sqrt()
    clip = 1.0 if no_clipping else max(1.0, float(update.norm()) / math.sqrt(update.numel()) / d)
    param.sub_(alpha / clip * update)


ADAFACTOR_MISTAKES = {
    "RMS(p) measured after this step's weight decay (torch measures it before)": partial(
        adafactor_variant, rms_after_decay=True
    ),
    "eps1 = None taken as float32's machine epsilon: torch uses the parameter's dtype "
    "(torch.finfo(param.dtype).eps)": partial(adafactor_variant, eps1_float32=True),
    "no update clipping (divide by max(1, RMS(U)/d))": partial(adafactor_variant, no_clipping=True),
    **ignoring(torch.optim.Adafactor, "maximize"),
}
