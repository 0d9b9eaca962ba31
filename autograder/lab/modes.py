"""``python -m autograder lab`` and ``join``: JupyterLab with the tools that apply, and no more.

Three modes, one configuration folder each (``config/<mode>/``, put first on
``JUPYTER_CONFIG_PATH``):

* ``self-study`` (``make lab``): the student's working copy; Validate checks it. No
  Assignment List (there is no class to fetch from or submit to), no formgrader, no Create
  Assignment toolbar;
* ``student``: a student of a class, in their own folder, joined to the class's exchange
  with ``join``. The Assignment List fetches into that folder and submits from it; no
  formgrader, no Create Assignment;
* ``instructor`` (``make instructor``): the course directory, with the formgrader.

Every mode has the course's Validate (:mod:`.validate`) and no Jupyter news toast. The
server starts *in* the folder it serves: nbgrader's Assignment List reads its
configuration from the server's working folder and fetches into it.

``--language zh`` shows the checks' messages and Validate's report in Chinese for every
notebook of the server (``AUTOGRADER_LANGUAGE``, which kernels inherit). Without it each
notebook speaks its own edition's language: JupyterLab tells a kernel which notebook it
runs, and the Chinese notebooks say they are Chinese.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .. import paths
from ..checking import i18n
from ..nbgrader_setup import COURSE_ID

CONFIG = Path(__file__).resolve().parent / "config"
MODES = ("self-study", "student", "instructor")
COURSE_IDS = {"zh": f"{COURSE_ID}-zh"}
"""The course id of each edition's class (``zh/nbgrader_config.py`` sets the Chinese one)."""


def course_id(language: str = paths.ENGLISH) -> str:
    return COURSE_IDS.get(language, COURSE_ID)


def config_dir(mode: str) -> Path:
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
    if not (CONFIG / mode / "jupyter_server_config.json").is_file():
        raise FileNotFoundError(f"{CONFIG / mode} is missing: the package is incomplete")
    return CONFIG / mode


def lab_command(
    mode: str, folder: Path, extra: list[str], language: str | None = None
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that start JupyterLab in ``mode`` on ``folder``."""
    path = [str(config_dir(mode))]
    path += [p for p in os.environ.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p]
    env = {**os.environ, "JUPYTER_CONFIG_PATH": os.pathsep.join(path)}
    if language:
        env[i18n.ENV] = language
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}"]
    if os.geteuid() == 0 and "--allow-root" not in extra:
        command.append("--allow-root")  # containers and CI machines run as root
    return command + extra, env


def lab_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder lab",
        description="Start JupyterLab in FOLDER with the tools of one mode "
        "(self-study, student or instructor). Arguments after the options go to JupyterLab.",
    )
    parser.add_argument("--mode", choices=MODES, default="student")
    parser.add_argument(
        "--language",
        choices=paths.LANGUAGES,
        help="the language of the checks' messages and of Validate, for every notebook "
        "(default: each notebook's own)",
    )
    parser.add_argument("folder", nargs="?", type=Path, default=Path.cwd())
    args, extra = parser.parse_known_args(argv)
    folder = args.folder.resolve()
    if not folder.is_dir():
        print(f"{folder} is not a folder", file=sys.stderr)
        return 2
    command, env = lab_command(args.mode, folder, extra, args.language)
    os.chdir(folder)
    sys.stdout.flush()
    os.execvpe(command[0], command, env)


STUDENT_CONFIG = '''"""A student's folder, joined to a class by `python -m autograder join`."""

c = get_config()  # noqa: F821  (nbgrader injects get_config)

c.Exchange.root = {exchange!r}
c.CourseDirectory.course_id = {course_id!r}
# fetch into, and submit from, this folder (whatever folder the server was started in)
c.Exchange.assignment_dir = {folder!r}
'''
STUDENT_ID = """# several students share one account here: hand in under this name
c.CourseDirectory.student_id = {student!r}
"""


def join(exchange: Path, folder: Path, course_id: str = COURSE_ID, student: str = "") -> Path:
    """Write ``folder/nbgrader_config.py``, which points nbgrader at the class's exchange."""
    folder.mkdir(parents=True, exist_ok=True)
    text = STUDENT_CONFIG.format(
        exchange=str(exchange.resolve()), course_id=course_id, folder=str(folder.resolve())
    )
    if student:
        text += STUDENT_ID.format(student=student)
    path = folder / "nbgrader_config.py"
    path.write_text(text, encoding="utf-8")
    return path


def join_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder join",
        description="Connect a student's folder to a class: write its nbgrader_config.py "
        "with the exchange the instructor gave you.",
    )
    parser.add_argument("exchange", type=Path, help="the class's exchange folder")
    parser.add_argument("folder", nargs="?", type=Path, default=Path.cwd())
    parser.add_argument(
        "--language",
        choices=paths.LANGUAGES,
        default=paths.ENGLISH,
        help="the edition your class uses: zh joins the Chinese class (course id "
        f"{course_id('zh')}) and starts JupyterLab in Chinese",
    )
    parser.add_argument("--course-id", help="the class's course id (default: the edition's)")
    parser.add_argument(
        "--student",
        default="",
        help="your student id, only where several students share one account "
        "(default: your user name, as nbgrader takes it)",
    )
    args = parser.parse_args(argv)
    if not args.exchange.is_dir():
        print(
            f"{args.exchange} does not exist: ask your instructor for the exchange's path "
            "(they create it with `python -m autograder course-setup`)",
            file=sys.stderr,
        )
        return 2
    chosen_id = args.course_id or course_id(args.language)
    path = join(args.exchange, args.folder, chosen_id, args.student)
    language = "" if args.language == paths.ENGLISH else f" --language {args.language}"
    print(f"wrote {path}")
    print(
        f"start JupyterLab there with: python -m autograder lab{language} {args.folder.resolve()}"
    )
    return 0
