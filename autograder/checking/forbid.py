"""Refuse a hand-written answer that calls the torch function it re-implements.

The rule is about what is *called*, never about how a name is spelled: a student's own
helper named ``softplus`` or a local variable named ``grad`` is theirs, while any alias of a
forbidden function (``g = F.l1_loss``, ``getattr(F, "l1_" + "loss")``, an import inside the
function, a call through ``nn.L1Loss`` or through a helper) is still caught. Two looks:

* before the check, :func:`forbid_calls` resolves what the function's code refers to (the
  global and closure names it loads and the attributes it reads from modules, the imports it
  makes, its defaults, and the same for the helpers it reaches) and compares those *objects*
  with the forbidden ones;
* while the student's function runs under a check, :func:`watching` records every call of a
  forbidden function, whatever name it was reached by (a profile hook: nothing in torch is
  patched, so the integrity snapshot and the grader's kernel guard see torch untouched).
  Calls made inside callables the check itself passed in (a loss function, a distance
  module, an optimizer) are the course's, not the student's, and do not count.

A forbidden name may be a function (``torch.nn.functional.l1_loss``), a tensor method
(``torch.Tensor.backward``), a class (``torch.nn.L1Loss``: its own methods, such as
``forward``) or a module (``torch.autograd``: the functions it defines). A function of torch's
op namespaces forbids the same op under its other names as well (``torch.logsumexp`` also
forbids ``x.logsumexp(...)`` and ``torch.special.logsumexp``).
"""

from __future__ import annotations

import builtins
import contextlib
import dis
import importlib
import inspect
import sys
import threading
import types
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch

from .i18n import tr

_getprofile = sys.getprofile
_setprofile = sys.setprofile
_threading_getprofile = threading.getprofile
_threading_setprofile = threading.setprofile
_Tensor = torch.Tensor
_Module = torch.nn.Module
_Optimizer = torch.optim.Optimizer
_isinstance = isinstance
_getattr = getattr
_id = id
_type = type

# Namespaces where one op lives under one name: a forbidden op there is forbidden in all.
_OP_NAMESPACES = {
    "torch": torch,
    "torch.nn.functional": torch.nn.functional,
    "torch.special": torch.special,
    "torch.linalg": torch.linalg,
    "torch.Tensor": torch.Tensor,
    "torch._C._nn": torch._C._nn,
    "torch._C._VariableFunctions": torch._C._VariableFunctions,
}
# Code from these packages is the course's or a library's, never a student's helper.
_LIBRARIES = {"torch", "numpy", "math", "autograder", "functools", "builtins", "torchvision"}


def resolve(dotted: str) -> object | None:
    """``"torch.nn.functional.l1_loss"`` -> the object, or ``None`` if torch lacks it."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


@dataclass
class Forbidden:
    """The forbidden names resolved to what a call can be recognised by."""

    objects: dict[int, tuple[object, str]] = field(default_factory=dict)
    """Functions, builtins and classes by ``id`` (the object kept alive), with their name."""
    codes: dict[types.CodeType, str] = field(default_factory=dict)
    """Code objects of forbidden Python functions and of forbidden classes' methods."""
    classes: dict[type, str] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)
    """Forbidden modules by ``__name__``: the module itself and the functions it defines."""
    tensor_methods: dict[str, str] = field(default_factory=dict)
    """Names of forbidden C methods of tensors (``x.logsumexp``), seen as bound builtins."""

    def __bool__(self) -> bool:
        return bool(self.objects or self.codes or self.classes or self.modules)

    def add(self, obj: Any, name: str, depth: int = 0) -> None:
        if _isinstance(obj, types.ModuleType):
            self.modules.setdefault(obj.__name__, name)
            self.objects.setdefault(_id(obj), (obj, name))
            if depth < 3:
                for key, value in list(vars(obj).items()):
                    if key.startswith("_"):
                        continue
                    if _isinstance(value, types.ModuleType):
                        if value.__name__.startswith(obj.__name__ + "."):
                            self.add(value, name, depth + 1)
                    elif callable(value) and not _isinstance(value, type):
                        owner = _getattr(value, "__module__", None) or ""
                        if owner == obj.__name__ or owner.startswith(obj.__name__ + "."):
                            self.add(value, name, depth + 1)
            return
        if _isinstance(obj, type):
            self.classes.setdefault(obj, name)
            self.objects.setdefault(_id(obj), (obj, name))
            for member in vars(obj).values():
                for code in _codes_of(member):
                    self.codes.setdefault(code, name)
            return
        self.objects.setdefault(_id(obj), (obj, name))
        for code in _codes_of(obj):
            self.codes.setdefault(code, name)
        if _isinstance(obj, types.MethodDescriptorType) and _getattr(obj, "__objclass__", None):
            if issubclass(_Tensor, obj.__objclass__):
                self.tensor_methods.setdefault(obj.__name__, name)

    def name_of(self, obj: Any) -> str | None:
        """The forbidden name ``obj`` stands for (itself, its code, its class), or ``None``."""
        found = self.objects.get(_id(obj))
        if found is not None and found[0] is obj:
            return found[1]
        for code in _codes_of(obj):
            if code in self.codes:
                return self.codes[code]
        if _isinstance(obj, type):
            for cls, name in self.classes.items():
                if obj is not cls and issubclass(obj, cls):
                    return name
            return None
        if _isinstance(obj, types.ModuleType):
            return self._module(obj.__name__)
        if _isinstance(obj, types.FunctionType) and self.modules:
            return self._module(_getattr(obj, "__module__", None) or "")
        for cls, name in self.classes.items():
            if _isinstance(obj, cls):
                return name  # an instance: nn.L1Loss() made outside the function
        return None

    def _module(self, module_name: str) -> str | None:
        for prefix, name in self.modules.items():
            if module_name == prefix or module_name.startswith(prefix + "."):
                return name
        return None


def _codes_of(obj: Any) -> list[types.CodeType]:
    """Code objects that run when ``obj`` is called (through wrappers and descriptors)."""
    found = []
    for _ in range(6):
        if _isinstance(obj, staticmethod | classmethod):
            obj = obj.__func__
        if _isinstance(obj, types.MethodType):
            obj = obj.__func__
        if _isinstance(obj, property):
            obj = obj.fget
        code = _getattr(obj, "__code__", None) if _isinstance(obj, types.FunctionType) else None
        if code is not None:
            found.append(code)
        obj = _getattr(obj, "__wrapped__", None) if obj is not None else None
        if obj is None:
            break
    return found


def _aten_ops(name: str) -> list[object]:
    """The builtins behind ``torch.ops.aten.<name>`` and its overloads (``.default``...)."""
    try:
        packet = _getattr(torch.ops.aten, name)
        overloads = [_getattr(packet, o) for o in packet.overloads()]
    except Exception:
        return []
    return [op for op in (_getattr(p, "_op", None) for p in [packet, *overloads]) if op]


_RESOLVED: dict[tuple[str, ...], Forbidden] = {}


def forbidden(names: Iterable[str]) -> Forbidden:
    """Resolve dotted names once (missing ones are skipped: torch may lack them)."""
    key = tuple(names)
    if key in _RESOLVED:
        return _RESOLVED[key]
    found = Forbidden()
    for dotted in key:
        obj = resolve(dotted)
        if obj is None:
            continue
        found.add(obj, dotted)
        owner, _, tail = dotted.rpartition(".")
        if owner in _OP_NAMESPACES and not _isinstance(obj, type | types.ModuleType):
            for namespace in _OP_NAMESPACES.values():
                same = _getattr(namespace, tail, None)
                if same is not None and callable(same) and not _isinstance(same, type):
                    found.add(same, dotted)
            for op in _aten_ops(tail):
                found.objects.setdefault(_id(op), (op, dotted))
    _RESOLVED[key] = found
    return found


# --------------------------------------------------------------------- reading the code


def _library(obj: Any) -> bool:
    module = _getattr(obj, "__module__", None)
    return isinstance(module, str) and module.split(".")[0] in _LIBRARIES


def _all_codes(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if _isinstance(const, types.CodeType):
            yield from _all_codes(const)


def _closure(func: types.FunctionType) -> dict[str, object]:
    cells = {}
    for name, cell in zip(func.__code__.co_freevars, func.__closure__ or (), strict=False):
        try:
            cells[name] = cell.cell_contents
        except ValueError:
            continue
    return cells


def _attribute(obj: Any, name: str) -> object | None:
    """``getattr`` on modules and classes only: never runs a student's properties."""
    if not _isinstance(obj, types.ModuleType | type):
        return None
    try:
        return inspect.getattr_static(obj, name) if _isinstance(obj, type) else vars(obj)[name]
    except (AttributeError, KeyError):
        return _getattr(obj, name, None) if _isinstance(obj, types.ModuleType) else None


def referenced_objects(func: types.FunctionType) -> list[object]:
    """What ``func``'s code loads by name: globals, closure cells, attributes of modules and
    classes (``F.l1_loss``, ``torch.nn.functional.l1_loss``), imports, and its defaults."""
    namespace = func.__globals__
    cells = _closure(func)
    found: list[object] = list(func.__defaults__ or ()) + list((func.__kwdefaults__ or {}).values())
    for code in _all_codes(func.__code__):
        current: object | None = None
        imported: object | None = None
        for instruction in dis.get_instructions(code):
            op, arg = instruction.opname, instruction.argval
            if op == "LOAD_GLOBAL":
                current = namespace.get(arg, _getattr(builtins, arg, None))
            elif op in ("LOAD_DEREF", "LOAD_CLASSDEREF") and code is func.__code__:
                current = cells.get(arg)
            elif op in ("LOAD_ATTR", "LOAD_METHOD") and current is not None:
                current = _attribute(current, arg)
            elif op == "IMPORT_NAME":
                imported = current = sys.modules.get(arg)
            elif op == "IMPORT_FROM" and imported is not None:
                current = _attribute(imported, arg)
            elif op in ("PRECALL", "CACHE", "EXTENDED_ARG", "NOP", "SWAP", "POP_TOP"):
                continue
            elif op == "LOAD_CONST" and _isinstance(arg, str) and current is not None:
                current = _attribute(current, arg)  # getattr(F, "l1_loss")
                if current is not None:
                    found.append(current)
                current = None
                continue
            else:
                current = None
            if current is not None:
                found.append(current)
    found += cells.values()
    return found


def _expand(obj: Any, depth: int = 0) -> Iterator[object]:
    """``obj`` and what it wraps or holds: partials, bound methods, small containers."""
    yield obj
    if depth > 2:
        return
    import functools

    if _isinstance(obj, functools.partial):
        yield from _expand(obj.func, depth + 1)
        for value in (*obj.args, *obj.keywords.values()):
            yield from _expand(value, depth + 1)
    elif _isinstance(obj, types.MethodType):
        yield from _expand(obj.__func__, depth + 1)
    elif _isinstance(obj, list | tuple | set | frozenset) and len(obj) <= 64:
        for value in obj:
            yield from _expand(value, depth + 1)
    elif _isinstance(obj, dict) and len(obj) <= 64:
        for value in obj.values():
            yield from _expand(value, depth + 1)


def _helpers_of(obj: Any) -> list[types.FunctionType]:
    """The student's own functions behind ``obj`` (a function, their class, their object)."""
    if _library(obj) and not _isinstance(obj, types.FunctionType | type):
        return []
    if _isinstance(obj, types.FunctionType):
        return [] if _library(obj) else [obj]
    cls = obj if _isinstance(obj, type) else _type(obj)
    if _library(cls) or cls.__module__ == "builtins":
        return []
    functions = []
    for klass in cls.__mro__:
        if _library(klass) or klass.__module__ == "builtins":
            continue
        for member in vars(klass).values():
            if _isinstance(member, staticmethod | classmethod):
                member = member.__func__
            if _isinstance(member, types.FunctionType):
                functions.append(member)
    return functions


def forbid_calls(func: Callable, forbidden_names: Iterable[str]) -> str | None:
    """What ``func`` (or a helper it reaches) refers to of ``forbidden_names``, in words;
    ``None`` if nothing. Reads objects, not spellings: the student's own definitions pass."""
    rules = forbidden(forbidden_names)
    if not rules:
        return None
    queue = [h for obj in _expand(func) for h in _helpers_of(obj)]
    seen: set[int] = set()
    top = queue[0] if queue else None
    while queue and len(seen) < 200:
        fn = queue.pop(0)
        if _id(fn) in seen:
            continue
        seen.add(_id(fn))
        for ref in referenced_objects(fn):
            for obj in _expand(ref):
                name = rules.name_of(obj)
                if name is not None and fn is top:
                    return tr(
                        "uses {name}, the function it should implement by hand. Write the "
                        "computation yourself from tensor operations.",
                        name=name,
                    )
                if name is not None:
                    return tr(
                        "uses {name} (through your helper {helper}), the function it should "
                        "implement by hand. Write the computation yourself from tensor operations.",
                        name=name,
                        helper=fn.__name__,
                    )
                queue += [h for h in _helpers_of(obj) if _id(h) not in seen]
    if top is None and callable(func):
        name = rules.name_of(func)
        if name is not None:
            return tr(
                "is {name} itself, the function it should implement by hand. Write the "
                "computation yourself from tensor operations.",
                name=name,
            )
    return None


# --------------------------------------------------------------------- watching the calls


def _exempt_codes(values: Iterable[object]) -> tuple[set[types.CodeType], set[int]]:
    """Code (and builtins) of the callables a check passes in: their calls are the course's."""
    codes: set[types.CodeType] = set()
    builtin_ids: set[int] = set()

    def add(obj: Any, depth: int) -> None:
        if depth > 3 or _isinstance(obj, _Tensor | str | bytes | int | float | bool):
            return
        if _isinstance(obj, list | tuple | set | frozenset):
            for v in list(obj)[:64]:
                add(v, depth + 1)
            return
        if _isinstance(obj, dict):
            for v in list(obj.values())[:64]:
                add(v, depth + 1)
            return
        if _isinstance(obj, types.BuiltinFunctionType):
            builtin_ids.add(_id(obj))
            return
        codes.update(_codes_of(obj))
        import functools

        if _isinstance(obj, functools.partial):
            add(obj.func, depth + 1)
            return
        if _isinstance(obj, _Module):
            for module in obj.modules():
                for klass in _type(module).__mro__:
                    if klass is _Module or klass is object:
                        break
                    for member in vars(klass).values():
                        codes.update(_codes_of(member))
            return
        if _isinstance(obj, _Optimizer) or (callable(obj) and not _isinstance(obj, type)):
            for klass in _type(obj).__mro__:
                if klass is object:
                    break
                for member in vars(klass).values():
                    codes.update(_codes_of(member))
        elif _isinstance(obj, type):
            for member in vars(obj).values():
                codes.update(_codes_of(member))

    for value in values:
        add(value, 0)
    return codes, builtin_ids


class Watch:
    """A profile hook that notes the first forbidden call made outside exempt frames."""

    def __init__(self, rules: Forbidden, exempt: Iterable[object] = ()) -> None:
        self.rules = rules
        self.exempt_codes, self.exempt_builtins = _exempt_codes(exempt)
        self.exempt_frames: list[types.FrameType] = []
        self.hit: str | None = None
        self.previous: Any = None
        self.removed = False

    def __call__(self, frame: types.FrameType, event: str, arg: Any) -> None:
        try:
            if event == "call":
                code = frame.f_code
                if code in self.exempt_codes:
                    self.exempt_frames.append(frame)
                elif not self.exempt_frames and self.hit is None and code in self.rules.codes:
                    self.hit = self.rules.codes[code]
            elif event == "return":
                if self.exempt_frames and self.exempt_frames[-1] is frame:
                    self.exempt_frames.pop()
            elif event == "c_call" and not self.exempt_frames and self.hit is None:
                if _id(arg) in self.exempt_builtins:
                    return
                found = self.rules.objects.get(_id(arg))
                if found is not None and found[0] is arg:
                    self.hit = found[1]
                    return
                methods = self.rules.tensor_methods
                if methods:
                    name = _getattr(arg, "__name__", None)
                    if name in methods and _isinstance(_getattr(arg, "__self__", None), _Tensor):
                        self.hit = methods[name]
        except Exception:  # a hook must never break the code it watches
            return


@contextlib.contextmanager
def watching(forbidden_names: Iterable[str], exempt: Iterable[object] = ()) -> Iterator[Watch]:
    """Note forbidden calls made while the block runs (``watch.hit`` names the first one).

    ``exempt`` holds what the check passed to the student's function: calls made inside
    those callables are not the student's. ``watch.removed`` is true when code in the block
    took the hook away (``sys.setprofile``), which only tampering does.
    """
    watch = Watch(forbidden(forbidden_names), exempt)
    if not watch.rules:
        yield watch
        return
    watch.previous = _getprofile()
    previous_for_threads = _threading_getprofile()
    _setprofile(watch)
    _threading_setprofile(watch)  # threads the function starts are watched too
    try:
        yield watch
    finally:
        watch.removed = _getprofile() is not watch
        _setprofile(watch.previous)
        _threading_setprofile(previous_for_threads)


def describe_hit(name: str) -> str:
    """The sentence a check shows for a forbidden call seen while the function ran."""
    return tr(
        "called {name} while the check ran it. Write the computation yourself from tensor "
        "operations.",
        name=name,
    )


def describe_removed() -> str:
    return tr(
        "removed the check's watch on forbidden calls (sys.setprofile) while it ran. "
        "Remove that code."
    )
