# %% [markdown]
# # 13. The training loop: CIFAR10, backward, step, and doing it fast
#
# Every earlier notebook computed one loss or one optimizer step. Here they come together:
# a small convolutional network learns to classify CIFAR10 images (32×32 colour pictures of
# ten kinds of object) with the loop that trains nearly every PyTorch model:
#
# | step | code | what it does |
# | --- | --- | --- |
# | reset | `optimizer.zero_grad()` | clears the gradients of the previous batch |
# | forward | `outputs = model(images)` | computes the logits, recording the graph |
# | loss | `loss = loss_fn(outputs, labels)` | one number: how wrong the batch is |
# | backward | `loss.backward()` | fills every parameter's `.grad` |
# | step | `optimizer.step()` | moves each parameter against its gradient |
#
# You will check the network's shapes by hand, find out what it lacks, watch one
# `backward()` fill the gradients, write the loop and the evaluation yourself, see why the
# way data reaches the model decides how fast all of it runs, and log a training run to
# TensorBoard.
#
# **Data.** Online, this notebook downloads the real CIFAR10 (about 170 MB). Offline, it
# writes a small *generated* stand-in in CIFAR10's own file format and says so in large
# letters. The code is the same either way. The stand-in is built to be hard in the way
# photographs are: every class has its own colour cast, but each image shows it either as
# it is or inverted (as in a photographic negative), over a random scene of gradients and
# soft blobs, under noise. The mean image of every class is the same grey, so no linear
# function of the pixels tells the classes apart.
#
# **How the checks work.** A tests cell follows each exercise; it prints nothing when your
# answer passes. Hidden checks with fresh random inputs run when the notebook is graded.

# %%
import copy
import math
import shutil
import time
from pathlib import Path

import matplotlib.pyplot as plt
import torch
import torch.nn as nn
import torchvision
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter
from tqdm.auto import tqdm

import autograder.checking.topics.training_loop  # noqa: F401 (the checks' snapshot of torch, taken first)
from autograder.checking import cifar10

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print("device:", device)

# %% [markdown]
# ## The data
#
# `load_cifar10` returns torchvision `CIFAR10` data sets. We keep this notebook quick by
# training on the first `N_TRAIN` images and testing on the first `N_TEST` (the cell below
# sets and prints both); on a GPU you can raise `N_TRAIN` to the full 50,000.

# %%
N_TRAIN, N_TEST = 1000, 500
train_set, test_set, generated = cifar10.load_cifar10(N_TRAIN, N_TEST)
classes = train_set.classes
print(f"{len(train_set)} training and {len(test_set)} test images; classes: {classes}")
print(f"this notebook uses the first {N_TRAIN} and {N_TEST} of them")

# %%
fig, axes = plt.subplots(2, 8, figsize=(10, 3))
for ax, i in zip(axes.flat, range(16), strict=True):
    image, label = train_set[i]  # a PIL image and an int, as torchvision gives them
    ax.imshow(image)
    ax.set_title(classes[label], fontsize=8)
    ax.axis("off")
fig.suptitle("generated training images" if generated else "CIFAR10 training images")
plt.show()

# %% [markdown]
# ## The network
#
# The network from the study notes, as an `nn.Sequential`. Each `Conv2d(in, out, 5,
# padding=2)` slides `out` filters of size 5×5 over the image; each `MaxPool2d(2)` keeps
# the largest value of every 2×2 square. `Flatten` turns each image's feature maps into one
# long vector for the `Linear` layers, and the last layer gives ten logits, one per class.


# %%
def make_net(relu=False):
    """The study notes' CIFAR10 network; relu=True adds a ReLU after each hidden layer."""
    act = nn.ReLU if relu else nn.Identity
    return nn.Sequential(
        nn.Conv2d(3, 32, 5, padding=2),
        act(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 5, padding=2),
        act(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2),
        act(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(1024, 64),
        act(),
        nn.Linear(64, 10),
    )


print(make_net())

# %% [markdown]
# (`nn.Identity` passes its input through unchanged: it keeps the layer numbering the same
# with and without ReLU.)
#
# A convolution with kernel size $k$, padding $p$ and stride $s$ turns a side of length
# $H$ into
#
# $$
# H_{\text{out}} = \left\lfloor \frac{H + 2p - k}{s} \right\rfloor + 1,
# $$
#
# and `MaxPool2d(2)` (kernel 2, stride 2) halves it, rounding down.
#
# ## Exercise 1: the shapes, by hand (2 points)
#
# For one input image of shape $(3, 32, 32)$, work out on paper the shape $(C, H, W)$ that
# comes out of each of the three `MaxPool2d` layers, and the length of the vector that
# `Flatten` gives: this is where the `1024` of `Linear(1024, 64)` comes from. Then write the
# rule for any image size, as two functions of the height and width of the input image:
#
# * `pool_shapes(height, width)`: a list of the three shapes after the three `MaxPool2d`
#   layers, each a tuple `(C, H, W)` of ints;
# * `flat_features(height, width)`: the length of the vector `Flatten` gives for one image.
#
# Use the formula above (`//` rounds down); do not run the network. The public check asks
# for $32 \times 32$; the hidden checks ask for other sizes, odd ones among them. They
# recognise a forgotten padding, all poolings or one of them forgotten, rounding up, a
# division with `/` instead of `//`, a channels-last order, one pooling too few and
# forgotten channels.


# %% answer="shapes"
def pool_shapes(height, width):
    ### BEGIN SOLUTION
    shapes = []
    for channels in (32, 32, 64):
        height = (height + 2 * 2 - 5) // 1 + 1  # the convolution keeps the size
        width = (width + 2 * 2 - 5) // 1 + 1
        height, width = height // 2, width // 2  # the pooling halves it, rounding down
        shapes.append((channels, height, width))
    return shapes
    ### END SOLUTION


def flat_features(height, width):
    ### BEGIN SOLUTION
    channels, h, w = pool_shapes(height, width)[-1]
    return channels * h * w
    ### END SOLUTION


# %% tests="shapes" points=2
# Public checks: the shapes of a 32 x 32 image, as the network really produces them.
from autograder.checking import Case, check_function
from autograder.checking.topics import training_loop

_forbid = [
    "autograder.checking.topics.training_loop.reference_pool_shapes",
    "autograder.checking.topics.training_loop.reference_flat_features",
    "autograder.checking.topics.training_loop.course_network",
    "__main__.make_net",
]
_cases = [Case("one 32 x 32 image", (32, 32))]
check_function(
    pool_shapes,
    training_loop.reference_pool_shapes,
    _cases,
    mistakes=training_loop.shape_mistakes(),
    forbid=_forbid,
)
check_function(
    flat_features,
    training_loop.reference_flat_features,
    _cases,
    mistakes=training_loop.flat_mistakes(),
    forbid=_forbid,
)
### BEGIN HIDDEN TESTS
_cases = training_loop.shape_cases(seed=None)
check_function(
    pool_shapes,
    training_loop.reference_pool_shapes,
    _cases,
    public=False,
    mistakes=training_loop.shape_mistakes(),
    forbid=_forbid,
)
check_function(
    flat_features,
    training_loop.reference_flat_features,
    _cases,
    public=False,
    mistakes=training_loop.flat_mistakes(),
    forbid=_forbid,
)
### END HIDDEN TESTS

# %% [markdown]
# ## What this network lacks
#
# Look at the list of layers again: there is no activation function (such as ReLU) between
# them. A `Linear` layer computes $W x + b$, and two of them in a row compute
#
# $$
# W_2 (W_1 x + b_1) + b_2 = (W_2 W_1)\, x + (W_2 b_1 + b_2),
# $$
#
# which is again *one* linear layer. So `Linear(1024, 64)` followed by `Linear(64, 10)` can
# do no more than a single `Linear(1024, 10)` (less, in fact: its weight has rank at most
# 64). The same holds for convolutions, which are linear too. The only thing in this network
# that is not linear is max pooling, which picks the largest of four values: a weak kind of
# nonlinearity. Deep networks get their power from stacking *nonlinear* layers.
#
# ## Exercise 2: two linear layers are one (2 points)
#
# Write `merge_linears(first, second)` for two `nn.Linear` layers (`first` feeds
# `second`). Return a tuple `(weight, bias)`: the weight and bias of the single linear layer
# that computes `second(first(x))` for every `x`. Remember that `nn.Linear` stores its
# weight as (out_features, in_features) and computes $x W^\top + b$.
#
# The checks use random layers of several sizes in float64 (tolerance $10^{-6}$) and the
# network's own last two layers, and leave the layers as they gave them (do not change
# their weights). They name the first layer's bias forgotten and the two biases added.


# %% answer="merge_linears"
def merge_linears(first, second):
    ### BEGIN SOLUTION
    weight = second.weight @ first.weight
    bias = second.weight @ first.bias + second.bias
    return weight, bias
    ### END SOLUTION


# %% tests="merge_linears" points=2
# Public checks: random layers and the network's own. Silence means they passed.
import torch

from autograder.checking import Case, check_function


def _merged(first, second):
    with torch.no_grad():
        return second.weight @ first.weight, second.weight @ first.bias + second.bias


def _linear_cases(seed):
    from autograder.checking import generator

    gen, _ = generator(seed)
    cases = []
    for i in range(4):
        a, b, c = (int(n) for n in torch.randint(1, 7, (3,), generator=gen))
        c = b if i == 0 else c  # one pair of equal widths, where b1 + b2 has a shape
        first = torch.nn.Linear(a, b, dtype=torch.float64)
        second = torch.nn.Linear(b, c, dtype=torch.float64)
        with torch.no_grad():
            for p in (*first.parameters(), *second.parameters()):
                p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64))
        cases.append(Case(f"Linear({a}, {b}) then Linear({b}, {c})", (first, second)))
    return cases


def _merge_mistakes():
    def second_bias_only(first, second):
        return second.weight @ first.weight, second.bias

    def biases_added(first, second):
        if first.out_features not in (1, second.out_features):
            return None
        return second.weight @ first.weight, first.bias + second.bias

    return {
        "the first layer's bias forgotten (it passes through W2)": second_bias_only,
        "the biases added (b1 + b2) instead of W2 b1 + b2": biases_added,
    }


_net = make_net()
_net_case = [Case("the network's Linear(1024, 64) then Linear(64, 10)", (_net[-3], _net[-1]))]
check_function(merge_linears, _merged, _linear_cases(seed=7), mistakes=_merge_mistakes())
check_function(merge_linears, _merged, _net_case, rtol=1e-5, atol=1e-6, mistakes=_merge_mistakes())
### BEGIN HIDDEN TESTS
check_function(
    merge_linears,
    _merged,
    _linear_cases(seed=None),
    public=False,
    mistakes=_merge_mistakes(),
)
### END HIDDEN TESTS

# %% [markdown]
# Your merged layer really does replace the last two layers of the network:

# %%
with torch.no_grad():
    net = make_net()
    merged = nn.Linear(1024, 10)
    merged.weight.copy_(merge_linears(net[-3], net[-1])[0])
    merged.bias.copy_(merge_linears(net[-3], net[-1])[1])
    features = torch.randn(5, 1024)
    difference = (net[-1](net[-3](features)) - merged(features)).abs().max()
print(f"largest difference between the two layers and the merged one: {difference:.2e}")

# %% [markdown]
# At the end of this notebook you will train the network as the notes give it and with a
# ReLU after each hidden layer, and compare.
#
# ## One backward pass
#
# A fresh network has no gradients yet: every parameter's `.grad` is `None`. `backward()`
# on a loss computes $\partial \text{loss} / \partial \theta$ for every parameter $\theta$
# the loss depends on and stores it in `θ.grad`, a tensor of the parameter's own shape.
# Note that `backward()` *adds* to `.grad`; it never replaces it. That is why a training
# loop resets the gradients before every backward.
#
# ## Exercise 3: `backward_once` (2 points)
#
# Write `backward_once(model, loss_fn, images, labels)`: run the model on the images,
# compute the loss with `loss_fn`, call `backward()` once, and return the loss (the 0-dim
# tensor). Do not change the parameters.
#
# The checks use fresh networks and random batches, and compare the returned loss and every
# parameter's gradient with PyTorch's; they notice a missing or a doubled `backward()`.


# %% answer="backward_once"
def backward_once(model, loss_fn, images, labels):
    ### BEGIN SOLUTION
    loss = loss_fn(model(images), labels)
    loss.backward()
    return loss
    ### END SOLUTION


# %% tests="backward_once" points=2
# Public checks: a fixed network and batch. Silence means they passed.
from autograder.checking.topics.training_loop import check_backward_once

check_backward_once(backward_once, seed=1)
check_backward_once(backward_once, seed=2)
### BEGIN HIDDEN TESTS
check_backward_once(backward_once, seed=None, public=False)
check_backward_once(backward_once, seed=None, public=False)
### END HIDDEN TESTS

# %% [markdown]
# Here is what it does to the first convolution's weight, on four training images:

# %%
net = make_net()
images = torch.stack([torchvision.transforms.ToTensor()(train_set[i][0]) for i in range(4)])
labels = torch.tensor([train_set[i][1] for i in range(4)])
print("before:", net[0].weight.grad)
loss = backward_once(net, nn.CrossEntropyLoss(), images, labels)
print("loss:", loss.item())
print(
    "after: a tensor of shape",
    tuple(net[0].weight.grad.shape),
    "like the weight itself,",
    tuple(net[0].weight.shape),
)

# %% [markdown]
# ## Why the study notes' loop is slow
#
# The notes train with a `DataLoader(..., batch_size=1)` over a data set whose `transform`
# is `ToTensor()`. For *every image* that means: index a NumPy array, build a PIL image,
# convert it back to a tensor (a division and a transpose), wrap it in a batch of one, then
# run a forward, a backward and an optimizer step that each launch dozens of small
# operations. The Python and launch overhead is paid 50,000 times per epoch, and a
# convolution on one image cannot use the parallelism of a batch. On a GPU it is worse:
# the GPU waits for Python nearly all the time.
#
# The course's loop avoids every one of those costs:
#
# * **sensible batches** (64 to 512 at a time): the overhead is paid once per batch;
# * **the whole data set as one `uint8` tensor** of shape $(N, 3, 32, 32)$, on the device
#   when it fits (50,000 CIFAR10 images are 150 MB), so a batch is one indexing operation;
# * **normalisation on the device**, as one tensor operation per batch;
# * **no PIL and no per-image transform** in the loop.
#
# Let's measure both on a few hundred images:


# %%
def images_per_second(loader, n_images, warmup=3):
    """Training images per second, timed after a few warm-up batches (the first batches
    of a new shape pay one-off setup costs)."""
    model = make_net().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    seen = 0
    for batch, (images, labels) in enumerate(loader):
        if batch == warmup:
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss_fn(model(images), labels).backward()
        optimizer.step()
        if batch >= warmup:
            seen += len(labels)
            if seen >= n_images:
                break
    if device.type == "cuda":
        torch.cuda.synchronize()
    return seen / (time.perf_counter() - start)


slow_set = copy.copy(train_set)  # the same data set, read the notes' way: PIL, then ToTensor
slow_set.transform = torchvision.transforms.ToTensor()
slow_loader = DataLoader(slow_set, batch_size=1, shuffle=True)
train_images, train_labels = cifar10.as_tensors(train_set, N_TRAIN)
fast_loader = cifar10.DeviceLoader(
    train_images, train_labels, batch_size=64, shuffle=True, device=device
)
slow = images_per_second(slow_loader, 100)
fast = images_per_second(fast_loader, 640)
print(f"batch 1 through a DataLoader with ToTensor: {slow:8.0f} images/s")
print(f"batches of 64 from one uint8 tensor:        {fast:8.0f} images/s ({fast / slow:.1f}x)")

# %% [markdown]
# Your figures depend on your machine. `benchmarks/train_speed.py` (`make bench-train`)
# measures this properly, in several rounds on 10,000 images; on the machine this course was
# written on (**CPU only, 2 threads**, load average about 4 to 6 from other programs) it
# recorded, at best:
#
# | loop | images per second |
# | --- | --- |
# | the notes': batch 1, DataLoader + ToTensor | 504 |
# | the course's: batches of 128 from one uint8 tensor | 2,791 |
# | the network alone, on one preloaded batch | 2,808 |
#
# The course's loop is **5.5 times** as fast as the notes', and reaches **99.4 %** of what the
# computation alone allows: on a CPU the convolutions themselves cost most of the time, so
# batching cannot gain more than that here. Much of the gain comes from spreading a batch
# over several threads; on a machine busy with other programs those threads wait for each
# other, and `torch.set_num_threads(1)` can then be faster. No GPU was available to measure
# the same loops; on one, run `make bench-train` and read its figures.
#
# ## Exercise 4: normalisation on the device (2 points)
#
# Networks train best on inputs of mean about 0 and standard deviation about 1 in each
# channel. torchvision's `ToTensor()` followed by `Normalize(mean, std)` does this image by
# image; you will do it for a whole batch at once.
#
# Write `normalize(images, mean, std)`: `images` is a `uint8` tensor of shape
# $(N, 3, H, W)$ (values 0 to 255) on any device, `mean` and `std` are sequences of three
# floats (per channel, on the 0 to 1 scale). Return a `float32` tensor on the same device:
#
# $$
# \text{out}_{n,c,h,w} = \frac{\text{images}_{n,c,h,w} / 255 - \text{mean}_c}{\text{std}_c}
# $$
#
# Use tensor operations (broadcasting helps: reshape `mean` to $(1, 3, 1, 1)$). torchvision's
# `Normalize`, `normalize`, `ToTensor` and `to_tensor` are not allowed. The checks compare
# with `ToTensor` + `Normalize` on random images (widths of 3 among them), means and
# standard deviations given as lists and as tuples, and leave `images` as they gave it;
# they name a forgotten division by 255 or by the standard deviation, the mean subtracted
# on the 0 to 255 scale, mean and standard deviation swapped, and a broadcast against the
# width instead of the channels.


# %% answer="normalize"
def normalize(images, mean, std):
    ### BEGIN SOLUTION
    mean = torch.as_tensor(mean, dtype=torch.float32, device=images.device).view(1, -1, 1, 1)
    std = torch.as_tensor(std, dtype=torch.float32, device=images.device).view(1, -1, 1, 1)
    return (images.to(torch.float32) / 255 - mean) / std
    ### END SOLUTION


# %% tests="normalize" points=2
# Public checks: random uint8 images against ToTensor + Normalize. Silence means they passed.
import torch
import torchvision.transforms.functional as TF

from autograder.checking import Case, check_function

_forbid = [
    "torchvision.transforms.Normalize",
    "torchvision.transforms.functional.normalize",
    "torchvision.transforms.ToTensor",
    "torchvision.transforms.functional.to_tensor",
]


def _reference_normalize(images, mean, std):
    return torch.stack(
        [TF.normalize(TF.to_tensor(TF.to_pil_image(image)), mean, std) for image in images]
    )


def _normalize_cases(seed):
    from autograder.checking import generator

    gen, _ = generator(seed)
    cases = [
        Case(
            "CIFAR10's mean and std",
            (
                torch.randint(0, 256, (2, 3, 32, 32), generator=gen, dtype=torch.uint8),
                [0.4914, 0.4822, 0.4465],
                [0.2470, 0.2435, 0.2616],
            ),
        )
    ]
    for i in range(4):
        n, h, w = (int(v) for v in torch.randint(1, 6, (3,), generator=gen))
        w = 3 if i == 0 else w  # a width of 3 broadcasts against mean and std by mistake
        images = torch.randint(0, 256, (n, 3, h, w), generator=gen, dtype=torch.uint8)
        mean = (torch.rand(3, generator=gen) * 0.8 + 0.1).tolist()
        std = (torch.rand(3, generator=gen) * 0.4 + 0.1).tolist()
        cases.append(Case(f"{n} images of {h}x{w}", (images, tuple(mean), tuple(std))))
    return cases


def _normalize_mistakes():
    def no_255(images, mean, std):
        m = torch.tensor(mean).view(1, -1, 1, 1)
        return (images.float() - m) / torch.tensor(std).view(1, -1, 1, 1)

    def no_std(images, mean, std):
        return images.float() / 255 - torch.tensor(mean).view(1, -1, 1, 1)

    def swapped(images, mean, std):
        return _reference_normalize(images, std, mean)

    def last_dimension(images, mean, std):
        if images.shape[-1] != 3:
            return None
        return (images.float() / 255 - torch.tensor(mean)) / torch.tensor(std)

    def mean_before_255(images, mean, std):
        m = torch.tensor(mean).view(1, -1, 1, 1)
        return (images.float() - m) / 255 / torch.tensor(std).view(1, -1, 1, 1)

    return {
        "the division by 255 forgotten": no_255,
        "the division by std forgotten": no_std,
        "mean and std swapped": swapped,
        "mean and std broadcast against the last dimension (the width), not the channels: "
        "view them as (1, 3, 1, 1)": last_dimension,
        "the mean subtracted before the division by 255 (it is on the 0 to 1 scale)": (
            mean_before_255
        ),
    }


check_function(
    normalize,
    _reference_normalize,
    _normalize_cases(seed=11),
    rtol=1e-5,
    atol=1e-5,
    mistakes=_normalize_mistakes(),
    forbid=_forbid,
)
### BEGIN HIDDEN TESTS
check_function(
    normalize,
    _reference_normalize,
    _normalize_cases(seed=None),
    rtol=1e-5,
    atol=1e-5,
    public=False,
    mistakes=_normalize_mistakes(),
    forbid=_forbid,
)
### END HIDDEN TESTS

# %% [markdown]
# The course's loader, `cifar10.DeviceLoader`, does exactly this inside its loop (with
# the division folded into one multiply-add): it keeps the `uint8` images on the device,
# takes a random permutation each epoch, and yields normalised batches. We use the mean
# and standard deviation of *our* training images:

# %%
mean, std = cifar10.channel_stats(train_images)
print("per-channel mean:", [round(m, 3) for m in mean], " std:", [round(s, 3) for s in std])
test_images, test_labels = cifar10.as_tensors(test_set, N_TEST)
train_loader = cifar10.DeviceLoader(
    train_images, train_labels, 32, shuffle=True, mean=mean, std=std, device=device, seed=0
)
test_loader = cifar10.DeviceLoader(test_images, test_labels, 250, mean=mean, std=std, device=device)
images, labels = next(iter(train_loader))
print("a batch:", tuple(images.shape), images.dtype, images.device, "labels:", labels[:8].tolist())

# %% [markdown]
# ## Exercise 5: `train_one_epoch` (4 points)
#
# Write `train_one_epoch(model, loader, loss_fn, optimizer, device)`, one pass over the
# training data:
#
# 1. `model.train()` first (an evaluation leaves the model in eval mode);
# 2. for each `(images, labels)` batch of `tqdm(loader, leave=False)` (a progress bar that
#    disappears when the epoch is over; `tqdm.auto`, imported above, draws it as a widget
#    in Jupyter): move both to `device`, then `optimizer.zero_grad()`, forward, loss,
#    `loss.backward()`, `optimizer.step()`;
# 3. keep a running total of `loss.item()`: the Python number, *not* the loss tensor.
#    Adding the tensors, as the study notes do, keeps every batch's graph alive until the
#    epoch ends, even if you call `.item()` on the total at the very end;
# 4. return the mean of the batch losses, a Python float.
#
# Use the `loss_fn` and `optimizer` you are given. The checks train a copy of the network
# with your loop and another with a reference loop, from the same seed on the same
# batches, and require identical parameters afterwards. They also watch your loop run, and
# name what is wrong: a missing `zero_grad()`, a `step()` before `backward()`, eval mode,
# a loss kept as a tensor from one batch to the next, a tensor instead of a float, the sum
# instead of the mean, a missing progress bar.


# %% answer="train_one_epoch"
def train_one_epoch(model, loader, loss_fn, optimizer, device):
    ### BEGIN SOLUTION
    model.train()
    running = 0.0
    for images, labels in tqdm(loader, leave=False):
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        running += loss.item()
    return running / len(loader)
    ### END SOLUTION


# %% tests="train_one_epoch" points=4
# Public checks: a reference run from a fixed seed. Silence means they passed.
from autograder.checking.topics.training_loop import check_train_one_epoch

check_train_one_epoch(train_one_epoch, seed=0)
check_train_one_epoch(train_one_epoch, seed=1, n_batches=3, batch_size=5)
### BEGIN HIDDEN TESTS
check_train_one_epoch(train_one_epoch, seed=None, public=False)
check_train_one_epoch(train_one_epoch, seed=None, public=False, n_batches=5, batch_size=4)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 6: `evaluate` (2 points)
#
# Write `evaluate(model, loader)`: the fraction of images whose largest logit is the right
# class (a float between 0 and 1), over all batches of `loader`. Put the model in eval mode
# with `model.eval()` and run it under `torch.no_grad()`: no backward follows, so recording
# the graph would only cost time and memory. Move each batch to the model's device,
# `next(model.parameters()).device`.
#
# Count correct images over the whole set: the last batch may be shorter, so a mean of
# per-batch accuracies is not the same thing. The checks name that mistake, a percentage
# instead of a fraction, and a model left in training mode or recording gradients.


# %% answer="evaluate"
def evaluate(model, loader):
    ### BEGIN SOLUTION
    device = next(model.parameters()).device
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            correct += (model(images).argmax(dim=1) == labels).sum().item()
            total += len(labels)
    return correct / total
    ### END SOLUTION


# %% tests="evaluate" points=2
# Public checks: a fixed network and data. Silence means they passed.
from autograder.checking.topics.training_loop import check_evaluate

check_evaluate(evaluate, seed=0)
check_evaluate(evaluate, seed=1)
### BEGIN HIDDEN TESTS
check_evaluate(evaluate, seed=None, public=False)
check_evaluate(evaluate, seed=None, public=False)
### END HIDDEN TESTS

# %% [markdown]
# ## Training, and logging it to TensorBoard
#
# Now the real run: the study notes' network, cross-entropy, and the Adam optimizer with a
# learning rate that follows a cosine from $10^{-3}$ down over the epochs (notebooks 10 to
# 12). Two choices make the run honest:
#
# * **Initialisation.** PyTorch's default initialisation makes the signal shrink from layer
#   to layer, and a ReLU, which zeroes about half of its inputs, shrinks it further: the
#   ReLU network would then sit on a plateau for epochs, its loss stuck at $\ln 10$. The
#   *He* (or Kaiming) initialisation scales each layer's random weights so that the signal
#   keeps its size through ReLUs (`nonlinearity="relu"`), or through no activation at all
#   (`"linear"`). The last layer starts at zero, so that the first loss is exactly
#   $\ln 10 \approx 2.30$, the loss of a uniform guess (notebook 3).
# * **A record of the run.** Each epoch writes the mean training loss, the test accuracy
#   and the learning rate with `torch.utils.tensorboard.SummaryWriter`, one folder per run
#   under `runs/`. In a terminal, `tensorboard --logdir runs` shows the curves in a browser
#   while training goes on, and keeps them for comparing runs later; the plots below show
#   the same numbers.

# %%
EPOCHS = 3
RUNS = Path("runs")
shutil.rmtree(RUNS, ignore_errors=True)  # each run of this notebook starts a fresh log


def initialise(model, relu):
    """He initialisation for every layer, and a last layer of zeros (first loss: ln 10)."""
    for layer in model:
        if isinstance(layer, nn.Conv2d | nn.Linear):
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu" if relu else "linear")
            nn.init.zeros_(layer.bias)
    nn.init.zeros_(model[-1].weight)
    return model


def train(relu, epochs=EPOCHS, seed=0):
    torch.manual_seed(seed)
    model = initialise(make_net(relu=relu), relu).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loss_fn = nn.CrossEntropyLoss()
    name = "with_relu" if relu else "without_relu"
    writer = SummaryWriter(RUNS / name)
    with torch.no_grad():
        images, labels = next(iter(train_loader))
        first = loss_fn(model(images.to(device)), labels.to(device)).item()
    history = {"loss": [], "accuracy": [evaluate(model, test_loader)], "lr": []}
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        lr = optimizer.param_groups[0]["lr"]
        loss = train_one_epoch(model, train_loader, loss_fn, optimizer, device)
        accuracy = evaluate(model, test_loader)
        scheduler.step()
        for key, value in (("loss", loss), ("accuracy", accuracy), ("lr", lr)):
            history[key].append(value)
        writer.add_scalar("loss/train", loss, epoch)
        writer.add_scalar("accuracy/test", accuracy, epoch)
        writer.add_scalar("learning_rate", lr, epoch)
    writer.close()
    seconds = time.perf_counter() - start
    print(
        f"{name.replace('_', ' ')}: first loss {first:.3f} (ln 10 = {math.log(10):.3f}), "
        f"final loss {history['loss'][-1]:.3f}, test accuracy {history['accuracy'][-1]:.1%}, "
        f"{epochs * len(train_images) / seconds:.0f} training images/s"
    )
    return history


linear_history = train(relu=False)


# %%
def plot_histories(histories):
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    for name, history in histories.items():
        epochs = range(1, len(history["loss"]) + 1)
        left.plot(epochs, history["loss"], marker="o", label=name)
        right.plot(range(len(history["accuracy"])), history["accuracy"], marker="o", label=name)
    left.set(xlabel="epoch", ylabel="mean training loss", title="loss")
    right.set(xlabel="epoch", ylabel="test accuracy", title="accuracy", ylim=(0, 1))
    right.axhline(0.1, color="grey", linestyle=":", label="chance")
    for ax in (left, right):
        ax.legend()
    plt.show()


plot_histories({"the notes' network": linear_history})

# %% [markdown]
# ## What ReLU changes
#
# Now the same run, the same seed, the same data, with a ReLU after every hidden layer
# (`make_net(relu=True)`).

# %%
relu_history = train(relu=True)
plot_histories({"without ReLU": linear_history, "with ReLU": relu_history})

# %% [markdown]
# On the generated stand-in (the offline default), the network with ReLU learns what the
# network without it barely can. The reason is in the data and in the layers:
#
# * **The data.** Each class is a colour cast that appears as it is or inverted. A linear
#   function of the pixels gives the two versions opposite scores, so it cannot call both
#   "class $k$": no linear map separates the classes. A ReLU can: $\operatorname{relu}(u) +
#   \operatorname{relu}(-u) = |u|$ responds to the cast whatever its sign.
# * **The layers.** Without ReLU the network is, apart from max pooling, a linear function
#   of the pixels, and two linear layers are one (Exercise 2). Max pooling is a nonlinearity
#   too, but a weak one here: it picks the largest of four neighbouring values, which only
#   bends the function where neighbouring pixels differ, as at the image's zero-padded
#   border. That is why the network without ReLU gets somewhat above chance, and no
#   further in a few epochs.
#
# **On the real CIFAR10**, which this notebook downloads when it can: this course was
# written on a machine without internet access, so it quotes no figure for it; read your
# own. Expect both networks to learn (photographs have plenty that even a nearly linear
# model can use, such as colour and brightness) and the ReLU network to end ahead, with
# both far below what the network reaches with all 50,000 images and many more epochs:
# `N_TRAIN` images and three epochs are a demonstration, not a training run.
#
# Try it: train both for more epochs (`train(relu=True, epochs=10)`), then compare the two
# runs in TensorBoard.
#
# ## Summary
#
# * The loop: `zero_grad`, forward, loss, `backward`, `step`, on every batch; add up
#   `loss.item()`, never the loss tensor.
# * Log every epoch (loss, accuracy, learning rate) with `SummaryWriter`; look at the runs
#   with `tensorboard --logdir runs`.
# * Initialise for the activation you use (He for ReLU), and check that the first loss is
#   about $\ln C$.
# * `backward()` fills `.grad` and *adds* to it; that is why the gradients are reset.
# * `model.train()` for training, `model.eval()` and `torch.no_grad()` for evaluating.
# * Two linear layers with nothing between them are one linear layer.
# * Speed comes from the data path: batches, one `uint8` tensor on the device, and
#   normalisation there, with no per-image work in Python.
