"""Every README command block marked runnable works as written, from the repository root."""

import os
import re
import subprocess

import pytest

from autograder import paths

MARK = "<!-- runnable -->"


def runnable_blocks() -> list[str]:
    text = (paths.ROOT / "README.md").read_text()
    pattern = re.compile(re.escape(MARK) + r"\s*\n\s*```bash\n(.*?)\n\s*```", re.S)
    return [re.sub(r"^ {3}", "", block, flags=re.M) for block in pattern.findall(text)]


def test_readme_marks_runnable_blocks():
    assert runnable_blocks(), f"no block in README.md is marked {MARK}"
    text = (paths.ROOT / "README.md").read_text()
    assert "make lab" in text and "make test" in text


@pytest.mark.slow
@pytest.mark.parametrize("block", runnable_blocks(), ids=lambda b: b.splitlines()[0][:40])
def test_readme_block_runs(block):
    env = {**os.environ, "PATH": f"{paths.ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=paths.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, f"$ {block}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
