"""The grader's side of the kernel: restore a clean state before each tests cell.

At grading time (only then) the grader runs :func:`install` in the fresh kernel before
the notebook's first cell, so the snapshots below are of untouched torch, numpy, the
checking library and IPython. Before every tests cell it runs :func:`before_test`, which
puts back whatever notebook code replaced since:

* everything :mod:`autograder.integrity` watches (torch, its losses, ``nn`` modules and
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
defeat it, and :mod:`autograder.review` flags such code for a human.
"""

from __future__ import annotations

import builtins
import json
import os
import sys
import threading

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

_state: dict = {}


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
    from IPython import get_ipython

    import autograder.checks  # noqa: F401  (imports integrity, forbid: their snapshots)
    import autograder.inputs  # noqa: F401
    from autograder import integrity

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
    _state.update(
        shell=shell,
        kernel=kernel,
        modules=modules,
        module_items={name: dict(vars(m)) for name, m in modules.items()},
        integrity=(integrity, _copy_snapshot(integrity._SNAPSHOT), dict(integrity._EXTRA)),
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
        bound={},
        before={},
        events_before={},
        lists_before={k: [] for k in _SHELL_LISTS},
    )
    _state["write"] = sys.stdout.write
    _state["flush"] = sys.stdout.flush
    return json.loads(os.environ.get("AUTOGRADER_SANDBOX", "{}"))


def _copy_snapshot(snapshot: dict) -> dict:
    return {
        "modules": {k: (m, dict(items)) for k, (m, items) in snapshot["modules"].items()},
        "classes": {k: (c, dict(items)) for k, (c, items) in snapshot["classes"].items()},
        "sys_modules": dict(snapshot["sys_modules"]),
    }


def _same_snapshot(current, saved: dict) -> bool:
    try:
        for part in ("modules", "classes"):
            if current[part].keys() != saved[part].keys():
                return False
            for key, (obj, items) in saved[part].items():
                obj2, items2 = current[part][key]
                if obj2 is not obj or items2.keys() != items.keys():
                    return False
                if any(items2[k] is not v for k, v in items.items()):
                    return False
        return current["sys_modules"] == saved["sys_modules"]
    except Exception:
        return False


def _namespace() -> dict:
    return _state["shell"].user_ns


def before_locked() -> None:
    """Remember the namespace (and hooks) before a read-only or tests cell runs."""
    shell = _state["shell"]
    _state["before"] = {k: id(v) for k, v in _namespace().items()}
    _state["events_before"] = {k: list(v) for k, v in shell.events.callbacks.items()}
    _state["lists_before"] = {k: list(getattr(shell, k)) for k in _SHELL_LISTS}


def after_locked() -> None:
    """Record the names that a read-only or tests cell bound: they are the course's."""
    before = _state["before"]
    for key, value in _namespace().items():
        if before.get(key) != id(value) and not key.startswith("_i") and key not in ("_", "__"):
            _state["bound"][key] = value
    # hooks that course code registers (matplotlib's inline backend) are the course's too
    shell = _state["shell"]
    for event, callbacks in shell.events.callbacks.items():
        known = _state["events_before"].get(event, [])
        saved = _state["events"].setdefault(event, [])
        saved += [cb for cb in callbacks if cb not in known and cb not in saved]
    for key in _SHELL_LISTS:
        known = _state["lists_before"][key]
        saved = _state["shell_lists"][key]
        saved += [t for t in getattr(shell, key) if t not in known and t not in saved]


class TamperedDuringTests(AssertionError):
    """Code called by the checks replaced something they rely on while they ran."""


def before_test() -> list[str]:
    """Restore everything the checks rely on; return what had been replaced."""
    changed = _restore(namespace=True)
    before_locked()
    return changed


def _restore(namespace: bool) -> list[str]:
    changed: list[str] = []
    # while a cell runs, IPython itself swaps sys.displayhook and sys.excepthook
    running = not namespace
    for key, value in _state["sys_items"].items():
        if running and key in ("displayhook", "excepthook"):
            continue
        if getattr(sys, key) is not value:
            changed.append(f"sys.{key}")
            setattr(sys, key, value)
    sys.settrace(None)
    sys.setprofile(None)
    threading.settrace(None)
    threading.setprofile(None)
    for name, module in _state["modules"].items():
        if sys.modules.get(name) is not module:
            changed.append(f"sys.modules[{name!r}]")
            sys.modules[name] = module
        items = _state["module_items"][name]
        if name == "autograder.integrity":
            items = {k: v for k, v in items.items() if k not in ("_SNAPSHOT", "_EXTRA")}
        _restore_items(module, items, changed, name)
    integrity, snapshot, extra = _state["integrity"]
    if not _same_snapshot(getattr(integrity, "_SNAPSHOT", None), snapshot):
        changed.append("autograder.integrity._SNAPSHOT")
    if not isinstance(getattr(integrity, "_EXTRA", None), dict):
        integrity._EXTRA = {}
    integrity._SNAPSHOT = _copy_snapshot(snapshot)
    integrity._EXTRA.clear()
    integrity._EXTRA.update({k: (m, dict(items)) for k, (m, items) in extra.items()})
    changed += integrity.verify(restore=True)
    for key, value in _state["builtins"].items():
        if key not in _IPYTHON_MANAGED and vars(builtins).get(key, _MISSING) is not value:
            changed.append(f"builtins.{key}")
            setattr(builtins, key, value)
    for cls, items in _state["classes"].items():
        _restore_items(cls, items, changed, cls.__qualname__)
    shell = _state["shell"]
    items = _state["shell_items"]
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
    if shell.displayhook is not _state["displayhook"]:
        changed.append("shell.displayhook")
        shell.displayhook = _state["displayhook"]
    if shell.display_pub is not _state["display_pub"]:
        changed.append("shell.display_pub")
        shell.display_pub = _state["display_pub"]
    for key, saved in _state["shell_lists"].items():
        if getattr(shell, key) != saved:
            changed.append(f"shell.{key}")
            setattr(shell, key, list(saved))
    manager = shell.input_transformer_manager
    for key, saved in _state["manager_lists"].items():
        if getattr(manager, key) != saved:
            changed.append(f"input_transformer_manager.{key}")
            setattr(manager, key, list(saved))
    for event, saved in _state["events"].items():
        if shell.events.callbacks.get(event) != saved:
            changed.append(f"events[{event!r}]")
            shell.events.callbacks[event] = list(saved)
    kernel = _state["kernel"]
    if kernel is not None:
        for key in list(vars(kernel)):
            if key not in _state["kernel_items"] and callable(getattr(type(kernel), key, None)):
                changed.append(f"kernel.{key}")
                delattr(kernel, key)
    if namespace:
        user_ns = _namespace()
        for key, value in _state["bound"].items():
            if user_ns.get(key, _MISSING) is not value:
                changed.append(f"the notebook's {key!r}")
                user_ns[key] = value
    return changed


def threads_left() -> list[str]:
    """Threads that notebook code started and left running."""
    return [t.name for t in threading.enumerate() if t not in _state["threads"] and t.is_alive()]


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
    _state["write"](f"\n{token}\n")
    _state["flush"]()


class _Missing:
    pass


_MISSING = _Missing()
