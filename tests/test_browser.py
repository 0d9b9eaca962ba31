"""The course in a real browser: JupyterLab driven by Playwright in Debian's Chromium.

Two stories, with a screenshot of each step in artifacts/browser/:

* self-study (`make lab`): open a release notebook, run it, see a plot, type an answer, see
  the public check pass, see a failing check's message alone, press Validate; the
  classroom's tools (Assignment List, formgrader, Create Assignment) and Jupyter's news
  are not there;
* the Chinese edition (`make lab LANG=zh`): a Chinese notebook runs, a wrong answer's
  check speaks Chinese, and so does Validate;
* the classroom round trip, in a copy of the course directory: the instructor runs the
  README's instructor section (`make instructor`, the formgrader's Release, Collect and
  Release Feedback buttons, grade-class); two students, each in a folder of their own
  started with `python -m autograder lab`, fetch from the Assignment List, answer (one
  everything, from source/; one part), Validate and Submit, then fetch their feedback and
  read it: their score, no hidden test.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from autograder import paths
from autograder.lab.modes import join
from tests.apt import ensure_package

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = paths.ROOT / "artifacts" / "browser"
TOPIC = "01_basic_losses"
TOKEN = "course-browser-test"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The tests use the environment they run in, whatever its stamp's age: `make` must not
# reinstall it (with a shared environment that would re-point it at a temporary copy).
VENV = Path(sys.prefix)
MAKE = ["make", "--no-print-directory", f"VENV={VENV}", f"--assume-old={VENV}/.installed"]


def ensure_chromium() -> Path:
    """Debian's Chromium, installed through apt when missing; skip (saying why) if impossible."""
    return ensure_package("chromium", lambda: CHROMIUM if CHROMIUM.exists() else None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lab_args(port: int, workspaces: Path) -> list[str]:
    return [
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={TOKEN}",
        f"--LabApp.workspaces_dir={workspaces}",
    ]


def serve(command: list[str], cwd: Path, tmp: Path, port: int, env: dict | None = None):
    """Start a JupyterLab server; yield its URL until torn down."""
    log = open(tmp / "lab.log", "w+")  # noqa: SIM115
    process = subprocess.Popen(
        command,
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(
                    f"`{' '.join(command)}` did not start JupyterLab:\n{log.read()[-3000:]}"
                )
            time.sleep(1)
    try:
        yield url
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
        log.close()


def start(target: str, tmp_path_factory, *extra: str, cwd: Path = paths.ROOT, env=None):
    """`make <target>` with a fixed token and no browser; yields its URL until torn down."""
    port = free_port()
    tmp = tmp_path_factory.mktemp("lab")
    args = " ".join(lab_args(port, tmp / "workspaces"))
    command = [*MAKE, target, *extra, f"LAB_ARGS={args}"]
    yield from serve(command, cwd, tmp, port, env)


def isolated_jupyter(tmp: Path) -> dict[str, str]:
    """Jupyter's per-user folders in ``tmp``: no settings or caches from this machine's user."""
    return {
        "JUPYTER_CONFIG_DIR": str(tmp / "jupyter-config"),
        "JUPYTER_DATA_DIR": str(tmp / "jupyter-data"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "jupyter-runtime"),
    }


@pytest.fixture(scope="module")
def chromium():
    return ensure_chromium()


@pytest.fixture(scope="module")
def lab(chromium, tmp_path_factory):
    """`make lab` on a temporary working copy of release/."""
    student = tmp_path_factory.mktemp("student")
    env = isolated_jupyter(tmp_path_factory.mktemp("self-study-jupyter"))
    for url in start("lab", tmp_path_factory, f"STUDENT_DIR={student}", env=env):
        yield {"url": url, "student": student}


@pytest.fixture(scope="module")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def step(page, name: str, action, what: str) -> None:
    """Run one step of the scenario; on failure, save a screenshot and say which step."""
    try:
        action()
    except Exception as error:
        page.screenshot(path=str(SHOTS / f"FAILED-{name}.png"))
        pytest.fail(f"step '{name}' did not happen: {what}\n{type(error).__name__}: {error}")
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def code_cell(page, text: str):
    """The notebook code cell whose editor contains ``text``."""
    return page.locator(".jp-Notebook .jp-CodeCell").filter(
        has=page.locator(".jp-InputArea-editor", has_text=text)
    )


def open_notebook(page, url: str) -> None:
    page.goto(url)
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()
    select_kernel = page.locator(".jp-Dialog").get_by_role("button", name="Select")
    try:  # JupyterLab may ask which kernel to start
        select_kernel.click(timeout=5_000)
    except Exception:
        pass
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()


def run_cell(page, cell) -> None:
    cell.scroll_into_view_if_needed()
    cell.locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")
    prompt = cell.locator(".jp-InputPrompt")
    page.wait_for_function("el => /\\[\\d+\\]/.test(el.textContent)", arg=prompt.element_handle())


def validate(page) -> str:
    """Save, press nbgrader's Validate, return the dialog's text and close it."""
    page.keyboard.press("Control+s")
    page.locator(".jp-mod-dirty").wait_for(state="detached")
    page.locator(".validate-button").first.click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_text("Validation Results").wait_for(timeout=240_000)
    return dialog.inner_text()


def close_dialog(page) -> None:
    page.locator(".jp-Dialog").get_by_role("button", name="Ok").click()
    page.locator(".jp-Dialog").wait_for(state="detached")


def test_student_runs_fills_in_checks_and_validates(lab, browser):
    assert (lab["student"] / TOPIC / f"{TOPIC}.ipynb").exists(), "working copy not created"
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(90_000)
    notebook = f"{lab['url']}/lab/tree/{TOPIC}/{TOPIC}.ipynb?token={TOKEN}"

    step(
        page,
        "1-open",
        lambda: open_notebook(page, notebook),
        "the release notebook opens with an idle kernel",
    )

    def only_self_study_tools():
        page.get_by_role("menuitem", name="Nbgrader", exact=True).click()
        menu = page.locator(".lm-Menu").last
        menu.wait_for()
        items = menu.inner_text()
        page.keyboard.press("Escape")
        for absent in ("Assignment List", "Formgrader", "Course List"):
            assert absent not in items, f"{absent} is offered in self-study: {items}"
        assert page.locator(".jp-Notification-Toast").count() == 0, "a toast is shown"
        disabled = page.evaluate(
            "JSON.parse(document.getElementById('jupyter-config-data').textContent)"
            ".disabledExtensions"
        )
        assert "@jupyterlab/apputils-extension:announcements" in disabled, disabled
        toolbar = page.get_by_role("button", name=re.compile("Create Assignment"))
        assert toolbar.count() == 0, "the Create Assignment tool is offered"

    step(
        page,
        "1b-no-classroom-tools",
        only_self_study_tools,
        "no Assignment List, formgrader, Create Assignment or news in `make lab`",
    )

    def run_all():
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        page.locator(".jp-OutputArea-output img").first.wait_for(timeout=120_000)
        page.locator(".jp-OutputArea-output img").first.scroll_into_view_if_needed()
        page.wait_for_timeout(1_500)  # let the windowed notebook paint before the screenshot

    step(page, "2-run-all-plot", run_all, "Run All Cells renders a plot as an image")

    # the first answer cell, by position: once answered, it no longer says YOUR CODE HERE
    cells = page.locator(".jp-Notebook .jp-CodeCell")
    first = cells.evaluate_all(
        "cells => cells.findIndex(c => c.textContent.includes('YOUR CODE HERE'))"
    )
    answer = cells.nth(first)
    tests = code_cell(page, "the logits (2.0, 1.0, 0.1) and class 2")

    def wrong_answer_shows_its_message_alone():
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()
        answer.scroll_into_view_if_needed()
        answer.locator(".cm-content").click()
        page.keyboard.press("Control+a")
        page.keyboard.type("def ce_by_hand(logits, target): return 2.0")
        page.keyboard.press("Shift+Enter")
        run_cell(page, tests)
        shown = tests.locator(".jp-OutputArea-output").inner_text()
        assert "Public check" in shown and "failed" in shown, shown
        assert "Traceback" not in shown and "checks.py" not in shown, shown
        assert len(shown.strip().splitlines()) <= 6, shown

    step(
        page,
        "3-failed-check-message-alone",
        wrong_answer_shows_its_message_alone,
        "a wrong answer's public check shows its message, no traceback",
    )

    def fill_in():
        answer.scroll_into_view_if_needed()
        answer.locator(".cm-content").click()
        page.keyboard.press("Control+a")
        page.keyboard.type(
            "def ce_by_hand(logits, target): "
            "return -logits[target] + math.log(sum(math.exp(x) for x in logits))"
        )
        page.keyboard.press("Shift+Enter")
        answer.locator(".jp-InputPrompt", has_text="[").filter(has_not_text="[*]").wait_for()

    step(page, "4-fill-in", fill_in, "typing an answer into the first answer cell and running it")

    def check_passes():
        run_cell(page, tests)
        errors = tests.locator(".jp-OutputArea-output[data-mime-type*='stderr']")
        assert errors.count() == 0, f"the public check failed: {tests.inner_text()}"
        assert "CheckFailed" not in tests.inner_text() and "failed" not in tests.inner_text()

    step(page, "5-public-check-passes", check_passes, "the public check runs silently")

    def short_validate():
        text = validate(page)
        # the other answers are still unanswered: each failing check is named, briefly
        assert "ce_by_hand" not in text, text  # answered, and right
        assert "the checks of l1_loss (test_l1_loss, 2 points)" in text, text
        assert "not implemented yet" in text, text
        assert "Traceback" not in text and "check_function(" not in text, text
        assert len(text.splitlines()) <= 40, f"{len(text.splitlines())} lines:\n{text}"

    step(page, "6-validate", short_validate, "Validate names each failing check, briefly")
    page.close()


# -- the Chinese edition -----------------------------------------------------------------
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def ensure_cjk_font() -> Path:
    """A font with Chinese characters, so the screenshots show them (students' systems have one)."""
    return ensure_package("fonts-wqy-microhei", lambda: CJK_FONT if CJK_FONT.exists() else None)


@pytest.fixture(scope="module")
def lab_zh(chromium, tmp_path_factory):
    """`make lab LANG=zh` on a temporary working copy of zh/release/."""
    ensure_cjk_font()
    student = tmp_path_factory.mktemp("student-zh")
    env = isolated_jupyter(tmp_path_factory.mktemp("chinese-jupyter"))
    for url in start("lab", tmp_path_factory, "LANG=zh", f"STUDENT_DIR={student}", env=env):
        yield {"url": url, "student": student}


def test_a_chinese_notebook_runs_and_its_checks_speak_chinese(lab_zh, browser):
    copy = lab_zh["student"] / TOPIC / f"{TOPIC}.ipynb"
    assert nbformat.read(copy, as_version=4).metadata["course"]["language"] == "zh"
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(90_000)

    def run_all():
        open_notebook(page, f"{lab_zh['url']}/lab/tree/{TOPIC}/{TOPIC}.ipynb?token={TOKEN}")
        page.locator(".jp-Notebook .jp-RenderedMarkdown", has_text="损失是什么").first.wait_for()
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        page.locator(".jp-OutputArea-output img").first.wait_for(timeout=120_000)

    step(page, "zh-1-run-all", run_all, "the Chinese notebook opens and runs, its plot drawn")
    cells = page.locator(".jp-Notebook .jp-CodeCell")
    first = cells.evaluate_all(
        "cells => cells.findIndex(c => c.textContent.includes('YOUR CODE HERE'))"
    )
    # the tests cell by its code: its comments are in Chinese in this edition
    answer, tests = cells.nth(first), code_cell(page, 'Case("logits (2.0, 1.0, 0.1), class 2"')

    def chinese_message():
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()
        answer.scroll_into_view_if_needed()
        answer.locator(".cm-content").click()
        page.keyboard.press("Control+a")
        # the natural log's answer divided by log 2: the check names that mistake
        page.keyboard.type(
            "def ce_by_hand(logits, target): "
            "return (-logits[target] + math.log(sum(math.exp(x) for x in logits))) / math.log(2)"
        )
        page.keyboard.press("Shift+Enter")
        run_cell(page, tests)
        output = tests.locator(".jp-OutputArea-output")
        output.scroll_into_view_if_needed()
        shown = output.inner_text()
        assert "公开检查" in shown and "未通过" in shown, shown
        assert "已知错误吻合" in shown, shown
        assert "Public check" not in shown and "Traceback" not in shown, shown

    step(page, "zh-2-check-message", chinese_message, "a wrong answer's check speaks Chinese")

    def chinese_validate():
        text = validate(page)
        assert "l1_loss 的检查（test_l1_loss，2 分）" in text, text
        assert "还没有实现" in text and "not implemented" not in text, text

    step(page, "zh-3-validate", chinese_validate, "Validate reports in Chinese")
    close_dialog(page)
    page.close()


# -- the classroom round trip -----------------------------------------------------------
STUDENTS = {"alice": "everything", "bob": "part"}
TOP_LEVEL_IGNORED = {
    ".git",
    ".venv",
    "artifacts",
    "student",
    "data",
    "graded",
    "exchange",
    "submitted",
    "autograded",
    "feedback",
    "gradebook.db",
}
ANYWHERE_IGNORED = shutil.ignore_patterns(
    "__pycache__", ".pytest_cache", ".ruff_cache", "*.egg-info", ".ipynb_checkpoints"
)


def copy_course(destination: Path) -> Path:
    """A copy of this course directory, as a fresh clone would be, using this environment."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        top = {n for n in names if n in TOP_LEVEL_IGNORED} if Path(folder) == paths.ROOT else set()
        return top | ANYWHERE_IGNORED(folder, names)

    shutil.copytree(paths.ROOT, destination, ignore=ignore, symlinks=True)
    (destination / ".venv").symlink_to(VENV)
    return destination


README_STEPS = "<!-- classroom round trip -->"


def readme_round_trip() -> list[str]:
    """The README's instructor section: the commands and steps of the round trip, in order."""
    text = (paths.ROOT / "README.md").read_text()
    match = re.search(re.escape(README_STEPS) + r"\s*\n```bash\n(.*?)\n```", text, re.S)
    assert match, f"README.md has no block marked {README_STEPS}"
    return [line.strip() for line in match.group(1).splitlines() if line.strip()]


# what this test does, step by step; each must be the README's line of the same number
ROUND_TRIP = [
    ("command", "make instructor"),
    ("formgrader", "Release"),
    ("students", "Fetch"),
    ("students", "Submit"),
    ("formgrader", "Collect"),
    ("command", "python -m autograder grade-class submitted/"),
    ("formgrader", "Submissions"),
    ("formgrader", "Release Feedback"),
    ("students", "Fetch Feedback"),
]


def test_the_readme_instructor_section_is_the_round_trip():
    lines = readme_round_trip()
    assert len(lines) == len(ROUND_TRIP), lines
    for line, (kind, what) in zip(lines, ROUND_TRIP, strict=True):
        if kind == "command":
            assert line.split("#")[0].strip() == what, line
        else:
            assert line.startswith("#") and what in line, (line, what)


def answers_from_source() -> dict[str, str]:
    nb = nbformat.read(paths.source_notebook(TOPIC), as_version=4)
    return {
        c.metadata.nbgrader["grade_id"]: c.source
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }


def write_answers(path: Path, how: str) -> None:
    """Alice answers everything (the solutions in source/); Bob the first three exercises."""
    solutions = answers_from_source()
    if how == "part":
        solutions = {k: v for k, v in solutions.items() if k in ("ce_by_hand", "reduce", "l1_loss")}
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in solutions:
            cell.source = solutions[grade_id]
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def classroom(chromium, tmp_path_factory):
    """A copy of the course directory with the instructor's server, and two students' servers."""
    course = copy_course(tmp_path_factory.mktemp("classroom") / "course")
    env = {"PYTHONPATH": str(course)}  # the course's package, as installed for the class
    instructor = isolated_jupyter(tmp_path_factory.mktemp("instructor-jupyter"))
    command = readme_round_trip()[0].split("#")[0].split()
    assert command == ["make", "instructor"]
    servers = [start("instructor", tmp_path_factory, cwd=course, env=env | instructor)]
    urls = {"instructor": next(servers[0])}
    folders = {}
    for student in STUDENTS:
        home = tmp_path_factory.mktemp(student)
        folders[student] = home / "course-work"
        # the README's student commands: join the class, then start JupyterLab there
        join(course / "exchange", folders[student], student=student)
        port = free_port()
        tmp = tmp_path_factory.mktemp(f"{student}-lab")
        lab = [sys.executable, "-m", "autograder", "lab", str(folders[student])]
        server = serve(
            lab + lab_args(port, tmp / "workspaces"),
            home,
            tmp,
            port,
            env | isolated_jupyter(home),
        )
        servers.append(server)
        urls[student] = next(server)
    try:
        yield {"course": course, "urls": urls, "folders": folders, "env": env}
    finally:
        for server in servers:
            server.close()


def formgrader_action(page, url: str, icon: str, done: str) -> None:
    """Press one of the formgrader's buttons in the assignment's row; wait for its message."""
    page.goto(f"{url}/formgrader/manage_assignments?token={TOKEN}")
    row = page.locator("tr", has=page.get_by_text(TOPIC, exact=True))
    row.locator(f".glyphicon-{icon}").click()
    modal = page.locator(".modal-dialog")
    modal.get_by_text(done).first.wait_for(timeout=120_000)
    page.wait_for_timeout(600)  # the modal fades in
    text = modal.inner_text()
    assert "error" not in text.lower(), text


def assignment_list(page, url: str):
    page.goto(f"{url}/lab?token={TOKEN}")
    page.get_by_role("menuitem", name="Nbgrader", exact=True).click()
    page.get_by_role("menuitem", name="Assignment List", exact=True).click()
    panel = page.locator("#released_assignments_list").locator("xpath=../..")
    panel.wait_for()
    return page


def test_the_classroom_round_trip(classroom, browser, timings):
    started = time.perf_counter()
    urls, folders = classroom["urls"], classroom["folders"]
    instructor = browser.new_page(viewport={"width": 1400, "height": 900})
    instructor.set_default_timeout(90_000)
    pages = {}
    for student in STUDENTS:
        pages[student] = browser.new_page(viewport={"width": 1400, "height": 1000})
        pages[student].set_default_timeout(90_000)

    def formgrader_ready():
        instructor.goto(f"{urls['instructor']}/formgrader/manage_assignments?token={TOKEN}")
        row = instructor.locator("tr", has=instructor.get_by_text(TOPIC, exact=True))
        row.locator(".glyphicon-cloud-upload").wait_for()  # Release is offered before any
        assert "exchange directory does not exist" not in instructor.content()

    step(instructor, "rt-01-formgrader", formgrader_ready, "the formgrader offers Release")
    step(
        instructor,
        "rt-02-release",
        lambda: formgrader_action(instructor, urls["instructor"], "cloud-upload", "Success"),
        "the instructor releases the assignment from the formgrader",
    )
    for student, how in STUDENTS.items():
        page = pages[student]

        def fetch(page=page, student=student):
            assignment_list(page, urls[student])
            released = page.locator("#released_assignments_list")
            released.get_by_text(TOPIC).first.wait_for()
            assert "Unwritable" not in page.content()
            released.get_by_role("button", name="Fetch").click()
            page.locator("#fetched_assignments_list").get_by_text(TOPIC).first.wait_for()
            assert (folders[student] / TOPIC / f"{TOPIC}.ipynb").exists()

        step(page, f"rt-03-{student}-fetch", fetch, f"{student} fetches from the Assignment List")
        write_answers(folders[student] / TOPIC / f"{TOPIC}.ipynb", how)

        def validate_work(page=page, student=student, how=how):
            open_notebook(page, f"{urls[student]}/lab/tree/{TOPIC}/{TOPIC}.ipynb?token={TOKEN}")
            text = validate(page)
            if how == "everything":
                assert "Success! Your notebook passes all the tests." in text, text
            else:
                assert "the checks of mse_loss" in text and "not implemented yet" in text, text
                assert "l1_loss" not in text, text
                assert len(text.splitlines()) <= 30, text

        step(page, f"rt-04-{student}-validate", validate_work, f"{student} validates")

        def submit(page=page, student=student):
            close_dialog(page)
            assignment_list(page, urls[student])
            fetched = page.locator("#fetched_assignments_list")
            fetched.get_by_text(TOPIC).first.wait_for()
            fetched.get_by_role("button", name="Submit").click()
            page.locator("#submitted_assignments_list").get_by_text(TOPIC).first.wait_for()

        step(page, f"rt-05-{student}-submit", submit, f"{student} submits")

    step(
        instructor,
        "rt-06-collect",
        lambda: formgrader_action(instructor, urls["instructor"], "cloud-download", "Success"),
        "the instructor collects the submissions from the formgrader",
    )
    grade_line = readme_round_trip()[5].split("#")[0].strip()
    graded = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", grade_line],
        cwd=classroom["course"],
        env={  # the environment active, as the README's instructor section assumes
            **os.environ,
            **classroom["env"],
            "PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ['PATH']}",
        },
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert graded.returncode == 0, f"$ {grade_line}\n{graded.stdout}\n{graded.stderr}"
    assert "2 submissions: 2 graded now" in graded.stdout, graded.stdout
    (SHOTS / "rt-07-grade-class.txt").write_text(f"$ {grade_line}\n{graded.stdout}")

    def scores_in_formgrader():
        url = f"{urls['instructor']}/formgrader/manage_submissions/{TOPIC}?token={TOKEN}"
        instructor.goto(url)
        scores = {}
        for student in STUDENTS:
            row = instructor.locator(
                "tr", has=instructor.locator("td.student-id", has_text=student)
            )
            row.locator("td.score", has_text="/").wait_for()
            assert row.locator("td.status").inner_text().strip() == "graded", row.inner_text()
            got, total = (float(x) for x in row.locator("td.score").inner_text().split("/"))
            scores[student] = (got, total)
        total = scores["alice"][1]
        assert scores["alice"] == (total, total) and total > 0, scores
        assert 0 < scores["bob"][0] < total, scores

    step(
        instructor,
        "rt-08-scores",
        scores_in_formgrader,
        "the formgrader shows both students' scores",
    )
    step(
        instructor,
        "rt-09-release-feedback",
        lambda: formgrader_action(instructor, urls["instructor"], "envelope", "Success"),
        "the instructor releases the feedback from the formgrader",
    )
    for student, how in STUDENTS.items():
        page = pages[student]

        def read_feedback(page=page, student=student, how=how):
            assignment_list(page, urls[student])
            submitted = page.locator("#submitted_assignments_list")
            submitted.get_by_role("button", name="Fetch Feedback").click()
            submitted.get_by_text("(view feedback)").wait_for()
            (html,) = (folders[student] / TOPIC / "feedback").glob(f"*/{TOPIC}.html")
            relative = html.relative_to(folders[student]).as_posix()
            page.goto(f"{urls[student]}/files/{urllib.request.quote(relative)}?token={TOKEN}")
            page.get_by_text("Score:").first.wait_for()
            text = page.inner_text("body")
            score = re.search(r"Score: ([\d.]+) / ([\d.]+)", text)
            assert score, text[:500]
            got, total = float(score.group(1)), float(score.group(2))
            assert (got == total) if how == "everything" else (0 < got < total), score.group(0)
            source = html.read_text()
            assert "BEGIN HIDDEN TESTS" not in source and "seed=None" not in source
            assert "<math" in source and "mathjax" not in source.lower()

        step(
            page,
            f"rt-10-{student}-feedback",
            read_feedback,
            f"{student} fetches the feedback and reads the score, without hidden tests",
        )
    timings("browser", "classroom round trip", time.perf_counter() - started)
