"""The checks that test cells call.

A check compares a student's answer with the torch function it re-implements, on many
inputs, with a stated tolerance. It stays silent on success (nbgrader reads any output on
stderr, or a number shown as a cell's result, as a grade) and raises :class:`CheckFailed`
with a message a student can act on: which case, the inputs, expected and got, and the
name of the mistake when the wrong value matches a known one.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from . import integrity
from .forbid import forbid_calls

# Captured before any student code runs; later patches of torch cannot change a comparison.
_Tensor = torch.Tensor
_Parameter = torch.nn.Parameter
_detach = torch.Tensor.detach
_to = torch.Tensor.to
_clone = torch.Tensor.clone
_allclose = torch.allclose
_abs = torch.abs
_isnan = torch.isnan
_float64 = torch.float64
_type = type
_isinstance = isinstance
_urandom = os.urandom

TENSOR_TYPES = (_Tensor, _Parameter)


class CheckFailed(AssertionError):
    """A check did not pass; the message says why, for the student."""


@dataclass(frozen=True)
class Case:
    """One call to compare: a label a student can recognise, positional and keyword args."""

    label: str
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


def fresh_seed() -> int:
    """A seed for hidden checks, drawn from the OS so notebook code cannot predict it."""
    return int.from_bytes(_urandom(4), "little")


def generator(seed: int | None) -> tuple[torch.Generator, int]:
    """A torch generator and its seed (fresh when ``seed`` is ``None``)."""
    seed = fresh_seed() if seed is None else seed
    gen = torch.Generator().manual_seed(seed)
    return gen, seed


def describe(value: Any) -> str:
    """Short text for an input or output: shape and dtype, values when small."""
    if _isinstance(value, _Tensor):
        shape = tuple(value.shape)
        text = f"tensor of shape {shape}, {str(value.dtype).replace('torch.', '')}"
        if value.numel() <= 8:
            values = _detach(value).tolist()
            text += f" {_round(values)}"
        return text
    if _isinstance(value, float):
        return f"{value:.6g}"
    if _isinstance(value, tuple | list):
        inner = ", ".join(describe(v) for v in value)
        return f"({inner})" if _isinstance(value, tuple) else f"[{inner}]"
    if _isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {describe(v)}" for k, v in value.items()) + "}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _round(values: Any) -> Any:
    if _isinstance(values, list):
        return [_round(v) for v in values]
    if _isinstance(values, float):
        return float(f"{values:.4g}")
    return values


def describe_call(name: str, case: Case) -> str:
    parts = [describe(a) for a in case.args]
    parts += [f"{k}={describe(v)}" for k, v in case.kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _copy(value: Any) -> Any:
    """Fresh copies of tensor inputs, so a function that edits its input cannot hurt a check."""
    if _isinstance(value, _Tensor):
        return _clone(_detach(value))
    if _isinstance(value, tuple | list):
        return _type(value)(_copy(v) for v in value)
    if _isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def call_quietly(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """Call student code with its prints and warnings swallowed (stderr would zero a test cell)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            return fn(*args, **kwargs)


def widened_tolerance(
    expected: torch.Tensor, values: torch.Tensor, rtol: float, atol: float
) -> tuple[float, float]:
    """Tolerances no tighter than the dtype allows: float32 rounding is not a student's error.

    Low-precision results get a relative tolerance of 100 machine epsilons and an absolute
    one scaled by the largest magnitude, since sums of large terms lose small ones.
    """
    if not expected.is_floating_point() or expected.dtype == _float64:
        return rtol, atol
    eps = torch.finfo(expected.dtype).eps
    finite = values[torch.isfinite(values)]
    scale = float(finite.abs().max()) if finite.numel() else 1.0
    return max(rtol, 100 * eps), max(atol, 100 * eps * max(scale, 1.0))


def compare(got: Any, expected: Any, *, rtol: float, atol: float, dtype: bool = True) -> str | None:
    """``None`` when ``got`` matches ``expected``; else what is wrong, in words.

    Tensors must be real ``torch.Tensor`` objects (no subclasses whose comparisons lie);
    NaN matches NaN where torch itself returns NaN.
    """
    if _isinstance(expected, _Tensor):
        if _type(got) not in TENSOR_TYPES:
            return f"expected a torch.Tensor, got {_type(got).__name__}"
        if tuple(got.shape) != tuple(expected.shape):
            return f"shape {tuple(got.shape)}, expected {tuple(expected.shape)}"
        if dtype and got.dtype != expected.dtype:
            return f"dtype {got.dtype}, expected {expected.dtype} (same as torch gives)"
        g = _to(_detach(got), "cpu", _float64)
        e = _to(_detach(expected), "cpu", _float64)
        rtol, atol = widened_tolerance(expected, e, rtol, atol)
        if not _allclose(g, e, rtol=rtol, atol=atol, equal_nan=True):
            diff = _abs(g - e)
            diff[_isnan(diff)] = math.inf
            return (
                f"values differ (largest difference {float(diff.max()):.3g}; "
                f"tolerance for {str(expected.dtype)[6:]}: rtol={rtol:.2g}, atol={atol:.2g})"
            )
        return None
    if _isinstance(expected, bool):
        if _type(got) is not bool:
            return f"expected True or False, got {_type(got).__name__}"
        return None if got is expected else f"got {got}, expected {expected}"
    if _isinstance(expected, int | float):
        if _type(got) not in (int, float) and not _isinstance(got, _Tensor):
            return f"expected a number, got {_type(got).__name__}"
        if _isinstance(got, _Tensor):
            if got.numel() != 1:
                return f"expected one number, got a tensor of shape {tuple(got.shape)}"
            got = float(_detach(got).item())
        got, expected = float(got), float(expected)
        if math.isnan(expected) and math.isnan(got):
            return None
        if not math.isclose(got, expected, rel_tol=rtol, abs_tol=atol):
            return f"got {got:.6g}, expected {expected:.6g}"
        return None
    if _isinstance(expected, tuple | list):
        if _type(got) not in (tuple, list) or len(got) != len(expected):
            return f"expected a sequence of {len(expected)} items, got {describe(got)}"
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            problem = compare(g, e, rtol=rtol, atol=atol, dtype=dtype)
            if problem:
                return f"item {i}: {problem}"
        return None
    if _isinstance(expected, dict):
        if _type(got) is not dict or set(got) != set(expected):
            return f"expected a dict with keys {sorted(expected)}, got {describe(got)}"
        for key in expected:
            problem = compare(got[key], expected[key], rtol=rtol, atol=atol, dtype=dtype)
            if problem:
                return f"[{key!r}]: {problem}"
        return None
    if _type(got) is not _type(expected) or got != expected:
        return f"got {describe(got)}, expected {describe(expected)}"
    return None


def _matching_mistake(got, case, mistakes, rtol, atol, dtype) -> str | None:
    for mistake, wrong in (mistakes or {}).items():
        try:
            value = wrong(*_copy(case.args), **_copy(dict(case.kwargs)))
        except Exception:
            continue
        if value is not None and compare(got, value, rtol=rtol, atol=atol, dtype=False) is None:
            return mistake
    return None


def _refuse_if_tampered(kind: str) -> None:
    changed = integrity.verify()
    if changed:
        names = ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")
        raise CheckFailed(
            f"{kind} refused to run: code in this notebook replaced {names}. "
            "The checks compare with PyTorch itself, so nothing it provides may be patched. "
            "Restart the kernel and remove that code."
        )


def check_function(
    student: Callable,
    reference: Callable,
    cases: Iterable[Case],
    *,
    name: str | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    public: bool = True,
    mistakes: Mapping[str, Callable] | None = None,
    forbid: Iterable[str] = (),
    dtype: bool = True,
) -> None:
    """Compare ``student(*case.args, **case.kwargs)`` with ``reference`` on every case.

    ``mistakes`` maps a mistake's name to a function that computes the wrong value it
    gives (or ``None`` where it does not apply); a wrong answer that matches one is
    told so by name. ``forbid`` lists the dotted names the student may not call.
    """
    kind = "Public check" if public else "Hidden check"
    _refuse_if_tampered(kind)
    name = name or getattr(student, "__name__", "your function")
    if not callable(student):
        raise CheckFailed(f"{kind}: {name} should be a function, got {describe(student)}")
    forbid = tuple(forbid)
    if forbid:
        problem = forbid_calls(student, forbid)
        if problem:
            raise CheckFailed(f"{kind}: {name} {problem}")
    count = 0
    for count, case in enumerate(cases, start=1):  # noqa: B007
        expected = reference(*_copy(case.args), **_copy(dict(case.kwargs)))
        try:
            got = call_quietly(student, *_copy(case.args), **_copy(dict(case.kwargs)))
        except NotImplementedError:
            raise CheckFailed(f"{kind}: {name} is not implemented yet.") from None
        except Exception as error:
            raise CheckFailed(
                f"{kind} '{case.label}' failed: {describe_call(name, case)} raised "
                f"{_type(error).__name__}: {error}"
            ) from None
        problem = compare(got, expected, rtol=rtol, atol=atol, dtype=dtype)
        if problem:
            message = (
                f"{kind} '{case.label}' failed for {describe_call(name, case)}:\n"
                f"  {problem}\n  expected: {describe(expected)}\n  got:      {describe(got)}\n"
                f"  (tolerance: rtol={rtol:g}, atol={atol:g})"
            )
            mistake = _matching_mistake(got, case, mistakes, rtol, atol, dtype)
            if mistake:
                message += f"\n  This matches a known mistake: {mistake}."
            raise CheckFailed(message)
    if count == 0:
        raise CheckFailed(f"{kind}: no cases were given for {name} (a bug in the course).")
    _refuse_if_tampered(kind)


def check_value(
    label: str,
    got: Any,
    expected: Any,
    *,
    rtol: float = 1e-4,
    atol: float = 1e-6,
    public: bool = True,
    mistakes: Mapping[str, Any] | None = None,
) -> None:
    """Compare one answer (a number worked out by hand, a shape, a flag) with the truth."""
    kind = "Public check" if public else "Hidden check"
    _refuse_if_tampered(kind)
    if got is Ellipsis or got is None:
        raise CheckFailed(f"{kind}: '{label}' has no answer yet.")
    problem = compare(got, expected, rtol=rtol, atol=atol)
    if problem:
        message = f"{kind} '{label}' failed: {problem} (tolerance: rtol={rtol:g}, atol={atol:g})"
        for mistake, wrong in (mistakes or {}).items():
            if compare(got, wrong, rtol=rtol, atol=atol, dtype=False) is None:
                message += f"\n  This matches a known mistake: {mistake}."
                break
        raise CheckFailed(message)


def reduce_losses(losses: torch.Tensor, reduction: str) -> torch.Tensor:
    """Per-element losses reduced as torch does, for the known-mistake functions.

    ``batchmean`` (KLDivLoss only) divides the sum by the size of the first dimension.
    """
    if reduction == "batchmean":
        return losses.sum() / losses.size(0) if losses.dim() else losses.sum()
    return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]


def reduction_mistakes(reference: Callable) -> dict[str, Callable]:
    """Known mistakes of any loss with a ``reduction`` keyword: the wrong reduction used."""

    def swapped(wanted: str, used: str) -> Callable:
        def wrong(*args, reduction="mean", **kwargs):
            return reference(*args, reduction=used, **kwargs) if reduction == wanted else None

        return wrong

    return {
        "sum instead of mean": swapped("mean", "sum"),
        "mean instead of sum": swapped("sum", "mean"),
        "no reduction (the per-element losses) instead of the mean": swapped("mean", "none"),
        "no reduction (the per-element losses) instead of the sum": swapped("sum", "none"),
    }


integrity.watch(__import__(__name__, fromlist=["*"]))
