"""The 勘误表 (docs/errata.zh.md) points readers of the reference notes at notebooks and
exercises: every name it gives must exist, so a renamed or removed exercise fails here
instead of sending a reader to nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from autograder import paths

ERRATA = paths.ROOT / "docs" / "errata.zh.md"
REFERENCE = paths.ROOT.parent / "shared" / "reference"
CELL = re.compile(r'^# %%.*\b(?:answer|tests|manual)="([A-Za-z0-9_]+)"', re.M)
TOPIC = re.compile(r"^\d\d_[a-z0-9_]+$")


def grade_ids(topic: str) -> set[str]:
    return set(CELL.findall((paths.NOTEBOOKS / f"{topic}.py").read_text()))


def rows(text: str) -> list[list[str]]:
    """The body rows of every table, split into cells."""
    found = []
    for line in text.splitlines():
        if not line.startswith("|") or set(line) <= set("|- "):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] in ("笔记中的一节", "笔记的说法"):
            continue  # a header
        found.append(cells)
    return found


def problems(text: str, topics: list[str]) -> list[str]:
    """Every name in a row's last column that is neither one of the course's notebooks nor
    an exercise of a notebook the row names."""
    found = []
    for cells in rows(text):
        named = [t for c in cells for t in re.findall(r"`([^`]+)`", c) if TOPIC.match(t)]
        for name in named:
            if name not in topics:
                found.append(f"{cells[0]}: no notebook {name}")
        known = set().union(*(grade_ids(t) for t in named if t in topics))
        for name in re.findall(r"`([^`]+)`", cells[-1]):
            if not TOPIC.match(name) and name not in known:
                found.append(f"{cells[0]}: {name} is not an exercise of {', '.join(named)}")
        if not named:
            found.append(f"{cells[0]}: names no notebook")
    return found


def test_every_notebook_and_exercise_the_errata_names_exists():
    text = ERRATA.read_text()
    assert len(rows(text)) >= 50, "the errata lost its tables"
    assert problems(text, paths.topics()) == []


@pytest.mark.parametrize(
    "row, complaint",
    [
        ("| x | `01_basic_losses` | `l1_loss`、`no_such_exercise` |", "no_such_exercise"),
        ("| x | `99_no_such_notebook` | `l1_loss` |", "no notebook 99_no_such_notebook"),
        ("| x | `02_autograd_basics` | `l1_loss` |", "l1_loss is not an exercise"),
        ("| x | no notebook here | `l1_loss` |", "names no notebook"),
    ],
)
def test_a_wrong_name_in_the_errata_is_reported(row, complaint):
    found = problems(row, paths.topics())
    assert any(complaint in p for p in found), found


def _notes(readme: Path) -> list[str]:
    return re.findall(r"^\| (\d{3}_[0-9a-f]+\.txt) \|", readme.read_text(), re.M)


@pytest.mark.skipif(not (REFERENCE / "README.md").exists(), reason="no shared/reference here")
def test_every_reference_note_has_its_section():
    text = ERRATA.read_text()
    notes = _notes(REFERENCE / "README.md")
    assert notes, "the reference README lists no notes"
    missing = [n for n in notes if f"### `{n}`" not in text]
    assert missing == []
