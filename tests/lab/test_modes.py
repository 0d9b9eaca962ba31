"""The JupyterLab modes, and the package a student of a class installs."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from autograder import paths
from autograder.lab.modes import MODES, config_dir, join, lab_command

NBGRADER = "nbgrader.server_extensions."


def server_extensions(mode: str) -> dict[str, bool]:
    config = json.loads((config_dir(mode) / "jupyter_server_config.json").read_text())
    return config["ServerApp"]["jpserver_extensions"]


def disabled_plugins(mode: str) -> set[str]:
    page = json.loads((config_dir(mode) / "labconfig" / "page_config.json").read_text())
    return {name for name, off in page["disabledExtensions"].items() if off}


def test_each_mode_offers_only_its_tools():
    assert not server_extensions("self-study")[NBGRADER + "assignment_list"]
    assert server_extensions("student")[NBGRADER + "assignment_list"]
    for mode in ("self-study", "student"):
        assert not server_extensions(mode)[NBGRADER + "formgrader"]
        assert "@jupyter/nbgrader:formgrader" in disabled_plugins(mode)
        assert "@jupyter/nbgrader:create-assignment" in disabled_plugins(mode)
    assert server_extensions("instructor")[NBGRADER + "formgrader"]
    for mode in MODES:
        assert "@jupyterlab/apputils-extension:announcements" in disabled_plugins(mode)
        assert not server_extensions(mode)[NBGRADER + "validate_assignment"]
        assert server_extensions(mode)["autograder.lab.validate"]


def test_lab_starts_in_the_folder_it_serves_with_its_mode_first(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", "/elsewhere")
    command, env = lab_command("student", tmp_path, ["--port=1"])
    assert f"--ServerApp.root_dir={tmp_path}" in command and command[-1] == "--port=1"
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep) == [
        str(config_dir("student")),
        "/elsewhere",
    ]


def test_join_points_nbgrader_at_the_exchange_and_the_folder(tmp_path):
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    path = join(exchange, tmp_path / "work", student="alice")
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(path.name, path=str(path.parent)).load_config()
    assert config.Exchange.root == str(exchange)
    assert config.Exchange.assignment_dir == str(tmp_path / "work")
    assert config.CourseDirectory.course_id == "torch-losses"
    assert config.CourseDirectory.student_id == "alice"


@pytest.mark.slow
def test_the_package_students_install_holds_the_checks_and_the_modes(tmp_path):
    """What `pip install /path/to/the/course` installs: the checking library and lab's config."""
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(paths.ROOT / name, tmp_path)
    shutil.copytree(
        paths.ROOT / "autograder",
        tmp_path / "autograder",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    # setuptools from this environment when it has one, else pip fetches it
    isolation = ["--no-build-isolation"] if importlib.util.find_spec("setuptools") else []
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-w", "dist", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for mode in MODES:
        assert f"autograder/lab/config/{mode}/jupyter_server_config.json" in names
        assert f"autograder/lab/config/{mode}/labconfig/page_config.json" in names
    for topic in paths.topics():
        assert f"autograder/checking/topics/{topic.split('_', 1)[1]}.py" in names


def test_lab_in_chinese_sets_the_language_its_kernels_inherit(tmp_path, monkeypatch):
    from autograder.checking import i18n

    monkeypatch.delenv(i18n.ENV, raising=False)
    _, env = lab_command("self-study", tmp_path, [], "zh")
    assert env[i18n.ENV] == "zh"
    _, env = lab_command("self-study", tmp_path, [])
    assert i18n.ENV not in env  # each notebook speaks its own language


def test_join_in_chinese_joins_the_chinese_class(tmp_path, capsys):
    from traitlets.config.loader import PyFileConfigLoader

    from autograder.lab.modes import join_main

    exchange = tmp_path / "exchange"
    exchange.mkdir()
    assert join_main([str(exchange), str(tmp_path / "work"), "--language", "zh"]) == 0
    config = PyFileConfigLoader("nbgrader_config.py", path=str(tmp_path / "work")).load_config()
    assert config.CourseDirectory.course_id == "torch-losses-zh"
    assert "python -m autograder lab --language zh" in capsys.readouterr().out
    # the Chinese edition's course directory has that course id, and the English exchange
    zh = PyFileConfigLoader("nbgrader_config.py", path=str(paths.edition("zh"))).load_config()
    assert zh.CourseDirectory.course_id == "torch-losses-zh"
    assert zh.CourseDirectory.root == str(paths.edition("zh"))
    assert zh.Exchange.root == str(paths.ROOT / "exchange")


def test_the_chinese_working_copy_comes_from_the_chinese_release(tmp_path):
    from autograder.authoring.student_copy import main

    assert main(["--language", "zh", str(tmp_path / "work")]) == 0
    copied = tmp_path / "work" / "01_basic_losses" / "01_basic_losses.ipynb"
    assert (
        copied.read_text()
        == paths.release_notebook("01_basic_losses", paths.release_root("zh")).read_text()
    )
