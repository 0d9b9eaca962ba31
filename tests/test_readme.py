"""The README: every block marked runnable works as written, and its claims are the course's.

Blocks run from the repository root with the environment that runs the tests; their
``make`` is told to use it as it is (reinstalling a shared environment would re-point it).
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import paths

MARK = "<!-- runnable -->"
README = paths.ROOT / "README.md"


def runnable_blocks() -> list[str]:
    text = README.read_text()
    pattern = re.compile(re.escape(MARK) + r"\s*\n\s*```bash\n(.*?)\n\s*```", re.S)
    return [re.sub(r"^ {3}", "", block, flags=re.M) for block in pattern.findall(text)]


def test_readme_marks_runnable_blocks():
    assert runnable_blocks(), f"no block in README.md is marked {MARK}"
    text = README.read_text()
    assert "make lab" in text and "make test" in text


def environment(bin_dir: Path) -> dict[str, str]:
    """This environment first on PATH, and a ``make`` that uses it without reinstalling it."""
    venv = Path(sys.prefix)
    make = bin_dir / "make"
    real = shutil.which("make") or "make"
    make.write_text(f'#!/bin/sh\nexec {real} VENV="{venv}" --assume-old="{venv}/.installed" "$@"\n')
    make.chmod(0o755)
    return {
        **os.environ,
        "PATH": os.pathsep.join([str(bin_dir), str(venv / "bin"), os.environ["PATH"]]),
    }


@pytest.mark.slow
@pytest.mark.parametrize("block", runnable_blocks(), ids=lambda b: b.splitlines()[0][:40])
def test_readme_block_runs(block, tmp_path):
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=paths.ROOT,
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, f"$ {block}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


def test_the_first_install_shows_its_progress_and_no_duration_is_promised():
    """pip --quiet was silent for minutes, under a promise of "a minute and a half"."""
    makefile = (paths.ROOT / "Makefile").read_text()
    installs = [line for line in makefile.splitlines() if "pip install" in line and "-e " in line]
    assert installs and all("--quiet" not in line for line in installs), installs
    text = README.read_text()
    assert not re.search(r"about (a|an|\d+)( and a half)? minutes?", text), "an unmeasured time"


def exercises() -> list[tuple[str, str, bool, bool]]:
    """``(topic, answer, asks for a function, has hidden checks)`` for every exercise."""
    found = []
    for topic in paths.topics():
        cells = nbformat.read(paths.source_notebook(topic), as_version=4).cells
        answers = {
            c.metadata["nbgrader"]["grade_id"]: c.source
            for c in cells
            if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"
        }
        hidden: dict[str, bool] = {}
        for cell in cells:
            answer = cell.metadata.get("course", {}).get("answer")
            if cell.metadata.get("nbgrader", {}).get("grade") and answer:
                hidden[answer] = hidden.get(answer, False) or "BEGIN HIDDEN TESTS" in cell.source
        for answer, has_hidden in hidden.items():
            function = bool(re.search(r"^(def|class) \w+", answers[answer], re.M))
            found.append((topic, answer, function, has_hidden))
    return found


def test_the_readme_says_exactly_which_exercises_have_hidden_checks():
    """Hard-coding a value would score its points: the README promises it cannot.

    The README says every autograded exercise asks for a function and has hidden checks;
    an exercise that asks for a value, or a function without hidden checks, fails this test
    until the README's paragraph says so.
    """
    text = " ".join(README.read_text().split())
    assert "Every autograded exercise asks for a function" in text
    assert "every one has hidden checks" in text
    found = exercises()
    assert found
    wrong = [
        f"{topic} {answer}: "
        + ("asks for a value" if not function else "a function without hidden checks")
        for topic, answer, function, hidden in found
        if not (function and hidden)
    ]
    assert not wrong, "update the README's paragraph on hidden checks:\n" + "\n".join(wrong)
