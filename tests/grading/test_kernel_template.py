"""Kernels forked from the warm template: the sandbox holds, and no kernel inherits another's state.

Each kernel here runs through the hardened executor with the template, as grading does. The
first request of a kind gets a kernel forked for it; the next request with the same limits
gets the spare the template started ahead ("started ahead" in the limits report). Both are
checked.
"""

from __future__ import annotations

import json
import os

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder import paths
from autograder.grading.execute import GuardedExecute
from autograder.grading.kernel_template import PRELOAD
from autograder.grading.provisioner import KernelTemplate
from autograder.grading.sandbox import PIDS_V1, Limits
from tests.grading.bombs import FORK_BOMB

pytestmark = pytest.mark.slow

LIMITS = Limits(memory_mb=5000, max_procs=20, cell_timeout=60)


@pytest.fixture(scope="module")
def template():
    os.environ["PYTHONPATH"] = str(paths.ROOT)
    kernels = KernelTemplate(LIMITS)
    hello = kernels.wait_ready()
    assert hello["threads"] == 1 and "torch" in hello["preloaded"]
    yield kernels
    kernels.close()
    assert kernels.process.wait(timeout=10) == 0


def run(code: str, template, folder, limits: Limits = LIMITS) -> tuple[str, dict]:
    """Run ``code`` in a kernel the grader gets from ``template``; its stdout and the notes."""
    nb = new_notebook(
        cells=[new_code_cell(code)],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )
    executor = GuardedExecute(limits_json=limits.to_json())
    executor.kernel_template = template
    nb, resources = executor.preprocess(nb, {"metadata": {"path": str(folder), "name": "nb"}})
    outputs = nb.cells[0].outputs
    errors = [f"{o.ename}: {o.evalue}" for o in outputs if o.output_type == "error"]
    assert not errors, errors
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    return text, resources["autograder"]


def test_forked_kernels_start_as_a_new_kernel_would(template, tmp_path):
    """Same folder, import path, environment and matplotlib backend as a kernel started anew.

    The kernels import what the template imported first, as a course notebook does: some
    imports set environment variables, and the comparison is with a kernel that did too.
    """
    code = (
        "\n".join(f"import {name}" for name in PRELOAD)
        + """
import json, os, sys, matplotlib
env = dict(os.environ)
env.pop("AUTOGRADER_SANDBOX")
print(json.dumps({"cwd": os.getcwd(), "path": sys.path, "backend": matplotlib.get_backend(),
                  "env": env}))
"""
    )
    fresh, notes = run(code, None, tmp_path)
    assert "kernel" not in notes["sandbox"]  # started by the sandbox launcher, as a new process
    forked, notes = run(code, template, tmp_path)
    assert "forked from a warm template" in notes["sandbox"]["kernel"]
    spare, notes = run(code, template, tmp_path)
    assert "started ahead" in notes["sandbox"]["kernel"]
    assert json.loads(forked) == json.loads(fresh) == json.loads(spare)
    assert json.loads(fresh)["cwd"] == str(tmp_path)
    elsewhere, _ = run(code, template, tmp_path.parent)  # a spare moves to its notebook
    assert json.loads(elsewhere)["cwd"] == str(tmp_path.parent)


def test_every_kernel_has_its_session_memory_and_process_limits(template, tmp_path):
    code = """
import json, os, resource
print(json.dumps({
    "session": os.getsid(0) == os.getpid(),
    "memory": resource.getrlimit(resource.RLIMIT_AS)[0],
    "sandbox": json.loads(os.environ["AUTOGRADER_SANDBOX"]),
}))
"""
    for _ in range(2):  # forked for the request, then the spare
        text, _ = run(code, template, tmp_path)
        got = json.loads(text)
        assert got["session"] and got["memory"] == LIMITS.memory_mb * 2**20
        assert got["sandbox"]["memory"] == f"RLIMIT_AS {LIMITS.memory_mb} MiB"
        assert "NOT" not in got["sandbox"]["processes"] or os.getuid() == 0


def test_a_memory_bomb_gets_memory_error(template, tmp_path):
    code = """
try:
    hog = bytearray(8 * 2**30)
    print("allocated")
except MemoryError:
    print("MemoryError")
"""
    for _ in range(2):
        assert run(code, template, tmp_path)[0].strip() == "MemoryError"


def test_a_fork_bomb_is_bounded(template, tmp_path):
    if os.getuid() == 0 and not os.access(PIDS_V1, os.W_OK):
        pytest.skip("root without a writable pids cgroup: no process limit can hold")
    for _ in range(2):
        words = run(FORK_BOMB, template, tmp_path)[0].split()
        assert words[0] == "stopped" and int(words[1]) <= 40, words


def test_the_network_is_cut_where_the_platform_allows(template, tmp_path):
    code = """
import json, os, socket
report = json.loads(os.environ["AUTOGRADER_SANDBOX"])["network"]
try:
    socket.create_connection(("1.1.1.1", 53), timeout=3).close()
    reached = True
except OSError:
    reached = False
print(report.startswith("isolated"), reached)
"""
    for _ in range(2):
        isolated, reached = run(code, template, tmp_path)[0].split()
        if isolated != "True":
            pytest.skip("this platform refuses network namespaces")
        assert reached == "False"


def test_a_kernel_holds_none_of_the_templates_files(template, tmp_path):
    pipes = {os.readlink(f"/proc/{template.process.pid}/fd/{fd}") for fd in (0, 1)}
    code = """
import os
for fd in sorted(os.listdir("/proc/self/fd"), key=int):
    try:
        print(fd, os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        pass
"""
    for _ in range(2):
        held = dict(line.split(" ", 1) for line in run(code, template, tmp_path)[0].splitlines())
        assert not pipes & set(held.values()), (pipes, held)
        assert held["0"] == os.devnull


def test_kernels_draw_different_random_numbers(template, tmp_path):
    code = "import random, numpy, torch\nprint(random.random(), numpy.random.rand(), torch.rand(1))"
    draws = [run(code, template, tmp_path)[0].split() for _ in range(3)]
    for column in zip(*draws, strict=True):
        assert len(set(column)) == 3, draws


def test_what_one_kernel_patches_the_next_never_sees(template, tmp_path):
    patch = """
import builtins, torch, autograder.checking.comparison as comparison
torch.allclose = lambda *a, **k: True
torch.PATCHED = True
builtins.PATCHED = True
comparison.compare = None
print("patched")
"""
    look = """
import builtins, torch, autograder.checking.comparison as comparison
print(hasattr(torch, "PATCHED"), torch.allclose(torch.zeros(1), torch.ones(1)),
      hasattr(builtins, "PATCHED"), comparison.compare is not None)
"""
    assert run(patch, template, tmp_path)[0].strip() == "patched"
    assert run(look, template, tmp_path)[0].split() == ["False", "False", "False", "True"]
