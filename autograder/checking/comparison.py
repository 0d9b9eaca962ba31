"""Comparing a student's value with torch's, and describing both in words.

:func:`compare` returns ``None`` when two values agree within a tolerance, and otherwise
one sentence on what differs. Everything here was captured from torch before any student
code ran, so a notebook that patches torch cannot change a comparison.
"""

from __future__ import annotations

import math
import types
from typing import Any

import torch

from .i18n import tr

# Captured before any student code runs; later patches of torch cannot change a comparison.
_Tensor = torch.Tensor
_Parameter = torch.nn.Parameter
_detach = torch.Tensor.detach
_to = torch.Tensor.to
_clone = torch.Tensor.clone
_allclose = torch.allclose
_isclose = torch.isclose
_abs = torch.abs
_isnan = torch.isnan
_isfinite = torch.isfinite
_unravel_index = torch.unravel_index
_tensor = torch.tensor
_finfo = torch.finfo
_float64 = torch.float64
_type = type
_getattr = getattr
_FUNCTION_TYPES = (types.FunctionType, types.BuiltinFunctionType, types.MethodType)
_isinstance = isinstance

TENSOR_TYPES = (_Tensor, _Parameter)


def describe(value: Any, digits: int = 4) -> str:
    """Short text for an input or output: shape and dtype, values when small.

    Numbers show ``digits`` significant digits; a failure message shows as many as it takes
    for the expected and the actual value to differ visibly (:func:`distinct_digits`).
    """
    if _isinstance(value, _Tensor):
        shape = tuple(value.shape)
        text = tr(
            "tensor of shape {shape}, {dtype}",
            shape=shape,
            dtype=str(value.dtype).replace("torch.", ""),
        )
        if value.numel() <= 8:
            values = _detach(value).tolist()
            text += f" {_round(values, digits)}"
        return text
    if _isinstance(value, float):
        return f"{value:.{max(digits, 6)}g}"
    if _isinstance(value, tuple | list):
        inner = ", ".join(describe(v, digits) for v in value)
        return f"({inner})" if _isinstance(value, tuple) else f"[{inner}]"
    if _isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {describe(v, digits)}" for k, v in value.items()) + "}"
    if _isinstance(value, _FUNCTION_TYPES):
        return tr("<function {name}>", name=_getattr(value, "__name__", "?"))
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _round(values: Any, digits: int = 4) -> Any:
    if _isinstance(values, list):
        return [_round(v, digits) for v in values]
    if _isinstance(values, float):
        return float(f"{values:.{digits}g}")
    return values


def distinct_digits(a: float, b: float, least: int = 4) -> int:
    """The fewest significant digits (at least ``least``) at which ``a`` and ``b`` print
    differently: "expected 0.12346, got 0.12345" rather than two identical numbers."""
    for digits in range(least, 18):
        if f"{a:.{digits}g}" != f"{b:.{digits}g}":
            return digits
    return least


def differing_digits(got: Any, expected: Any, least: int = 4) -> int:
    """Digits that show where ``got`` and ``expected`` differ most (tensors, numbers, and
    sequences or dicts of them); ``least`` when they do not differ in a number."""
    if _isinstance(expected, _Tensor) and _isinstance(got, _Tensor):
        if got.shape != expected.shape or not expected.numel():
            return least
        g = _to(_detach(got), "cpu", _float64).reshape(-1)
        e = _to(_detach(expected), "cpu", _float64).reshape(-1)
        diff = _abs(g - e)
        diff[_isnan(diff)] = math.inf
        diff[(g == e) | (_isnan(g) & _isnan(e))] = -1.0
        i = int(diff.argmax())
        return distinct_digits(float(g[i]), float(e[i]), least)
    if _isinstance(expected, int | float) and _isinstance(got, int | float | _Tensor):
        if _isinstance(got, _Tensor):
            if got.numel() != 1:
                return least
            got = float(_detach(got).item())
        return distinct_digits(float(got), float(expected), least)
    if _isinstance(expected, tuple | list) and _isinstance(got, tuple | list):
        pairs = zip(got, expected, strict=False)
        return max([least, *(differing_digits(g, e, least) for g, e in pairs)])
    if _isinstance(expected, dict) and _isinstance(got, dict):
        shared = [k for k in expected if k in got]
        return max([least, *(differing_digits(got[k], expected[k], least) for k in shared)])
    return least


def copy_inputs(value: Any) -> Any:
    """Fresh copies of tensor inputs, so a function that edits its input cannot hurt a check."""
    if _isinstance(value, _Tensor):
        return _clone(_detach(value))
    if _isinstance(value, tuple | list):
        return _type(value)(copy_inputs(v) for v in value)
    if _isinstance(value, dict):
        return {k: copy_inputs(v) for k, v in value.items()}
    return value


def widened_tolerance(
    expected: torch.Tensor,
    values: torch.Tensor,
    rtol: float,
    atol: float,
    input_scale: float = 0.0,
) -> tuple[float, float]:
    """Tolerances no tighter than the dtype allows: float32 rounding is not a student's error.

    Low-precision results get a relative tolerance of 100 machine epsilons and an absolute
    one scaled by the largest magnitude, since sums of large terms lose small ones; and by
    the largest input (``input_scale``): a loss of 0.01 from logits near 1500 is known in
    float32 only to about an ulp of 1500 (1.2e-4), however it is computed.
    """
    if not expected.is_floating_point() or expected.dtype == _float64:
        return rtol, atol
    eps = _finfo(expected.dtype).eps
    finite = values[_isfinite(values)]
    scale = float(finite.abs().max()) if finite.numel() else 1.0
    return max(rtol, 100 * eps), max(atol, 100 * eps * max(scale, 1.0), 8 * eps * input_scale)


def input_scale(args: Any) -> float:
    """The largest finite magnitude among the low-precision float tensors in ``args``."""
    largest = 0.0
    for value in args if _isinstance(args, tuple | list) else [args]:
        if _isinstance(value, _Tensor) and value.is_floating_point():
            if value.dtype != _float64 and value.numel():
                finite = _detach(value)[_isfinite(_detach(value))]
                if finite.numel():
                    largest = max(largest, float(finite.abs().max()))
    return largest


def compare(
    got: Any,
    expected: Any,
    *,
    rtol: float,
    atol: float,
    dtype: bool = True,
    input_scale: float = 0.0,
) -> str | None:
    """``None`` when ``got`` matches ``expected``; else what is wrong, in words.

    Tensors must be real ``torch.Tensor`` objects (no subclasses whose comparisons lie);
    NaN matches NaN where torch itself returns NaN.
    """
    if _isinstance(expected, _Tensor):
        if _type(got) not in TENSOR_TYPES:
            return tr("expected a torch.Tensor, got {type}", type=_type(got).__name__)
        if tuple(got.shape) != tuple(expected.shape):
            return tr(
                "shape {shape}, expected {expected}",
                shape=tuple(got.shape),
                expected=tuple(expected.shape),
            )
        if dtype and got.dtype != expected.dtype:
            return tr(
                "dtype {dtype}, expected {expected} (same as torch gives)",
                dtype=got.dtype,
                expected=expected.dtype,
            )
        g = _to(_detach(got), "cpu", _float64)
        e = _to(_detach(expected), "cpu", _float64)
        rtol, atol = widened_tolerance(expected, e, rtol, atol, input_scale)
        if not _allclose(g, e, rtol=rtol, atol=atol, equal_nan=True):
            diff = _abs(g - e)
            diff[_isnan(diff)] = math.inf
            diff[_isclose(g, e, rtol=rtol, atol=atol, equal_nan=True)] = -1.0
            flat = int(diff.reshape(-1).argmax())
            worst_g, worst_e = float(g.reshape(-1)[flat]), float(e.reshape(-1)[flat])
            digits = distinct_digits(worst_g, worst_e)
            values = {
                "expected": f"{worst_e:.{digits}g}",
                "got": f"{worst_g:.{digits}g}",
                "difference": f"{float(diff.max()):.3g}",
                "dtype": str(expected.dtype)[6:],
                "rtol": f"{rtol:.2g}",
                "atol": f"{atol:.2g}",
            }
            if g.dim():
                index = tuple(int(i) for i in _unravel_index(_tensor(flat), g.shape))
                return tr(
                    "values differ at index {index}: expected {expected}, got {got} (largest "
                    "difference {difference}; tolerance for {dtype}: rtol={rtol}, atol={atol})",
                    index=index[0] if len(index) == 1 else index,
                    **values,
                )
            return tr(
                "values differ: expected {expected}, got {got} (largest difference "
                "{difference}; tolerance for {dtype}: rtol={rtol}, atol={atol})",
                **values,
            )
        return None
    if _isinstance(expected, bool):
        if _type(got) is not bool:
            return tr("expected True or False, got {type}", type=_type(got).__name__)
        return (
            None
            if got is expected
            else tr("got {got}, expected {expected}", got=got, expected=expected)
        )
    if _isinstance(expected, int | float):
        if _type(got) not in (int, float) and not _isinstance(got, _Tensor):
            return tr("expected a number, got {type}", type=_type(got).__name__)
        if _isinstance(got, _Tensor):
            if got.numel() != 1:
                return tr(
                    "expected one number, got a tensor of shape {shape}", shape=tuple(got.shape)
                )
            got = float(_detach(got).item())
        got, expected = float(got), float(expected)
        if math.isnan(expected) and math.isnan(got):
            return None
        if not math.isclose(got, expected, rel_tol=rtol, abs_tol=atol):
            digits = distinct_digits(got, expected, 6)
            return tr(
                "got {got}, expected {expected} (tolerance: rtol={rtol}, atol={atol})",
                got=f"{got:.{digits}g}",
                expected=f"{expected:.{digits}g}",
                rtol=f"{rtol:.2g}",
                atol=f"{atol:.2g}",
            )
        return None
    if _isinstance(expected, tuple | list):
        if _type(got) not in (tuple, list) or len(got) != len(expected):
            return tr(
                "expected a sequence of {count} items, got {value}",
                count=len(expected),
                value=describe(got),
            )
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            problem = compare(g, e, rtol=rtol, atol=atol, dtype=dtype)
            if problem:
                return tr("item {index}: {problem}", index=i, problem=problem)
        return None
    if _isinstance(expected, dict):
        if _type(got) is not dict or set(got) != set(expected):
            return tr(
                "expected a dict with keys {keys}, got {value}",
                keys=sorted(expected),
                value=describe(got),
            )
        for key in expected:
            problem = compare(got[key], expected[key], rtol=rtol, atol=atol, dtype=dtype)
            if problem:
                return f"[{key!r}]: {problem}"
        return None
    if _type(got) is not _type(expected) or got != expected:
        return tr("got {got}, expected {expected}", got=describe(got), expected=describe(expected))
    return None
