"""A corpus of hostile and broken submissions of ``01_basic_losses``, built from the course.

Every submission starts from the *release* notebook with the *source* solutions filled
in (a correct student), or from the untouched release, and then does one hostile or
broken thing. Each comes with the points it really earned, per tests cell: an answer made
wrong (its result 1.01x off) earns nothing, however the notebook tries to hide that; a
correct answer keeps its points whatever else the notebook does. The points per cell are
read from the notebook, so the corpus follows the topic when it changes.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder import paths

TOPIC = "01_basic_losses"


@dataclass
class Submission:
    name: str
    what: str  # the issue's item this proves
    files: dict[str, str | bytes]  # file name -> content, in the assignment folder
    expected: dict[str, float]  # grade_id -> points really earned
    message: str | None = None  # a phrase the notebook's message must contain
    notes: list[str] = field(default_factory=list)


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def release() -> nbformat.NotebookNode:
    return nbformat.read(paths.release_notebook(TOPIC), as_version=4)


def points() -> dict[str, float]:
    """Every tests cell's points, read from the release notebook."""
    return {
        _grade_id(c): float(c.metadata.nbgrader["points"])
        for c in release().cells
        if c.metadata.get("nbgrader", {}).get("grade")
    }


def tests_of(answer: str) -> list[str]:
    """The tests cells that check ``answer``."""
    return [
        _grade_id(c)
        for c in release().cells
        if c.metadata.get("course", {}).get("answer") == answer
        and c.metadata.get("nbgrader", {}).get("grade")
    ]


def solved() -> nbformat.NotebookNode:
    """The release with every answer cell holding the source's solution."""
    solutions = {
        _grade_id(c): c.source
        for c in nbformat.read(paths.source_notebook(TOPIC), as_version=4).cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    nb = release()
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = solutions[_grade_id(cell)]
    return nb


def index(nb, grade_id: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if _grade_id(c) == grade_id)


def answers(nb) -> list[str]:
    return [
        _grade_id(c)
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"
    ]


def append(nb, answer: str, code: str) -> None:
    """Add code at the end of an answer cell (the student's own cell)."""
    cell = nb.cells[index(nb, answer)]
    cell.source = cell.source.rstrip() + "\n\n" + code.strip() + "\n"


def wrong_code(answer: str) -> str:
    """Code that makes an answer 1.01x off (after the correct definition)."""
    return (
        f"_right_{answer} = {answer}\n"
        f"if callable(_right_{answer}):\n"
        f"    def {answer}(*args, **kwargs):\n"
        f"        return 1.01 * _right_{answer}(*args, **kwargs)\n"
        f"else:\n"
        f"    {answer} = 1.01 * _right_{answer}\n"
    )


def make_wrong(nb, answer: str) -> None:
    append(nb, answer, wrong_code(answer))


def earned(*lost_answers: str, lost_tests: tuple[str, ...] = ()) -> dict[str, float]:
    """Full points except for the tests of the given answers (and the given tests)."""
    result = points()
    for answer in lost_answers:
        for grade_id in tests_of(answer):
            result[grade_id] = 0.0
    for grade_id in lost_tests:
        result[grade_id] = 0.0
    return result


def nothing() -> dict[str, float]:
    return {k: 0.0 for k in points()}


def text(nb) -> str:
    """The notebook's JSON as is (``nbformat.writes`` would repair duplicated cell ids)."""
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def notebook_file(nb) -> dict[str, str]:
    return {f"{TOPIC}.ipynb": text(nb)}


# -- the corpus ------------------------------------------------------------------------
def build() -> list[Submission]:
    subs: list[Submission] = []
    add = subs.append
    first = answers(release())[0]  # ce_by_hand: a plain value
    l1, mse, ce, stable = "l1_loss", "mse_loss", "cross_entropy", "stable_cross_entropy"

    add(Submission("correct", "baseline: solutions", notebook_file(solved()), earned()))
    add(Submission("untouched", "baseline: the release", notebook_file(release()), nothing()))

    # -- cells edited, deleted, retyped, duplicated, points inflated --------------------
    nb = solved()
    make_wrong(nb, l1)
    for grade_id in tests_of(l1):
        nb.cells[index(nb, grade_id)].source = "pass  # tests removed by the student"
    add(Submission("edited_tests", "edited test cells", notebook_file(nb), earned(l1)))

    nb = solved()
    make_wrong(nb, l1)
    for grade_id in tests_of(l1) + tests_of(mse):  # mse is right: it keeps its points
        del nb.cells[index(nb, grade_id)]
    add(Submission("deleted_tests", "deleted test cells", notebook_file(nb), earned(l1)))

    nb = solved()
    make_wrong(nb, mse)
    for grade_id in tests_of(mse):
        cell = nb.cells[index(nb, grade_id)]
        nb.cells[index(nb, grade_id)] = nbformat.v4.new_markdown_cell(
            cell.source, metadata=cell.metadata, id=cell.id
        )
    add(
        Submission(
            "tests_to_markdown", "test cell turned into markdown", notebook_file(nb), earned(mse)
        )
    )  # noqa: E501

    nb = solved()
    at = index(nb, l1)
    wrong_copy = copy.deepcopy(nb.cells[at])
    wrong_copy.source = wrong_copy.source + "\n" + wrong_code(l1)
    nb.cells.insert(at + 1, wrong_copy)  # same cell id and grade_id: a pasted copy
    for answer in (l1, ce):
        for grade_id in tests_of(answer):
            at = index(nb, grade_id)
            nb.cells.insert(at + 1, copy.deepcopy(nb.cells[at]))
    add(
        Submission(
            "duplicated_cells", "duplicated answer and test cells", notebook_file(nb), earned(l1)
        )
    )  # noqa: E501

    nb = solved()
    make_wrong(nb, first)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.metadata.nbgrader["points"] = 100
    add(Submission("inflated_points", "inflated points metadata", notebook_file(nb), earned(first)))  # noqa: E501

    # -- monkeypatching the comparison -------------------------------------------------
    nb = solved()
    make_wrong(nb, l1)
    append(
        nb,
        l1,
        """
import numpy, numpy.testing, torch.testing
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
torch.isclose = lambda a, b, *r, **k: torch.ones_like(a, dtype=torch.bool)
torch.testing.assert_close = lambda *a, **k: None
numpy.testing.assert_allclose = lambda *a, **k: None
numpy.allclose = lambda *a, **k: True
torch.Tensor.__eq__ = lambda self, other: True
""",
    )
    add(
        Submission(
            "patch_allclose",
            "monkeypatched allclose/assert_close/numpy.testing",
            notebook_file(nb),
            earned(l1),
        )
    )  # noqa: E501

    nb = solved()
    make_wrong(nb, l1)
    make_wrong(nb, ce)
    append(
        nb,
        l1,
        """
import torch.nn.functional
torch.nn.functional.l1_loss = l1_loss
F.l1_loss = l1_loss
nn.L1Loss.forward = lambda self, input, target: l1_loss(input, target, self.reduction)
""",
    )
    append(
        nb,
        ce,
        """
F.cross_entropy = cross_entropy
torch.nn.functional.cross_entropy = cross_entropy
nn.CrossEntropyLoss = type("CrossEntropyLoss", (nn.Module,), {"forward": lambda s, i, t: cross_entropy(i, t)})
F = type("F", (), {"cross_entropy": staticmethod(cross_entropy), "softmax": staticmethod(torch.softmax), "nll_loss": staticmethod(torch.nn.functional.nll_loss)})
""",  # noqa: E501
    )
    add(
        Submission(
            "patch_losses",
            "monkeypatched torch loss functions and nn modules",
            notebook_file(nb),
            earned(l1, ce),
        )
    )  # noqa: E501

    nb = release()
    for answer in answers(nb):
        nb.cells[index(nb, answer)].source = f"{answer} = None"
    append(
        nb,
        first,
        """
import sys, types
import autograder.checking, autograder.checking.integrity
autograder.checking.check_function = lambda *a, **k: None
autograder.checking.check_value = lambda *a, **k: None
autograder.checking.compare = lambda *a, **k: None
autograder.checking.integrity.verify = lambda *a, **k: []
fake = types.ModuleType("autograder.checking")
fake.__dict__.update(vars(autograder.checking))
sys.modules["autograder.checking"] = fake
check_function = lambda *a, **k: None
check_value = lambda *a, **k: None
""",
    )
    add(Submission("patch_checks", "monkeypatched checking library", notebook_file(nb), nothing()))  # noqa: E501

    nb = solved()
    append(
        nb,
        l1,
        f"""
_right_{l1} = {l1}
def {l1}(input, target, reduction="mean"):
    import autograder.checking, autograder.checking.integrity
    autograder.checking.compare = lambda *a, **k: None
    autograder.checking.integrity.verify = lambda *a, **k: []
    return 1.01 * _right_{l1}(input, target, reduction)
""",
    )
    add(
        Submission(
            "patch_during_call",
            "the checking library patched by the answer while the checks call it",
            notebook_file(nb),
            earned(l1),
        )
    )  # noqa: E501

    # -- values that are not what they seem ------------------------------------------
    nb = solved()
    append(
        nb,
        first,
        """
class _Liar(float):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __sub__(self, other): return 0.0
    __rsub__ = __sub__
    def __abs__(self): return 0.0
    def __lt__(self, other): return True
    def __le__(self, other): return True
    __hash__ = float.__hash__
ce_by_hand = _Liar(0.0)
""",
    )
    append(
        nb,
        l1,
        """
class _LyingTensor(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") in ("allclose", "equal", "__eq__", "isclose"):
            return True
        return super().__torch_function__(func, types, args, kwargs or {})
    def __eq__(self, other): return True
_right_l1_loss = l1_loss
def l1_loss(input, target, reduction="mean"):
    return (2 * _right_l1_loss(input, target, reduction)).as_subclass(_LyingTensor)
""",
    )
    add(
        Submission(
            "always_equal",
            "objects and tensor subclasses whose comparisons succeed",
            notebook_file(nb),
            earned(first, l1),
        )
    )  # noqa: E501

    # -- making a failed test cell look like a pass -----------------------------------
    nb = solved()
    for answer in answers(nb):
        make_wrong(nb, answer)
    append(
        nb,
        first,
        """
import sys, io, os
ip = get_ipython()
ip.showtraceback = lambda *a, **k: None
ip._showtraceback = lambda *a, **k: None
ip.set_custom_exc((BaseException,), lambda shell, etype, evalue, tb, tb_offset=None: print("ok"))
sys.excepthook = lambda *a: None
sys.stderr = open(os.devnull, "w")
""",
    )
    add(
        Submission(
            "suppressed_tracebacks",
            "tracebacks suppressed (showtraceback, custom exc, excepthook, stderr)",
            notebook_file(nb),
            nothing(),
        )
    )  # noqa: E501

    nb = solved()
    for answer in answers(nb):
        make_wrong(nb, answer)
    append(
        nb,
        first,
        """
from IPython.display import display
ip = get_ipython()
def _show_full_marks(*args, **kwargs):
    print("All tests passed!")
    display(100)
    ip.displayhook(100)
ip.events.register("post_run_cell", _show_full_marks)
ip.events.register("post_execute", _show_full_marks)
import sys
sys.stderr = sys.stdout
""",
    )
    add(
        Submission(
            "fake_pass_output",
            "output made to look like a pass (stdout, a displayed number, stderr redirected)",
            notebook_file(nb),
            nothing(),
        )
    )  # noqa: E501

    nb = solved()
    for answer in answers(nb):
        make_wrong(nb, answer)
    append(
        nb,
        first,
        """
import ast
from IPython.core.interactiveshell import ExecutionResult, ExecutionInfo
ip = get_ipython()
class _Skip(ast.NodeTransformer):
    def visit_Module(self, node):
        if any("check_" in ast.unparse(n) for n in node.body):
            node.body = [ast.Pass()]
        return node
ip.ast_transformers.append(_Skip())
def _blank(lines):
    return ["pass\\n"] if any("check_" in line for line in lines) else lines
ip.input_transformers_post.append(_blank)
_real = ip.run_cell_async
async def _fake(raw_cell, *args, **kwargs):
    if "check_" in raw_cell:
        info = ExecutionInfo(raw_cell, False, False, True, None)
        return ExecutionResult(info)
    return await _real(raw_cell, *args, **kwargs)
ip.run_cell_async = _fake
""",
    )
    add(
        Submission(
            "skipped_tests",
            "test cells skipped (AST/input transformers, a fake run_cell)",
            notebook_file(nb),
            nothing(),
        )
    )  # noqa: E501

    # -- leaving the kernel ----------------------------------------------------------
    nb = solved()
    append(nb, first, "import sys\nsys.exit()")
    append(nb, mse, f"_right_{mse} = {mse}\ndef {mse}(*args, **kwargs):\n    raise SystemExit(1)")
    add(
        Submission("system_exit", "sys.exit() and raise SystemExit", notebook_file(nb), earned(mse))
    )  # noqa: E501

    nb = solved()
    append(nb, ce, f"def {ce}(*args, **kwargs):\n    raise KeyboardInterrupt")
    append(nb, stable, "raise KeyboardInterrupt")
    add(Submission("keyboard_interrupt", "KeyboardInterrupt", notebook_file(nb), earned(ce)))

    nb = solved()
    append(nb, stable, "import os\nos._exit(0)")
    add(Submission("os_exit", "os._exit()", notebook_file(nb), earned(stable), "kernel died"))

    # -- resources ---------------------------------------------------------------------
    nb = solved()
    append(nb, l1, f"def {l1}(*args, **kwargs):\n    while True:\n        pass")
    add(
        Submission("infinite_loop", "an infinite loop (interrupted)", notebook_file(nb), earned(l1))
    )  # noqa: E501

    nb = solved()
    append(
        nb,
        mse,
        f"""
def {mse}(*args, **kwargs):
    while True:
        try:
            while True:
                pass
        except KeyboardInterrupt:
            pass
""",
    )
    add(
        Submission(
            "stubborn_loop",
            "an infinite loop that ignores interrupts (the kernel is killed)",
            notebook_file(nb),
            earned(mse, ce, stable),
            "time limit",
        )
    )

    nb = solved()
    append(
        nb,
        mse,
        f"""
_right_{mse} = {mse}
def {mse}(*args, **kwargs):
    hog = []
    while True:
        hog.append(bytearray(200 * 2**20))
""",
    )
    append(nb, first, "try:\n    _hog = bytearray(64 * 2**30)\nexcept MemoryError:\n    pass")
    add(Submission("memory_bomb", "a memory bomb", notebook_file(nb), earned(mse)))

    nb = solved()
    append(
        nb,
        first,
        """
import os, time
_children, _fork_error = [], None
try:
    for _ in range(300):  # bounded: at most 300 sleeping children if no limit held
        pid = os.fork()
        if pid == 0:
            time.sleep(20)
            os._exit(0)
        _children.append(pid)
except OSError as error:
    _fork_error = error
""",
    )
    add(Submission("fork_bomb", "a (bounded) fork bomb", notebook_file(nb), earned()))

    nb = solved()
    append(nb, first, "for _i in range(300_000):\n    print('spam ' * 20)")
    append(nb, l1, "import sys\nsys.stderr.write('x' * 10_000_000)")
    add(
        Submission(
            "output_flood", "a flood of output (stdout and stderr)", notebook_file(nb), earned()
        )
    )  # noqa: E501

    # -- broken files ----------------------------------------------------------------
    add(
        Submission(
            "not_json",
            "a file that is not JSON",
            {f"{TOPIC}.ipynb": "print('hello')\n"},
            nothing(),
            "not JSON",
        )
    )  # noqa: E501
    whole = text(solved())
    add(
        Submission(
            "truncated",
            "a truncated notebook",
            {f"{TOPIC}.ipynb": whole[: len(whole) // 2]},
            nothing(),
            "truncated",
        )
    )  # noqa: E501
    v3 = nbformat.writes(nbformat.convert(solved(), 3), version=3)
    add(
        Submission(
            "nbformat3", "an nbformat 3 notebook", {f"{TOPIC}.ipynb": v3}, nothing(), "nbformat 3"
        )
    )  # noqa: E501
    add(
        Submission(
            "wrong_name",
            "a wrongly named notebook",
            {f"{TOPIC} (1).ipynb": whole},
            nothing(),
            "rename",
        )
    )  # noqa: E501
    add(Submission("empty_folder", "an empty folder", {}, nothing(), "empty"))
    return subs


def write(submitted: Path, subs: list[Submission]) -> None:
    """Lay the corpus out as nbgrader's ``submitted/<student>/<assignment>/``."""
    for sub in subs:
        folder = submitted / sub.name / TOPIC
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in sub.files.items():
            mode = "wb" if isinstance(content, bytes) else "w"
            with open(folder / name, mode) as f:
                f.write(content)


if __name__ == "__main__":
    for sub in build():
        print(f"{sub.name:<24} {sum(sub.expected.values()):4g}  {sub.what}")
    print(json.dumps(points()))
