"""Notice when notebook code has replaced what the checks rely on.

Student code runs in the same kernel as the checks, before them. A snapshot taken when
:mod:`autograder.checking` is first imported (in the notebook's first, read-only cell) records the
objects the checks compare with; :func:`verify` restores anything replaced since and
names it, so a check can refuse to award points.
"""

from __future__ import annotations

import builtins
import math
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType

import numpy
import numpy.testing
import torch
import torch.nn
import torch.nn.functional
import torch.optim
import torch.testing

_WATCHED_MODULES = (
    torch,
    torch.nn,
    torch.nn.functional,
    torch.optim,
    torch.testing,
    numpy,
    numpy.testing,
    math,
)
# ipykernel swaps builtins such as ``input`` at every execution: watch only these.
_BUILTINS = (
    "abs",
    "all",
    "any",
    "bool",
    "callable",
    "dict",
    "float",
    "getattr",
    "hasattr",
    "int",
    "isinstance",
    "issubclass",
    "len",
    "list",
    "max",
    "min",
    "range",
    "repr",
    "round",
    "setattr",
    "sorted",
    "str",
    "sum",
    "tuple",
    "type",
    "zip",
    "AssertionError",
    "Exception",
)
_WATCHED_CLASSES = (torch.Tensor,)

_getattr, _setattr, _id, _dict = getattr, setattr, id, dict


def _module_items(module: ModuleType) -> dict[str, object]:
    return _dict(vars(module))


@dataclass
class Snapshot:
    """The objects the checks rely on, as they were before any notebook code ran."""

    modules: dict[str, tuple[ModuleType, dict[str, object]]]
    """Watched modules (torch, torch.nn.functional, numpy, math, builtins...) and their items."""
    classes: dict[str, tuple[type, dict[str, object]]]
    """Watched classes (``torch.Tensor``, every ``nn.Module`` and optimizer) and their items."""
    sys_modules: dict[str, ModuleType]
    """The entries of ``sys.modules`` that must keep pointing at the watched modules."""
    extra: dict[str, tuple[ModuleType, dict[str, object]]] = field(default_factory=dict)
    """Modules added later with :func:`watch` (the checking library itself)."""

    def copy(self) -> Snapshot:
        """A copy whose dicts are new, so replacing an item in one leaves the other intact."""
        return Snapshot(
            {k: (m, _dict(items)) for k, (m, items) in self.modules.items()},
            {k: (c, _dict(items)) for k, (c, items) in self.classes.items()},
            _dict(self.sys_modules),
            {k: (m, _dict(items)) for k, (m, items) in self.extra.items()},
        )

    def same_as(self, other: object) -> bool:
        """Whether ``other`` records exactly the same objects (it may be anything at all)."""
        try:
            if not isinstance(other, Snapshot):
                return False
            for part in ("modules", "classes", "extra"):
                mine, theirs = getattr(self, part), getattr(other, part)
                if mine.keys() != theirs.keys():
                    return False
                for key, (obj, items) in mine.items():
                    obj2, items2 = theirs[key]
                    if obj2 is not obj or items2.keys() != items.keys():
                        return False
                    if any(items2[k] is not v for k, v in items.items()):
                        return False
            return other.sys_modules == self.sys_modules
        except Exception:
            return False


def take() -> Snapshot:
    """Record the watched modules and classes as they are now."""
    modules = {m.__name__: (m, _module_items(m)) for m in _WATCHED_MODULES}
    modules["builtins"] = (builtins, {k: getattr(builtins, k) for k in _BUILTINS})
    classes: dict[str, tuple[type, dict[str, object]]] = {}
    for cls in _WATCHED_CLASSES:
        classes[cls.__qualname__] = (cls, _dict(vars(cls)))
    for name, value in vars(torch.nn).items():
        if isinstance(value, type) and issubclass(value, torch.nn.Module):
            classes[f"torch.nn.{name}"] = (value, _dict(vars(value)))
    for name, value in vars(torch.optim).items():
        if isinstance(value, type) and issubclass(value, torch.optim.Optimizer):
            classes[f"torch.optim.{name}"] = (value, _dict(vars(value)))
    sys_modules = {m.__name__: m for m in _WATCHED_MODULES}
    return Snapshot(modules, classes, sys_modules)


SNAPSHOT = take()
"""The live snapshot :func:`verify` compares with (the grader's kernel guard keeps a copy)."""


def watch(module: ModuleType) -> None:
    """Add a module (for example the checking library itself) to the snapshot."""
    SNAPSHOT.extra[module.__name__] = (module, _module_items(module))


def reset(snapshot: Snapshot) -> None:
    """Make a copy of ``snapshot`` the live one (the kernel guard, before each tests cell)."""
    global SNAPSHOT
    SNAPSHOT = snapshot.copy()


_TORCH_DIR = os.path.dirname(torch.__file__) + os.sep
_LAZY_DUNDERS = {"__slotnames__"}  # cached on classes by pickling


def _torch_wrapper(new: object, old: object) -> bool:
    """Whether torch itself wrapped ``old`` on first use (optimizer steps, dynamo's seeds)."""
    code = _getattr(new, "__code__", None)
    return code is not None and code.co_filename.startswith(_TORCH_DIR) and _wraps(new, old)


# torch's own replacements seen so far, by (owner, name); the snapshot itself never changes.
_ACCEPTED: dict[tuple[int, str], object] = {}


def _same(owner: object, items: dict, key: str, current: Mapping[str, object]) -> bool:
    if key not in current:
        return False
    new, old = current[key], items[key]
    if new is old or _ACCEPTED.get((_id(owner), key)) is new:
        return True
    if _torch_wrapper(new, old):
        _ACCEPTED[(_id(owner), key)] = new
        return True
    return False


def verify(restore: bool = True) -> list[str]:
    """Names of watched objects that were replaced or removed; restore them when asked."""
    changed: list[str] = []
    for name, module in SNAPSHOT.sys_modules.items():
        if sys.modules.get(name) is not module:
            changed.append(f"sys.modules[{name!r}]")
            if restore:
                sys.modules[name] = module
    current: Mapping[str, object]
    for name, (module, items) in {**SNAPSHOT.modules, **SNAPSHOT.extra}.items():
        current = vars(module)
        for key, value in list(items.items()):
            if not _same(module, items, key, current):
                changed.append(f"{name}.{key}")
                if restore:
                    _setattr(module, key, value)
    for name, (cls, items) in SNAPSHOT.classes.items():
        current = vars(cls)
        for key, value in list(items.items()):
            if key == "__dict__" or key == "__weakref__":
                continue
            if not _same(cls, items, key, current):
                changed.append(f"{name}.{key}")
                if restore:
                    try:
                        _setattr(cls, key, value)
                    except (AttributeError, TypeError):
                        pass
        for key in set(current) - set(items) - _LAZY_DUNDERS:
            if key.startswith("__") and key.endswith("__"):
                changed.append(f"{name}.{key}")
                if restore:
                    try:
                        delattr(cls, key)
                    except (AttributeError, TypeError):
                        pass
    return changed


def _wraps(new: object, old: object) -> bool:
    """Whether ``new`` is a ``functools.wraps`` wrapper (a few layers deep) of ``old``."""
    for _ in range(5):
        new = _getattr(new, "__wrapped__", None)
        if new is None:
            return False
        if new is old:
            return True
    return False
