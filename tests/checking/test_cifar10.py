"""The generated data set is CIFAR10's own format, read by torchvision's CIFAR10 class."""

import json
import pickle

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

from autograder.checking import cifar10 as cifar_data


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("cifar")
    cifar_data.write_generated(root, n_train=103, n_test=17, seed=5)
    return root


def test_files_are_the_cifar10_python_batches(root):
    folder = root / "cifar-10-batches-py"
    names = {p.name for p in folder.iterdir()}
    assert names == {
        *(f"data_batch_{i}" for i in range(1, 6)),
        "test_batch",
        "batches.meta",
        "generated.json",
    }
    # The unpickling recipe on the CIFAR10 page: keys come back as bytes.
    with open(folder / "data_batch_1", "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    assert list(batch) == [b"batch_label", b"labels", b"data", b"filenames"]
    assert batch[b"data"].dtype == np.uint8 and batch[b"data"].shape == (20, 3072)
    assert len(batch[b"labels"]) == 20 and all(0 <= y < 10 for y in batch[b"labels"])
    assert isinstance(batch[b"batch_label"], bytes) and b"generated" in batch[b"batch_label"]
    assert all(isinstance(name, bytes) for name in batch[b"filenames"])
    with open(folder / "batches.meta", "rb") as f:
        meta = pickle.load(f, encoding="bytes")
    assert [n.decode() for n in meta[b"label_names"]] == cifar_data.LABEL_NAMES
    assert meta[b"num_vis"] == 3072
    sizes = []
    for i in range(1, 6):
        with open(folder / f"data_batch_{i}", "rb") as f:
            sizes.append(len(pickle.load(f, encoding="latin1")["labels"]))
    assert sum(sizes) == 103 and max(sizes) - min(sizes) <= 1


def test_torchvision_cifar10_reads_it(root):
    train = cifar_data.generated_dataset(root, train=True)
    test = cifar_data.generated_dataset(root, train=False)
    assert isinstance(train, torchvision.datasets.CIFAR10)
    # The reading code is torchvision's: only the checksums differ.
    assert type(train).__getitem__ is torchvision.datasets.CIFAR10.__getitem__
    assert type(train).__init__ is torchvision.datasets.CIFAR10.__init__
    assert len(train) == 103 and len(test) == 17
    assert train.classes == cifar_data.LABEL_NAMES
    assert train.data.shape == (103, 32, 32, 3) and train.data.dtype == np.uint8
    image, label = train[0]
    assert isinstance(image, Image.Image) and image.size == (32, 32) and image.mode == "RGB"
    assert label == train.targets[0]
    # Channel planes are stored red, green, blue, each row-major: the HWC pixel (y, x, c)
    # is byte c * 1024 + y * 32 + x of its row.
    with open(root / "cifar-10-batches-py" / "data_batch_1", "rb") as f:
        row = pickle.load(f, encoding="bytes")[b"data"][0]
    assert train.data[0, 3, 7, 2] == row[2 * 1024 + 3 * 32 + 7]
    tensor_image, _ = cifar_data.generated_dataset(
        root, train=True, transform=torchvision.transforms.ToTensor()
    )[0]
    assert tensor_image.shape == (3, 32, 32)


def test_plain_cifar10_refuses_it_only_for_its_checksums(root):
    """torchvision checks the real files' MD5 sums even with download=False."""
    with pytest.raises(RuntimeError, match="not found or corrupted"):
        torchvision.datasets.CIFAR10(str(root), train=True, download=False)


def test_a_corrupted_file_is_refused(tmp_path):
    cifar_data.write_generated(tmp_path, n_train=10, n_test=5)
    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    data = bytearray(path.read_bytes())
    data[-10] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match="not found or corrupted"):
        cifar_data.generated_dataset(tmp_path, train=False)


def test_generation_is_deterministic_and_balanced():
    a, la = cifar_data.generate_images(200, seed=3)
    b, lb = cifar_data.generate_images(200, seed=3)
    c, _ = cifar_data.generate_images(200, seed=3, split="test")
    assert np.array_equal(a, b) and la == lb
    assert not np.array_equal(a, c)
    assert np.bincount(la, minlength=10).tolist() == [20] * 10


def test_no_linear_map_separates_the_classes():
    """As with photographs, a linear classifier on the pixels does no better than chance on
    new images: every class has the same mean image. (The first edition's stand-in had a
    class colour that never changed sign, and a linear classifier learned it.)"""
    data, labels = cifar_data.generate_images(1000, seed=0)
    x = data.astype(np.float64)
    y = np.array(labels)
    means = np.stack([x[y == c].mean(0) for c in range(10)])
    between = np.abs(means - means.mean(0)).mean()
    within = np.abs(x - means[y]).mean()
    assert within > 8 * between

    torch.manual_seed(0)
    test, test_labels = cifar_data.generate_images(500, seed=0, split="test")
    train_x = torch.tensor(data, dtype=torch.float32) / 255
    mean, std = train_x.mean(0), train_x.std(0)
    train_x = (train_x - mean) / std
    test_x = (torch.tensor(test, dtype=torch.float32) / 255 - mean) / std
    linear = torch.nn.Linear(3072, 10)
    opt = torch.optim.Adam(linear.parameters(), lr=1e-3, weight_decay=1e-3)
    for _ in range(60):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(linear(train_x), torch.tensor(labels)).backward()
        opt.step()
    accuracy = (linear(test_x).argmax(1) == torch.tensor(test_labels)).float().mean()
    assert accuracy < 0.2


def test_a_network_with_relu_learns_it():
    torch.manual_seed(0)
    data, labels = cifar_data.generate_images(1000, seed=5)
    images = torch.from_numpy(data).view(-1, 3, 32, 32)
    mean, std = cifar_data.channel_stats(images)
    loader = cifar_data.DeviceLoader(
        images, torch.tensor(labels), 50, shuffle=True, mean=mean, std=std, seed=0
    )
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 5, stride=2),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(16, 32),
        torch.nn.ReLU(),
        torch.nn.Linear(32, 10),
    )
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(4):
        for x, y in loader:
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    assert np.mean(losses[:3]) > 2.0 and np.mean(losses[-5:]) < 1.6


def test_device_loader_batches_match_totensor_and_normalize():
    data, labels = cifar_data.generate_images(70, seed=1)
    images = torch.from_numpy(data).view(-1, 3, 32, 32)
    loader = cifar_data.DeviceLoader(images, torch.tensor(labels), batch_size=32)
    batches = list(loader)
    assert len(loader) == len(batches) == 3 and [len(y) for _, y in batches] == [32, 32, 6]
    transform = torchvision.transforms.Compose(
        [
            torchvision.transforms.ToTensor(),
            torchvision.transforms.Normalize(cifar_data.CIFAR10_MEAN, cifar_data.CIFAR10_STD),
        ]
    )
    pil = Image.fromarray(images[40].permute(1, 2, 0).numpy())
    torch.testing.assert_close(batches[1][0][8], transform(pil), rtol=1e-5, atol=1e-5)
    shuffled = cifar_data.DeviceLoader(images, torch.tensor(labels), 32, shuffle=True, seed=0)
    seen = torch.cat([y for _, y in shuffled])
    assert sorted(seen.tolist()) == sorted(labels) and seen.tolist() != labels


def test_load_cifar10_offline_says_it_uses_generated_data(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(cifar_data, "DATA_ROOT", tmp_path)
    monkeypatch.setattr(cifar_data, "REAL_ROOT", tmp_path / "cifar10")
    monkeypatch.setattr(cifar_data, "online", lambda *a, **k: False)
    train, test, generated = cifar_data.load_cifar10(50, 10, source="auto")
    assert generated and len(train) == 50 and len(test) == 10
    assert "USING GENERATED DATA, NOT CIFAR10" in capsys.readouterr().out
    # a second call reuses the files
    stamp = (tmp_path / "cifar10-generated-50-10-seed0" / "cifar-10-batches-py").stat().st_mtime
    cifar_data.load_cifar10(50, 10, source="auto")
    assert (
        tmp_path / "cifar10-generated-50-10-seed0" / "cifar-10-batches-py"
    ).stat().st_mtime == stamp


def test_cli_writes_a_data_set(tmp_path, capsys):
    assert cifar_data.main(["--root", str(tmp_path), "--train", "20", "--test", "5"]) == 0
    assert len(cifar_data.generated_dataset(tmp_path, train=True)) == 20


def test_a_data_set_drawn_by_older_code_is_drawn_again(monkeypatch, tmp_path):
    """data/ outlives course updates: a stand-in drawn by other code must not be reused."""
    monkeypatch.setattr(cifar_data, "DATA_ROOT", tmp_path)
    root = cifar_data.ensure_generated(20, 10)
    manifest_path = root / cifar_data.BASE_FOLDER / cifar_data.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    assert manifest["generator"] == cifar_data.generator_version()
    old = {**manifest, "generator": "drawn-by-an-older-course"}
    manifest_path.write_text(json.dumps(old))
    (root / cifar_data.BASE_FOLDER / cifar_data.TEST_FILE).write_bytes(b"stale")
    cifar_data.ensure_generated(20, 10)
    again = json.loads(manifest_path.read_text())
    assert again["generator"] == cifar_data.generator_version()
    assert (root / cifar_data.BASE_FOLDER / cifar_data.TEST_FILE).read_bytes() != b"stale"
