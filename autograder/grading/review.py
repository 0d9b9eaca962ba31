"""Flag student code that reaches into the grader's machinery, for a human to look at.

The in-kernel defences (:mod:`.kernel_guard`) undo patches made by assignment. Code
that digs deeper (``gc``, frames, ``ctypes``, the IPython shell, ``sys.modules``) could
in principle defeat them; it never affects a grade here, it is listed in the results
under ``review`` so that an instructor can read the notebook.
"""

from __future__ import annotations

import ast
from collections.abc import Set

SUSPECT_MODULES = {
    "gc": "the garbage collector (gc)",
    "ctypes": "ctypes",
    "inspect": "inspect (frames)",
    "builtins": "builtins",
    "threading": "threads",
    "signal": "signals",
    "subprocess": "subprocesses",
    "socket": "the network",
    "autograder": "the checking library",
    "IPython": "IPython's machinery",
    "ipykernel": "the kernel's machinery",
}
SUSPECT_NAMES = {
    "get_ipython": "the IPython shell",
    "__import__": "__import__",
    "_getframe": "frames",
    "__code__": "code objects",
    "__globals__": "function globals",
    "__builtins__": "builtins",
    "modules": "sys.modules",
    "fork": "os.fork",
    "_exit": "os._exit",
    "exit": "exit()",
    "excepthook": "sys.excepthook",
    "settrace": "trace functions",
}
PATCHED_ROOTS = {"torch", "F", "nn", "np", "numpy", "math", "checks", "integrity"}


def _root(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def flags(source: str) -> list[str]:
    """What in one cell's code deserves a look (empty for ordinary answers)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names]
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top in SUSPECT_MODULES:
                    found.add(f"imports {SUSPECT_MODULES[top]}")
        elif isinstance(node, ast.Attribute | ast.Name):
            name = node.attr if isinstance(node, ast.Attribute) else node.id
            if name in SUSPECT_NAMES:
                found.add(f"uses {SUSPECT_NAMES[name]}")
        if isinstance(node, ast.Assign | ast.AugAssign | ast.Delete):
            targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and _root(target) in PATCHED_ROOTS:
                    found.add(f"assigns to {ast.unparse(target)}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in ("setattr", "delattr") and node.args:
                found.add(f"calls {node.func.id} on {ast.unparse(node.args[0])}")
    return sorted(found)


def review(
    nb, known_sources: Set[str] = frozenset(), locked_ids: Set[str] = frozenset()
) -> list[str]:
    """Flags for every code cell that runs as the student wrote it, as ``cell N: ...``.

    Cells shipped as is are skipped, and so are cells carrying the id of a read-only or
    tests cell: nbgrader replaces those with the course's version before running them.
    """
    out = []
    for number, cell in enumerate(nb.cells, start=1):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type != "code" or cell.source in known_sources or grade_id in locked_ids:
            continue
        for flag in flags(cell.source):
            out.append(f"cell {number}: {flag}")
    return out
