"""The grader's side of the kernel: restore a clean state before each tests cell.

At grading time (only then) the grader runs :func:`install` in the fresh kernel before
the notebook's first cell, so the snapshots below are of untouched torch, numpy, the
checking library and IPython. Before every tests cell it runs :func:`before_test` (with
the cell before it, through :func:`between`), which puts back whatever notebook code
replaced since:

* everything :mod:`autograder.checking.integrity` watches (torch, its losses, ``nn`` modules and
  optimizers, ``torch.testing``, numpy, ``numpy.testing``, math, builtins, ``torch.Tensor``),
  and every module of the :mod:`autograder` package (the checking library itself);
* the names that read-only and tests cells bound in the notebook's namespace (``F``,
  ``torch``, ``check_function``, the worked examples...), so an answer cell that rebinds
  ``F`` cannot change what a check compares with;
* IPython's execution machinery: input and AST transformers, event callbacks, custom
  exception handlers, ``showtraceback``, display hooks, ``sys.stdout``/``stderr``,
  ``sys.excepthook``, trace functions.

After a tests cell's own code, the grader appends a call to :func:`proof` with a random
token: the cell only counts as passed if the token arrives, the execute reply says ``ok``
and no error was shown. A cell whose code was skipped (a faked ``run_cell``) or whose
exception was swallowed cannot produce it.

All of this runs inside a kernel that the notebook's code controls. It defeats patches
made by assignment, which is what the hostile corpus (``tests/hostile``) tries; code that
deliberately digs into the grader's own state (``gc``, frames, ``ctypes``) could still
defeat it, and :mod:`autograder.grading.review` flags such code for a human.
"""

from __future__ import annotations

import builtins
import importlib
import json
import os
import pkgutil
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from autograder.checking import integrity
from autograder.checking.integrity import Snapshot

_IPYTHON_MANAGED = {
    "input",
    "get_ipython",
    "display",
    "exit",
    "quit",
    "_",
    "__",
    "___",
    "__IPYTHON__",
    "__builtins__",
    "raw_input",
    "help",
    "copyright",
    "credits",
    "license",
}
_SHELL_LISTS = ("ast_transformers", "input_transformers_post")
_MANAGER_LISTS = ("cleanup_transforms", "line_transforms", "token_transformers")


@dataclass
class KernelState:
    """The clean kernel, recorded by :func:`install` before any notebook code runs."""

    shell: Any
    """IPython's shell, whose namespace and hooks the notebook can change."""
    kernel: Any
    """ipykernel's kernel object (``None`` outside ipykernel)."""
    modules: dict[str, ModuleType]
    """Every ``autograder`` module loaded at install, by name."""
    module_items: dict[str, dict[str, object]]
    """Each of those modules' items."""
    integrity: Snapshot
    """A private copy of the checking library's integrity snapshot."""
    builtins: dict[str, object]
    """All of ``builtins``."""
    classes: dict[type, dict[str, object]]
    """IPython's and ipykernel's classes (the shell's and kernel's MRO) and their items."""
    shell_items: dict[str, object]
    """The shell instance's attributes."""
    kernel_items: dict[str, object]
    """The kernel instance's attributes."""
    shell_lists: dict[str, list]
    """The shell's AST and input transformers."""
    manager_lists: dict[str, list]
    """The input transformer manager's transforms."""
    events: dict[str, list]
    """Event callbacks, with those that course cells register added as they appear."""
    sys_items: dict[str, object]
    """``sys.stdout``, ``stderr``, ``stdin``, ``excepthook``, ``displayhook``."""
    displayhook: Any
    display_pub: Any
    threads: set
    """The threads alive at install."""
    write: Callable[[str], object]
    """The real ``sys.stdout.write``, for :func:`proof`'s token."""
    flush: Callable[[], object]
    bound: dict[str, object] = field(default_factory=dict)
    """Names that read-only and tests cells bound in the notebook's namespace: the course's."""
    before: dict[str, int] = field(default_factory=dict)
    """ids of the namespace's values before the read-only cell that is running."""
    events_before: dict[str, list] = field(default_factory=dict)
    lists_before: dict[str, list] = field(default_factory=lambda: {k: [] for k in _SHELL_LISTS})


_state: KernelState | None = None


def _kernel_state() -> KernelState:
    if _state is None:
        raise RuntimeError("kernel_guard.install() has not run in this kernel")
    return _state


def _class_items(cls: type) -> dict:
    return dict(vars(cls))


def _restore_items(target, items: dict, changed: list[str], label: str) -> None:
    current = vars(target)
    for key, value in items.items():
        if key in ("__dict__", "__weakref__"):
            continue
        if key not in current or current[key] is not value:
            changed.append(f"{label}.{key}")
            try:
                setattr(target, key, value)
            except (AttributeError, TypeError):
                pass


def install() -> dict:
    """Snapshot a clean kernel (called once, before any notebook code)."""
    global _state
    from IPython import get_ipython

    # Every module of the checking library, before any notebook code: their items (and the
    # integrity snapshot of them) are recorded clean, and no module is first imported, and
    # watched, after a student's cell could have patched what it imports.
    import autograder.checking

    for info in pkgutil.walk_packages(autograder.checking.__path__, "autograder.checking."):
        importlib.import_module(info.name)

    shell = get_ipython()
    modules = {
        name: module
        for name, module in sys.modules.items()
        if name == "autograder" or name.startswith("autograder.")
    }
    classes = [
        c for c in type(shell).__mro__ if c.__module__.split(".")[0] in ("IPython", "ipykernel")
    ]
    kernel = getattr(shell, "kernel", None)
    if kernel is not None:
        classes += [c for c in type(kernel).__mro__ if c.__module__.split(".")[0] in ("ipykernel",)]
    _state = KernelState(
        shell=shell,
        kernel=kernel,
        modules=modules,
        module_items={},
        integrity=integrity.SNAPSHOT.copy(),
        builtins=dict(vars(builtins)),
        classes={c: _class_items(c) for c in classes},
        shell_items=dict(vars(shell)),
        kernel_items=dict(vars(kernel)) if kernel is not None else {},
        shell_lists={k: list(getattr(shell, k)) for k in _SHELL_LISTS},
        manager_lists={
            k: list(getattr(shell.input_transformer_manager, k)) for k in _MANAGER_LISTS
        },
        events={k: list(v) for k, v in shell.events.callbacks.items()},
        sys_items={
            k: getattr(sys, k) for k in ("stdout", "stderr", "stdin", "excepthook", "displayhook")
        },
        displayhook=shell.displayhook,
        display_pub=shell.display_pub,
        threads=set(threading.enumerate()),
        write=sys.stdout.write,
        flush=sys.stdout.flush,
    )
    # after _state is set, so that restoring this module's items keeps it
    _state.module_items = {name: dict(vars(m)) for name, m in modules.items()}
    return json.loads(os.environ.get("AUTOGRADER_SANDBOX", "{}"))


def _namespace() -> dict:
    return _kernel_state().shell.user_ns


def before_locked() -> None:
    """Remember the namespace (and hooks) before a read-only or tests cell runs."""
    st = _kernel_state()
    st.before = {k: id(v) for k, v in _namespace().items()}
    st.events_before = {k: list(v) for k, v in st.shell.events.callbacks.items()}
    st.lists_before = {k: list(getattr(st.shell, k)) for k in _SHELL_LISTS}


def after_locked() -> None:
    """Record the names that a read-only or tests cell bound: they are the course's."""
    st = _kernel_state()
    for key, value in _namespace().items():
        if st.before.get(key) != id(value) and not key.startswith("_i") and key not in ("_", "__"):
            st.bound[key] = value
    # hooks that course code registers (matplotlib's inline backend) are the course's too
    for event, callbacks in st.shell.events.callbacks.items():
        known = st.events_before.get(event, [])
        saved = st.events.setdefault(event, [])
        saved += [cb for cb in callbacks if cb not in known and cb not in saved]
    for key in _SHELL_LISTS:
        known = st.lists_before[key]
        saved = st.shell_lists[key]
        saved += [t for t in getattr(st.shell, key) if t not in known and t not in saved]


def between(after: bool, before: str | None) -> list[str]:
    """The grader's steps between two cells, in one call.

    ``after``: :func:`after_locked` for the cell that just ran; ``before``: ``"test"``
    (:func:`before_test`, whose list it returns) or ``"locked"`` (:func:`before_locked`)
    for the next cell. The grader sends it with a cell, evaluated once the cell has run.
    """
    if after:
        after_locked()
    if before == "test":
        return before_test()
    if before == "locked":
        before_locked()
    return []


class TamperedDuringTests(AssertionError):
    """Code called by the checks replaced something they rely on while they ran."""


def before_test() -> list[str]:
    """Restore everything the checks rely on; return what had been replaced."""
    changed = _restore(namespace=True)
    before_locked()
    return changed


def _restore(namespace: bool) -> list[str]:
    st = _kernel_state()
    changed: list[str] = []
    # while a cell runs, IPython itself swaps sys.displayhook and sys.excepthook
    running = not namespace
    for key, value in st.sys_items.items():
        if running and key in ("displayhook", "excepthook"):
            continue
        if getattr(sys, key) is not value:
            changed.append(f"sys.{key}")
            setattr(sys, key, value)
    sys.settrace(None)
    sys.setprofile(None)
    threading.settrace(None)
    threading.setprofile(None)
    for name, module in st.modules.items():
        if sys.modules.get(name) is not module:
            changed.append(f"sys.modules[{name!r}]")
            sys.modules[name] = module
        items = st.module_items[name]
        if module is integrity:  # its live snapshot is put back whole, below
            items = {k: v for k, v in items.items() if k != "SNAPSHOT"}
        _restore_items(module, items, changed, name)
    if not st.integrity.same_as(getattr(integrity, "SNAPSHOT", None)):
        changed.append("autograder.checking.integrity.SNAPSHOT")
    integrity.reset(st.integrity)
    changed += integrity.verify(restore=True)
    for key, value in st.builtins.items():
        if key not in _IPYTHON_MANAGED and vars(builtins).get(key, _MISSING) is not value:
            changed.append(f"builtins.{key}")
            setattr(builtins, key, value)
    for cls, items in st.classes.items():
        _restore_items(cls, items, changed, cls.__qualname__)
    shell = st.shell
    items = st.shell_items
    for key in list(vars(shell)):
        if key not in items and callable(getattr(type(shell), key, None)):
            changed.append(f"shell.{key}")
            delattr(shell, key)
    for key in ("showtraceback", "_showtraceback", "showsyntaxerror", "run_cell", "run_code"):
        if key in vars(shell) and vars(shell)[key] is not items.get(key, _MISSING):
            changed.append(f"shell.{key}")
            if key in items:
                setattr(shell, key, items[key])
            else:
                delattr(shell, key)
    if shell.custom_exceptions != ():
        changed.append("shell.custom_exceptions")
        shell.custom_exceptions = ()
    if shell.displayhook is not st.displayhook:
        changed.append("shell.displayhook")
        shell.displayhook = st.displayhook
    if shell.display_pub is not st.display_pub:
        changed.append("shell.display_pub")
        shell.display_pub = st.display_pub
    for key, saved in st.shell_lists.items():
        if getattr(shell, key) != saved:
            changed.append(f"shell.{key}")
            setattr(shell, key, list(saved))
    manager = shell.input_transformer_manager
    for key, saved in st.manager_lists.items():
        if getattr(manager, key) != saved:
            changed.append(f"input_transformer_manager.{key}")
            setattr(manager, key, list(saved))
    for event, saved in st.events.items():
        if shell.events.callbacks.get(event) != saved:
            changed.append(f"events[{event!r}]")
            shell.events.callbacks[event] = list(saved)
    kernel = st.kernel
    if kernel is not None:
        for key in list(vars(kernel)):
            if key not in st.kernel_items and callable(getattr(type(kernel), key, None)):
                changed.append(f"kernel.{key}")
                delattr(kernel, key)
    if namespace:
        user_ns = _namespace()
        for key, value in st.bound.items():
            if user_ns.get(key, _MISSING) is not value:
                changed.append(f"the notebook's {key!r}")
                user_ns[key] = value
    return changed


def threads_left() -> list[str]:
    """Threads that notebook code started and left running."""
    known = _kernel_state().threads
    return [t.name for t in threading.enumerate() if t not in known and t.is_alive()]


def proof(token: str) -> None:
    """Called at the very end of a tests cell: shows the grader that its code ran through.

    If the student's code, called by the checks, replaced anything the checks rely on
    while they ran (the checks themselves, ``integrity.verify``, torch), the token is
    withheld and the cell fails.
    """
    changed = _restore(namespace=False)
    if changed:
        shown = ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")
        raise TamperedDuringTests(
            f"code called by the checks replaced {shown} while they ran; no points for this cell"
        )
    after_locked()
    st = _kernel_state()
    st.write(f"\n{token}\n")
    st.flush()


class _Missing:
    pass


_MISSING = _Missing()
