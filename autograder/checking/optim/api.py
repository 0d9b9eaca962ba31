"""Helpers for checks of exercises that use ``torch.optim`` itself (not a hand-written step).

Shared by the optimizer topics: a small least-squares problem whose gradient is known in
closed form, calling a student's function with its errors turned into messages (and its
arguments watched: only those the exercise lets it change may change), and
:class:`Expectations`, which compares every case before the verdict and names a known
mistake only when it explains every failing comparison it applies to.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from ..checks import CheckFailed, call_quietly, case_failed, known_mistake, student_errors
from ..comparison import compare, copy_inputs, describe, differing_digits
from ..forbid import resolve, watching
from ..i18n import case_label, tr
from ..promises import ArgumentSnapshot

_float64 = torch.float64
_clone = torch.Tensor.clone
_detach = torch.Tensor.detach
_Tensor = torch.Tensor


@dataclass
class LeastSquares:
    """A small least-squares problem: ``loss(w) = mean((x @ w - y)**2)``."""

    x: torch.Tensor
    y: torch.Tensor
    w: torch.Tensor

    def loss_grad(self, w: torch.Tensor) -> torch.Tensor:
        """The gradient worked out by hand: 2/n X^T (X w - y)."""
        return 2.0 / self.x.shape[0] * self.x.T @ (self.x @ w - self.y)

    def loss(self, w: torch.Tensor) -> torch.Tensor:
        return ((self.x @ w - self.y) ** 2).mean()


def least_squares(gen: torch.Generator, n: int | None = None, d: int | None = None) -> LeastSquares:
    """A random problem with ``n`` rows (4 to 11) and ``d`` weights (2 to 4)."""
    n = n or int(torch.randint(4, 12, (), generator=gen))
    d = d or int(torch.randint(2, 5, (), generator=gen))
    x = torch.randn(n, d, generator=gen, dtype=_float64)
    y = torch.randn(n, generator=gen, dtype=_float64)
    w = torch.randn(d, generator=gen, dtype=_float64)
    return LeastSquares(x, y, w)


def leaf(t: torch.Tensor) -> torch.Tensor:
    """A fresh float leaf tensor that requires grad, with the values of ``t``."""
    return _clone(_detach(t)).requires_grad_(True)


def _signature(names: Iterable[str]) -> Callable:
    """A function whose signature names the arguments as the exercise does, so that messages
    say ``x`` even when a student called it ``inputs``."""

    def named(*args: Any, **kwargs: Any) -> None:  # pragma: no cover - never called
        return None

    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    parameters = [inspect.Parameter(n, kind) for n in names]
    parameters.append(inspect.Parameter("options", inspect.Parameter.VAR_KEYWORD))
    named.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    return named


def call_student(
    kind: str,
    fn: Callable,
    label: str,
    *args: Any,
    name: str | None = None,
    arguments: Iterable[str] | None = None,
    may_change: Iterable[str] = (),
    **kwargs: Any,
) -> Any:
    """Call a student's function quietly; what it raises becomes a message that calls the
    function ``name`` (by default its own name).

    ``arguments`` names the positional arguments as the exercise does; given, every tensor
    the call receives is watched (:class:`.promises.ArgumentSnapshot`), and a change to any
    of them but those in ``may_change`` fails the check ("do not change x")."""
    name = str(name or getattr(fn, "__name__", None) or tr("your function"))
    if not callable(fn):
        raise CheckFailed(
            tr(
                "{kind}: {name} should be a function, got {value}",
                kind=kind,
                name=name,
                value=describe(fn),
            )
        )
    snapshot = None if arguments is None else ArgumentSnapshot(_signature(arguments), args, kwargs)
    with student_errors(kind, name, label):
        result = call_quietly(fn, *args, **kwargs)
    if snapshot is not None:
        changes = snapshot.changes(list(may_change))
        if changes:
            raise CheckFailed(case_failed(kind, label, changes[0]))
    return result


def innermost(dotted: str) -> str:
    """``dotted`` followed through its decorators (``__wrapped__``) to the function itself:
    torch's decorators share one wrapper code for many functions, so a call of the wrapper
    says nothing about which function was called."""
    obj = resolve(dotted)
    while obj is not None and getattr(obj, "__wrapped__", None) is not None:
        obj = getattr(obj, "__wrapped__", None)
        dotted += ".__wrapped__"
    return dotted


def require_call(
    kind: str, label: str, names: list[str], call: Callable[[], Any], advice: str
) -> Any:
    """``call()``, failing with ``advice`` unless it calls one of ``names`` (a promise of the
    exercise's text: "with torch.optim.SGD", "with autograd")."""
    with watching(names) as watch:
        result = call()
    if watch.hit is None:
        raise CheckFailed(case_failed(kind, label, advice))
    return result


def expect(
    kind: str,
    label: str,
    what: str,
    got: Any,
    want: Any,
    *,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    mistakes: Mapping[str, Any] | None = None,
) -> None:
    """Fail at once (naming a known mistake that matches) unless ``got ≈ want``: for a check
    of one value. A check of many cases collects them in :class:`Expectations` instead."""
    verdicts = Expectations(kind)
    verdicts.expect(label, what, got, want, rtol=rtol, atol=atol, mistakes=mistakes)
    verdicts.verdict()


@dataclass
class _Miss:
    """One comparison that failed, and what each known mistake would have given there."""

    label: str
    what: str
    got: Any
    want: Any
    problem: str
    wrong: dict[str, Any]
    rtol: float
    atol: float
    lines: list[str] = field(default_factory=list)
    shown: tuple[Any, Any] | None = None


@dataclass
class Expectations:
    """The comparisons of one check, every case made before the verdict.

    :meth:`verdict` shows the first failing comparison (or the first one a mistake explains)
    and how many cases failed, and names a known mistake only when it explains every failing
    comparison it applies to, and at least one: a mistake that matches one case by chance is
    never named. ``mistakes`` map a name to the wrong value (``None`` where it does not
    apply), or to a function of no arguments that computes it, called only if the
    comparison fails."""

    kind: str
    misses: list[_Miss] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    def expect(
        self,
        label: str,
        what: str,
        got: Any,
        want: Any,
        *,
        rtol: float = 1e-10,
        atol: float = 1e-12,
        mistakes: Mapping[str, Any] | None = None,
        lines: Iterable[str] = (),
        shown: Callable[[str], tuple[Any, Any]] | None = None,
    ) -> bool:
        """Compare one value; ``True`` when it agrees. ``shown``, given the problem in words,
        returns what to show as expected and got (the one differing item of a long list)."""
        if label not in self.labels:
            self.labels.append(label)
        problem = compare(got, want, rtol=rtol, atol=atol, dtype=False)
        if problem is None:
            return True
        wrong = dict(mistakes or {})
        got = copy_inputs(got)  # a tensor the student's code may change again later
        self.misses.append(_Miss(label, what, got, want, problem, wrong, rtol, atol, list(lines)))
        if shown is not None:
            self.misses[-1].shown = shown(problem)
        return False

    def explaining_mistake(self) -> tuple[str, _Miss] | None:
        """The mistake that explains every miss it applies to; the one explaining most wins."""
        names = [n for miss in self.misses for n in miss.wrong if n is not None]
        best: tuple[int, str, _Miss] | None = None
        for name in dict.fromkeys(names):
            explained: list[_Miss] = []
            for miss in self.misses:
                value = miss.wrong.get(name)
                if callable(value) and not isinstance(value, _Tensor):
                    try:
                        value = miss.wrong[name] = value()
                    except Exception:
                        value = miss.wrong[name] = None
                if value is None:
                    continue
                if compare(miss.got, value, rtol=miss.rtol, atol=miss.atol, dtype=False):
                    explained = []
                    break
                explained.append(miss)
            if explained and (best is None or len(explained) > best[0]):
                best = (len(explained), name, explained[0])
        return (best[1], best[2]) if best else None

    def verdict(self) -> None:
        """Raise :class:`CheckFailed` if any comparison failed."""
        if not self.misses:
            return
        mistake = self.explaining_mistake()
        miss = mistake[1] if mistake else self.misses[0]
        want, got = miss.shown if miss.shown is not None else (miss.want, miss.got)
        digits = differing_digits(got, want)
        message = tr(
            "{kind} '{label}' failed: {what}: {problem}",
            kind=self.kind,
            label=case_label(miss.label),
            what=miss.what,
            problem=miss.problem,
        )
        message += "\n  " + tr("expected: {value}", value=describe(want, digits))
        message += "\n  " + tr("got:      {value}", value=describe(got, digits))
        message += "".join(f"\n  {line}" for line in miss.lines)
        failed = list(dict.fromkeys(m.label for m in self.misses))
        if len(self.labels) > 1 and len(failed) > 1:
            message += "\n  " + tr(
                "({failed} of {total} cases failed.)", failed=len(failed), total=len(self.labels)
            )
        if mistake:
            message += "\n  " + known_mistake(mistake[0])
        raise CheckFailed(message)


def require_floats(kind: str, label: str, what: str, values: Any) -> list[float]:
    """``values`` as a list of Python floats, or a message saying what they are instead.

    A loss kept as a tensor keeps the graph that produced it (and with it every
    intermediate result of its step) alive for as long as the list lives."""
    if not isinstance(values, list | tuple):
        raise CheckFailed(
            case_failed(
                kind,
                label,
                tr("{what} should be a list, got {value}", what=what, value=describe(values)),
            )
        )
    for i, value in enumerate(values):
        if isinstance(value, _Tensor):
            graph = value.requires_grad or value.grad_fn is not None
            problem = (
                tr(
                    "{what}, item {index}, is a tensor that still carries its graph (grad_fn): "
                    "every step's graph stays alive as long as your list does. Return Python "
                    "floats: loss.item().",
                    what=what,
                    index=i,
                )
                if graph
                else tr(
                    "{what}, item {index}, is a tensor. Return Python floats: loss.item().",
                    what=what,
                    index=i,
                )
            )
            raise CheckFailed(case_failed(kind, label, problem))
        if not isinstance(value, float):
            raise CheckFailed(
                case_failed(
                    kind,
                    label,
                    tr(
                        "{what}, item {index}, should be a Python float (loss.item()), got {type}",
                        what=what,
                        index=i,
                        type=type(value).__name__,
                    ),
                )
            )
    return list(values)


def differing_item(got: list, want: list, problem: str) -> tuple[Any, Any]:
    """The items ``compare`` found differing ("item 37: ..."), to show instead of the lists."""
    head = problem.split(":")[0]
    if head.startswith("item "):
        index = int(head.removeprefix("item "))
        return want[index], got[index]
    return want, got
