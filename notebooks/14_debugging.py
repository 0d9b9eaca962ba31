# %% [markdown]
# # 14. Capstone: debug the training run
#
# Training code rarely crashes when it is wrong. More often it runs to the end and produces a
# loss curve that is subtly, or wildly, off, and the bug has to be found from the symptoms.
# This notebook collects the classic bugs of the course, each one something an earlier
# notebook warned about:
#
# | bug | where the course met it |
# | --- | --- |
# | softmax before cross-entropy | notebooks 1 and 4: the loss takes raw logits |
# | `BCELoss` on logits | notebook 5: `BCELoss` wants probabilities, `BCEWithLogitsLoss` logits |
# | a missing `zero_grad()` | notebook 2: `backward()` adds into `.grad` |
# | eval mode left on | notebook 13: `model.train()` at the start of every epoch |
# | the loss kept as a tensor | notebook 13: add up `loss.item()`, not `loss` |
# | a learning rate too high | notebooks 10 to 12: steps that overshoot |
# | labels shuffled apart from images | notebook 13: one permutation for both |
#
# First you read the reports of eight training runs, each broken in at most one of these
# ways, and write a function that names the bug from the symptoms. Then you repair a loop
# that has five of them at once, and the repaired loop is checked against a correct run.
#
# **How the checks work.** As before, public checks follow each exercise and print nothing
# when they pass; hidden checks at grading time use runs you have not seen.

# %%
import math

import matplotlib.pyplot as plt
import torch
import torch.nn as nn

from autograder.checking.topics import debugging

torch.set_num_threads(1)  # small networks: one thread is fastest
print("the verdicts to choose from:")
for verdict in debugging.VERDICTS:
    print("   ", repr(verdict))

# %% [markdown]
# ## The runs
#
# Each run trains a small classifier (two linear layers with a ReLU and dropout between
# them) on generated data with 3 to 6 classes, for four epochs, with SGD and momentum. What
# was logged comes back as a `dict`, the report of the run:
#
# | key | what it holds |
# | --- | --- |
# | `"num_classes"` | the number of classes $C$ |
# | `"loss"` | the mean training loss of every epoch (may hold `nan` or `inf`) |
# | `"test_accuracy"` | the test accuracy after every epoch |
# | `"first_loss"` | the loss of the very first batch, before any update |
# | `"grad_norm"` | the size of the whole gradient at every `optimizer.step()` |
# | `"output_range"` | the smallest and largest value the loss was given as `input` |
# | `"training_mode"` | `model.training` at every forward pass of the training loop |
# | `"returned"` | what one epoch of the loop returned: `"float"`, or a tensor with its `grad_fn` |
# | `"error"` | the error message if the run crashed, else `None` |
#
# A run that crashed has empty lists where it never got to. Here are eight runs: one of
# each bug and a healthy one, in a random order.

# %%
runs = [case.args[0] for case in debugging.report_cases(seed=2024)]


def summary(report):
    steps = len(report["grad_norm"]) // 4
    lines = [f"classes {report['num_classes']} (ln C = {math.log(report['num_classes']):.2f})"]
    if report["error"]:
        lines.append(f"error: {report['error'][:70]}")
    lines.append("loss per epoch: " + ", ".join(f"{v:.3g}" for v in report["loss"]))
    lines.append("test accuracy: " + ", ".join(f"{v:.2f}" for v in report["test_accuracy"]))
    if report["first_loss"] is not None:
        lines.append(f"first loss {report['first_loss']:.3f}")
    if steps:
        epoch_one = report["grad_norm"][:steps]
        lines.append(f"gradient norm in epoch 1: {epoch_one[0]:.3g} -> {epoch_one[-1]:.3g}")
    if report["output_range"]:
        low, high = report["output_range"]
        lines.append(f"loss input between {low:.3g} and {high:.3g}")
    modes = report["training_mode"]
    lines.append(f"training mode at {sum(modes)} of {len(modes)} forward passes")
    lines.append(f"an epoch returned: {report['returned']}")
    return "\n    ".join(lines)


for number, report in enumerate(runs, start=1):
    print(f"run {number}:\n    {summary(report)}")

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
for number, report in enumerate(runs, start=1):
    if report["loss"]:
        finite = [v if math.isfinite(v) and v < 1e3 else float("nan") for v in report["loss"]]
        left.plot(range(1, len(finite) + 1), finite, marker="o", label=f"run {number}")
        right.plot(range(1, len(finite) + 1), report["test_accuracy"], marker="o")
left.set(xlabel="epoch", ylabel="mean training loss (finite, below 1000)", yscale="log")
right.set(xlabel="epoch", ylabel="test accuracy", ylim=(0, 1.05))
left.legend(fontsize=8, ncol=2)
fig.suptitle("Eight runs, seven bugs and one healthy run")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Exercise 1: `diagnose` (4 points)
#
# Write `diagnose(report)`: return the verdict for one run, one of the strings in
# `debugging.VERDICTS` (`"no bug"` for a healthy run). Base it on the symptoms in the report,
# as you would in practice. Some questions to ask, most telling first:
#
# * Did it crash, and with what message?
# * Did an epoch hand back a tensor that still has its graph?
# * Was the model in training mode while it trained?
# * Did the loss become `nan` or infinite?
# * Was the loss given probabilities (everything between 0 and 1) instead of logits?
# * Within the first epoch, did the gradient grow step after step, although the loss
#   stayed finite? (Gradients that are never reset add up.)
# * Did the loss stay near $\ln C$, the loss of a guess (notebook 3), while nothing else
#   looks wrong?
#
# The public check gives your function the eight runs above. The hidden checks train ten
# fresh runs on other data (every verdict at least once) and compare your verdicts with the
# right ones. They name three confusions: a blown-up loss blamed on the missing
# `zero_grad`, a loss stuck at $\ln C$ blamed on the learning rate, and the two mix-ups of
# logits and probabilities taken for each other.


# %% answer="diagnose"
def diagnose(report):
    ### BEGIN SOLUTION
    if report["error"] and "between 0 and 1" in report["error"]:
        return debugging.BCE_ON_LOGITS
    if str(report["returned"]).startswith("a tensor"):
        return debugging.LOSS_TENSOR
    if not all(report["training_mode"]):
        return debugging.EVAL_MODE
    if not all(math.isfinite(v) for v in report["loss"]):
        return debugging.LR_TOO_HIGH
    low, high = report["output_range"]
    if low >= 0 and high <= 1:
        return debugging.SOFTMAX
    steps = len(report["grad_norm"]) // len(report["loss"])
    if report["grad_norm"][steps - 1] > 3 * report["grad_norm"][0]:
        return debugging.NO_ZERO_GRAD
    if report["loss"][-1] > 0.9 * math.log(report["num_classes"]):
        return debugging.SHUFFLED_LABELS
    return debugging.HEALTHY
    ### END SOLUTION


# %% tests="diagnose" points=4
# Public checks: the eight runs above. Silence means they passed.
from autograder.checking import check_function
from autograder.checking.topics import debugging

_forbid = ["autograder.checking.topics.debugging.reference_diagnose"]
check_function(
    diagnose,
    debugging.reference_diagnose,
    debugging.report_cases(seed=2024),
    mistakes=debugging.diagnose_mistakes(),
    forbid=_forbid,
)
### BEGIN HIDDEN TESTS
check_function(
    diagnose,
    debugging.reference_diagnose,
    debugging.report_cases(seed=None, draws=10),
    public=False,
    mistakes=debugging.diagnose_mistakes(),
    forbid=_forbid,
)
### END HIDDEN TESTS

# %% [markdown]
# ## A loop with five bugs
#
# Below is `buggy_fit`, a training function of the kind found in study notes. It trains a
# model for a few epochs on `inputs` and `targets`, shuffling every epoch with its own
# generator, and returns the mean loss of each epoch. It runs without an error, and it is
# wrong in five ways, every one from the table at the top. Read it and find them before you
# look at what it produces.


# %%
def buggy_fit(model, inputs, targets, loss_fn, optimizer, epochs=3, batch_size=32, seed=0):
    """Train ``model``; return the mean training loss of every epoch."""
    gen = torch.Generator().manual_seed(seed)
    history = []
    model.eval()
    for _ in range(epochs):
        order = torch.randperm(len(inputs), generator=gen)
        labels = targets[torch.randperm(len(targets))]
        running = 0.0
        for start in range(0, len(inputs), batch_size):
            batch = order[start : start + batch_size]
            outputs = torch.softmax(model(inputs[batch]), dim=1)
            loss = loss_fn(outputs, labels[start : start + batch_size])
            loss.backward()
            optimizer.step()
            running = running + loss
        history.append(running.item() / math.ceil(len(inputs) / batch_size))
    return history


task = debugging.make_task(7)
model = debugging.make_model(7, task["classes"])
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
print("buggy_fit's losses:", buggy_fit(model, *task["train"], nn.CrossEntropyLoss(), optimizer))

# %% [markdown]
# ## Exercise 2: `fit`, repaired (4 points)
#
# Write `fit(model, inputs, targets, loss_fn, optimizer, epochs=3, batch_size=32, seed=0)`:
# `buggy_fit` with its five bugs fixed and nothing else changed. In particular, keep its
# shuffling exactly as it is: one `torch.randperm(len(inputs), generator=gen)` per epoch from
# a generator seeded with `seed`, the batches taken in that order. Return the list of the
# epochs' mean losses as Python floats.
#
# The checks train one network with your `fit` and a twin with a correct one, from the same
# seed (dropout included), and require the same losses and the same parameters afterwards.
# Before that they watch your loop and name any bug that is left: eval mode, softmax before
# the loss, labels that do not belong to their images, a missing `zero_grad()`, and a loss
# kept as a tensor.


# %% answer="fit"
def fit(model, inputs, targets, loss_fn, optimizer, epochs=3, batch_size=32, seed=0):
    ### BEGIN SOLUTION
    gen = torch.Generator().manual_seed(seed)
    history = []
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(inputs), generator=gen)
        running = 0.0
        for start in range(0, len(inputs), batch_size):
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(inputs[batch]), targets[batch])
            loss.backward()
            optimizer.step()
            running += loss.item()
        history.append(running / math.ceil(len(inputs) / batch_size))
    return history
    ### END SOLUTION


# %% tests="fit" points=4
# Public checks: a run from a fixed seed. Silence means they passed.
from autograder.checking.topics.debugging import check_fit

check_fit(fit, seed=0)
### BEGIN HIDDEN TESTS
check_fit(fit, seed=None, public=False)
check_fit(fit, seed=None, public=False, epochs=2, batch_size=24)
### END HIDDEN TESTS

# %% [markdown]
# Your repaired loop on the same task as `buggy_fit` above:

# %%
model = debugging.make_model(7, task["classes"])
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
try:
    print("fit's losses:", fit(model, *task["train"], nn.CrossEntropyLoss(), optimizer))
except NotImplementedError:
    print("fit is not written yet")
else:
    model.eval()
    with torch.no_grad():
        inputs, labels = task["test"]
        print(f"test accuracy: {(model(inputs).argmax(1) == labels).double().mean():.1%}")

# %% [markdown]
# ## Summary: a checklist for a run that goes wrong
#
# * **Before training:** the first loss should be about $\ln C$ (notebook 3). Far above means
#   confident wrong predictions (initialisation, input scale); exactly the same loss whatever
#   the input means the labels or the data path are broken.
# * **The loss's input:** raw logits for `CrossEntropyLoss` and `BCEWithLogitsLoss`; never a
#   softmax or a sigmoid in front of them.
# * **Every batch:** `zero_grad()`, forward, loss, `backward()`, `step()`, in that order, in
#   training mode; images and labels indexed together.
# * **Bookkeeping:** add up `loss.item()`; a tensor total keeps every batch's graph.
# * **Watch the run:** log the loss, the accuracy, the learning rate and the gradient norm
#   (notebook 13's TensorBoard). `nan` points at the learning rate; a gradient that grows
#   step after step at gradients that are never reset; a loss stuck at $\ln C$ with healthy
#   gradients at the labels.
