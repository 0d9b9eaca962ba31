"""CIFAR10 for the course: the real data set when it can be had, a generated stand-in when not.

The generated data set is written in CIFAR10's own on-disk format, the pickled batches of
``cifar-10-batches-py/`` (``data_batch_1`` to ``data_batch_5``, ``test_batch`` and
``batches.meta``), byte for byte the layout the original Python 2 pickles use, so
``pickle.load(f, encoding="bytes")`` shows ``{b"data": ..., b"labels": ...}`` as for the
real files and torchvision's parser reads it as it is.

One thing differs, and cannot be avoided: ``torchvision.datasets.CIFAR10`` checks every file
against the MD5 checksums of the *real* files, even with ``download=False``, so it refuses
any other content. :class:`GeneratedCIFAR10` is torchvision's class with only those
checksums replaced by the generated files' own (recorded in ``generated.json`` when the
files are written); the reading code is torchvision's.

The images are learnable, but not by a linear model: each class has its own colour cast,
shown either as it is or inverted (as in a photographic negative) over a random scene and
noise, so the mean image of every class is the same grey and no linear function of the
pixels separates the classes (as in real photographs, where a linear classifier on the
pixels does poorly). A network with ReLUs learns them within seconds. They are not
photographs, and accuracy on them says nothing about accuracy on CIFAR10.

Command line::

    python -m autograder.checking.cifar10 --root data/ --train 50000 --test 10000
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import socket
import struct
import tempfile
from pathlib import Path

import numpy as np
import torch

from .. import paths

BASE_FOLDER = "cifar-10-batches-py"
LABEL_NAMES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]
TRAIN_FILES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_FILE = "test_batch"
META_FILE = "batches.meta"
MANIFEST = "generated.json"
DATA_ROOT = paths.ROOT / "data"
REAL_ROOT = DATA_ROOT / "cifar10"
CIFAR10_HOST = "www.cs.toronto.edu"
# The per-channel mean and standard deviation of the real CIFAR10 training images.
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)

BANNER = """\
################################################################################
##  USING GENERATED DATA, NOT CIFAR10.                                        ##
##  CIFAR10 could not be downloaded (no internet?), so these are synthetic    ##
##  images in CIFAR10's file format: a colour cast per class, as it is or     ##
##  inverted, over a random scene and noise. Loss and accuracy behave like a  ##
##  real run, but their values say nothing about CIFAR10. Online, the same    ##
##  code uses the real data set.                                              ##
################################################################################"""


# --------------------------------------------------------------------------------------
# The images


def class_colours() -> np.ndarray:
    """Ten unit directions in RGB space, one per class: the axes through opposite vertices of
    a regular dodecahedron, as evenly spread as ten directions (up to sign) can be."""
    phi = (1 + 5**0.5) / 2
    vertices: list[tuple[float, float, float]] = [
        (a, b, c) for a in (-1.0, 1.0) for b in (-1.0, 1.0) for c in (-1.0, 1.0)
    ]
    for a in (-1, 1):
        for b in (-1, 1):
            vertices += [(0, a / phi, b * phi), (a / phi, b * phi, 0), (a * phi, 0, b / phi)]
    axes: list[np.ndarray] = []
    for v in np.array(vertices, dtype=np.float64):
        v = v / np.linalg.norm(v)
        if not any(abs(v @ u) > 0.999 for u in axes):
            axes.append(v if v[np.argmax(np.abs(v))] > 0 else -v)
    return np.array(axes)


def generate_images(n: int, *, seed: int = 0, split: str = "train") -> tuple[np.ndarray, list]:
    """``n`` images as CIFAR10 stores them: uint8 rows of 3072 (red, green, blue planes).

    Each class has its own colour cast (:func:`class_colours`) over the whole picture, and
    every image shows it either as it is or inverted, like a photographic negative, with a
    random strength, over a random "scene" (a colour gradient and three soft blobs) and
    pixel noise. The mean image of every class is the same grey, so, as with photographs,
    no linear function of the pixels tells the classes apart: a network needs a
    nonlinearity to see the cast whatever its sign.

    Labels cycle through the ten classes in a shuffled order, so every class has
    ``n // 10`` or one more images. ``split`` seeds the draws, so train and test differ.
    """
    colours = class_colours()
    rng = np.random.default_rng([seed, {"train": 1, "test": 2}[split]])
    labels = rng.permutation(np.arange(n) % 10)
    yy, xx = np.meshgrid(np.arange(32.0), np.arange(32.0), indexing="ij")
    data = np.empty((n, 3, 32, 32), dtype=np.uint8)
    for i, label in enumerate(labels):
        sign = rng.choice([-1.0, 1.0])
        strength = rng.uniform(30, 45)
        image = 128 + sign * strength * colours[label][:, None, None] + np.zeros((3, 32, 32))
        slopes = rng.normal(0, 20, size=(3, 2))
        image += (
            slopes[:, 0, None, None] * (xx - 16) / 16 + slopes[:, 1, None, None] * (yy - 16) / 16
        )
        for _ in range(3):
            cy, cx = rng.uniform(0, 32, size=2)
            radius = rng.uniform(3, 9)
            blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * radius**2))
            image += rng.normal(0, 30, size=3)[:, None, None] * blob
        image += rng.normal(0, 15, size=(3, 32, 32))
        data[i] = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return data.reshape(n, 3072), [int(x) for x in labels]


# --------------------------------------------------------------------------------------
# The files: Python 2 pickles, written opcode by opcode


class _Py2Str(bytes):
    """A Python 2 ``str``: read back as ``bytes`` (encoding="bytes") or latin-1 ``str``."""


def _dump(obj, out: list[bytes]) -> None:
    if isinstance(obj, _Py2Str):
        n = len(obj)
        out.append((b"U" + bytes([n]) if n < 256 else b"T" + struct.pack("<i", n)) + obj)
    elif obj is None:
        out.append(b"N")
    elif isinstance(obj, bool):
        out.append(b"\x88" if obj else b"\x89")
    elif isinstance(obj, int):
        out.append(b"K" + bytes([obj]) if 0 <= obj < 256 else b"J" + struct.pack("<i", obj))
    elif isinstance(obj, str):
        _dump(_Py2Str(obj.encode("latin-1")), out)
    elif isinstance(obj, tuple):
        if len(obj) == 0:
            out.append(b")")
            return
        if len(obj) > 3:
            out.append(b"(")
        for item in obj:
            _dump(item, out)
        out.append({1: b"\x85", 2: b"\x86", 3: b"\x87"}.get(len(obj), b"t"))
    elif isinstance(obj, list):
        out.append(b"]")
        if obj:
            out.append(b"(")
            for item in obj:
                _dump(item, out)
            out.append(b"e")
    elif isinstance(obj, dict):
        out.append(b"}(")
        for key, value in obj.items():
            _dump(key, out)
            _dump(value, out)
        out.append(b"u")
    elif isinstance(obj, np.ndarray):
        # What Python 2's numpy wrote: _reconstruct(ndarray, (0,), 'b') then __setstate__.
        assert obj.dtype == np.uint8 and obj.flags.c_contiguous
        out.append(b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n")
        _dump((0,), out)
        _dump("b", out)
        out.append(b"\x87R")  # _reconstruct((ndarray, (0,), 'b'))
        out.append(b"(K\x01")
        _dump(tuple(obj.shape), out)
        out.append(b"cnumpy\ndtype\n")
        _dump(("u1", False, True), out)
        out.append(b"R")
        _dump((3, "|", None, None, None, -1, -1, 0), out)
        out.append(b"b")
        _dump(False, out)
        _dump(_Py2Str(obj.tobytes()), out)
        out.append(b"tb")
    else:
        raise TypeError(f"cannot write {type(obj).__name__}")


def py2_pickle(obj) -> bytes:
    """``obj`` pickled (protocol 2) as Python 2 wrote CIFAR10: every string a py2 ``str``."""
    out = [b"\x80\x02"]
    _dump(obj, out)
    out.append(b".")
    return b"".join(out)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def write_generated(root: str | os.PathLike, n_train: int, n_test: int, seed: int = 0) -> Path:
    """Write a generated data set under ``root/cifar-10-batches-py``; return that folder.

    The training images are split over the five ``data_batch_*`` files as evenly as
    possible. The folder is written elsewhere first and moved into place, so a reader
    never sees half of it (and two writers at once both end with a complete copy).
    """
    if n_train < 5 or n_test < 1:
        raise ValueError("need at least 5 training images (one per batch file) and 1 test image")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    final = root / BASE_FOLDER
    tmp = Path(tempfile.mkdtemp(prefix=".cifar-gen-", dir=root))
    try:
        train, train_labels = generate_images(n_train, seed=seed, split="train")
        bounds = np.linspace(0, n_train, 6).astype(int)
        for i, name in enumerate(TRAIN_FILES):
            lo, hi = bounds[i], bounds[i + 1]
            batch = {
                "batch_label": f"training batch {i + 1} of 5 (generated, not CIFAR10)",
                "labels": train_labels[lo:hi],
                "data": np.ascontiguousarray(train[lo:hi]),
                "filenames": [
                    f"generated_{LABEL_NAMES[y]}_{lo + j:05d}.png"
                    for j, y in enumerate(train_labels[lo:hi])
                ],
            }
            (tmp / name).write_bytes(py2_pickle(batch))
        test, test_labels = generate_images(n_test, seed=seed, split="test")
        batch = {
            "batch_label": "testing batch 1 of 1 (generated, not CIFAR10)",
            "labels": test_labels,
            "data": test,
            "filenames": [
                f"generated_{LABEL_NAMES[y]}_{j:05d}.png" for j, y in enumerate(test_labels)
            ],
        }
        (tmp / TEST_FILE).write_bytes(py2_pickle(batch))
        meta = {
            "num_cases_per_batch": int(bounds[1] - bounds[0]),
            "label_names": LABEL_NAMES,
            "num_vis": 3072,
        }
        (tmp / META_FILE).write_bytes(py2_pickle(meta))
        manifest = {
            "generated": True,
            "note": "synthetic images in CIFAR10's format, made by autograder.checking.cifar10",
            "train": n_train,
            "test": n_test,
            "seed": seed,
            "generator": generator_version(),
            "md5": {p.name: _md5(p) for p in sorted(tmp.iterdir())},
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
        if final.exists():
            shutil.rmtree(final)
        try:
            os.replace(tmp, final)
        except OSError:  # another writer got there first: its copy is just as good
            if not (final / MANIFEST).exists():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def read_manifest(root: str | os.PathLike) -> dict | None:
    path = Path(root) / BASE_FOLDER / MANIFEST
    return json.loads(path.read_text()) if path.exists() else None


# --------------------------------------------------------------------------------------
# Reading


def _torchvision_cifar10():
    from torchvision.datasets import CIFAR10

    return CIFAR10


def generated_dataset(root: str | os.PathLike, train: bool = True, transform=None):
    """The generated files under ``root``, read by torchvision's CIFAR10 class.

    Only the checksums it verifies are replaced (by those of the generated files); the
    reading is torchvision's own.
    """
    CIFAR10 = _torchvision_cifar10()
    manifest = read_manifest(root)
    if manifest is None:
        raise FileNotFoundError(f"no generated data set under {root}")
    md5 = manifest["md5"]

    class GeneratedCIFAR10(CIFAR10):  # type: ignore[misc,valid-type]
        """torchvision's CIFAR10, checking the generated files' checksums instead."""

        train_list = [[name, md5[name]] for name in TRAIN_FILES]
        test_list = [[TEST_FILE, md5[TEST_FILE]]]
        meta = {**CIFAR10.meta, "md5": md5[META_FILE]}

        def download(self) -> None:  # generated data is never downloaded
            return None

    return GeneratedCIFAR10(str(root), train=train, transform=transform, download=False)


def generator_version() -> str:
    """A digest of the code that draws the images: a data set drawn by other code is stale.

    A checkout keeps ``data/`` between course updates, so a change to the images (a harder
    stand-in, say) must reach data sets written before it, without anyone deleting them.
    """
    import inspect

    code = inspect.getsource(class_colours) + inspect.getsource(generate_images)
    return hashlib.sha256(code.encode()).hexdigest()[:16]


def generated_root(n_train: int, n_test: int, seed: int = 0) -> Path:
    return DATA_ROOT / f"cifar10-generated-{n_train}-{n_test}-seed{seed}"


def ensure_generated(n_train: int, n_test: int, seed: int = 0) -> Path:
    """The root of a generated data set of this size, written when missing."""
    root = generated_root(n_train, n_test, seed)
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root / ".lock"):  # notebooks graded side by side share the folder
        manifest = read_manifest(root)
        wanted = {"train": n_train, "test": n_test, "seed": seed, "generator": generator_version()}
        if manifest is None or any(manifest.get(k) != v for k, v in wanted.items()):
            write_generated(root, n_train, n_test, seed)
    return root


@contextlib.contextmanager
def _locked(path: Path):
    try:
        import fcntl
    except ImportError:  # Windows: no lock; the folder is still replaced in one move
        yield
        return
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def online(host: str = CIFAR10_HOST, timeout: float = 3.0) -> bool:
    """Whether CIFAR10's server answers (a TCP connection to port 443)."""
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def load_cifar10(
    n_train: int = 4000, n_test: int = 1000, *, source: str | None = None, seed: int = 0
):
    """The training and test sets: real CIFAR10 when it can be had, else generated data.

    ``source`` is ``"real"``, ``"generated"`` or ``"auto"`` (the default, or the
    environment variable ``COURSE_CIFAR10``). ``auto`` uses real CIFAR10 when it is
    already on disk or its server answers (then it downloads it, about 170 MB), and the
    generated data otherwise, printing a banner that says so. The sizes apply to the
    generated data; take a subset of real CIFAR10 with :func:`as_tensors`.

    Returns ``(train_set, test_set, generated)``.
    """
    source = source or os.environ.get("COURSE_CIFAR10", "auto")
    if source not in ("auto", "real", "generated"):
        raise ValueError(f"source must be 'auto', 'real' or 'generated', not {source!r}")
    if source != "generated":
        CIFAR10 = _torchvision_cifar10()
        try:
            train = CIFAR10(str(REAL_ROOT), train=True, download=False)
            test = CIFAR10(str(REAL_ROOT), train=False, download=False)
            return train, test, False
        except RuntimeError:
            pass
        if source == "real":
            train = CIFAR10(str(REAL_ROOT), train=True, download=True)
            return train, CIFAR10(str(REAL_ROOT), train=False, download=True), False
        if online():
            try:
                train = CIFAR10(str(REAL_ROOT), train=True, download=True)
                return train, CIFAR10(str(REAL_ROOT), train=False, download=True), False
            except Exception as error:  # a proxy, a full disk, a server that is down
                print(f"downloading CIFAR10 failed: {type(error).__name__}: {error}")
    root = ensure_generated(n_train, n_test, seed)
    print(BANNER)
    print(f"generated data: {n_train} training and {n_test} test images in {root}")
    return generated_dataset(root, train=True), generated_dataset(root, train=False), True


def as_tensors(dataset, n: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``n`` images of a torchvision CIFAR10 set as ONE uint8 tensor (N, 3, 32, 32),
    and its labels as an int64 tensor, without going through PIL image by image."""
    n = len(dataset) if n is None else min(n, len(dataset))
    images = torch.from_numpy(np.ascontiguousarray(dataset.data[:n])).permute(0, 3, 1, 2)
    labels = torch.as_tensor(dataset.targets[:n], dtype=torch.int64)
    return images.contiguous(), labels


# --------------------------------------------------------------------------------------
# The course's loader


class DeviceLoader:
    """Batches from a uint8 image tensor kept on the device, normalised on the device.

    ``images`` is (N, 3, 32, 32) uint8; each batch is gathered with one index, turned to
    float and normalised there: ``(x / 255 - mean) / std``. There is no per-image Python
    work, no PIL and no worker process. Iterate over it like a ``DataLoader``: it yields
    ``(images, labels)`` and has a length (the number of batches).
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        batch_size: int = 128,
        *,
        shuffle: bool = False,
        mean=CIFAR10_MEAN,
        std=CIFAR10_STD,
        device: str | torch.device = "cpu",
        seed: int | None = None,
    ):
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError("images must be a uint8 tensor of shape (N, C, H, W)")
        self.device = torch.device(device)
        self.images = images.to(self.device)
        self.labels = labels.to(self.device)
        self.batch_size = batch_size
        self.shuffle = shuffle
        mean = torch.as_tensor(mean, dtype=torch.float32, device=self.device).view(1, -1, 1, 1)
        std = torch.as_tensor(std, dtype=torch.float32, device=self.device).view(1, -1, 1, 1)
        # (x / 255 - mean) / std, folded into one multiply and one add
        self.scale = 1.0 / (255.0 * std)
        self.shift = -mean / std
        self.generator = torch.Generator(device="cpu")
        if seed is not None:
            self.generator.manual_seed(seed)
        else:
            self.generator.seed()

    def __len__(self) -> int:
        return (len(self.images) + self.batch_size - 1) // self.batch_size

    def normalise(self, batch: torch.Tensor) -> torch.Tensor:
        return torch.addcmul(self.shift, batch.to(torch.float32), self.scale)

    def __iter__(self):
        n = len(self.images)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(self.device)
        for start in range(0, n, self.batch_size):
            if self.shuffle:
                index = order[start : start + self.batch_size]
                yield self.normalise(self.images[index]), self.labels[index]
            else:
                stop = start + self.batch_size
                yield self.normalise(self.images[start:stop]), self.labels[start:stop]


def channel_stats(images: torch.Tensor) -> tuple[list[float], list[float]]:
    """Per-channel mean and standard deviation of uint8 images, on the 0..1 scale."""
    x = images.to(torch.float64) / 255
    return x.mean(dim=(0, 2, 3)).tolist(), x.std(dim=(0, 2, 3)).tolist()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a generated data set in CIFAR10's format.")
    parser.add_argument(
        "--root",
        default=str(DATA_ROOT / "cifar10-generated"),
        help=f"folder to hold {BASE_FOLDER}/",
    )
    parser.add_argument("--train", type=int, default=50000, help="training images (default 50000)")
    parser.add_argument("--test", type=int, default=10000, help="test images (default 10000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    folder = write_generated(args.root, args.train, args.test, args.seed)
    print(f"wrote {args.train} training and {args.test} test images (generated) to {folder}")
    print(f"read it with autograder.checking.cifar10.generated_dataset({args.root!r}, train=True)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
