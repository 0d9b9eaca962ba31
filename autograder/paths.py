"""Where the course lives on disk, so that no other module hard-codes a path.

The course comes in editions, one per language, all generated from ``notebooks/``: the
English one at the root (``source/``, ``release/``, the working copy ``student/``), every
other in a folder named after its language (``zh/source/``, ``zh/release/``,
``zh/student/``). Each edition's folder is an nbgrader course directory of its own
(``zh/nbgrader_config.py``), so a class taught in Chinese points stock nbgrader at ``zh/``.
Translations live in ``translations/<language>/`` (gettext catalogs, one per notebook).
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SOURCE = ROOT / "source"
RELEASE = ROOT / "release"
STUDENT = ROOT / "student"
TRANSLATIONS = ROOT / "translations"
"""``translations/<language>/<catalog>.po``: what translators edit."""
LOCALE = ROOT / "autograder" / "locale"
"""``autograder/locale/<language>/LC_MESSAGES/<domain>.mo``: compiled by the build, read when
the checks and the grader show a message."""

ENGLISH = "en"
LANGUAGES = ("en", "zh")
"""Every edition the build writes; English, the language the course is written in, first."""


def edition(language: str = ENGLISH) -> Path:
    """One edition's course directory: the repository for English, else ``<language>/``."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; one of {', '.join(LANGUAGES)}")
    return ROOT if language == ENGLISH else ROOT / language


def source_root(language: str = ENGLISH) -> Path:
    return edition(language) / "source"


def release_root(language: str = ENGLISH) -> Path:
    return edition(language) / "release"


def student_root(language: str = ENGLISH) -> Path:
    return edition(language) / "student"


def topics(notebooks: Path = NOTEBOOKS) -> list[str]:
    """Assignment names, one per authored topic file (``notebooks/NN_topic.py``)."""
    return sorted(p.stem for p in notebooks.glob("[0-9][0-9]_*.py"))


def source_notebook(topic: str, root: Path = SOURCE) -> Path:
    return root / topic / f"{topic}.ipynb"


def release_notebook(topic: str, root: Path = RELEASE) -> Path:
    return root / topic / f"{topic}.ipynb"
