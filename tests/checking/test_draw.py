"""The shared random-input helpers (``autograder.checking.draw``), over many seeds."""

import math

import torch
from hypothesis import given

from autograder.checking import draw
from tests.checking.strategies import bounds, ndims, quick, seeds


@quick
@given(seeds)
def test_the_same_seed_gives_the_same_draws(seed):
    a, _ = draw.generator(seed)
    b, _ = draw.generator(seed)
    assert draw.any_shape(a) == draw.any_shape(b)
    assert draw.uniform(a, 0.0, 1.0) == draw.uniform(b, 0.0, 1.0)


@quick
@given(seeds, ndims, bounds)
def test_integers_and_shapes_stay_in_their_bounds(seed, ndim, lohi):
    gen, _ = draw.generator(seed)
    low, high = lohi
    assert low <= draw.integer(gen, low, high) <= high
    shape = draw.shape(gen, ndim, high=5)
    assert len(shape) == ndim and all(1 <= d <= 5 for d in shape)
    shape = draw.any_shape(gen, max_ndim=3, high=4)
    assert 1 <= len(shape) <= 3 and all(1 <= d <= 4 for d in shape)
    torch.empty(shape)  # a shape torch accepts


@quick
@given(seeds)
def test_floats_stay_in_their_bounds(seed):
    gen, _ = draw.generator(seed)
    assert 0.5 <= draw.uniform(gen, 0.5, 2.0) < 2.0
    value = draw.log_uniform(gen, 1e-3, 1.0)
    assert 1e-3 <= value <= 1.0 and math.isfinite(value)


def test_hidden_seeds_are_fresh():
    assert len({draw.fresh_seed() for _ in range(20)}) > 15


def test_dtypes_alternate_and_are_named_for_labels():
    assert [draw.alternating_dtype(i) for i in range(3)] == [
        torch.float64,
        torch.float32,
        torch.float64,
    ]
    assert draw.dtype_name(torch.float32) == "float32"
