"""Where the course lives on disk, so that no other module hard-codes a path."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SOURCE = ROOT / "source"
RELEASE = ROOT / "release"
STUDENT = ROOT / "student"


def topics(notebooks: Path = NOTEBOOKS) -> list[str]:
    """Assignment names, one per authored topic file (``notebooks/NN_topic.py``)."""
    return sorted(p.stem for p in notebooks.glob("[0-9][0-9]_*.py"))


def source_notebook(topic: str, root: Path = SOURCE) -> Path:
    return root / topic / f"{topic}.ipynb"


def release_notebook(topic: str, root: Path = RELEASE) -> Path:
    return root / topic / f"{topic}.ipynb"
