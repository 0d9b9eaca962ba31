"""The training-loop checks accept a correct loop and name each broken one's mistake."""

import pytest
import torch
from tqdm import tqdm

from autograder.checking import CheckFailed
from autograder.checking.topics.training_loop import (
    check_backward_once,
    check_evaluate,
    check_train_one_epoch,
    course_network,
)


def good_loop(model, loader, loss_fn, optimizer, device):
    model.train()
    running = 0.0
    for images, labels in tqdm(loader, desc="train"):
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        running += loss.item()
    return running / len(loader)


def zero_grad_at_end(model, loader, loss_fn, optimizer, device):
    """Equivalent: gradients are reset after each step instead of before each backward."""
    model.train()
    running = 0.0
    for images, labels in tqdm(loader):
        loss = loss_fn(model(images.to(device)), labels.to(device))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        running += loss.item()
    return running / len(loader)


def no_zero_grad(model, loader, loss_fn, optimizer, device):
    model.train()
    running = 0.0
    for images, labels in tqdm(loader):
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        running += loss.item()
    return running / len(loader)


def step_before_backward(model, loader, loss_fn, optimizer, device):
    model.train()
    running = 0.0
    for images, labels in tqdm(loader):
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        optimizer.step()
        loss.backward()
        running += loss.item()
    return running / len(loader)


def step_before_backward_no_zero(model, loader, loss_fn, optimizer, device):
    model.train()
    running = 0.0
    for images, labels in tqdm(loader):
        loss = loss_fn(model(images), labels)
        optimizer.step()
        loss.backward()
        running += loss.item()
    return running / len(loader)


def zero_grad_between(model, loader, loss_fn, optimizer, device):
    model.train()
    running = 0.0
    for images, labels in tqdm(loader):
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()
        running += loss.item()
    return running / len(loader)


def no_train_mode(model, loader, loss_fn, optimizer, device):
    running = 0.0
    for images, labels in tqdm(loader):
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        running += loss.item()
    return running / len(loader)


def tensor_running_loss(model, loader, loss_fn, optimizer, device):
    model.train()
    running = 0.0
    for images, labels in tqdm(loader):
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        running = running + loss  # the reference notes' habit
    return running / len(loader)


def sum_of_losses(model, loader, loss_fn, optimizer, device):
    model.train()
    running = 0.0
    for images, labels in tqdm(loader):
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        running += loss.item()
    return running


def no_progress_bar(model, loader, loss_fn, optimizer, device):
    model.train()
    running = 0.0
    for images, labels in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        running += loss.item()
    return running / len(loader)


def own_optimizer(model, loader, loss_fn, optimizer, device):
    model.train()
    mine = torch.optim.SGD(model.parameters(), lr=0.01)
    running = 0.0
    for images, labels in tqdm(loader):
        mine.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        mine.step()
        running += loss.item()
    return running / len(loader)


def skips_last_batch(model, loader, loss_fn, optimizer, device):
    model.train()
    running = 0.0
    batches = list(loader)[:-1]
    for images, labels in tqdm(batches):
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        running += loss.item()
    return running / len(batches)


def scaled_update(model, loader, loss_fn, optimizer, device):
    """Right in every visible way, but each update is 1% too large (the mutation gate's)."""
    before = [p.detach().clone() for p in model.parameters()]
    result = good_loop(model, loader, loss_fn, optimizer, device)
    with torch.no_grad():
        for p, b in zip(model.parameters(), before, strict=True):
            p.copy_(b + (p - b) * 1.01)
    return result


@pytest.mark.parametrize("seed", [0, 1, None])
@pytest.mark.parametrize("loop", [good_loop, zero_grad_at_end])
def test_correct_loops_pass(loop, seed):
    check_train_one_epoch(loop, seed=seed)


def test_a_correct_loop_passes_silently(capfd):
    check_train_one_epoch(good_loop, seed=3)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


@pytest.mark.parametrize(
    "loop, words",
    [
        (no_zero_grad, "zero_grad() is missing"),
        (step_before_backward, "step() ran before loss.backward()"),
        (step_before_backward_no_zero, "step() ran before loss.backward()"),
        (zero_grad_between, "zero_grad() ran between backward() and step()"),
        (no_train_mode, "model.train()"),
        (tensor_running_loss, "loss.item()"),
        (sum_of_losses, "the sum of the batch losses"),
        (no_progress_bar, "no progress bar"),
        (own_optimizer, "use the optimizer passed in"),
        (skips_last_batch, "ran forward 3 times for 4 batches"),
        (scaled_update, "differs from the reference run"),
    ],
)
def test_broken_loops_fail_with_a_message_that_names_the_mistake(loop, words):
    with pytest.raises(CheckFailed) as info:
        check_train_one_epoch(loop, seed=0)
    assert words in str(info.value)


def test_unimplemented_loop_says_so():
    def loop(model, loader, loss_fn, optimizer, device):
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="not implemented"):
        check_train_one_epoch(loop)


def good_backward(model, loss_fn, images, labels):
    loss = loss_fn(model(images), labels)
    loss.backward()
    return loss


def test_backward_once_accepts_a_correct_answer():
    for seed in (0, 1, None):
        check_backward_once(good_backward, seed=seed)


def test_backward_once_names_mistakes():
    def no_backward(model, loss_fn, images, labels):
        return loss_fn(model(images), labels)

    def twice(model, loss_fn, images, labels):
        loss = loss_fn(model(images), labels)
        loss.backward(retain_graph=True)
        loss.backward()
        return loss

    def steps(model, loss_fn, images, labels):
        loss = good_backward(model, loss_fn, images, labels)
        torch.optim.SGD(model.parameters(), lr=0.1).step()
        return loss

    for wrong, words in [(no_backward, "still None"), (twice, "twice"), (steps, "changed")]:
        with pytest.raises(CheckFailed, match=words):
            check_backward_once(wrong, seed=0)


def good_evaluate(model, loader):
    device = next(model.parameters()).device
    model.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in loader:
            correct += (model(images.to(device)).argmax(1) == labels.to(device)).sum().item()
    return correct / len(loader.dataset)


def test_evaluate_accepts_a_correct_answer():
    for seed in (0, 1, None):
        check_evaluate(good_evaluate, seed=seed)


def test_evaluate_names_mistakes():
    def train_mode(model, loader):
        with torch.no_grad():
            return sum((model(x).argmax(1) == y).sum().item() for x, y in loader) / len(
                loader.dataset
            )

    def with_grad(model, loader):
        model.eval()
        return sum((model(x).argmax(1) == y).sum().item() for x, y in loader) / len(loader.dataset)

    def percent(model, loader):
        return 100 * good_evaluate(model, loader)

    def batch_mean(model, loader):
        model.eval()
        with torch.no_grad():
            accs = [(model(x).argmax(1) == y).float().mean().item() for x, y in loader]
        return sum(accs) / len(accs)

    def off(model, loader):
        return good_evaluate(model, loader) * 1.01

    cases = [
        (train_mode, "training mode"),
        (with_grad, "no_grad"),
        (percent, "a percentage"),
        (batch_mean, "per-batch accuracies"),
        (off, "expected"),
    ]
    for wrong, words in cases:
        with pytest.raises(CheckFailed, match=words):
            check_evaluate(wrong, seed=0)


def test_course_network_shapes():
    net = course_network()
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert not any(isinstance(m, torch.nn.ReLU) for m in net)
    assert sum(isinstance(m, torch.nn.ReLU) for m in course_network(relu=True)) == 4


def tensor_total_item_at_the_end(model, loader, loss_fn, optimizer, device):
    """The reference notes' habit, made to return the right float: every batch's graph stays
    alive until the epoch ends, though the number is right."""
    model.train()
    running_loss = 0.0
    for images, labels in tqdm(loader):
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        running_loss = running_loss + loss
    return running_loss.item() / len(loader)


def list_of_loss_tensors(model, loader, loss_fn, optimizer, device):
    model.train()
    losses = []
    for images, labels in tqdm(loader):
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss)
    return sum(loss.item() for loss in losses) / len(losses)


def manual_progress_bar(model, loader, loss_fn, optimizer, device):
    """A progress bar driven by update(), not by wrapping the loader: also a progress bar."""
    model.train()
    running = 0.0
    with tqdm(total=len(loader), leave=False) as bar:
        for images, labels in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(images), labels)
            loss.backward()
            optimizer.step()
            running += loss.item()
            bar.update()
    return running / len(loader)


def detached_total(model, loader, loss_fn, optimizer, device):
    """A tensor total of detached losses keeps no graph: right."""
    model.train()
    running = torch.zeros(())
    for images, labels in tqdm(loader):
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        running += loss.detach()
    return running.item() / len(loader)


@pytest.mark.parametrize("loop", [tensor_total_item_at_the_end, list_of_loss_tensors])
def test_a_loss_kept_as_a_tensor_across_batches_is_caught_and_named(loop):
    """The exercise promises to catch a loss kept as a tensor; before the second edition a
    tensor total with .item() only at the end scored full points."""
    with pytest.raises(CheckFailed, match="holds loss tensors with their graph"):
        check_train_one_epoch(loop, seed=0)


@pytest.mark.parametrize("loop", [manual_progress_bar, detached_total])
def test_other_right_loops_pass(loop):
    check_train_one_epoch(loop, seed=0)
    check_train_one_epoch(loop, seed=None, n_batches=3, batch_size=5)


def test_a_notebook_progress_bar_counts_as_a_progress_bar():
    """tqdm.auto gives a widget in Jupyter: nothing on stderr, still a progress bar."""
    from tqdm.auto import tqdm as auto_tqdm

    def auto_loop(model, loader, loss_fn, optimizer, device):
        model.train()
        running = 0.0
        for images, labels in auto_tqdm(loader, leave=False):
            optimizer.zero_grad()
            loss = loss_fn(model(images), labels)
            loss.backward()
            optimizer.step()
            running += loss.item()
        return running / len(loader)

    check_train_one_epoch(auto_loop, seed=0)


def test_shape_references_follow_the_formula_and_mistakes_differ():
    from autograder.checking import compare
    from autograder.checking.topics import training_loop as t

    assert t.reference_pool_shapes(32, 32) == [(32, 16, 16), (32, 8, 8), (64, 4, 4)]
    assert t.reference_flat_features(32, 32) == 1024
    cases = t.shape_cases(seed=1)
    assert any(h % 2 or w % 2 for h, w in (c.args for c in cases)), "an odd size is drawn"
    for table, reference in (
        (t.shape_mistakes(), t.reference_pool_shapes),
        (t.flat_mistakes(), t.reference_flat_features),
    ):
        for name, wrong in table.items():
            assert any(
                compare(wrong(*c.args), reference(*c.args), rtol=0, atol=0) is not None
                for c in cases
            ), name
