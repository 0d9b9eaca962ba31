"""The package's rooms keep to their rules.

* ``checking/`` runs in every student kernel: it never imports nbgrader, ``authoring/`` or
  ``grading/`` (kernels stay light and cannot reach the grader).
* No module imports another module's private name (``from .x import _y``, ``x._y``).
* Every notebook has its topic module under ``checking/topics/``, named like it.

Each rule is checked by reading the source (AST), so that a violation anywhere fails, and
the first is also checked by importing ``autograder.checking`` in a fresh interpreter.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import paths

PACKAGE = paths.ROOT / "autograder"
CHECKING = PACKAGE / "checking"
FORBIDDEN_IN_CHECKING = ("nbgrader", "autograder.authoring", "autograder.grading")


def modules(root: Path = PACKAGE) -> list[Path]:
    return sorted(root.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(paths.ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> list[tuple[int, str, list[str]]]:
    """``(line, absolute module, names)`` for every import in a module (relative ones resolved)."""
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    )
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name, [alias.name for alias in node.names]))
    return found


def violations_of_checking_isolation(root: Path = CHECKING) -> list[str]:
    bad = []
    for path in modules(root):
        for line, name, names in imported_modules(path):
            targets = [name] + [f"{name}.{n}" for n in names]
            for target in targets:
                if any(target == f or target.startswith(f + ".") for f in FORBIDDEN_IN_CHECKING):
                    bad.append(f"{path.relative_to(paths.ROOT)}:{line} imports {target}")
    return bad


def private_cross_imports(root: Path = PACKAGE) -> list[str]:
    """``from m import _x`` or ``m._x`` where ``m`` is another module of the package."""
    bad = []
    for path in modules(root):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        own = module_name(path)
        local_modules: set[str] = set()
        for line, name, names in imported_modules(path):
            if not name.startswith("autograder") or name == own:
                continue
            for n in names:
                if n.startswith("_") and not n.startswith("__"):
                    bad.append(f"{path.relative_to(paths.ROOT)}:{line} imports {name}.{n}")
                else:
                    local_modules.add(n)
            if not names:
                local_modules.add(name.rsplit(".", 1)[-1])
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in local_modules
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                where = f"{path.relative_to(paths.ROOT)}:{node.lineno}"
                bad.append(f"{where} uses {node.value.id}.{node.attr}")
    return bad


def missing_topic_modules(notebooks: Path = paths.NOTEBOOKS, root: Path = CHECKING) -> list[str]:
    missing = []
    for topic in paths.topics(notebooks):
        name = topic.split("_", 1)[1]
        if not (root / "topics" / f"{name}.py").is_file():
            missing.append(f"{topic}: no autograder/checking/topics/{name}.py")
    return missing


def test_checking_never_imports_nbgrader_authoring_or_grading():
    assert not violations_of_checking_isolation()


def test_importing_the_checking_library_loads_no_grader():
    code = (
        "import sys, autograder.checking, autograder.checking.optim, autograder.checking.cifar10\n"
        "import autograder.checking.topics as t, pkgutil, importlib\n"
        "for m in pkgutil.iter_modules(t.__path__):\n"
        "    importlib.import_module(t.__name__ + '.' + m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] == 'nbgrader'\n"
        "       or m.startswith(('autograder.grading', 'autograder.authoring'))]\n"
        "print(bad)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_no_module_imports_another_modules_private_name():
    assert not private_cross_imports()


def test_every_notebook_has_its_topic_module():
    assert not missing_topic_modules()


# -- each rule fails when broken on purpose -----------------------------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "autograder"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize(
    "source",
    [
        "import nbgrader.api\n",
        "from nbgrader.preprocessors import Execute\n",
        "from ..grading import grader\n",
        "from autograder.authoring.build import build\n",
        "from .. import grading\n",
    ],
)
def test_the_isolation_rule_catches_a_forbidden_import(tmp_path, monkeypatch, source):
    monkeypatch.setattr(paths, "ROOT", tmp_path)
    root = _package(tmp_path, {"checking/__init__.py": "", "checking/bad.py": source})
    assert violations_of_checking_isolation(root / "checking")


@pytest.mark.parametrize(
    "source",
    [
        "from .integrity import _SNAPSHOT\n",
        "from ..grading.grader import _quiet\n",
        "from . import integrity\nx = integrity._SNAPSHOT\n",
    ],
)
def test_the_private_name_rule_catches_a_private_import(tmp_path, monkeypatch, source):
    monkeypatch.setattr(paths, "ROOT", tmp_path)
    root = _package(tmp_path, {"checking/__init__.py": "", "checking/bad.py": source})
    assert private_cross_imports(root)


def test_the_topic_rule_catches_a_notebook_without_its_module(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    (notebooks / "42_new_topic.py").write_text("# %%\n")
    assert missing_topic_modules(notebooks, tmp_path / "checking") == [
        "42_new_topic: no autograder/checking/topics/new_topic.py"
    ]
