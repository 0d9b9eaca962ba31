"""Topic 14, the capstone: broken training runs, their symptoms, and the fixed loop.

:func:`mystery_run` trains a small classifier on generated data with one of the loops in
:data:`BUGS` (or a healthy one) and returns what a practitioner would have logged: the loss
and accuracy per epoch, the first loss, the gradient norm at every step, the range of the
outputs given to the loss, the model's mode at every forward pass, what one epoch returned,
and the error if the run crashed. Students write ``diagnose(report)``; hidden checks draw
fresh runs. :func:`check_fit` checks the student's repair of :func:`buggy_fit`'s loop against
a reference run from the same seed and names what is still broken.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .. import (
    Case,
    CheckFailed,
    check_kind,
    compare,
    generator,
    integrity,
    refuse_if_tampered,
    student_errors,
)
from ..i18n import tr
from .training_loop import LoopWatch, Probe, RecordingLoss, run_captured

# The verdicts are answers: students return these strings from diagnose(), in either edition,
# so they are not translated (a message quotes them as they are).
SOFTMAX = "softmax before cross-entropy"  # not translated
BCE_ON_LOGITS = "BCELoss on logits"  # not translated
NO_ZERO_GRAD = "missing zero_grad"  # not translated
EVAL_MODE = "eval mode left on"  # not translated
LOSS_TENSOR = "loss kept as a tensor"  # not translated
LR_TOO_HIGH = "learning rate too high"  # not translated
SHUFFLED_LABELS = "labels shuffled apart from images"
HEALTHY = "no bug"  # not translated

BUGS = (SOFTMAX, BCE_ON_LOGITS, NO_ZERO_GRAD, EVAL_MODE, LOSS_TENSOR, LR_TOO_HIGH, SHUFFLED_LABELS)
VERDICTS = (*BUGS, HEALTHY)

FEATURES, HIDDEN = 16, 32
EPOCHS, BATCH, LR = 4, 32, 0.05


def make_task(seed: int, n_train: int = 256, n_test: int = 128) -> dict[str, Any]:
    """Gaussian clusters, one per class, in 16 dimensions: a small MLP learns them in seconds."""
    gen = torch.Generator().manual_seed(seed)
    classes = int(torch.randint(3, 7, (1,), generator=gen))
    centres = torch.randn(classes, FEATURES, generator=gen) * 1.2

    def draw(n):
        y = torch.randint(0, classes, (n,), generator=gen)
        return centres[y] + torch.randn(n, FEATURES, generator=gen), y

    x_train, y_train = draw(n_train)
    x_test, y_test = draw(n_test)
    return {"classes": classes, "train": (x_train, y_train), "test": (x_test, y_test)}


def make_model(seed: int, classes: int) -> nn.Sequential:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Sequential(
            nn.Linear(FEATURES, HIDDEN), nn.ReLU(), nn.Dropout(0.2), nn.Linear(HIDDEN, classes)
        )


class _Telemetry:
    """What a practitioner's logging would record while the loop runs."""

    def __init__(self, model: nn.Sequential):
        self.training_mode: list[bool] = []
        self.outputs_min, self.outputs_max = math.inf, -math.inf
        self.grad_norm: list[float] = []
        self.first_loss: float | None = None
        model[0].register_forward_pre_hook(self._forward)
        self.model = model

    def _forward(self, module, args):
        if torch.is_grad_enabled():
            self.training_mode.append(self.model.training)

    def loss_input(self, outputs: torch.Tensor) -> None:
        self.outputs_min = min(self.outputs_min, float(outputs.detach().min()))
        self.outputs_max = max(self.outputs_max, float(outputs.detach().max()))

    def loss_value(self, loss: torch.Tensor) -> None:
        if self.first_loss is None:
            self.first_loss = float(loss.detach())

    def step(self, optimizer, args, kwargs) -> None:
        grads = [p.grad for group in optimizer.param_groups for p in group["params"]]
        self.grad_norm.append(float(torch.sqrt(sum((g**2).sum() for g in grads if g is not None))))


def _epoch(kind: str, model, x, y, optimizer, tele: _Telemetry, gen: torch.Generator, classes):
    """One epoch of the loop ``kind`` (a bug from BUGS, or HEALTHY)."""
    if kind != EVAL_MODE:
        model.train()
    n = len(x)
    order = torch.randperm(n, generator=gen)
    labels_order = torch.randperm(n, generator=gen) if kind == SHUFFLED_LABELS else order
    running: Any = 0.0
    batches = 0
    for start in range(0, n, BATCH):
        xb, yb = x[order[start : start + BATCH]], y[labels_order[start : start + BATCH]]
        if kind != NO_ZERO_GRAD:
            optimizer.zero_grad()
        outputs = model(xb)
        if kind == SOFTMAX:
            outputs = torch.softmax(outputs, dim=1)
        tele.loss_input(outputs)
        if kind == BCE_ON_LOGITS:
            loss = F.binary_cross_entropy(outputs, F.one_hot(yb, classes).float())
        else:
            loss = F.cross_entropy(outputs, yb)
        tele.loss_value(loss)
        loss.backward()
        optimizer.step()
        running = running + loss if kind == LOSS_TENSOR else running + loss.item()
        batches += 1
    return running / batches


def _accuracy(model, x, y) -> float:
    model.eval()
    with torch.no_grad():
        return float((model(x).argmax(dim=1) == y).double().mean())


def mystery_run(kind: str, seed: int) -> dict[str, Any]:
    """Train with the loop ``kind`` on the task of ``seed``; return the run's report."""
    if kind not in VERDICTS:
        raise ValueError(f"unknown kind of run: {kind!r}")
    task = make_task(seed)
    classes = task["classes"]
    model = make_model(seed, classes)
    lr = LR * 1000 if kind == LR_TOO_HIGH else LR
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    tele = _Telemetry(model)
    optimizer.register_step_pre_hook(tele.step)
    gen = torch.Generator().manual_seed(seed + 1)
    report: dict[str, Any] = {
        "num_classes": classes,
        "loss": [],
        "test_accuracy": [],
        "first_loss": None,
        "grad_norm": tele.grad_norm,
        "output_range": None,
        "training_mode": tele.training_mode,
        "returned": None,
        "error": None,
    }
    if kind == EVAL_MODE:
        model.eval()  # as an evaluation before training leaves it
    x, y = task["train"]
    try:
        for _ in range(EPOCHS):
            returned = _epoch(kind, model, x, y, optimizer, tele, gen, classes)
            if report["returned"] is None:
                report["returned"] = (
                    # data the students' diagnose() reads, in either edition
                    f"a tensor with grad_fn={type(returned.grad_fn).__name__}"  # not translated
                    if isinstance(returned, torch.Tensor) and returned.grad_fn is not None
                    else type(returned).__name__
                )
            value = returned.detach() if isinstance(returned, torch.Tensor) else returned
            report["loss"].append(float(value))
            report["test_accuracy"].append(_accuracy(model, *task["test"]))
    except RuntimeError as error:
        report["error"] = f"RuntimeError: {error}"
    report["first_loss"] = tele.first_loss
    if tele.outputs_min <= tele.outputs_max:
        report["output_range"] = (tele.outputs_min, tele.outputs_max)
    return report


def reference_diagnose(report: dict[str, Any]) -> str:
    """The course's reading of a report (students write their own ``diagnose``)."""
    if report["error"] and "between 0 and 1" in report["error"]:
        return BCE_ON_LOGITS
    if str(report["returned"]).startswith("a tensor"):  # not translated
        return LOSS_TENSOR
    if not all(report["training_mode"]):
        return EVAL_MODE
    if not all(math.isfinite(v) for v in report["loss"]):
        return LR_TOO_HIGH
    low, high = report["output_range"]
    if low >= 0.0 and high <= 1.0:
        return SOFTMAX
    steps = len(report["grad_norm"]) // EPOCHS
    first_epoch = report["grad_norm"][:steps]
    if first_epoch[-1] > 3 * first_epoch[0]:
        return NO_ZERO_GRAD
    chance = math.log(report["num_classes"])
    if report["loss"][-1] > 0.9 * chance:
        return SHUFFLED_LABELS
    return HEALTHY


def report_cases(seed: int | None = None, *, draws: int = 8) -> list[Case]:
    """Fresh runs: every verdict once (healthy included), then random ones, shuffled."""
    gen, seed = generator(seed)
    kinds = list(VERDICTS) + [
        VERDICTS[int(i)]
        for i in torch.randint(0, len(VERDICTS), (max(0, draws - 8),), generator=gen)
    ]
    order = torch.randperm(len(kinds), generator=gen).tolist()
    cases = []
    for n, i in enumerate(order):
        for _ in range(20):  # a run whose symptoms are textbook: its bug shows as that bug
            run_seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen))
            report = mystery_run(kinds[i], run_seed)
            if reference_diagnose(report) == kinds[i]:
                break
        cases.append(Case(f"run {n + 1} (seed {seed})", (report,)))
    return cases


def diagnose_mistakes() -> dict[str, Callable]:
    def nan_is_zero_grad(report):
        verdict = reference_diagnose(report)
        return NO_ZERO_GRAD if verdict == LR_TOO_HIGH else None

    def plateau_is_lr(report):
        verdict = reference_diagnose(report)
        return LR_TOO_HIGH if verdict == SHUFFLED_LABELS else None

    def probabilities_swapped(report):
        verdict = reference_diagnose(report)
        return {SOFTMAX: BCE_ON_LOGITS, BCE_ON_LOGITS: SOFTMAX}.get(verdict)

    return {
        "the two mix-ups of logits and probabilities swapped: a loss given probabilities "
        "(all between 0 and 1) had a softmax in front of it; BCELoss on logits crashes with "
        "'between 0 and 1'": probabilities_swapped,
        "a loss that blows up to nan is a learning rate too high: missing zero_grad makes the "
        "gradients grow step by step within an epoch, but the loss stays finite": nan_is_zero_grad,
        "a loss that stays at ln C with healthy gradients is not a learning rate problem: the "
        "model cannot learn because its labels do not belong to its images": plateau_is_lr,
    }


# --- the fixed loop ---------------------------------------------------------------------


def reference_fit(model, inputs, targets, loss_fn, optimizer, epochs=3, batch_size=32, seed=0):
    """``buggy_fit`` repaired: the loop the students are asked to write."""
    gen = torch.Generator().manual_seed(seed)
    history = []
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(inputs), generator=gen)
        running, batches = 0.0, 0
        for start in range(0, len(inputs), batch_size):
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(inputs[batch]), targets[batch])
            loss.backward()
            optimizer.step()
            running += loss.item()
            batches += 1
        history.append(running / batches)
    return history


def _fit_setup(seed: int, lr: float):
    task = make_task(seed)
    model = nn.Sequential(Probe(keep_inputs=True), *make_model(seed, task["classes"]))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    return task, model, optimizer


def check_fit(
    student: Callable,
    *,
    seed: int | None = 0,
    public: bool = True,
    epochs: int = 3,
    batch_size: int = 32,
    lr: float = 0.05,
) -> None:
    """``student(model, inputs, targets, loss_fn, optimizer, epochs, batch_size, seed)`` must
    train as :func:`reference_fit` does; each bug of ``buggy_fit`` left in is named."""
    kind = check_kind(public)
    refuse_if_tampered(kind)
    _, seed = generator(seed)
    where = tr(
        "(seed {seed}, {epochs} epochs, batches of {batch_size})",
        seed=seed,
        epochs=epochs,
        batch_size=batch_size,
    )
    task, model, optimizer = _fit_setup(seed, lr)
    inputs, targets = task["train"]
    loss_fn = RecordingLoss(keep_inputs=True)
    model.eval()  # as an evaluation before training leaves it
    watch = LoopWatch(model, optimizer, getattr(student, "__code__", None), loss_fn)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)  # the dropout masks: the same for both runs
            with student_errors(kind, "fit"):
                got, _ = run_captured(
                    student,
                    model,
                    inputs.clone(),
                    targets.clone(),
                    loss_fn,
                    optimizer,
                    epochs,
                    batch_size,
                    seed,
                )
    finally:
        watch.close()
    _, ref_model, ref_optimizer = _fit_setup(seed, lr)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        expected = reference_fit(
            ref_model,
            inputs,
            targets,
            nn.CrossEntropyLoss(),
            ref_optimizer,
            epochs,
            batch_size,
            seed,
        )

    probe = model[0]
    assert isinstance(probe, Probe)
    batches = -(-len(inputs) // batch_size)
    if len(probe.inputs) != epochs * batches or len(loss_fn.given) != epochs * batches:
        raise CheckFailed(
            tr(
                "{kind} {where}: {n_inputs} forward passes and {n_given} calls of loss_fn for "
                "{epochs} epochs of {batches} batches; expected one of each per batch. Keep "
                "buggy_fit's loops and only repair what is broken.",
                kind=kind,
                where=where,
                n_inputs=len(probe.inputs),
                n_given=len(loss_fn.given),
                epochs=epochs,
                batches=batches,
            )
        )
    if any(training is False for training, grad_on, _ in probe.calls if grad_on):
        raise CheckFailed(
            tr(
                "{kind} {where}: {bug}. Call model.train() before training.",
                kind=kind,
                where=where,
                bug=EVAL_MODE,
            )
        )
    for batch, (outputs, given) in zip(probe.inputs, loss_fn.given, strict=True):
        if (
            float(outputs.min()) >= 0
            and float(outputs.max()) <= 1
            and torch.allclose(outputs.sum(dim=1), torch.ones(len(outputs)), atol=1e-4)
        ):
            raise CheckFailed(
                tr(
                    "{kind} {where}: {bug}: the loss was given probabilities. nn.CrossEntropyLoss "
                    "applies log-softmax itself: give it the raw logits.",
                    kind=kind,
                    where=where,
                    bug=SOFTMAX,
                )
            )
        rows = torch.cdist(batch, inputs).argmin(dim=1)
        if not torch.equal(targets[rows], given):
            raise CheckFailed(
                tr(
                    "{kind} {where}: {bug}: the targets given to the loss are not the labels of "
                    "the images in the batch. Index images and labels with the same permutation.",
                    kind=kind,
                    where=where,
                    bug=SHUFFLED_LABELS,
                )
            )
    if watch.stale_grad_at_backward:
        raise CheckFailed(
            tr(
                "{kind} {where}: {bug}: backward() added to the last batch's gradients. Call "
                "optimizer.zero_grad() before each backward().",
                kind=kind,
                where=where,
                bug=NO_ZERO_GRAD,
            )
        )
    if watch.kept_loss is not None:
        raise CheckFailed(
            tr(
                "{kind} {where}: {bug}: {kept_loss} keeps loss tensors, and their graphs, from "
                "batch to batch. Add up loss.item().",
                kind=kind,
                where=where,
                bug=LOSS_TENSOR,
                kept_loss=f"{watch.kept_loss!r}",
            )
        )
    if not isinstance(got, list) or len(got) != epochs or any(type(v) is not float for v in got):
        raise CheckFailed(
            tr(
                "{kind} {where}: return a list of {epochs} Python floats, one mean loss per "
                "epoch; got {got}",
                kind=kind,
                where=where,
                epochs=epochs,
                got=f"{got!r:.80}",
            )
        )
    problem = compare(got, expected, rtol=1e-5, atol=1e-7)
    if problem:
        raise CheckFailed(
            tr(
                "{kind} {where}: the mean losses differ from the reference run: {problem}",
                kind=kind,
                where=where,
                problem=problem,
            )
        )
    for (name, p), q in zip(model.named_parameters(), ref_model.parameters(), strict=True):
        if not torch.allclose(p.detach(), q.detach(), rtol=1e-4, atol=1e-6):
            raise CheckFailed(
                tr(
                    "{kind} {where}: after training, parameter {name} differs from the reference "
                    "run from the same seed. Shuffle as buggy_fit does (one torch.randperm with "
                    "the generator, per epoch) and train on every batch.",
                    kind=kind,
                    where=where,
                    name=name,
                )
            )
    refuse_if_tampered(kind)


integrity.watch(__import__(__name__, fromlist=["*"]))
