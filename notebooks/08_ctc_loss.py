# %% [markdown]
# # 8. CTC: a loss for sequences that come without an alignment
#
# A speech recogniser sees one second of audio as, say, 50 frames of features and must
# output the word "cat": three letters. The training data says which *words* were spoken,
# but not which *frames* belong to which letter. Handwriting recognition has the same
# problem: a line of text is read as a row of narrow pixel columns, the label is the text,
# and nobody marked where one letter ends and the next begins.
#
# **Connectionist Temporal Classification** (CTC, Graves et al., 2006) gets around the
# missing alignment. The network outputs one probability distribution over symbols *per
# frame*; the loss adds up the probability of *every* way of laying the target out over
# the frames, and takes minus the log of that sum.
#
# | name | symbol | in PyTorch |
# | --- | --- | --- |
# | frames (time steps) | $T$ | `log_probs.shape[0]`; per sequence `input_lengths` |
# | classes, the blank included | $C$ | `log_probs.shape[-1]` |
# | target labels, never the blank | $y = (y_1, \dots, y_S)$ | `targets`; `target_lengths` |
# | the blank symbol | written `-` here | `blank` (default `0`) |
# | a path: one symbol per frame | $\pi = (\pi_1, \dots, \pi_T)$ | never built explicitly |
#
# The loss is `nn.CTCLoss` and `F.ctc_loss`. In this notebook you collapse paths, count
# alignments by hand, and then implement the *forward recursion* that computes the loss
# in time proportional to $T \cdot S$: first for one sequence, then for a batch with every
# option of `F.ctc_loss`.
#
# **How the checks work.** Each exercise is followed by a cell of *public checks*. They run
# your code against PyTorch on fixed inputs: if the cell prints nothing, they passed. When
# your notebook is graded, *hidden checks* run as well, on fresh random inputs, so passing
# the public checks is a good sign but not yet full marks.

# %%
import itertools
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

import autograder.checking.topics.ctc_loss  # noqa: F401 (the checks load before any answer)

torch.set_printoptions(precision=4)

# %% [markdown]
# ## When a practitioner picks CTC
#
# CTC fits a task when all of these hold:
#
# * the output is a sequence of labels in the **same order** as the input (monotonic);
# * the output is **no longer** than the input: at most one label per frame;
# * there are **no frame-level labels**, only the transcript of the whole sequence.
#
# Typical uses: speech recognition (wav2vec 2.0, a network pre-trained on unlabelled audio,
# is usually fine-tuned into a speech recogniser with a CTC loss on top), handwriting and
# scene-text recognition (the CRNN family: a *convolutional* network reads the image column
# by column and a *recurrent* network, one that carries a state from one column to the next,
# turns the columns into per-frame class scores for CTC), keyword spotting, and reading DNA
# from nanopore signals.
#
# CTC assumes that, given the input, the frames' outputs are independent of each other: the
# network cannot look at the letter it emitted a frame ago. That makes training and decoding
# fast and parallel (no decoder runs step by step) and suits streaming, but spelling must be
# learned by the encoder or supplied by a language model at decoding time. When the output
# may reorder the input (translation) an attention encoder-decoder trained with
# cross-entropy is the usual choice; an RNN-Transducer (RNN-T, a CTC-like loss with a small
# second network that predicts the next label from the labels emitted so far) keeps CTC's
# monotonic alignment but lets each output depend on the previous ones. If you *do* have a
# label for every frame, plain per-frame cross-entropy is simpler.

# %% [markdown]
# ## Blanks and collapsing repeats
#
# A **path** $\pi$ gives one symbol to every frame, chosen from all $C$ classes, the blank
# included. The **collapse** map $\mathcal{B}$ turns a path into a label sequence in two steps:
#
# 1. merge every run of equal symbols into one symbol;
# 2. delete the blanks.
#
# | path ($T = 8$) | after merging runs | after deleting blanks |
# | --- | --- | --- |
# | `cc-aaa-t` | `c-a-t` | `cat` |
# | `-c--at--` | `-c-at-` | `cat` |
# | `ccaatttt` | `cat` | `cat` |
# | `t-oo--o-` | `t-o-o-` | `too` |
# | `tooooooo` | `to` | `to` |
#
# The blank does two jobs. It lets the network say "no new symbol here" on frames between
# letters (silence, the gap between two pen strokes); trained CTC models output the blank on
# most frames, with short spikes for the labels. And it is the only way to write a double
# letter: `oo` on consecutive frames merges into one `o`, so the two `o`s of "too" need a
# blank between them.
#
# The order of the two steps matters: deleting blanks first would turn `o-o` into `oo` and
# then into a single `o`.

# %% [markdown]
# ## The probability of a target
#
# Each frame $t$ has its own distribution $p_t(k)$ over the $C$ classes, and frames are
# independent given the input, so a path has probability $\prod_t p_t(\pi_t)$. The
# probability of the target is the sum over all the paths that collapse to it, and the loss
# is minus its logarithm:
#
# $$
# p(y \mid x) = \sum_{\pi:\ \mathcal{B}(\pi) = y} \ \prod_{t=1}^{T} p_t(\pi_t)
# \qquad\qquad
# \ell = -\log p(y \mid x)
# $$
#
# ### Worked example
#
# Three frames, classes $(-, a, b)$ with the blank at index 0, every frame uniform
# ($p_t(k) = 1/3$), target $y = ab$. Five paths of length 3 collapse to `ab`:
# `-ab`, `a-b`, `aab`, `ab-`, `abb`. Each has probability $(1/3)^3$, so
#
# $$
# p(ab \mid x) = \frac{5}{27}, \qquad \ell = \ln\frac{27}{5} = 1.6864
# $$
#
# `F.ctc_loss` takes `log_probs` of shape $(T, N, C)$, **time first**, holding
# log-probabilities (the output of `log_softmax`), `targets` of shape $(N, S)$, and one input
# length and one target length per sequence:

# %%
log_probs = torch.full((3, 1, 3), 1 / 3, dtype=torch.float64).log()  # (T, N, C)
targets = torch.tensor([[1, 2]])  # a = 1, b = 2
loss = F.ctc_loss(log_probs, targets, torch.tensor([3]), torch.tensor([2]), reduction="sum")
print("F.ctc_loss:", loss, "   ln(27/5) =", math.log(27 / 5))

# %% [markdown]
# `F.ctc_loss` does not normalise its input. Give it raw scores instead of
# log-probabilities and it returns a number without complaint, but a wrong one (here even a
# negative "loss"):

# %%
scores = torch.tensor([[[2.0, 0.5, -1.0]], [[0.0, 1.0, 3.0]], [[1.0, 1.0, 1.0]]])
right = F.ctc_loss(scores.log_softmax(2), targets, [3], [2], reduction="sum")
wrong = F.ctc_loss(scores, targets, [3], [2], reduction="sum")
print(f"with log_softmax: {right:.4f}    raw scores: {wrong:.4f}")

# %% [markdown]
# ## The alignment lattice
#
# Enumerating paths is hopeless: their number grows exponentially with $T$. Instead, write
# the target with a blank before, between and after its labels. This **extended target**
#
# $$
# y' = (-, y_1, -, y_2, -, \dots, -, y_S, -)
# $$
#
# has $2S + 1$ positions. Every path that collapses to $y$ is a walk through a grid whose
# rows are the positions $s = 0, \dots, 2S$ of $y'$ and whose columns are the frames. From
# one frame to the next the walk may
#
# * **stay** on its row (the same symbol again, merged by the collapse);
# * **step** one row down (the next symbol of $y'$);
# * **skip** two rows down, jumping over a blank, but only if $y'_s$ is a label that
#   differs from $y'_{s-2}$. Between two *equal* labels the blank cannot be skipped: it is
#   exactly the blank that keeps them apart.
#
# A walk starts at frame 1 on row 0 (a blank) or row 1 (the first label) and must end at
# frame $T$ on row $2S$ (the final blank) or $2S - 1$ (the last label).
#
# It follows that a target needs at least $S + r$ frames, where $r$ counts the neighbouring
# equal labels (`aab` has $r = 1$ and needs 4 frames). With fewer frames no path exists,
# $p(y \mid x) = 0$ and the loss is $+\infty$; the option `zero_infinity` exists for that case.
#
# The picture shows the lattice of `aab` over 6 frames. Grey nodes lie on no complete walk;
# the red cross marks the skip that is forbidden because both sides are `a`; the orange
# line is one path, `a-aabb`.

# %%
lattice_target, lattice_frames = "aab", 6
ext = "-" + "-".join(lattice_target) + "-"  # the extended target y'
rows = len(ext)


def skip_allowed(s):
    return s >= 2 and ext[s] != "-" and ext[s] != ext[s - 2]


def moves(s):
    return [s, s + 1] + ([s + 2] if s + 2 < rows and skip_allowed(s + 2) else [])


forward = [{0, 1}]  # rows reachable at each frame from the start
for _ in range(lattice_frames - 1):
    forward.append({n for s in forward[-1] for n in moves(s) if n < rows})
backward = [{rows - 1, rows - 2}]  # rows from which the end can still be reached
for _ in range(lattice_frames - 1):
    backward.insert(0, {s for s in range(rows) if set(moves(s)) & backward[0]})
alive = [forward[t] & backward[t] for t in range(lattice_frames)]

fig, ax = plt.subplots(figsize=(8, 4.2))
styles = {1: ("tab:gray", "stay"), 0: ("tab:blue", "step"), 2: ("tab:green", "skip")}
drawn = set()
for t in range(lattice_frames - 1):
    for s in alive[t]:
        for n in moves(s):
            if n in alive[t + 1]:
                color, name = styles[1 if n == s else (0 if n == s + 1 else 2)]
                ax.annotate(
                    "",
                    xy=(t + 2, n),
                    xytext=(t + 1, s),
                    arrowprops={"arrowstyle": "->", "color": color, "shrinkA": 7, "shrinkB": 7},
                )
                drawn.add(name)
for t in range(lattice_frames):
    for s in range(rows):
        on = s in alive[t]
        ax.plot(t + 1, s, "o", ms=13, color="white", mec="black" if on else "lightgray")
        ax.text(t + 1, s, ext[s], ha="center", va="center", color="black" if on else "lightgray")
ax.annotate(
    "",
    xy=(3, 3),
    xytext=(2, 1),
    arrowprops={"arrowstyle": "->", "color": "red", "ls": "--", "shrinkA": 7, "shrinkB": 7},
)
ax.plot([2.5], [2], "x", color="red", ms=12, mew=2)
ax.text(2.62, 1.8, "no skip a -> a", color="red", fontsize=8)
path = "a-aabb"
ax.plot(range(1, 7), [1, 2, 3, 3, 5, 5], color="tab:orange", lw=7, alpha=0.35, zorder=0)
for name in ("stay", "step", "skip"):
    color = next(c for c, n in styles.values() if n == name)
    ax.plot([], [], color=color, label=name)
ax.plot([], [], color="tab:orange", lw=7, alpha=0.35, label=f"path {path}")
ax.set_xticks(range(1, lattice_frames + 1))
ax.set_yticks(range(rows), [f"s={s}  {c}" for s, c in enumerate(ext)])
ax.set_ylim(rows - 0.5, -0.5)
ax.set_xlabel("frame t")
ax.set_title(f"CTC lattice of '{lattice_target}' over {lattice_frames} frames")
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Exercise 1: collapse a path (1 point)
#
# Implement `collapse(path, blank=0)`: `path` is a list of class indices (Python `int`s),
# and the result is the list of labels it collapses to, also a list of `int`s. Merge runs
# of equal symbols first, then delete the blanks.
#
# Once a network is trained, this function is also the simplest CTC *decoder*: take the
# most likely class at every frame and collapse ("greedy" or "best path" decoding).
#
# The checks try an empty path, a path of blanks only, repeats separated by a blank, and
# random paths with a random blank index; they want a list of Python `int`s (not tensors),
# and recognise the two steps done in the wrong order, and either step forgotten.


# %% answer="collapse"
def collapse(path, blank=0):
    ### BEGIN SOLUTION
    labels = []
    previous = None
    for symbol in path:
        if symbol != previous and symbol != blank:
            labels.append(symbol)
        previous = symbol
    return labels
    ### END SOLUTION


# %% tests="collapse" points=1
# Public checks: fixed paths and random ones. Silence means they passed.
from autograder.checking import check_function
from autograder.checking.topics.ctc_loss import (
    collapse_cases,
    collapse_mistakes,
    collapse_reference,
)

check_function(
    collapse,
    collapse_reference,
    collapse_cases(seed=11),
    mistakes=collapse_mistakes(),
    floats=True,
)
### BEGIN HIDDEN TESTS
check_function(
    collapse,
    collapse_reference,
    collapse_cases(seed=None, draws=30),
    public=False,
    mistakes=collapse_mistakes(),
    floats=True,
)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 2: the loss by enumeration (2 points)
#
# Before the efficient recursion, compute the loss the slow way, straight from its
# definition: list every path that collapses to the target and add up their probabilities.
# Work with plain Python: lists, strings, `itertools.product`, `math.log` (torch is not
# needed, and its CTC functions are not allowed):
#
# * `alignments(target, frames, alphabet="-ab")`: every string of `frames` symbols from
#   `alphabet` (whose first symbol, `-`, is the blank) that collapses to the string
#   `target`, as a **sorted** list. For example `alignments("ab", 3)` has five entries, the
#   paths of the worked example above.
# * `ctc_loss_by_hand(probs, target, alphabet="-ab")`: `probs` is a list of rows, one per
#   frame, each holding the probabilities of the symbols of `alphabet` in order; return
#   $-\ln p(\text{target} \mid x)$, the sum over `alignments(target, len(probs), alphabet)` of
#   the product of the path's probabilities, as a Python `float` (not a tensor).
#
# Try it on this table, three frames over $(-, a, b)$:
#
# | frame | $p(-)$ | $p(a)$ | $p(b)$ |
# | --- | --- | --- | --- |
# | 1 | 0.5 | 0.4 | 0.1 |
# | 2 | 0.3 | 0.3 | 0.4 |
# | 3 | 0.6 | 0.1 | 0.3 |
#
# What is the loss of `ab`? And of `aa`? Mind which paths really collapse to `aa`.
#
# The public checks use this table and these two targets. The hidden checks use other
# tables of two to four frames over `-ab` and `-abc`, with other targets (double letters
# among them), and compare with `F.ctc_loss` (relative tolerance $10^{-9}$). They name paths
# collapsed in the wrong order or without merging, the most likely path taken instead of
# the sum, a probability given instead of minus its log, and paths of the shorter target
# counted for a double letter.


# %% answer="alignments_by_hand"
def alignments(target, frames, alphabet="-ab"):
    ### BEGIN SOLUTION
    found = []
    for path in itertools.product(alphabet, repeat=frames):
        merged = [s for i, s in enumerate(path) if i == 0 or s != path[i - 1]]
        if "".join(s for s in merged if s != alphabet[0]) == target:
            found.append("".join(path))
    return sorted(found)
    ### END SOLUTION


def ctc_loss_by_hand(probs, target, alphabet="-ab"):
    ### BEGIN SOLUTION
    total = 0.0
    for path in alignments(target, len(probs), alphabet):
        total += math.prod(probs[t][alphabet.index(s)] for t, s in enumerate(path))
    return -math.log(total)
    ### END SOLUTION


# %% tests="alignments_by_hand" points=2
# Public checks: the table above, the targets 'ab' and 'aa'.
from autograder.checking import Case, check_function
from autograder.checking.topics import ctc_loss as ctc_cases

_table = [[0.5, 0.4, 0.1], [0.3, 0.3, 0.4], [0.6, 0.1, 0.3]]
_forbid = [
    "autograder.checking.topics.ctc_loss.paths_for",
    "autograder.checking.topics.ctc_loss.ctc_by_hand_reference",
    "torch.nn.functional.ctc_loss",
    "torch.ctc_loss",
    "torch.nn.CTCLoss",
]
_mistakes = ctc_cases.by_hand_mistakes()
check_function(
    alignments,
    ctc_cases.paths_for,
    [Case("target 'ab', 3 frames", ("ab", 3)), Case("target 'aa', 3 frames", ("aa", 3))],
    mistakes=ctc_cases.alignments_mistakes(),
    forbid=_forbid,
)
check_function(
    ctc_loss_by_hand,
    ctc_cases.ctc_by_hand_reference,
    [Case("the table above, target 'ab'", (_table, "ab")), Case("the table, 'aa'", (_table, "aa"))],
    rtol=1e-9,
    mistakes=_mistakes,
    forbid=_forbid,
    floats=True,
)
### BEGIN HIDDEN TESTS
_cases = ctc_cases.by_hand_cases(seed=None, draws=6)
check_function(
    alignments,
    ctc_cases.paths_for,
    [Case(c.label, (c.args[1], len(c.args[0])), c.kwargs) for c in _cases],
    public=False,
    mistakes=ctc_cases.alignments_mistakes(),
    forbid=_forbid,
)
check_function(
    ctc_loss_by_hand,
    ctc_cases.ctc_by_hand_reference,
    _cases,
    rtol=1e-9,
    public=False,
    mistakes=_mistakes,
    forbid=_forbid,
    floats=True,
)
### END HIDDEN TESTS

# %% [markdown]
# ## The forward recursion
#
# Let $\alpha_t(s)$ be the total probability of all walks through the lattice that cover
# frames $1, \dots, t$ and stand on row $s$ at frame $t$. The lattice rules give
#
# $$
# \begin{aligned}
# \alpha_1(0) &= p_1(-), \quad \alpha_1(1) = p_1(y_1), \quad \alpha_1(s) = 0 \ (s \ge 2) \\
# \alpha_t(s) &= p_t(y'_s)\,\big(\alpha_{t-1}(s) + \alpha_{t-1}(s-1)
#     + k_s\,\alpha_{t-1}(s-2)\big) \\
# p(y \mid x) &= \alpha_T(2S) + \alpha_T(2S-1)
# \end{aligned}
# $$
#
# with $\alpha_{t-1}(-1) = \alpha_{t-1}(-2) = 0$, and $k_s = 1$ where a skip into row $s$ is
# allowed ($y'_s \ne -$ and $y'_s \ne y'_{s-2}$), $k_s = 0$ elsewhere. For an empty target
# ($S = 0$) the only row is the blank and $p(y \mid x) = \alpha_T(0)$, the probability of
# blanks on every frame.
#
# That is $T \cdot (2S+1)$ numbers, each from at most three others, instead of a sum over
# exponentially many paths. Training also needs the gradient: PyTorch gets it from a
# mirror-image *backward* recursion ($\beta$, from the last frame to the first), while an
# implementation built from differentiable tensor operations, like yours below, gets it from
# autograd.
#
# ### Why log space
#
# A path's probability is a product of $T$ numbers below one. With $T = 600$ frames and
# probabilities around $1/20$ it is about $10^{-780}$, far below the smallest positive
# float64 ($\approx 5 \cdot 10^{-324}$): it becomes exactly 0 and the loss $+\infty$.
# So keep $\log\alpha$ instead: products become sums and sums become log-sum-exp,
#
# $$
# \log\alpha_t(s) = \log p_t(y'_s) + \operatorname{logsumexp}\big(\log\alpha_{t-1}(s),\
# \log\alpha_{t-1}(s-1),\ \log\alpha_{t-1}(s-2)\big)
# $$
#
# where the last term is left out (or set to $-\infty$) when the skip is not allowed. An
# impossible state has $\log\alpha = -\infty$, and `torch.logsumexp` handles that: the
# log-sum-exp of nothing but $-\infty$ is $-\infty$.

# %%
p = torch.full((600,), 1 / 20, dtype=torch.float64)
print(
    "product of 600 probabilities:", p.prod().item(), "   sum of their logs:", p.log().sum().item()
)
print("logsumexp(-inf, -inf) =", torch.logsumexp(torch.tensor([-math.inf, -math.inf]), dim=0))

# %% [markdown]
# ## Exercise 3: the CTC loss of one sequence (3 points)
#
# Implement `ctc_single(log_probs, target, blank=0)`:
#
# * `log_probs`: a floating tensor of shape $(T, C)$ with $T \ge 1$, the per-frame
#   log-probabilities;
# * `target`: an `int64` tensor of shape $(S,)$ with $S \ge 0$; it never contains `blank`;
# * `blank`: the index of the blank class, any of $0, \dots, C-1$.
#
# Return $-\log p(\text{target} \mid x)$ as a 0-dim tensor of the dtype of `log_probs`, or
# `inf` when no path can emit the target. Run the recursion on $\log\alpha$ as above; you
# may use `torch.logsumexp`. Calling `F.ctc_loss`, `nn.CTCLoss` or `torch.ctc_loss` is not
# allowed: the checks read your code and refuse it.
#
# One way to organise it: build the extended target `ext` (length $2S + 1$) and a boolean
# mask of the rows that may be skipped into; keep `log_alpha` as one vector of length
# $2S + 1$ filled with $-\infty$; at each frame, shift it down by one and by two rows
# (pad with $-\infty$ at the top) and combine the three with `torch.logsumexp` over a
# stacked dimension. A loop over rows inside the loop over frames works too, only more
# slowly.
#
# The checks compare with `F.ctc_loss` (relative tolerance $10^{-6}$) on: a repeated label,
# an empty target, a single frame, an infeasible target, the blank as the last class, a
# 600-frame sequence (which underflows without logs), and random sizes, blanks and targets.
# They recognise a probability instead of a loss, a missing minus sign, and a final sum
# that forgets one of the two end rows.


# %% answer="ctc_single"
def ctc_single(log_probs, target, blank=0):
    ### BEGIN SOLUTION
    T = log_probs.shape[0]
    S = target.shape[0]
    ext = torch.full((2 * S + 1,), blank, dtype=torch.long)
    ext[1::2] = target
    skip = torch.zeros(2 * S + 1, dtype=torch.bool)
    skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    minus_inf = torch.full((2 * S + 3,), -math.inf, dtype=log_probs.dtype)
    log_alpha = minus_inf[2:].clone()
    log_alpha[:2] = log_probs[0, ext[:2]]  # start on the first blank or the first label
    for t in range(1, T):
        padded = torch.cat([minus_inf[:2], log_alpha])  # rows -2 and -1 are impossible
        stay, step, jump = padded[2:], padded[1:-1], padded[:-2]
        jump = torch.where(skip, jump, minus_inf[2:])
        log_alpha = torch.logsumexp(torch.stack([stay, step, jump]), dim=0) + log_probs[t, ext]
    return -torch.logsumexp(log_alpha[-2:], dim=0)
    ### END SOLUTION


# %% tests="ctc_single" points=3
# Public checks: the worked example, edge cases and random sequences, against F.ctc_loss.
import torch

from autograder.checking import Case, check_function
from autograder.checking.topics.ctc_loss import (
    CTC_FORBID,
    single_cases,
    single_mistakes,
    torch_ctc_single,
)

_uniform = torch.full((3, 3), 1 / 3, dtype=torch.float64).log()
_example = [Case("worked example: uniform, 3 frames, target ab", (_uniform, torch.tensor([1, 2])))]
check_function(
    ctc_single,
    torch_ctc_single,
    _example + single_cases(seed=31),
    mistakes=single_mistakes(),
    forbid=CTC_FORBID,
)
### BEGIN HIDDEN TESTS
check_function(
    ctc_single,
    torch_ctc_single,
    single_cases(seed=None, draws=16),
    public=False,
    mistakes=single_mistakes(),
    forbid=CTC_FORBID,
)
### END HIDDEN TESTS

# %% [markdown]
# ## A batch: `F.ctc_loss` and its options
#
# ```python
# F.ctc_loss(log_probs, targets, input_lengths, target_lengths,
#            blank=0, reduction="mean", zero_infinity=False)
# ```
#
# * `log_probs` has shape $(T, N, C)$. Sequence $n$ uses only its first
#   `input_lengths[n]` frames; the frames after that are padding and are ignored.
# * `targets` comes in two forms. **Padded**: shape $(N, S_{\max})$, where row $n$ holds its
#   target in the first `target_lengths[n]` entries and anything after them. **Concatenated**:
#   one 1-D tensor with all targets one after the other, of length `target_lengths.sum()`.
# * `blank` is the blank's class index; it need not be 0 (some toolkits put it last).
# * `reduction="none"` gives the $N$ losses; `"sum"` adds them; `"mean"` is **not** their
#   plain mean: it first divides each loss by its target length (clamped to at least 1, so an
#   empty target divides by 1), then averages over the batch. This makes long and short
#   transcripts count alike per label.
# * `nn.CTCLoss(blank=0, reduction="mean", zero_infinity=False)` is the same loss as a
#   module; its forward takes the four tensors.
# * `zero_infinity=True` replaces infinite losses (targets their input is too short for)
#   by 0, so one bad sample in a batch cannot make the loss, and the gradients, infinite.
#
# ### Worked example
#
# Two sequences over the classes $(-, a, b)$: the first emits `abb` from 4 frames, the
# second has only 2 of the 4 frames and a target `aa` that needs 3, so its loss is infinite
# unless `zero_infinity` is set. The padded and the concatenated targets
# give the same result.

# %%
generator = torch.Generator().manual_seed(6)
log_probs = torch.randn(4, 2, 3, generator=generator, dtype=torch.float64).log_softmax(2)
padded = torch.tensor([[1, 2, 2], [1, 1, 0]])  # the 0 in row 2 is padding
concatenated = torch.tensor([1, 2, 2, 1, 1])
input_lengths, target_lengths = torch.tensor([4, 2]), torch.tensor([3, 2])
for zero_infinity in (False, True):
    losses = F.ctc_loss(
        log_probs,
        padded,
        input_lengths,
        target_lengths,
        reduction="none",
        zero_infinity=zero_infinity,
    )
    mean = F.ctc_loss(
        log_probs, concatenated, input_lengths, target_lengths, zero_infinity=zero_infinity
    )
    print(f"zero_infinity={zero_infinity}: none {losses}, mean {mean:.4f}")
print("mean by hand:", (losses / target_lengths.clamp(min=1)).mean())

# %% [markdown]
# ## Exercise 4: the CTC loss of a batch (4 points)
#
# Implement
#
# ```python
# ctc_loss(log_probs, targets, input_lengths, target_lengths,
#          blank=0, reduction="mean", zero_infinity=False)
# ```
#
# as `F.ctc_loss` defines it, for `log_probs` of shape $(T, N, C)$, `input_lengths` and
# `target_lengths` as `int64` tensors of shape $(N,)$ (every input length at least 1), and
# `targets` either padded $(N, S_{\max})$ or concatenated 1-D, of `int64` or `int32` (torch
# takes both). Return a tensor of shape $(N,)$ for `"none"` and a 0-dim tensor for `"sum"`
# and `"mean"`, of the dtype of `log_probs`; raise a `ValueError` for any other
# `reduction`.
#
# Calling your `ctc_single` from Exercise 3 for each sequence is a fine way to do it. The
# same functions as before are forbidden.
#
# Three cells of checks, all against `F.ctc_loss` with random sizes, input lengths (the
# frames past them hold random values), blank indices, repeated labels and `int32` targets,
# and batches as long as PyTorch's own tests (50 frames, targets up to 29 labels):
#
# 1. padded targets, every reduction, and `reduction="average"`, which must raise
#    `ValueError` (2 points);
# 2. concatenated targets, every reduction (1 point);
# 3. batches with an infeasible target, with `zero_infinity` `False` and `True` (1 point).
#
# They recognise the wrong reductions (among them a `"mean"` that forgets to divide by the
# target lengths), ignored input lengths, `blank` taken as 0, concatenated targets all
# read from the start, and an ignored `zero_infinity`.


# %% answer="ctc_loss"
def ctc_loss(
    log_probs,
    targets,
    input_lengths,
    target_lengths,
    blank=0,
    reduction="mean",
    zero_infinity=False,
):
    ### BEGIN SOLUTION
    starts = torch.cumsum(target_lengths, 0) - target_lengths
    losses = []
    for n in range(log_probs.shape[1]):
        frames, length = int(input_lengths[n]), int(target_lengths[n])
        if targets.dim() == 1:
            target = targets[int(starts[n]) : int(starts[n]) + length]
        else:
            target = targets[n, :length]
        losses.append(ctc_single(log_probs[:frames, n], target, blank))
    losses = torch.stack(losses)
    if zero_infinity:
        losses = torch.where(torch.isinf(losses), torch.zeros_like(losses), losses)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    if reduction == "mean":
        return (losses / target_lengths.clamp(min=1).to(losses.dtype)).mean()
    raise ValueError(f"{reduction} is not a valid value for reduction")
    ### END SOLUTION


# %% tests="ctc_loss" points=2
# Public checks: padded targets, every reduction. Silence means they passed.
import torch.nn.functional as F

from autograder.checking import check_function
from autograder.checking.topics.basic_losses import check_rejects_bad_reduction
from autograder.checking.topics.ctc_loss import CTC_FORBID, batch_cases, batch_mistakes

_cases = batch_cases(seed=41, form="padded")
check_function(
    ctc_loss,
    F.ctc_loss,
    _cases,
    mistakes=batch_mistakes(),
    forbid=CTC_FORBID,
)
check_rejects_bad_reduction(ctc_loss, _cases[0])
### BEGIN HIDDEN TESTS
check_function(
    ctc_loss,
    F.ctc_loss,
    batch_cases(seed=None, draws=8, form="padded"),
    public=False,
    mistakes=batch_mistakes(),
    forbid=CTC_FORBID,
)
### END HIDDEN TESTS

# %% tests="ctc_loss" points=1
# Public checks: concatenated 1-D targets, every reduction. Silence means they passed.
import torch.nn.functional as F

from autograder.checking import check_function
from autograder.checking.topics.ctc_loss import CTC_FORBID, batch_cases, batch_mistakes

check_function(
    ctc_loss,
    F.ctc_loss,
    batch_cases(seed=42, form="concatenated"),
    mistakes=batch_mistakes(),
    forbid=CTC_FORBID,
)
### BEGIN HIDDEN TESTS
check_function(
    ctc_loss,
    F.ctc_loss,
    batch_cases(seed=None, draws=8, form="concatenated"),
    public=False,
    mistakes=batch_mistakes(),
    forbid=CTC_FORBID,
)
### END HIDDEN TESTS

# %% tests="ctc_loss" points=1
# Public checks: an infeasible target in every batch, zero_infinity False and True.
import torch.nn.functional as F

from autograder.checking import check_function
from autograder.checking.topics.ctc_loss import CTC_FORBID, batch_cases, batch_mistakes

_cases = batch_cases(seed=43, form="padded", infeasible=True)
_cases += batch_cases(seed=44, form="concatenated", infeasible=True)
check_function(ctc_loss, F.ctc_loss, _cases, mistakes=batch_mistakes(), forbid=CTC_FORBID)
### BEGIN HIDDEN TESTS
_cases = batch_cases(seed=None, draws=6, form="padded", infeasible=True)
_cases += batch_cases(seed=None, draws=6, form="concatenated", infeasible=True)
check_function(
    ctc_loss, F.ctc_loss, _cases, public=False, mistakes=batch_mistakes(), forbid=CTC_FORBID
)
### END HIDDEN TESTS

# %% [markdown]
# ## Summary
#
# * CTC trains a network that outputs one distribution per frame on targets with no
#   frame-level alignment: speech, handwriting, any monotonic sequence shorter than its input.
# * A path collapses to its labels by merging runs, then deleting blanks; the blank fills
#   the frames between labels and is required between two equal labels.
# * The loss is $-\log$ of the summed probability of all paths that collapse to the target.
#   The lattice over the extended target $(-, y_1, -, \dots, y_S, -)$ turns that sum into a
#   forward recursion of $T \cdot (2S+1)$ steps, run in log space so that it cannot underflow.
# * A target needs at least $S$ frames plus one per pair of equal neighbours; otherwise the
#   loss is infinite, and `zero_infinity=True` sets it to 0.
# * `F.ctc_loss` wants log-probabilities of shape $(T, N, C)$, and its `"mean"` divides each
#   loss by its target length before averaging over the batch.
