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

from . import i18n, integrity
from .comparison import compare, copy_inputs, describe, differing_digits, input_scale
from .forbid import describe_hit, describe_removed, forbid_calls, watching
from .i18n import case_label, tr
from .promises import (
    UNKNOWN_REDUCTION,
    ArgumentSnapshot,
    result_problem,
    unknown_reduction_problem,
)

_type = type

# The function the last :func:`begin_check` was about, and what it may not call: a call of
# it through :func:`call_quietly` is watched. A dict filled in place, never rebound, so the
# integrity snapshot of this module stays true.
_ARMED: dict[str, Any] = {}


class CheckFailed(AssertionError):
    """A check did not pass; the message says why, for the student.

    IPython shows the message alone, without a traceback through the checking library
    (its ``_render_traceback_`` protocol): the student's screen holds what to fix, and
    nbgrader's Validate and feedback report the same lines.
    """

    def _render_traceback_(self) -> list[str]:
        lines = str(self).split("\n")
        return ["\x1b[0;31m" + lines[0] + "\x1b[0m", *lines[1:]]


def not_implemented(
    kind: str, name: str, error: NotImplementedError | None = None, student: Any = None
) -> str:
    """What a check says about the release's stub (``raise NotImplementedError()``).

    A student who wrote ``l1_loss`` on top of an unfinished ``reduce`` must read that
    ``reduce`` is what is missing, not that their ``l1_loss`` is. Only a function of the
    student's own notebook is named (one their function's globals hold), never torch's.
    """
    tb = error.__traceback__ if error is not None else None
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is not None:
        code = tb.tb_frame.f_code
        helper = getattr(student, "__globals__", {}).get(code.co_name)
        if getattr(helper, "__code__", None) is code and helper is not student:
            return tr(
                "{kind}: {name} calls {helper}, which is not implemented yet.",
                kind=kind,
                name=name,
                helper=code.co_name,
            )
    return tr("{kind}: {name} is not implemented yet.", kind=kind, name=name)


def known_mistake(name: str) -> str:
    """The line that names a known mistake, in the student's language."""
    return tr("This matches a known mistake: {mistake}.", mistake=i18n.mistake(name))


def case_failed(kind: str, label: str, problem: str) -> str:
    """``Public check 'label' failed: problem``, the label in the student's language."""
    return tr(
        "{kind} '{label}' failed: {problem}", kind=kind, label=case_label(label), problem=problem
    )


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
    """Call student code with its prints and warnings swallowed (stderr would zero a test cell).

    After :func:`begin_check` with ``forbid``, a call of that check's function is watched:
    a forbidden function it calls, under any name, fails the check (:mod:`.forbid`).
    """
    armed = _ARMED.get("student")
    if armed is not None and armed is fn:
        return _watched_call(
            _ARMED["kind"], _ARMED["name"], fn, args, kwargs, _ARMED["forbid"], quiet=True
        )
    return _quiet_call(fn, args, kwargs)


def _quiet_call(fn: Callable, args: tuple, kwargs: Mapping[str, Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            return fn(*args, **kwargs)


def _watched_call(
    kind: str,
    name: str,
    fn: Callable,
    args: tuple,
    kwargs: Mapping[str, Any],
    forbid: tuple[str, ...],
    *,
    quiet: bool = True,
) -> Any:
    """``fn(*args, **kwargs)``, failing the check if it calls a forbidden function."""
    if not forbid:
        return _quiet_call(fn, args, kwargs) if quiet else fn(*args, **kwargs)
    error: BaseException | None = None
    result = None
    with watching(forbid, exempt=(args, kwargs)) as watch:
        try:
            result = _quiet_call(fn, args, kwargs) if quiet else fn(*args, **kwargs)
        except Exception as raised:
            error = raised
    if watch.removed:
        raise CheckFailed(
            tr(
                "{kind} refused to run: {name} {problem}",
                kind=kind,
                name=name,
                problem=describe_removed(),
            )
        )
    if watch.hit is not None:
        raise CheckFailed(
            tr("{kind}: {name} {problem}", kind=kind, name=name, problem=describe_hit(watch.hit))
        )
    if error is not None:
        raise error
    return result


def check_kind(public: bool) -> str:
    """How a message starts: "Public check" or "Hidden check"."""
    return tr("Public check") if public else tr("Hidden check")


def refuse_if_tampered(kind: str) -> None:
    """Raise :class:`CheckFailed` if notebook code replaced anything the checks rely on."""
    changed = integrity.verify()
    if changed:
        names = ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")
        raise CheckFailed(
            tr(
                "{kind} refused to run: code in this notebook replaced {names}. "
                "The checks compare with PyTorch itself, so nothing it provides may be patched. "
                "Restart the kernel and remove that code.",
                kind=kind,
                names=names,
            )
        )


def begin_check(
    student: Any, *, public: bool, forbid: Iterable[str] = (), name: str | None = None
) -> tuple[str, str]:
    """What every check does first: refuse a tampered kernel, a non-function, a forbidden call.

    Returns ``(kind, name)``: how messages start, and what to call the student's function.
    """
    kind = check_kind(public)
    refuse_if_tampered(kind)
    name = str(name or getattr(student, "__name__", None) or tr("your function"))
    if not callable(student):
        raise CheckFailed(
            tr(
                "{kind}: {name} should be a function, got {value}",
                kind=kind,
                name=name,
                value=describe(student),
            )
        )
    forbid = tuple(forbid)
    _ARMED.clear()
    if forbid:
        problem = forbid_calls(student, forbid)
        if problem:
            raise CheckFailed(tr("{kind}: {name} {problem}", kind=kind, name=name, problem=problem))
        _ARMED.update(student=student, forbid=forbid, kind=kind, name=name)
    return kind, name


@contextlib.contextmanager
def student_errors(
    kind: str, name: str, label: str | None = None, student: Any = None
) -> Iterator[None]:
    """Turn what the student's code raises into a :class:`CheckFailed` that says so.

    ``NotImplementedError`` (the release's stub) reads "not implemented yet"; anything else
    names the case (``label``) and the exception.
    """
    try:
        yield
    except CheckFailed:
        raise
    except NotImplementedError as error:
        raise CheckFailed(not_implemented(kind, name, error, student)) from None
    except Exception as error:
        raised = f"{_type(error).__name__}: {error}"
        if label:
            text = tr(
                "{kind} {label} failed: {name} raised {error}",
                kind=kind,
                label=quoted(case_label(label)),
                name=name,
                error=raised,
            )
        else:
            text = tr("{kind}: {name} raised {error}", kind=kind, name=name, error=raised)
        raise CheckFailed(text) from None


@dataclass
class _Failure:
    """One failing case: what went wrong, and the value when a value was returned."""

    case: Case
    lines: list[str]
    got: Any = None
    expected: Any = None
    returned: bool = False


def _explaining_mistake(
    failures: list[_Failure], mistakes: Mapping[str, Callable] | None, rtol: float, atol: float
) -> tuple[str, _Failure] | None:
    """The known mistake that explains every failing case it applies to (and at least one),
    with the first case it explains; the one that applies to most cases wins."""
    returned = [f for f in failures if f.returned]
    best: tuple[int, str, _Failure] | None = None
    for mistake, wrong in (mistakes or {}).items():
        explained: list[_Failure] = []
        for failure in returned:
            args, kwargs = copy_inputs(failure.case.args), copy_inputs(dict(failure.case.kwargs))
            try:
                value = wrong(*args, **kwargs)
            except Exception:
                continue
            if value is None:
                continue
            scale = input_scale([*failure.case.args, *failure.case.kwargs.values()])
            if compare(failure.got, value, rtol=rtol, atol=atol, dtype=False, input_scale=scale):
                explained = []
                break
            explained.append(failure)
        if explained and (best is None or len(explained) > best[0]):
            best = (len(explained), mistake, explained[0])
    return (best[1], best[2]) if best else None


def _unknown_reduction_failure(
    student: Callable, case: Case, name: str, kind: str, forbid: tuple[str, ...]
) -> _Failure | None:
    """Call ``student`` with a reduction torch refuses; it must raise ``ValueError`` too."""
    args = copy_inputs(case.args)
    kwargs = {**copy_inputs(dict(case.kwargs)), "reduction": UNKNOWN_REDUCTION}
    got, error = None, None
    try:
        got = _watched_call(kind, name, student, args, kwargs, forbid)
    except CheckFailed:
        raise
    except NotImplementedError as unfinished:
        raise CheckFailed(not_implemented(kind, name, unfinished, student)) from None
    except Exception as raised:
        error = raised
    problem = unknown_reduction_problem(got, error)
    if problem is None:
        return None
    label = tr("an unknown reduction, {reduction}", reduction=repr(UNKNOWN_REDUCTION))
    line = f"{name}(..., reduction={UNKNOWN_REDUCTION!r}) {problem}"
    return _Failure(Case(label, args, kwargs), [line])


def _message(
    kind: str, name: str, failures: list[_Failure], total: int, mistake: tuple[str, _Failure] | None
) -> str:
    shown = mistake[1] if mistake else failures[0]
    case = shown.case
    text = tr(
        "{kind} {label} failed for {call}:",
        kind=kind,
        label=quoted(case_label(case.label)),
        call=describe_call(name, case),
    )
    for line in shown.lines:
        text += f"\n  {line}"
    if shown.returned:
        digits = differing_digits(shown.got, shown.expected)
        text += "\n  " + tr("expected: {value}", value=describe(shown.expected, digits))
        text += "\n  " + tr("got:      {value}", value=describe(shown.got, digits))
    if len(failures) > 1:
        text += "\n  " + tr(
            "({failed} of {total} cases failed.)", failed=len(failures), total=total
        )
    if mistake:
        text += "\n  " + known_mistake(mistake[0])
    return text


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
    may_change: Iterable[str | int] | bool = (),
    floats: bool = False,
    detached: bool = False,
    unknown_reduction: bool = False,
) -> None:
    """Compare ``student(*case.args, **case.kwargs)`` with ``reference`` on every case.

    Every case runs; a failure shows the first failing case, how many failed, and the name
    of a known mistake when one explains every failing case it applies to. ``mistakes`` maps
    a mistake's name to a function computing the wrong value it gives (or ``None`` where it
    does not apply). ``forbid`` lists the dotted names the student may not call: read from
    the code before the check, and watched while the function runs.

    The promises an exercise makes besides the value:

    * the student's function gets copies of the inputs, and must leave them as it got them
      (values, in-place version, ``requires_grad``, ``.grad``); ``may_change`` names the
      arguments (by name or position) it may change in place, or ``True`` for all;
    * ``floats``: every number of the result is a Python float ("return a float");
    * ``detached``: no tensor of the result carries an autograd graph;
    * ``unknown_reduction``: a ``reduction`` torch does not know (``"max"``) raises
      ``ValueError``. Off by default: only an exercise whose text promises it may ask it.
    """
    forbid = tuple(forbid)
    kind, name = begin_check(student, public=public, forbid=forbid, name=name)
    _ARMED.clear()  # this check watches its own calls
    failures: list[_Failure] = []
    count = 0
    first: Case | None = None
    for count, case in enumerate(cases, start=1):  # noqa: B007
        first = first or case
        expected = reference(*copy_inputs(case.args), **copy_inputs(dict(case.kwargs)))
        args, kwargs = copy_inputs(case.args), copy_inputs(dict(case.kwargs))
        snapshot = ArgumentSnapshot(student, args, kwargs)
        try:
            got = _watched_call(kind, name, student, args, kwargs, forbid)
        except CheckFailed:
            raise
        except NotImplementedError as error:
            raise CheckFailed(not_implemented(kind, name, error, student)) from None
        except Exception as error:
            raised = f"{_type(error).__name__}: {error}"
            line = tr("{call} raised {error}", call=describe_call(name, case), error=raised)
            failures.append(_Failure(case, [line]))
            continue
        lines = []
        problem = result_problem(got, floats=floats, detached=detached)
        if problem:
            lines.append(problem)
        scale = input_scale([*case.args, *case.kwargs.values()])
        problem = compare(got, expected, rtol=rtol, atol=atol, dtype=dtype, input_scale=scale)
        if problem:
            lines.append(problem)
        lines += snapshot.changes(may_change)
        if lines:
            failures.append(_Failure(case, lines, got, expected, returned=problem is not None))
    if count == 0 or first is None:
        raise CheckFailed(
            tr(
                "{kind}: no cases were given for {name} (a bug in the course).",
                kind=kind,
                name=name,
            )
        )
    if not failures and unknown_reduction:
        failure = _unknown_reduction_failure(student, first, name, kind, forbid)
        if failure is not None:
            failures.append(failure)
    if failures:
        mistake = _explaining_mistake(failures, mistakes, rtol, atol)
        raise CheckFailed(_message(kind, name, failures, count, mistake))
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
    floats: bool = False,
    detached: bool = False,
) -> None:
    """Compare one answer (a number worked out by hand, a shape, a flag) with the truth.

    ``floats`` and ``detached`` keep the promises "a Python float" and "no autograd graph"
    (:func:`.promises.result_problem`).
    """
    kind = check_kind(public)
    refuse_if_tampered(kind)
    shown = quoted(case_label(label))
    if got is Ellipsis or got is None:
        raise CheckFailed(tr("{kind}: {label} has no answer yet.", kind=kind, label=shown))
    problem = result_problem(got, floats=floats, detached=detached)
    if problem:
        raise CheckFailed(
            tr("{kind} {label} failed: {problem}", kind=kind, label=shown, problem=problem)
        )
    problem = compare(got, expected, rtol=rtol, atol=atol)
    if problem:
        message = tr("{kind} {label} failed: {problem}", kind=kind, label=shown, problem=problem)
        for name, wrong in (mistakes or {}).items():
            if compare(got, wrong, rtol=rtol, atol=atol, dtype=False) is None:
                message += "\n  " + known_mistake(name)
                break
        raise CheckFailed(message)
