"""Checks for the training-loop topic: one backward, one epoch of training, an evaluation.

The loop is checked two ways. First, against a reference run from the same seed: the
student's ``train_one_epoch`` and the reference train twin copies of the network on the
same batches, and every parameter must end up the same. Second, by watching the loop as it
runs (a hook on a parameter's gradient, a hook on ``optimizer.step``, a probe in front of
the network), so that a wrong loop is told *what* is wrong: the gradients were not reset,
``step()`` ran before ``backward()``, the model was left in eval mode, and so on.

Every check runs the student's code with stdout and stderr captured (a progress bar on
stderr would zero a tests cell) and raises :class:`~autograder.checking.CheckFailed` with a
message for the student.
"""

from __future__ import annotations

import contextlib
import io
import sys
import warnings
from collections.abc import Callable, Iterator
from types import CodeType, FrameType

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from .. import (
    Case,
    CheckFailed,
    check_kind,
    compare,
    describe,
    generator,
    integrity,
    refuse_if_tampered,
    student_errors,
)
from ..checks import known_mistake
from ..i18n import N_, tr

_Tensor = torch.Tensor
_isinstance, _type = isinstance, type


def course_network(relu: bool = False) -> nn.Sequential:
    """The reference notes' CIFAR10 network (optionally with a ReLU after each hidden layer)."""

    def act() -> list[nn.Module]:
        return [nn.ReLU()] if relu else []

    return nn.Sequential(
        nn.Conv2d(3, 32, 5, padding=2),
        *act(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 5, padding=2),
        *act(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2),
        *act(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(1024, 64),
        *act(),
        nn.Linear(64, 10),
    )


def reference_pool_shapes(height: int, width: int) -> list[tuple[int, int, int]]:
    """The (C, H, W) after each MaxPool2d of the course network, for one 3 x H x W image,
    found by running its convolutions and poolings on zeros."""
    x = torch.zeros(1, 3, height, width)
    shapes = []
    with torch.no_grad():
        for layer in course_network():
            if isinstance(layer, nn.Flatten):
                break
            x = layer(x)
            if isinstance(layer, nn.MaxPool2d):
                shapes.append((int(x.shape[1]), int(x.shape[2]), int(x.shape[3])))
    return shapes


def reference_flat_features(height: int, width: int) -> int:
    c, h, w = reference_pool_shapes(height, width)[-1]
    return c * h * w


def shape_cases(seed: int | None = None, *, draws: int = 4) -> list[Case]:
    """Image sizes from 8 to 96 pixels, odd sizes among them (where the pooling rounds)."""
    gen, seed = generator(seed)
    sizes = [(32, 32)] + [
        (int(h), int(w)) for h, w in torch.randint(8, 97, (draws, 2), generator=gen)
    ]
    if all(h % 2 == 0 and w % 2 == 0 for h, w in sizes):
        sizes.append((45, 30))
    return [Case(f"images of {h} x {w} pixels, seed {seed}", (h, w)) for h, w in sizes]


def shape_mistakes() -> dict[str, Callable]:
    def shapes_with(conv, pool, skip=None):
        def wrong(height, width):
            found, c, h, w = [], 3, height, width
            for i, channels in enumerate((32, 32, 64)):
                h, w = conv(h), conv(w)
                if i != skip:
                    h, w = pool(h), pool(w)
                c = channels
                found.append((c, h, w))
            return found

        return wrong

    def same(n):
        return n

    def half(n):
        return n // 2

    def channels_last(height, width):
        return [(h, w, c) for c, h, w in reference_pool_shapes(height, width)]

    # Three whole names: an ordinal put into one template cannot be translated.
    forgotten = (
        tr("the first pooling forgotten (each MaxPool2d(2) halves the height and width)"),
        tr("the second pooling forgotten (each MaxPool2d(2) halves the height and width)"),
        tr("the third pooling forgotten (each MaxPool2d(2) halves the height and width)"),
    )
    one_forgotten = {name: shapes_with(same, half, skip=k) for k, name in enumerate(forgotten)}
    return {
        "the padding forgotten (each 5 x 5 convolution then takes 4 pixels off)": shapes_with(
            lambda n: n - 4, half
        ),
        "the pooling forgotten (it halves the height and width)": shapes_with(same, same),
        **one_forgotten,
        "rounded up, not down, where a side is odd": shapes_with(same, lambda n: -(-n // 2)),
        "divided with / instead of //: a side is a whole number of pixels, rounded down": (
            shapes_with(same, lambda n: n / 2)
        ),
        "channels last (H, W, C) instead of (C, H, W)": channels_last,
    }


def flat_mistakes() -> dict[str, Callable]:
    def from_shapes(table):
        def wrong(height, width):
            shapes = table(height, width)
            c, h, w = shapes[-1]
            return c * h * w

        return wrong

    def one_pool_too_few(height, width):
        c, h, w = reference_pool_shapes(height, width)[1]
        return 64 * h * w

    def no_channels(height, width):
        _, h, w = reference_pool_shapes(height, width)[-1]
        return h * w

    shapes = shape_mistakes()
    named = {name.split(" (")[0].split(":")[0]: wrong for name, wrong in shapes.items()}
    return {
        "the padding forgotten": from_shapes(named["the padding forgotten"]),
        "the pooling forgotten": from_shapes(named["the pooling forgotten"]),
        "one pooling too few": one_pool_too_few,
        "rounded up, not down, where a side is odd": from_shapes(
            named["rounded up, not down, where a side is odd"]
        ),
        "divided with / instead of //": from_shapes(named["divided with / instead of //"]),
        "the channels forgotten: H * W only": no_channels,
    }


def seeded_network(seed: int) -> nn.Sequential:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return course_network()


def random_batch(gen: torch.Generator, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised-looking images (N, 3, 32, 32) and labels 0..9."""
    images = torch.randn(n, 3, 32, 32, generator=gen)
    labels = torch.randint(0, 10, (n,), generator=gen)
    return images, labels


@contextlib.contextmanager
def _no_displays() -> Iterator[None]:
    """Swallow what the student's code displays (a tqdm widget) while a check runs it, so
    that a tests cell shows nothing but a failure message."""
    try:
        from IPython import get_ipython
        from IPython.utils.capture import capture_output
    except ImportError:  # not in a kernel
        yield
        return
    if get_ipython() is None:
        yield
        return
    with capture_output(stdout=False, stderr=False, display=True):
        yield


def run_captured(fn: Callable, *args, **kwargs):
    """``fn(*args, **kwargs)`` with stdout, stderr, displays and warnings captured:
    (result, stderr)."""
    err = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            with _no_displays():
                result = fn(*args, **kwargs)
    return result, err.getvalue()


@contextlib.contextmanager
def progress_bars() -> Iterator[list]:
    """The tqdm progress bars created inside the block (any flavour: console, notebook
    widget, ``tqdm.auto``), however they are driven (wrapping the loader, or ``update()``)."""
    from tqdm import std

    created: list = []
    original = std.tqdm.__dict__["__new__"]
    new = original.__func__ if isinstance(original, staticmethod) else original

    def counting_new(cls, *args, **kwargs):
        instance = new(cls, *args, **kwargs)
        created.append(instance)
        return instance

    std.tqdm.__new__ = staticmethod(counting_new)
    try:
        yield created
    finally:
        std.tqdm.__new__ = original


def _call(kind: str, name: str, fn: Callable, *args):
    with student_errors(kind, name):
        return run_captured(fn, *args)


class Probe(nn.Module):
    """Sits in front of a network and notes, at every forward, the mode and grad state
    (and, with ``keep_inputs``, the batch itself)."""

    def __init__(self, keep_inputs: bool = False):
        super().__init__()
        self.calls: list[tuple[bool, bool, int]] = []
        self.keep_inputs = keep_inputs
        self.inputs: list[torch.Tensor] = []

    def forward(self, x):
        self.calls.append((self.training, torch.is_grad_enabled(), len(x)))
        if self.keep_inputs and torch.is_grad_enabled():
            self.inputs.append(x.detach().clone())
        return x


def _as_number(kind: str, what: str, value) -> float:
    if _isinstance(value, _Tensor):
        if value.requires_grad:
            raise CheckFailed(
                tr(
                    "{kind}: {what} is a tensor that still carries its graph "
                    "(grad_fn={grad_fn_type}). Add up loss.item(), not the loss tensor: summing "
                    "the tensors keeps every batch's graph alive and wastes memory.",
                    kind=kind,
                    what=what,
                    grad_fn_type=type(value.grad_fn).__name__,
                )
            )
        raise CheckFailed(
            tr(
                "{kind}: {what} should be a Python float (use .item()), got a tensor.",
                kind=kind,
                what=what,
            )
        )
    if _type(value) not in (int, float):
        raise CheckFailed(
            tr(
                "{kind}: {what} should be a Python float, got {value}.",
                kind=kind,
                what=what,
                value=describe(value),
            )
        )
    return float(value)


# --------------------------------------------------------------------------------------
# One backward


def reference_backward_once(model, loss_fn, images, labels):
    loss = loss_fn(model(images), labels)
    loss.backward()
    return loss


def check_backward_once(student: Callable, *, seed: int | None = 0, public: bool = True) -> None:
    """``student(model, loss_fn, images, labels)`` computes the loss, calls ``backward()`` once
    and returns the loss; afterwards every parameter's ``.grad`` holds the gradient."""
    kind = check_kind(public)
    refuse_if_tampered(kind)
    gen, seed = generator(seed)
    n = int(torch.randint(2, 9, (1,), generator=gen))
    images, labels = random_batch(gen, n)
    model_seed = int(torch.randint(0, 2**31, (1,), generator=gen))
    model, twin = seeded_network(model_seed), seeded_network(model_seed)
    loss_fn = nn.CrossEntropyLoss()
    before = [p.detach().clone() for p in model.parameters()]
    where = tr("(seed {seed}, a batch of {n} images)", seed=seed, n=n)
    if model[0].weight.grad is not None:
        raise CheckFailed(tr("the course's check is broken: a fresh network has gradients"))
    got, _ = _call(kind, "backward_once", student, model, loss_fn, images.clone(), labels.clone())
    expected = reference_backward_once(twin, loss_fn, images, labels)
    grad = model[0].weight.grad
    if grad is None:
        raise CheckFailed(
            tr(
                "{kind} {where}: the first conv layer's weight.grad is still None. Call "
                "loss.backward(): that is what fills .grad.",
                kind=kind,
                where=where,
            )
        )
    if tuple(grad.shape) != tuple(model[0].weight.shape):
        raise CheckFailed(
            tr(
                "{kind} {where}: weight.grad has shape {shape}",
                kind=kind,
                where=where,
                shape=tuple(grad.shape),
            )
        )
    if any(not torch.equal(p.detach(), b) for p, b in zip(model.parameters(), before, strict=True)):
        raise CheckFailed(
            tr(
                "{kind} {where}: the parameters changed. backward() only computes gradients; "
                "leave the update (optimizer.step()) out of this function.",
                kind=kind,
                where=where,
            )
        )
    if not _isinstance(got, _Tensor) or got.dim() != 0:
        raise CheckFailed(
            tr(
                "{kind} {where}: return the loss (a 0-dim tensor), got {got}",
                kind=kind,
                where=where,
                got=describe(got),
            )
        )
    problem = compare(got.detach(), expected.detach(), rtol=1e-5, atol=1e-7)
    if problem:
        raise CheckFailed(
            tr(
                "{kind} {where}: the returned loss is wrong: {problem}",
                kind=kind,
                where=where,
                problem=problem,
            )
        )
    for (name, p), q in zip(model.named_parameters(), twin.parameters(), strict=True):
        if p.grad is None:
            raise CheckFailed(
                tr(
                    "{kind} {where}: {name}.grad is None after backward_once",
                    kind=kind,
                    where=where,
                    name=name,
                )
            )
        problem = compare(p.grad, q.grad, rtol=1e-4, atol=1e-7)
        if problem:
            hint = ""
            if compare(p.grad, 2 * q.grad, rtol=1e-4, atol=1e-7) is None:
                hint = tr(" It is twice the gradient: backward() ran twice (gradients add up).")
            raise CheckFailed(
                tr(
                    "{kind} {where}: the gradient of {name} is wrong: {problem}.{hint}",
                    kind=kind,
                    where=where,
                    name=name,
                    problem=problem,
                    hint=hint,
                )
            )
    refuse_if_tampered(kind)


# --------------------------------------------------------------------------------------
# One epoch of training


def reference_train_one_epoch(model, loader, loss_fn, optimizer, device):
    model.train()
    total, batches = 0.0, 0
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        total += loss.item()
        batches += 1
    return total / batches


STEP_BEFORE_BACKWARD = N_(
    "optimizer.step() ran before loss.backward(). The step uses the gradients in .grad, so it "
    "must come after backward() has computed them."
)


class RecordingLoss(nn.Module):
    """``nn.CrossEntropyLoss`` that remembers every loss tensor it returned (and, with
    ``keep_inputs``, what it was given)."""

    def __init__(self, keep_inputs: bool = False):
        super().__init__()
        self.loss = nn.CrossEntropyLoss()
        self.outputs: list[torch.Tensor] = []
        self.keep_inputs = keep_inputs
        self.given: list[tuple[torch.Tensor, torch.Tensor]] = []

    def forward(self, input, target):
        out = self.loss(input, target)
        self.outputs.append(out)
        if self.keep_inputs:
            self.given.append((input.detach().clone(), target.detach().clone()))
        return out


def kept_losses(frame_locals: dict, current: torch.Tensor | None) -> str | None:
    """The name of a local that holds a loss tensor with its graph other than this batch's
    loss: a running total ``running = running + loss`` or a list of loss tensors."""
    for name, value in frame_locals.items():
        values = value if _isinstance(value, list | tuple) and len(value) < 10_000 else [value]
        for v in values:
            if (
                _isinstance(v, _Tensor)
                and v.requires_grad
                and v.grad_fn is not None
                and v.numel() == 1
                and v is not current
            ):
                return name
    return None


class LoopWatch:
    """Records, batch by batch, what a training loop does and in which order."""

    def __init__(
        self,
        model: nn.Sequential,
        optimizer: torch.optim.Optimizer,
        student_code: CodeType | None = None,
        loss_fn: RecordingLoss | None = None,
    ):
        self.events: list[str] = []
        self.stale_grad_at_backward = 0  # backward found last batch's gradient still there
        self.zero_grad_at_step = 0  # step found no gradient at all
        self.step_before_backward = 0
        self.pending_backward = False
        self.student_code = student_code
        self.loss_fn = loss_fn
        self.kept_loss: str | None = None  # a local of the loop holding old losses' graphs
        # model[0] is the probe
        self.param: torch.Tensor = model[1].weight  # type: ignore[assignment]
        self.handles = [
            model[0].register_forward_pre_hook(self._forward),
            self.param.register_hook(self._backward),
            optimizer.register_step_pre_hook(self._step),
        ]

    def _forward(self, module, args):
        self.events.append("forward")
        self.pending_backward = True

    def _backward(self, grad):
        self.events.append("backward")
        self.pending_backward = False
        old = self.param.grad
        if old is not None and bool(old.abs().sum() > 0):
            self.stale_grad_at_backward += 1
        return grad

    def _step(self, optimizer, args, kwargs):
        self.events.append("step")
        if self.pending_backward:
            self.step_before_backward += 1
        grad = self.param.grad
        if grad is None or not bool(grad.abs().sum() > 0):
            self.zero_grad_at_step += 1
        if self.kept_loss is None and self.student_code is not None:
            frame: FrameType | None = sys._getframe(1)
            while frame is not None and frame.f_code is not self.student_code:
                frame = frame.f_back
            if frame is not None:  # the student's loop, stopped at this batch's step()
                outputs = self.loss_fn.outputs if self.loss_fn is not None else []
                self.kept_loss = kept_losses(frame.f_locals, outputs[-1] if outputs else None)

    def close(self):
        for handle in self.handles:
            handle.remove()


def _loop_setup(seed: int, n_batches: int, batch_size: int, lr: float):
    gen = torch.Generator().manual_seed(seed)
    images, labels = random_batch(gen, n_batches * batch_size)
    model_seed = int(torch.randint(0, 2**31, (1,), generator=gen))
    loader = DataLoader(TensorDataset(images, labels), batch_size=batch_size, shuffle=False)
    model = nn.Sequential(Probe(), *seeded_network(model_seed))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    return model, loader, optimizer


def check_train_one_epoch(
    student: Callable,
    *,
    seed: int | None = 0,
    public: bool = True,
    n_batches: int = 4,
    batch_size: int = 8,
    lr: float = 0.05,
    device: str | torch.device = "cpu",
) -> None:
    """``student(model, loader, loss_fn, optimizer, device)`` against the reference loop.

    The loop must train the model (zero_grad, forward, loss, backward, step on every
    batch), show a tqdm progress bar, keep no loss tensor across batches, and return the
    mean of the batch losses as a float.
    The parameters after the epoch must equal the reference run's from the same seed.
    """
    kind = check_kind(public)
    refuse_if_tampered(kind)
    _, seed = generator(seed)
    where = tr(
        "(seed {seed}, {n_batches} batches of {batch_size}, SGD lr={lr} momentum=0.9)",
        seed=seed,
        n_batches=n_batches,
        batch_size=batch_size,
        lr=lr,
    )
    model, loader, optimizer = _loop_setup(seed, n_batches, batch_size, lr)
    ref_model, ref_loader, ref_optimizer = _loop_setup(seed, n_batches, batch_size, lr)
    loss_fn = RecordingLoss()
    before = [p.detach().clone() for p in model.parameters()]
    model.eval()  # as evaluate() leaves it: the loop must switch it back to training mode
    watch = LoopWatch(model, optimizer, getattr(student, "__code__", None), loss_fn)
    try:
        with progress_bars() as bars:
            got, _ = _call(
                kind, "train_one_epoch", student, model, loader, loss_fn, optimizer, device
            )
    except CheckFailed as error:
        if watch.step_before_backward:  # autograd refuses: step() changed what backward needs
            raise CheckFailed(
                tr(
                    "{error}\n  The cause: {cause}",
                    error=error,
                    cause=tr(STEP_BEFORE_BACKWARD),
                )
            ) from None
        raise
    finally:
        watch.close()
    loss_fn.outputs.clear()  # the student's loss tensors, and their graphs, can go now
    expected = reference_train_one_epoch(
        ref_model, ref_loader, nn.CrossEntropyLoss(), ref_optimizer, device
    )
    calls: list = model[0].calls

    # What the loop did, in the order it did it: name the first mistake found.
    forwards, backwards = watch.events.count("forward"), watch.events.count("backward")
    steps = watch.events.count("step")
    if forwards != n_batches:
        raise CheckFailed(
            tr(
                "{kind} {where}: the model ran forward {forwards} times for {n_batches} batches; "
                "expected one forward pass per batch.",
                kind=kind,
                where=where,
                forwards=forwards,
                n_batches=n_batches,
            )
        )
    if any(training is False for training, _, _ in calls):
        raise CheckFailed(
            tr(
                "{kind} {where}: the model was in eval mode while training. Call model.train() at "
                "the start of train_one_epoch (evaluate() switches it to eval mode).",
                kind=kind,
                where=where,
            )
        )
    if any(grad_on is False for _, grad_on, _ in calls):
        raise CheckFailed(
            tr(
                "{kind} {where}: the forward pass ran under torch.no_grad().",
                kind=kind,
                where=where,
            )
        )
    if backwards == 0:
        raise CheckFailed(
            tr("{kind} {where}: loss.backward() was never called.", kind=kind, where=where)
        )
    if steps == 0:
        raise CheckFailed(
            tr(
                "{kind} {where}: optimizer.step() was never called (use the optimizer passed in).",
                kind=kind,
                where=where,
            )
        )
    if backwards != n_batches or steps != n_batches:
        raise CheckFailed(
            tr(
                "{kind} {where}: {backwards} backward() and {steps} step() calls for {n_batches} "
                "batches; expected one of each per batch.",
                kind=kind,
                where=where,
                backwards=backwards,
                steps=steps,
                n_batches=n_batches,
            )
        )
    if watch.step_before_backward:
        raise CheckFailed(
            tr("{kind} {where}: {cause}", kind=kind, where=where, cause=tr(STEP_BEFORE_BACKWARD))
        )
    if watch.stale_grad_at_backward:
        raise CheckFailed(
            tr(
                "{kind} {where}: the gradients were not reset between batches "
                "(optimizer.zero_grad() is missing): backward() adds to .grad, so each step used "
                "the sum of the gradients of all batches so far.",
                kind=kind,
                where=where,
            )
        )
    if watch.zero_grad_at_step:
        raise CheckFailed(
            tr(
                "{kind} {where}: optimizer.step() found no gradient: zero_grad() ran between "
                "backward() and step(). Reset the gradients before backward(), not after.",
                kind=kind,
                where=where,
            )
        )

    if watch.kept_loss is not None:
        raise CheckFailed(
            tr(
                "{kind} {where}: the variable {kept_loss} holds loss tensors with their graph "
                "from batch to batch (a running total of `loss`, not of `loss.item()`, or a list "
                "of loss tensors). Each batch's graph then stays alive until the epoch ends. Add "
                "up loss.item(), the Python number.",
                kind=kind,
                where=where,
                kept_loss=f"{watch.kept_loss!r}",
            )
        )

    # The result: identical parameters to the reference run, and the mean loss.
    ref_params = list(ref_model.parameters())
    for (name, p), q, b in zip(model.named_parameters(), ref_params, before, strict=True):
        delta, ref_delta = (p.detach() - b).double(), (q.detach() - b).double()
        scale = float(ref_delta.abs().max())
        if not torch.allclose(delta, ref_delta, rtol=1e-4, atol=1e-4 * scale):
            raise CheckFailed(
                tr(
                    "{kind} {where}: after the epoch, parameter {name} differs from the reference "
                    "run from the same seed (largest difference of the update: {max}, update size "
                    "{scale}). Train on every batch in order, with the loss_fn and optimizer "
                    "passed in.",
                    kind=kind,
                    where=where,
                    name=name[2:],
                    max=f"{float((delta - ref_delta).abs().max()):.3g}",
                    scale=f"{scale:.3g}",
                )
            )
    value = _as_number(kind, tr("the returned mean loss"), got)
    if abs(value - expected) > 1e-6 * max(1.0, abs(expected)):
        losses = _batch_losses(seed, n_batches, batch_size, lr, nn.CrossEntropyLoss())
        message = tr(
            "{kind} {where}: returned {value}, expected the mean batch loss {expected}",
            kind=kind,
            where=where,
            value=f"{value:.6g}",
            expected=f"{expected:.6g}",
        )
        known = {
            N_("the sum of the batch losses, not their mean"): sum(losses),
            N_("the last batch's loss, not the mean"): losses[-1],
            N_("the first batch's loss, not the mean"): losses[0],
            N_("divided by the number of images, not of batches"): sum(losses)
            / len(loader.dataset),
        }
        for mistake, wrong in known.items():
            if abs(value - wrong) <= 1e-6 * max(1.0, abs(wrong)):
                message += "\n  " + known_mistake(mistake)
                break
        raise CheckFailed(message)
    if not any(getattr(bar, "total", None) == n_batches for bar in bars):
        raise CheckFailed(
            tr(
                "{kind} {where}: no progress bar over the {n_batches} batches. Wrap the loader in "
                "tqdm(...) so that the loop shows how far it has got.",
                kind=kind,
                where=where,
                n_batches=n_batches,
            )
        )
    refuse_if_tampered(kind)


def _batch_losses(seed, n_batches, batch_size, lr, loss_fn) -> list[float]:
    model, loader, optimizer = _loop_setup(seed, n_batches, batch_size, lr)
    losses = []
    for images, labels in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


# --------------------------------------------------------------------------------------
# Evaluation


def reference_evaluate(model, loader) -> float:
    device = next(model.parameters()).device
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            correct += (model(images).argmax(dim=1) == labels).sum().item()
            total += len(labels)
    return correct / total


def check_evaluate(student: Callable, *, seed: int | None = 0, public: bool = True) -> None:
    """``student(model, loader)`` returns the fraction of correctly classified images, with
    the model in eval mode and no gradients recorded."""
    kind = check_kind(public)
    refuse_if_tampered(kind)
    gen, seed = generator(seed)
    n = int(torch.randint(40, 90, (1,), generator=gen))
    batch_size = int(torch.randint(12, 30, (1,), generator=gen))
    if n % batch_size == 0:
        n += 1  # a short last batch, so a mean of per-batch accuracies is told apart
    images, labels = random_batch(gen, n)
    model_seed = int(torch.randint(0, 2**31, (1,), generator=gen))
    net = seeded_network(model_seed)
    # Make the network right about some images, so the accuracy is not near zero.
    with torch.no_grad():
        labels[: n // 2] = net(images[: n // 2]).argmax(dim=1)
    loader = DataLoader(TensorDataset(images, labels), batch_size=batch_size)
    where = tr(
        "(seed {seed}, {n} images in batches of {batch_size})",
        seed=seed,
        n=n,
        batch_size=batch_size,
    )
    model = nn.Sequential(Probe(), *net)
    model.train()
    before = [p.detach().clone() for p in model.parameters()]
    got, _ = _call(kind, "evaluate", student, model, loader)
    calls: list = model[0].calls  # type: ignore[assignment]
    if not calls:
        raise CheckFailed(
            tr("{kind} {where}: evaluate never ran the model.", kind=kind, where=where)
        )
    if any(training for training, _, _ in calls):
        raise CheckFailed(
            tr(
                "{kind} {where}: the model was in training mode. Call model.eval() first: layers "
                "such as dropout and batch norm behave differently when evaluating.",
                kind=kind,
                where=where,
            )
        )
    if any(grad_on for _, grad_on, _ in calls):
        raise CheckFailed(
            tr(
                "{kind} {where}: the forward passes recorded a graph. Evaluate under "
                "torch.no_grad(): no backward follows, so the graph only costs time and memory.",
                kind=kind,
                where=where,
            )
        )
    if any(not torch.equal(p.detach(), b) for p, b in zip(model.parameters(), before, strict=True)):
        raise CheckFailed(
            tr("{kind} {where}: evaluate changed the model's parameters.", kind=kind, where=where)
        )
    expected = reference_evaluate(net, loader)
    value = _as_number(kind, tr("the accuracy"), got)
    if abs(value - expected) > 1e-9:
        message = tr(
            "{kind} {where}: accuracy {value}, expected {expected}",
            kind=kind,
            where=where,
            value=f"{value:.6g}",
            expected=f"{expected:.6g}",
        )
        per_batch = []
        with torch.no_grad():
            for x, y in loader:
                per_batch.append((net(x).argmax(dim=1) == y).double().mean().item())
        known = {
            N_("a percentage, not a fraction between 0 and 1"): 100 * expected,
            N_("the number of correct images, not the fraction"): expected * n,
            N_("the mean of the per-batch accuracies (the last batch is shorter)"): sum(per_batch)
            / len(per_batch),
            N_("the last batch's accuracy only"): per_batch[-1],
        }
        for mistake, wrong in known.items():
            if abs(value - wrong) <= 1e-9 * max(1.0, abs(wrong)):
                message += "\n  " + known_mistake(mistake)
                break
        raise CheckFailed(message)
    refuse_if_tampered(kind)


integrity.watch(__import__(__name__, fromlist=["*"]))
