"""``grade-one`` end to end, and the kernel limits of the sandbox on their own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from autograder import paths
from autograder.grading.sandbox import Limits
from tests.grading.bombs import FORK_BOMB

TOPIC = "01_basic_losses"


def run_module(*args, timeout=600):
    env = {**os.environ, "PYTHONPATH": str(paths.ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=paths.ROOT,
    )


def run_with_progress(*args, timeout=600):
    """Run ``python -m autograder ARGS``; also return each stderr line with when it arrived."""
    import time

    env = {**os.environ, "PYTHONPATH": str(paths.ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "autograder", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=paths.ROOT,
    )
    heard = []
    assert process.stderr is not None
    for line in process.stderr:
        heard.append((time.monotonic(), line.rstrip("\n")))
    stdout = process.stdout.read() if process.stdout else ""
    process.wait(timeout=timeout)
    stderr = "\n".join(line for _, line in heard)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr), heard


def sandboxed(code: str, limits: Limits, cgroup: str = "-"):
    """Run ``python -c code`` through the kernel launcher, with ``limits``."""
    env = {**os.environ, "PYTHONPATH": str(paths.ROOT)}
    cmd = [sys.executable, "-m", "autograder.grading.sandbox", limits.to_json(), cgroup, "--"]
    cmd += [sys.executable, "-c", textwrap.dedent(code)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


def test_memory_bomb_gets_memory_error():
    out = sandboxed(
        """
        try:
            hog = bytearray(8 * 2**30)
            print("allocated")
        except MemoryError:
            print("MemoryError")
        """,
        Limits(memory_mb=2048),
    )
    assert out.stdout.strip() == "MemoryError", out.stderr


def test_fork_bomb_is_bounded(tmp_path):
    from autograder.grading.sandbox import kill_session, pids_cgroup

    cgroup = pids_cgroup(f"autograder-test-{os.getpid()}")
    if os.getuid() == 0 and cgroup is None:
        pytest.skip("root without a writable pids cgroup: no process limit can hold")
    try:
        out = sandboxed(
            FORK_BOMB,
            Limits(max_procs=20),
            str(cgroup) if cgroup else "-",
        )
    finally:
        kill_session(None, cgroup)
    words = out.stdout.split()
    assert words[0] == "stopped" and int(words[1]) <= 40, out.stdout + out.stderr


def test_network_is_cut_where_the_platform_allows():
    out = sandboxed(
        """
        import json, os, socket
        report = json.loads(os.environ["AUTOGRADER_SANDBOX"])["network"]
        try:
            socket.create_connection(("1.1.1.1", 53), timeout=3).close()
            reached = True
        except OSError:
            reached = False
        print(report.startswith("isolated"), reached)
        """,
        Limits(),
    )
    isolated, reached = out.stdout.split()
    if isolated != "True":
        pytest.skip("this platform refuses network namespaces")
    assert reached == "False"


def test_unknown_assignment_or_folder_exits_2(tmp_path):
    out = run_module("grade-one", str(tmp_path), "--assignment", "99_nothing")
    assert out.returncode == 2 and "unknown assignments" in out.stderr
    out = run_module("grade-one", str(tmp_path / "missing"))
    assert out.returncode == 2


@pytest.mark.slow
def test_grade_one_reports_cells_json_feedback_and_exit_codes(tmp_path):
    solved = tmp_path / "solved" / TOPIC
    solved.mkdir(parents=True)
    (solved / f"{TOPIC}.ipynb").write_bytes(paths.source_notebook(TOPIC).read_bytes())
    out, heard = run_with_progress(
        "grade-one",
        str(tmp_path / "solved"),
        "--json",
        str(tmp_path / "solved.json"),
        "--feedback",
        str(tmp_path / "feedback"),
        "--cell-timeout",
        "30",
    )
    assert out.returncode == 0, out.stdout + out.stderr
    # progress arrives as it happens, on stderr: not all at once at the end
    started = next(t for t, line in heard if f"grading {TOPIC}" in line)
    finished = next(t for t, line in heard if f"{TOPIC}: " in line and " / " in line)
    assert finished - started > 1.0, heard
    assert "IPKernelApp" not in out.stderr
    lines = out.stdout.strip().splitlines()
    result = json.loads((tmp_path / "solved.json").read_text())
    cells = result["assignments"][TOPIC][TOPIC]["cells"]
    assert len([line for line in lines if line.startswith("ok ")]) == len(cells) > 0
    assert lines[-1] == f"score: {result['max_score']:g} / {result['max_score']:g}"
    assert all(c["passed"] and c["message"] is None for c in cells)
    html = (tmp_path / "feedback" / TOPIC / f"{TOPIC}.html").read_text()
    assert "seed=None" not in html and "BEGIN HIDDEN TESTS" not in html

    broken = tmp_path / "broken" / TOPIC
    broken.mkdir(parents=True)
    (broken / f"{TOPIC}.ipynb").write_text("{not json")
    out = run_module("grade-one", str(tmp_path / "broken"), "--json", str(tmp_path / "b.json"))
    assert out.returncode == 1, out.stdout + out.stderr
    assert out.stdout.strip().splitlines()[-1] == f"score: 0 / {result['max_score']:g}"
    payload = json.loads((tmp_path / "b.json").read_text())
    notebook = payload["assignments"][TOPIC][TOPIC]
    assert notebook["status"] == "invalid" and "truncated" in notebook["message"]


def test_review_flags_code_that_reaches_into_the_grader():
    from autograder.grading.review import flags

    hostile = "import gc, torch\ntorch.allclose = lambda *a: True\nip = get_ipython()\n"
    assert flags(hostile) == [
        "assigns to torch.allclose",
        "imports the garbage collector (gc)",
        "uses the IPython shell",
    ]
    honest = "def l1_loss(input, target, reduction='mean'):\n    return (input - target).abs()"
    assert flags(honest) == []


@pytest.mark.slow
def test_notebook_time_limit_stops_the_rest(tmp_path):
    """Cells that each stay under the cell limit still cannot run past the notebook's limit."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from autograder.grading.execute import GuardedExecute

    def cell(source, grade_id, *, grade=False, locked=False, solution=False):
        meta = {"grade_id": grade_id, "grade": grade, "locked": locked, "solution": solution}
        if grade:
            meta["points"] = 1
        return new_code_cell(source, metadata={"nbgrader": {**meta, "schema_version": 3}})

    nb = new_notebook(
        cells=[
            cell("x = 1", "answer", solution=True),
            cell("assert x == 1", "test_early", grade=True, locked=True),
            cell("import time\ntime.sleep(4)", "slow1", solution=True),
            cell("time.sleep(4)", "slow2", solution=True),
            cell("time.sleep(4)", "slow3", solution=True),
            cell("assert x == 1", "test_late", grade=True, locked=True),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )
    limits = Limits(cell_timeout=30, notebook_timeout=7)
    os.environ["PYTHONPATH"] = str(paths.ROOT)
    resources = {"metadata": {"path": str(tmp_path), "name": "nb"}}
    nb, resources = GuardedExecute(limits_json=limits.to_json()).preprocess(nb, resources)
    early, late = nb.cells[1], nb.cells[5]
    assert [o.output_type for o in early.outputs] == []  # passed: silent
    assert late.outputs and late.outputs[0].output_type == "error"
    assert "time limit" in late.outputs[0].evalue
    assert "time limit" in resources["autograder"]["stopped"]
    assert nbformat.validate(nb) is None
