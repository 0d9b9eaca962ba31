"""The checks that tests cells call.

A check compares a student's answer with the torch function it re-implements, on many
inputs, with a stated tolerance. It stays silent on success (nbgrader reads any output on
stderr, or a number shown as a cell's result, as a grade) and raises :class:`CheckFailed`
with a message a student can act on: which case, the inputs, expected and got, and the
name of the mistake when the wrong value matches a known one.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import integrity
from .comparison import compare, copy_inputs, describe
from .forbid import forbid_calls

_type = type


class CheckFailed(AssertionError):
    """A check did not pass; the message says why, for the student.

    IPython shows the message alone, without a traceback through the checking library
    (its ``_render_traceback_`` protocol): the student's screen holds what to fix, and
    nbgrader's Validate and feedback report the same lines.
    """

    def _render_traceback_(self) -> list[str]:
        lines = str(self).split("\n")
        return ["\x1b[0;31m" + lines[0] + "\x1b[0m", *lines[1:]]


def quoted(label: str) -> str:
    """A case's label in quotes that it does not contain itself: 'a', "reduction='none'"."""
    return f'"{label}"' if "'" in label and '"' not in label else f"'{label}'"


@dataclass(frozen=True)
class Case:
    """One call to compare: a label a student can recognise, positional and keyword args."""

    label: str
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


def describe_call(name: str, case: Case) -> str:
    parts = [describe(a) for a in case.args]
    parts += [f"{k}={describe(v)}" for k, v in case.kwargs.items()]
    return f"{name}({', '.join(parts)})"


def call_quietly(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """Call student code with its prints and warnings swallowed (stderr would zero a test cell)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            return fn(*args, **kwargs)


def check_kind(public: bool) -> str:
    """How a message starts: "Public check" or "Hidden check"."""
    return "Public check" if public else "Hidden check"


def refuse_if_tampered(kind: str) -> None:
    """Raise :class:`CheckFailed` if notebook code replaced anything the checks rely on."""
    changed = integrity.verify()
    if changed:
        names = ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")
        raise CheckFailed(
            f"{kind} refused to run: code in this notebook replaced {names}. "
            "The checks compare with PyTorch itself, so nothing it provides may be patched. "
            "Restart the kernel and remove that code."
        )


def begin_check(
    student: Any, *, public: bool, forbid: Iterable[str] = (), name: str | None = None
) -> tuple[str, str]:
    """What every check does first: refuse a tampered kernel, a non-function, a forbidden call.

    Returns ``(kind, name)``: how messages start, and what to call the student's function.
    """
    kind = check_kind(public)
    refuse_if_tampered(kind)
    name = str(name or getattr(student, "__name__", "your function"))
    if not callable(student):
        raise CheckFailed(f"{kind}: {name} should be a function, got {describe(student)}")
    forbid = tuple(forbid)
    if forbid:
        problem = forbid_calls(student, forbid)
        if problem:
            raise CheckFailed(f"{kind}: {name} {problem}")
    return kind, name


@contextlib.contextmanager
def student_errors(kind: str, name: str, label: str | None = None) -> Iterator[None]:
    """Turn what the student's code raises into a :class:`CheckFailed` that says so.

    ``NotImplementedError`` (the release's stub) reads "not implemented yet"; anything else
    names the case (``label``) and the exception.
    """
    try:
        yield
    except CheckFailed:
        raise
    except NotImplementedError:
        raise CheckFailed(f"{kind}: {name} is not implemented yet.") from None
    except Exception as error:
        where = f"{kind} {quoted(label)} failed" if label else kind
        raise CheckFailed(f"{where}: {name} raised {_type(error).__name__}: {error}") from None


def _matching_mistake(got, case, mistakes, rtol, atol) -> str | None:
    for mistake, wrong in (mistakes or {}).items():
        try:
            value = wrong(*copy_inputs(case.args), **copy_inputs(dict(case.kwargs)))
        except Exception:
            continue
        if value is not None and compare(got, value, rtol=rtol, atol=atol, dtype=False) is None:
            return mistake
    return None


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
    kind, name = begin_check(student, public=public, forbid=forbid, name=name)
    count = 0
    for count, case in enumerate(cases, start=1):  # noqa: B007
        expected = reference(*copy_inputs(case.args), **copy_inputs(dict(case.kwargs)))
        try:
            got = call_quietly(student, *copy_inputs(case.args), **copy_inputs(dict(case.kwargs)))
        except NotImplementedError:
            raise CheckFailed(f"{kind}: {name} is not implemented yet.") from None
        except Exception as error:
            raise CheckFailed(
                f"{kind} {quoted(case.label)} failed: {describe_call(name, case)} raised "
                f"{_type(error).__name__}: {error}"
            ) from None
        problem = compare(got, expected, rtol=rtol, atol=atol, dtype=dtype)
        if problem:
            message = (
                f"{kind} {quoted(case.label)} failed for {describe_call(name, case)}:\n"
                f"  {problem}\n  expected: {describe(expected)}\n  got:      {describe(got)}\n"
                f"  (tolerance: rtol={rtol:g}, atol={atol:g})"
            )
            mistake = _matching_mistake(got, case, mistakes, rtol, atol)
            if mistake:
                message += f"\n  This matches a known mistake: {mistake}."
            raise CheckFailed(message)
    if count == 0:
        raise CheckFailed(f"{kind}: no cases were given for {name} (a bug in the course).")
    refuse_if_tampered(kind)


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
    kind = check_kind(public)
    refuse_if_tampered(kind)
    if got is Ellipsis or got is None:
        raise CheckFailed(f"{kind}: {quoted(label)} has no answer yet.")
    problem = compare(got, expected, rtol=rtol, atol=atol)
    if problem:
        message = (
            f"{kind} {quoted(label)} failed: {problem} (tolerance: rtol={rtol:g}, atol={atol:g})"
        )
        for mistake, wrong in (mistakes or {}).items():
            if compare(got, wrong, rtol=rtol, atol=atol, dtype=False) is None:
                message += f"\n  This matches a known mistake: {mistake}."
                break
        raise CheckFailed(message)
