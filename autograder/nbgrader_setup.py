"""The one place nbgrader is configured, for building the course and for grading it.

Building (:mod:`autograder.authoring.build`) and grading (:mod:`autograder.grading`) each
run nbgrader in private, throw-away course directories; both take their configuration from
here, so that the course id, the solution stub and the grading pipeline are written once.
The instructor's own course directory is configured by ``nbgrader_config.py`` at the root of
the repository, with the same values.
"""

from __future__ import annotations

import functools
import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from traitlets.config import Config

if TYPE_CHECKING:
    from nbgrader.apps import NbGraderAPI

    from .grading.sandbox import Limits

COURSE_ID = "torch-losses"
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


def nbgrader_config(root: Path) -> Config:
    """Config for a course directory at ``root`` with its own SQLite gradebook."""
    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.course_id = COURSE_ID
    config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    config.ClearSolutions.code_stub = {"python": CODE_STUB}
    config.Execute.timeout = 300
    return config


def grading_config(root: Path, limits: Limits) -> Config:
    """:func:`nbgrader_config` with the course's grading pipeline.

    ``autograde`` runs the hardened executor in place of nbgrader's ``Execute`` (a cell
    stopped by the time limit says so, with the limit), and ``generate_feedback`` hides the
    hidden tests and renders math without the network.
    """
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )

    from .grading.execute import GuardedExecute
    from .grading.feedback import TIME_LIMIT

    config = nbgrader_config(root)
    config.Autograde.autograde_preprocessors = [
        GuardedExecute,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
    config.GuardedExecute.limits_json = limits.to_json()
    # the notebook's language (course.language) survives, for its feedback page
    config.ClearMetadataPreprocessor.preserve_nb_metadata_mask = {
        ("language_info", "name"),
        ("course",),
    }
    stopped = f"stopped after {limits.cell_timeout} s, the per-cell time limit"
    config.GuardedExecute.error_on_timeout = {
        "ename": TIME_LIMIT,
        "evalue": stopped,
        "traceback": [f"{TIME_LIMIT}: {stopped}"],
    }
    config.OverwriteCells.add_missing_cells = True
    config.GenerateFeedback.preprocessors = feedback_preprocessors()
    return config


def feedback_preprocessors() -> list[type]:
    """``GenerateFeedback.preprocessors``: nbgrader's, then hide the hidden tests, math offline.

    The course's ``nbgrader_config.py`` takes :func:`grading_config`, so the formgrader's
    own Generate Feedback button never shows a hidden test either.
    """
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import GetGrades

    from .grading.feedback import HideHiddenTests, OfflineMath

    return [GetGrades, CSSHTMLHeaderPreprocessor, HideHiddenTests, OfflineMath]


def nbgrader_api(root: Path, config: Config | None = None) -> NbGraderAPI:
    """nbgrader's Python API on the course directory at ``root``."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = config or nbgrader_config(root)
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def quiet_logs() -> None:
    """nbgrader and SQLAlchemy log every step; the course's own commands report instead."""
    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", category=SAWarning)
    for name in ("traitlets", "nbgrader", "NbGraderAPI"):
        logging.getLogger(name).setLevel(logging.ERROR)


def fast_gradebook() -> None:
    """Create gradebooks without nbgrader's ``alembic heads`` subprocess (10 s on a busy machine).

    nbgrader stamps each new gradebook with the head revision of its own migrations, which it
    asks a fresh ``alembic`` process for. The same answer comes from alembic's Python API
    in-process, once; on any failure nbgrader's own function is kept.
    """
    import nbgrader.api

    original = getattr(nbgrader.api.get_alembic_version, "__wrapped__", None)
    if original is not None:
        return
    original = nbgrader.api.get_alembic_version

    @functools.cache
    def head() -> str:
        try:
            from alembic.config import Config as AlembicConfig
            from alembic.script import ScriptDirectory
            from nbgrader.dbutil import _temp_alembic_ini

            with _temp_alembic_ini("sqlite:////tmp/gradebook.db") as ini:
                value = ScriptDirectory.from_config(AlembicConfig(ini)).get_current_head()
            if value:
                return value
        except Exception:
            pass
        return original()

    head.__wrapped__ = original
    nbgrader.api.get_alembic_version = head
