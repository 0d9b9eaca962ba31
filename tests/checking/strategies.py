"""Shared hypothesis strategies for the checking library's inputs.

A case generator takes a seed: hypothesis draws the seeds (and the sizes), so every test
that uses these strategies runs the generators over many seeds, shrinks a failing one to
the simplest, and prints it for reproduction.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st

quick = settings(max_examples=40, deadline=None)
"""Enough seeds to find a bad one, quickly: case generators are cheap but not free."""

seeds = st.integers(min_value=0, max_value=2**32 - 1)
"""Any seed a hidden check could draw (``fresh_seed`` reads four bytes)."""

draws = st.integers(min_value=0, max_value=6)
"""How many random draws a case generator adds to its fixed cases."""

ndims = st.integers(min_value=1, max_value=4)
bounds = st.tuples(st.integers(-50, 50), st.integers(0, 50)).map(lambda t: (t[0], t[0] + t[1]))
"""``(low, high)`` with ``low <= high``."""
