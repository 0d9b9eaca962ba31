"""What the training-loop notebook says matches what its code does and what was measured.

The first edition said "a few thousand images" while training on 1,000, and claimed speed-ups
("a few times" on a CPU, "several hundred times" on a GPU) that no benchmark had measured
here. The notebook now quotes ``benchmarks/results/train_speed-cpu.json``, written by
``benchmarks/train_speed.py --json``, and these tests hold it to that.
"""

from __future__ import annotations

import json
import re

from autograder import paths

NOTEBOOK = paths.NOTEBOOKS / "13_training_loop.py"
RESULTS = paths.ROOT / "benchmarks" / "results" / "train_speed-cpu.json"


def markdown() -> str:
    lines = NOTEBOOK.read_text(encoding="utf-8").splitlines()
    return "\n".join(line[2:] for line in lines if line.startswith("# "))


def test_the_text_does_not_guess_the_number_of_training_images():
    text = NOTEBOOK.read_text(encoding="utf-8")
    n_train = int(re.search(r"^N_TRAIN, N_TEST = (\d+), (\d+)", text, re.M).group(1))
    prose = markdown()
    assert "a few thousand" not in prose
    for number in re.findall(r"\b(\d[\d,]*) (?:training )?images", prose):
        value = int(number.replace(",", ""))
        assert value in (n_train, 50_000, 10_000), f"the text speaks of {number} images"


def test_speed_claims_are_the_benchmarks_measured_figures():
    record = json.loads(RESULTS.read_text())
    prose = markdown()
    assert "a few times" not in prose and "several hundred times" not in prose
    assert record["device"] == "cpu" and f"{record['threads']} threads" in prose
    rates = record["images_per_second"]
    for loop in ("notes", "course", "compute_only"):
        assert f"{rates[loop]['best']:,}" in prose, loop
    assert f"**{record['course_over_notes']} times**" in prose
    assert f"**{record['course_over_compute_only'] * 100:.1f} %**" in prose
    # no GPU figure is quoted without a GPU measurement
    assert "epoch_seconds_50000" not in record
    assert not re.search(r"GPU[^.]*\d+ ?(times|x|×)", prose)
